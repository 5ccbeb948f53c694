// microbeam-init: PID 1 of a MicroBEAM guest, and (by argv[0]) ERTS's helper programs.
//
//   /init                         mounts, console, config, capabilities, then erl_start
//   .../erl_child_setup           ERTS's port-program spawner (exec'd by the BEAM)
//   .../inet_gethost              ERTS's name resolver helper (exec'd by the kernel app)
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "boot/boot_timeline.h"
#include "boot/process_setup.h"
#include "config/config.h"
#include "lifecycle/crash_dump.h"
#include "crash/crash_path.h"
#include "boot/early_mounts.h"
#include "beam/emulator_args.h"
#include "beam/linked_erts.h"
#include "beam/signal_stack.h"
#include "boot/etc_hosts.h"
#include "boot/guest_sysctls.h"
#include "erts_static.h"
#include "sys/kernel_log.h"
#include "guard/lock_down.h"
#include "guard/memory_guard.h"
#include "network/autoconfig.h"
#include "records/records.h"
#include "sys/read_file.h"
#include "beam/release_files.h"
#include "rescue/rescue_shell.h"
#include "lifecycle/restart_history.h"
#include "lifecycle/restore_watcher.h"
#include "lifecycle/shutdown.h"
#include "lifecycle/stop_watcher.h"
#include "storage/data_volume.h"
#include "sys/system.h"


