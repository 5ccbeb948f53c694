// The release PID 1 boots, and the argv that erl_start gets for it: what erlexec
// would build from `bin/RELEASE start`, computed here without a shell or erlexec.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "beam/release_env.h"
#include "beam/vm_args.h"

namespace microbeam {

struct Release {
  std::string root;      // e.g. /release
  std::string erts_vsn;  // from releases/start_erl.data, e.g. 13.1.5
  std::string rel_vsn;   // e.g. 0.1.0
  bool has_sys_config = false;
  VmArgs vm_args;  // releases/REL_VSN/vm.args, if the release has one
  std::string name;             // releases/release_name (RELEASE_NAME); empty if unknown
  std::string cookie;           // releases/COOKIE (RELEASE_COOKIE), if the release has one
  bool runtime_config = false;  // sys.config says RUNTIME_CONFIG=true (release_env.h)
  EnvList env_file;             // the image's env file (kEnvFile), if it has one

  std::string BinDir() const { return root + "/erts-" + erts_vsn + "/bin"; }
  std::string BootFile() const { return root + "/releases/" + rel_vsn + "/start"; }  // + .boot
  std::string SysConfig() const { return root + "/releases/" + rel_vsn + "/sys"; }   // + .config
  std::string VmArgsFile() const { return root + "/releases/" + rel_vsn + "/vm.args"; }
};

// Parses releases/start_erl.data ("ERTS_VSN REL_VSN"); the error names the file.
absl::StatusOr<Release> ParseStartErlData(std::string_view content, std::string_view root);

// Emulator flags MicroBEAM starts every BEAM with, ahead of the user's (a later flag
// wins): limits sized for a small VM. ERTS touches its process and port tables in full
// at start (8 + 4 bytes a slot), and every dirty I/O scheduler is a thread with its own
// stack. Per-scheduler allocator instances each keep their own carriers, which a VM of
// one or two vCPUs pays for in memory, not wins back in speed. Measured natively on the
// demo: RSS -2.2 MB (+P), -0.5 MB (+Q), -0.8 MB (+SDio), -3 MB (+Mut false, with
// requests/s unchanged within noise: 32.4k against 32.7k, 2 cores, wrk -c16).
// The start is the JIT translating ~140 modules, prepared by processes that init spawns
// on one scheduler: at the default wakeup threshold the other scheduler slept through
// it (74% of the samples on one); very_low wakes it. Dirty I/O schedulers spun on the
// CPU the loading needed between file reads. Both: native start 132 -> 119 ms, under
// TCG 2.55 -> 2.30 s (docs/benchmarks.md).
inline constexpr const char* kDefaultEmulatorFlags[] = {
    "-P", "65536",       // processes (ERTS default 1,048,576)
    "-Q", "16384",       // ports, sockets included (default 65,536)
    "-SDio", "2",        // dirty I/O schedulers (default 10): file I/O is rare in the guest
    "-Mut", "false",     // one instance of each allocator, not one per scheduler
    "-swt", "very_low",  // wake a sleeping scheduler as soon as work waits (default medium)
    "-sbwtdio", "none",  // dirty I/O schedulers sleep at once instead of spinning
};

// Erlang distribution is off in the guest unless asked for: MicroBEAM's assembler puts
// start_distribution=false into the boot script's kernel environment
// (initramfs/release/assemble.escript says why there). These init flags turn it back on
// when the user's flags name the node (-name, -sname) without setting the parameter.
inline constexpr const char* kDistributionOnFlags[] = {"-kernel", "start_distribution", "true"};

// argv for erl_start: emulator flags, then `--`, then init's flags. The user's flags are
// the release's vm.args, then microbeam.erl_flags (the command line wins over the
// file); those that start with '+' are emulator flags (as erl's `+S 2` is `-S 2` to the
// emulator), the rest init/plain flags, given last so they win.
std::vector<std::string> BuildEmulatorArgs(const Release& release, const Config& config);

// The environment erlexec would set for the emulator, then what the release's start
// script would (RELEASE_*), then the user's (vm.args' -env, the env file,
// microbeam.env; a later NAME wins), then RELEASE_SYS_CONFIG (release_env.h).
std::vector<std::string> BuildEmulatorEnv(const Release& release, const Config& config);

}  // namespace microbeam
