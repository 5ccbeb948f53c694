// PID 1's configuration: what the kernel command line and init's argv ask for.
// Pure functions only: parsing never touches the system, so tests call it directly.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "config/process_keys.h"
#include "guard/privileges.h"

namespace microbeam {

// What PID 1 does when the BEAM stops (halts, crashes, or cannot start).
enum class ExitPolicy { kPoweroff, kReboot, kRestart, kShell };

std::string_view ExitPolicyName(ExitPolicy policy);

struct Config {
  bool emergency_shell = false;          // --emergency-shell: rescue shell before the BEAM
  ExitPolicy exit_policy = ExitPolicy::kPoweroff;
  // microbeam.poweroff=reboot: this VMM cannot power a guest off (Firecracker on x86
  // only halts its vCPUs) but ends at a guest reboot, so every power off is a reboot.
  bool poweroff_by_reboot = false;
  // After a stop request (the power button), how long the BEAM gets to stop by itself.
  absl::Duration shutdown_timeout = absl::Seconds(10);
  std::string hostname = "microbeam";
  // All PID 1 keeps once set up (privileges.h); everything else is dropped before
  // erl_start. CAP_SYS_BOOT carries out the exit policy, so it is always kept;
  // CAP_NET_BIND_SERVICE lets a release listen on ports below 1024.
  std::vector<std::string> keep_caps = {"cap_sys_boot", "cap_net_bind_service"};
  // microbeam.user: the uid/gid the BEAM and its port programs run as ("root" is the
  // operator's choice).
  AppUser user;
  std::vector<std::string> erl_flags;    // extra emulator (+X) and init (-x) flags
  std::string eval_expr;                 // microbeam.eval (base64): init's -eval, after boot
  bool guard_memory = true;              // microbeam.memory_guard: RLIMIT_DATA kept below what is free
  // /tmp's size (tmpfs size=): a full /tmp leaves the BEAM the rest of the RAM.
  std::string tmp_size = "25%";
  std::string console = "/dev/console";
  std::string release_root = "/release";
  bool debug_exit = false;               // report the exit status on QEMU's isa-debug-exit port
  int restart_limit = 5;                 // restarts within restart_window before the rescue shell
  absl::Duration restart_window = absl::Seconds(60);
  // microbeam.dhcp: without ip= on the command line, PID 1's DHCP client configures the
  // first Ethernet interface (network/autoconfig.h).
  bool dhcp = true;
  bool kernel_ip = false;                // ip= (or nfsaddrs=) given: the kernel configures the network
  // microbeam.env=NAME=VALUE and microbeam.env_b64=NAME=BASE64: the release's own
  // environment (DATABASE_URL, ...), in command-line order (a later NAME wins).
  std::vector<std::pair<std::string, std::string>> env;
  // The rest of erlinit's duties (config/process_keys.h): setrlimit() entries, the core
  // pattern ("": the kernel's), the working directory ("": /).
  std::vector<ResourceLimit> limits;
  std::string core_pattern;
  std::string cwd;
  // microbeam.seed_credit: credit the random seed a clean shutdown saved on /data
  // (docs/records.md); 0 for copies of one disk image in many VMs.
  bool seed_credit = true;
};

// A name the release's environment may hold: [A-Za-z_][A-Za-z0-9_]*, as POSIX shells
// accept for `export NAME=...` (what a release's start script would have done).
bool ValidEnvName(std::string_view name);

struct ParsedConfig {
  Config config;
  // One line each, naming the key, the bad value and what is used instead.
  std::vector<std::string> warnings;
};

// Splits a kernel command line into parameters the way the kernel does: on blanks,
// with double quotes grouping (and removed), e.g. `a="b c"` -> `a=b c`.
std::vector<std::string> SplitKernelCmdline(std::string_view cmdline);

// Splits a flag string shell-like: blanks separate, '...' and "..." group.
std::vector<std::string> SplitFlags(std::string_view flags);

// Builds the configuration from kernel parameters (/proc/cmdline, split) and init's argv
// (without argv[0]). Keys are `microbeam.*`; other parameters belong to the kernel.
ParsedConfig ParseConfig(const std::vector<std::string>& kernel_params,
                         const std::vector<std::string>& init_args);

}  // namespace microbeam