namespace microbeam {
namespace {

void Say(std::string_view line) { LogLine(line); }

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

Config LoadConfig(int argc, char** argv) {
  std::vector<std::string> kernel_params;
  if (absl::StatusOr<std::string> cmdline = ReadFile("/proc/cmdline"); cmdline.ok()) {
    kernel_params = SplitKernelCmdline(*cmdline);
  } else {
    Say(absl::StrCat("microbeam: ", cmdline.status().message(), "; using the defaults"));
  }
  ParsedConfig parsed = ParseConfig(kernel_params, std::vector<std::string>(argv + 1, argv + argc));
  for (const std::string& warning : parsed.warnings) Say(warning);
  return parsed.config;
}

// Keeps an /etc/hosts the image brings; otherwise writes one (etc_hosts.h says why).
void WriteEtcHosts(const std::string& hostname) {
  if (sys::Exists(std::string(kEtcHosts))) return;
  if (mkdir("/etc", 0755) != 0 && errno != EEXIST) {
    Say("microbeam: cannot create /etc; the host name look-up at boot may wait for DNS");
    return;
  }
  if (absl::Status s = sys::WriteFile(std::string(kEtcHosts), EtcHostsFor(hostname)); !s.ok()) {
    Say(absl::StrCat("microbeam: ", s.message(), "; the host name look-up at boot may wait for DNS"));
  }
}

// Skips values already set (a restart by re-exec finds them so, with fewer capabilities).
void ApplyGuestSysctls() {
  for (const Sysctl& s : GuestSysctls()) {
    absl::StatusOr<std::string> now = ReadFile(std::string(s.path));
    if (now.ok() && absl::StripAsciiWhitespace(*now) == s.value) continue;
    if (absl::Status st = sys::WriteFile(std::string(s.path), std::string(s.value)); !st.ok()) {
      Say(absl::StrCat("microbeam: ", st.message(), " (", s.why, ")"));
    }
  }
}

// Finds and checks the release; the error says which file is missing or bad.
absl::StatusOr<Release> LoadRelease(const Config& config) {
  std::string start_erl = config.release_root + "/releases/start_erl.data";
  absl::StatusOr<std::string> data = ReadFile(start_erl);
  if (!data.ok()) return data.status();
  absl::StatusOr<Release> release = ParseStartErlData(*data, config.release_root);
  if (!release.ok()) return release.status();
  if (!sys::Exists(release->BootFile() + ".boot")) {
    return absl::NotFoundError(absl::StrCat(release->BootFile(), ".boot: missing boot file"));
  }
  release->has_sys_config = sys::Exists(release->SysConfig() + ".config");
  if (sys::Exists(release->VmArgsFile())) {
    absl::StatusOr<std::string> text = ReadFile(release->VmArgsFile());
    if (!text.ok()) return text.status();
    absl::StatusOr<VmArgs> vm_args = ParseVmArgs(*text, release->VmArgsFile());
    if (!vm_args.ok()) return vm_args.status();
    for (const std::string& w : vm_args->warnings) Say(w);
    release->vm_args = *std::move(vm_args);
  }
  for (const std::string& w : ReadReleaseEnvironment(*release)) Say(w);
  return release;
}

// RLIMIT_DATA moved along with what is free, so that a runaway BEAM fails its own
// allocations instead of leaving the kernel's OOM killer nothing to kill
// (memory_limit.h). A crash dump goes to the RAM-backed root, outside that limit: it is
// capped inside the kernel's reserve (a release can set ERL_CRASH_DUMP_BYTES with -env).
void GuardBeamMemory(const Config& config, bool in_container) {
  if (!config.guard_memory || in_container) return;  // a container's meminfo is the host's
  absl::StatusOr<uint64_t> reserve = StartMemoryGuard(absl::Milliseconds(100));
  if (!reserve.ok()) {
    Say(absl::StrCat("microbeam: memory guard: ", reserve.status().message(), "; the BEAM's memory is not limited"));
    return;
  }
  setenv("ERL_CRASH_DUMP_BYTES", absl::StrCat(*reserve / 2).c_str(), 1);
  Say(absl::StrCat("microbeam: memory guard: the BEAM may grow into what is available less ",
                   *reserve >> 20, " MiB kept for the kernel"));
}

// After a restart by re-exec the RAM-backed root still holds the old BEAM's crash dump:
// say so on the console, with its reason, and keep it aside from the next one.
void ReportPreviousCrashDump() {
  struct stat st = {};
  if (stat(kCrashDumpPath, &st) != 0) return;
  absl::StatusOr<std::string> head = ReadFile(kCrashDumpPath, 4096);  // the header is enough
  std::string slogan = head.ok() ? CrashDumpSlogan(*head) : "";
  bool kept = rename(kCrashDumpPath, kPreviousCrashDumpPath) == 0;
  Say(absl::StrCat("microbeam: the BEAM before this start left a crash dump (", st.st_size, " bytes",
                   slogan.empty() ? "" : absl::StrCat(", Slogan: ", slogan), "), now at ",
                   kept ? kPreviousCrashDumpPath : kCrashDumpPath));
}

[[noreturn]] void StartBeam(const Release& release, const Config& config, BootTimeline& timeline) {
  std::vector<std::string> args = BuildEmulatorArgs(release, config);
  for (const std::string& env : BuildEmulatorEnv(release, config)) putenv(strdup(env.c_str()));
  if (absl::Status s = WriteRuntimeSysConfig(release, config); !s.ok()) {
    Say(absl::StrCat("microbeam: runtime configuration: ", s.message(), "; the config provider will fail"));
  }
  timeline.Mark("erl_start");
  Say(timeline.ConsoleLine());
  if (absl::Status s = sys::WriteFile(kBootTimelineFile, timeline.Json()); !s.ok()) {
    Say(absl::StrCat("microbeam: ", s.message()));
  }
  Say(absl::StrCat("microbeam: starting ERTS ", kLinkedErtsVsn, " (OTP ", kLinkedOtpVersion, "), release ",
                   release.rel_vsn, " at ", release.root,
                   release.erts_vsn == kLinkedErtsVsn ? "" : absl::StrCat(" (built for ERTS ", release.erts_vsn, ")")));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  PrepareErtsSignalStacks();  // what erl_main.c does before erl_start (signal_stack.h)
  erl_start(static_cast<int>(args.size()), argv.data());
  // erl_start only comes back if the emulator's main thread ends without exiting.
  EndOfBeam("returned from erl_start", 0);
}

// The data volume and the other mounts, as root before the drop, then the keeper that
// unmounts them at the end (storage/data_volume.h). A data volume that is required and
// does not mount opens the rescue shell; leaving it tries again.
void MountTheVolumes(const Config& config) {
  VolumesMounted v = MountVolumes(config);
  for (const std::string& line : v.lines) Say(line);
  while (v.data_missing && config.data_required) {
    if (RunRescueShell(v.why) == ShellExit::kConsoleGone) EndOfBeam("could not start", 1);
    Say("microbeam: leaving the rescue shell; mounting /data again");
    v = MountDataVolume(config);
    for (const std::string& line : v.lines) Say(line);
  }
  if (std::string line = StartVolumeKeeper(config); !line.empty()) Say(line);
}

// Run as a container's init (systemd's container interface: the manager sets
// $container), e.g. the host tests' `unshare --pid --mount`. The kernel log and
// /dev/console then belong to the host: lines go to stderr, stdio stays as given, and
// no I/O port is touched.
bool InContainer() { return std::getenv("container") != nullptr; }

[[noreturn]] void RunPid1(int argc, char** argv, char** envp) {
  BlockStopSignals();  // before any thread exists, so that every thread inherits it
  BootTimeline timeline;
  timeline.Mark("init_entered");
  const bool in_container = InContainer();
  // A restart by re-exec: PID 1 runs as the app's user already, with the console as stdio.
  const bool restarted = std::getenv(std::string(kRestartsEnv).c_str()) != nullptr;
  std::vector<std::string> mount_errors;
  for (const MountSpec& m : EarlyMounts()) {
    if (absl::Status s = sys::Mount(m); !s.ok()) mount_errors.push_back(absl::StrCat("microbeam: ", s.message()));
  }
  OpenNullOnClosedStdio();  // before any fd of ours can become the BEAM's stdio
  if (!in_container) OpenKernelLog();
  for (const std::string& e : mount_errors) Say(e);
  Config config = LoadConfig(argc, argv);
  if (absl::Status s = sys::Mount(TmpMount(config.tmp_size)); !s.ok()) Say(absl::StrCat("microbeam: ", s.message()));
  if (in_container) {
    Say(absl::StrCat("microbeam: running as the init of a container ($container=", std::getenv("container"),
                     "): logging to stderr, keeping stdio as the console"));
  } else if (absl::Status s = restarted ? absl::OkStatus() : sys::AttachConsole(config.console); !s.ok()) {
    Say(absl::StrCat("microbeam: console ", config.console, ": ", s.message(), "; keeping the kernel's"));
  }
  timeline.Mark("mounts_done");
  if (config.debug_exit && in_container) {
    Say("microbeam: microbeam.debug_exit: not in a container (the port would be the host's); status stays here");
    config.debug_exit = false;
  }
  if (config.debug_exit) {
    // After a restart the port access is the previous PID 1's, kept across the exec.
    if (absl::Status s = std::getenv(kIoPortEnv) ? absl::OkStatus() : sys::EnableDebugExitPort(); !s.ok()) {
      // Writing to the port without access would fault: report in the guest only.
      Say(absl::StrCat("microbeam: microbeam.debug_exit: ", s.message(), "; status stays in the guest"));
      config.debug_exit = false;
    }
  }
  PrepareTheEnd(config, argv, envp);
  InstallCrashHandlers();
  // Ctrl-Alt-Del from a kernel with virtual terminals becomes SIGINT to PID 1 instead of
  // an immediate reboot (the stop watcher maps both to a graceful poweroff).
  if (!in_container) reboot(RB_DISABLE_CAD);
  if (absl::StatusOr<int> devices = WatchStopRequests(config.shutdown_timeout); !devices.ok()) {
    Say(absl::StrCat("microbeam: stop requests: ", devices.status().message(), "; SIGINT/SIGPWR/SIGUSR1/SIGUSR2 are not heard"));
  } else if (*devices == 0 && !in_container) {
    Say("microbeam: no power button or keyboard: a VMM's stop request will not be seen (signals still are)");
  }
  if (absl::Status s = sys::SetHostname(config.hostname); !s.ok()) Say(absl::StrCat("microbeam: ", s.message()));
  if (absl::Status s = sys::BringUpLoopback(); !s.ok()) Say(absl::StrCat("microbeam: ", s.message()));
  WriteEtcHosts(config.hostname);
  if (!in_container) StartNetworkAutoconfig(config);  // no ip=: DHCP in the background, never waited for
  if (!in_container) ApplyGuestSysctls();  // a container's /proc/sys is the host's
  if (mkdir("/run/microbeam", 0755) != 0 && errno != EEXIST) Say("microbeam: cannot create /run/microbeam");
  StartRestoreWatcher(config);  // before the capabilities drop: it sets the clock and reseeds
  if (config.emergency_shell) {
    RunRescueShell("--emergency-shell on the command line");
    Say("microbeam: leaving the rescue shell; booting the release");
  }
  if (const char* why = std::getenv(kRescueEnv)) {  // the shell policy, or a crash loop, re-exec'd us
    std::string reason = why;
    unsetenv(kRescueEnv);
    if (RunRescueShell(reason) == ShellExit::kConsoleGone) {
      RequestExitAction(ExitPolicy::kPoweroff);  // nobody to type: not the shell again
      EndOfBeam("left the rescue shell without a console", 1);
    }
    Say("microbeam: leaving the rescue shell; booting the release");
  }
  MountTheVolumes(config);
  absl::StatusOr<Release> release = LoadRelease(config);
  while (!release.ok()) {
    std::string why = absl::StrCat("the BEAM cannot start: ", release.status().message());
    Say(absl::StrCat("microbeam: ", why));
    if (RunRescueShell(why) == ShellExit::kConsoleGone) EndOfBeam("could not start", 1);
    release = LoadRelease(config);
  }
  for (const std::string& line : ApplyProcessSetup(config, in_container)) Say(line);
  OpenRecords(config, in_container, restarted);  // after /data is mounted, before the drop
  if (absl::StatusOr<std::string> done = LockDown(config); done.ok()) {
    Say(*done);
  } else {
    // The app must not run with what PID 1 had for the setup; nor restart into the same.
    LogAlways(absl::StrCat("microbeam: dropping privileges: ", done.status().message(), "; not starting the BEAM"));
    RequestExitAction(ExitPolicy::kPoweroff);
    EndOfBeam("could not start", 1);
  }
  ReportPreviousCrashDump();
  GuardBeamMemory(config, in_container);
  StartBeam(*release, config, timeline);
}

}  // namespace
}  // namespace microbeam

int main(int argc, char** argv, char** envp) {
  std::string_view role = microbeam::BaseName(argc > 0 ? argv[0] : "");
  if (role == "erl_child_setup" || role == "inet_gethost") {
    microbeam::UnblockAllSignals();  // exec kept PID 1's mask (stop_watcher.h)
    // PID 1's ambient capabilities (privileges.h) end here: port programs get none.
    if (absl::Status s = microbeam::sys::DropAllCapabilities(); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[0], std::string(s.message()).c_str());
      return 1;
    }
    return role == "erl_child_setup" ? erl_child_setup_main(argc, argv) : inet_gethost_main(argc, argv);
  }
  if (getpid() != 1) {
    std::fprintf(stderr, "microbeam-init: must run as PID 1 (or as erl_child_setup / inet_gethost), not as \"%s\"\n",
                 argc > 0 ? argv[0] : "");
    return 2;
  }
  microbeam::RunPid1(argc, argv, envp);
}
