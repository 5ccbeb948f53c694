#include "lifecycle/shutdown.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "lifecycle/crash_dump.h"
#include "crash/crash_path.h"
#include "crash/end_records.h"
#include "crash/fixed_line.h"
#include "sys/kernel_log.h"
#include "lifecycle/processes.h"
#include "lifecycle/restart_history.h"
#include "sys/system.h"

namespace microbeam {
namespace {

// Filled before erl_start; read-only afterwards (signal handlers and any thread read it).
// Everything below is async-signal-safe and allocation-free (crash_path.h says why).
Config g_config;
std::vector<long> g_restart_times;

long BootSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec;
}

// Sends `sig` (0: only "is it there?") to every process `which` selects; returns to
// how many it went.
int SignalWhere(absl::FunctionRef<bool(const ProcStat&)> which, int sig) {
  int signalled = 0;
  sys::ForEachProcess([&](const ProcStat& p) {
    if (which(p) && kill(p.pid, sig) == 0) ++signalled;
  });
  return signalled;
}

// Every process the shutdown does not spare (processes.h).
int SignalOthers(int sig) {
  return SignalWhere([](const ProcStat& p) { return !SparedAtShutdown(p); }, sig);
}

void ReapChildren() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

void Nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1'000'000};
  nanosleep(&ts, nullptr);
}

// SIGTERM to every other process, a grace period of up to 2 s in which they end and are
// reaped (orphans are re-parented to PID 1), then SIGKILL.
void StopOtherProcesses() {
  ReapChildren();
  if (SignalOthers(SIGTERM) == 0) return;
  for (int i = 0; i < 40; ++i) {
    Nap(50);
    ReapChildren();
    if (SignalOthers(0) == 0) return;  // signal 0: only "is anyone left?"
  }
  SignalOthers(SIGKILL);
  for (int i = 0; i < 10 && SignalOthers(0) > 0; ++i) {
    Nap(20);
    ReapChildren();
  }
}

// Before a re-exec: ERTS's helper goes last, so the old BEAM has no time to notice.
void StopErtsHelpers() {
  SignalWhere([](const ProcStat& p) { return IsErtsHelper(p) && p.state != 'Z'; }, SIGKILL);
  for (int i = 0; i < 50; ++i) {  // up to 1 s; SIGKILL takes effect at once
    ReapChildren();
    if (SignalWhere(IsErtsHelper, 0) == 0) return;  // zombies count: they are not reaped yet
    Nap(20);
  }
}

// The crash dump the BEAM just wrote is in the RAM-backed root, which powering off or
// rebooting the VM loses: its header (reason, versions, calling thread) goes to the
// console, which the VMM keeps. Static buffers only: this may run in a signal handler.
void ShowCrashDumpHeader() {
  int fd = open(kCrashDumpPath, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  static char head[4096];
  struct stat st = {};
  ssize_t n = fstat(fd, &st) == 0 ? read(fd, head, sizeof head) : -1;
  close(fd);
  std::string_view header = CrashDumpHeader(std::string_view(head, n > 0 ? n : 0));
  static FixedLine<600> line;
  line.Clear();
  line << "microbeam: the BEAM wrote a crash dump to " << kCrashDumpPath << " (" << static_cast<long long>(st.st_size)
       << " bytes), lost with the VM; its header:";
  LogAlways(line.view());
  while (!header.empty()) {
    size_t eol = header.find('\n');
    std::string_view l = header.substr(0, eol);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line.Clear();
    line << "microbeam: | " << l;
    LogAlways(line.view());
    header = eol == std::string_view::npos ? std::string_view() : header.substr(eol + 1);
  }
}

[[noreturn]] void Hang() {
  LogAlways("microbeam: cannot carry out the exit policy; halting here (PID 1 must not exit)");
  Park();
}

[[noreturn]] void RebootWith(int cmd) {
  sync();
  if (cmd == RB_POWER_OFF && g_config.poweroff_by_reboot) {
    LogAlways("microbeam: powering off by a reboot (microbeam.poweroff=reboot)");
    cmd = RB_AUTOBOOT;
  }
  reboot(cmd);
  Hang();
}

// Restart and shell: a fresh /init (the shell in a fresh image too: this one may hold
// a lock of a thread that will never run again). A stop request heard meanwhile wins.
[[noreturn]] void ReExec(bool record_restart, const char* rescue_reason) {
  if (ReExecInit(record_restart, rescue_reason)) {
    ExitPolicy requested = static_cast<ExitPolicy>(RequestedAction());
    LogAlways(requested == ExitPolicy::kReboot ? "microbeam: a stop request came while the BEAM ended: reboot"
                                               : "microbeam: a stop request came while the BEAM ended: poweroff");
    RebootWith(requested == ExitPolicy::kReboot ? RB_AUTOBOOT : RB_POWER_OFF);
  }
  LogAlways("microbeam: re-exec of /init failed; powering off");
  RebootWith(RB_POWER_OFF);
}

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
  }
}

void OnFatalSignal(int sig) {
  if (EndClaimed()) {
    if (!OwnsTheEnd()) Park();  // another thread is carrying out the end
    // The end itself crashed: skip to the one step that cannot be skipped.
    LogAlways("microbeam: fatal signal while carrying out the exit policy; powering off");
    RebootWith(RB_POWER_OFF);
  }
  static FixedLine<64> how;  // only the thread that will own the end gets this far first
  how.Clear();
  how << "got fatal signal " << SignalName(sig) << " in PID 1";
  EndOfBeam(how.c_str(), 128 + sig);
}

}  // namespace

void PrepareShutdown(const Config& config, const std::vector<long>& restart_times) {
  g_config = config;
  g_restart_times = restart_times;
}

void EndOfBeam(const char* how, int status) {
  // One owner: a second thread (another abort, the watcher's timeout), or a crash
  // while ending, waits for the first one's end.
  if (!ClaimTheEnd()) Park();
  int requested = RequestedAction();
  ExitPolicy policy = requested >= 0 ? static_cast<ExitPolicy>(requested) : g_config.exit_policy;
  if (policy == ExitPolicy::kRestart &&
      IsCrashLoop(g_restart_times, BootSeconds(), g_config.restart_limit,
                  absl::ToInt64Seconds(g_config.restart_window))) {
    LogAlways("microbeam: crash loop (restart limit reached within the window); going to the rescue shell");
    policy = ExitPolicy::kShell;
  }
  static FixedLine<256> line;
  line << "microbeam: the BEAM " << how << " (status " << status << "); exit policy: " << ExitPolicyName(policy);
  LogAlways(line.view());
  if (policy != ExitPolicy::kRestart) ShowCrashDumpHeader();  // a restart's PID 1 reports it
  // The status goes to the host when the VM ends (QEMU ends at the write), not at a
  // restart or in the shell, after which the VM goes on.
  if (g_config.debug_exit && (policy == ExitPolicy::kPoweroff || policy == ExitPolicy::kReboot)) {
    sync();
    sys::WriteDebugExitPort(status);  // QEMU exits here with (status << 1) | 1
  }
  StopOtherProcesses();
  SaveRecords(how, status, ExitPolicyName(policy));  // crash/end_records.h; before /data is closed
  switch (policy) {
    case ExitPolicy::kPoweroff: RebootWith(RB_POWER_OFF);
    case ExitPolicy::kReboot: RebootWith(RB_AUTOBOOT);
    case ExitPolicy::kRestart:
      StopErtsHelpers();
      ReExec(true, nullptr);
    case ExitPolicy::kShell:
      StopErtsHelpers();
      ReExec(false, line.c_str() + sizeof("microbeam: ") - 1);
  }
  Hang();
}

void RequestExitAction(ExitPolicy action) { SetRequestedAction(static_cast<int>(action)); }

void InstallCrashHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnFatalSignal;
  sigemptyset(&sa.sa_mask);
  // SA_NODEFER: a fault inside the handler re-enters it and parks in EndOfBeam; with the
  // signal blocked or reset instead, the kernel would kill PID 1 and panic.
  sa.sa_flags = SA_NODEFER | SA_ONSTACK;
  static char alt_stack[64 * 1024];  // so a stack overflow can still be handled
  stack_t ss = {};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  sigaltstack(&ss, nullptr);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) sigaction(sig, &sa, nullptr);
}

}  // namespace microbeam
