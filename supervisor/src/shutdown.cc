#include "shutdown.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "crash_dump.h"
#include "kernel_log.h"
#include "processes.h"
#include "restart_history.h"
#include "rescue_shell.h"
#include "system.h"

namespace microbeam {
namespace {

// Filled before erl_start; read-only afterwards (signal handlers and any thread read it).
Config g_config;
char** g_argv = nullptr;
std::vector<std::string> g_restart_env;  // environment for a re-exec, without MICROBEAM_RESTARTS
std::vector<long> g_restart_times;
volatile sig_atomic_t g_ending = 0;
volatile sig_atomic_t g_requested_action = -1;  // an ExitPolicy, or -1: none

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
  static char line[600];
  std::snprintf(line, sizeof line, "microbeam: the BEAM wrote a crash dump to %s (%lld bytes), lost with the VM; its header:",
                kCrashDumpPath, static_cast<long long>(st.st_size));
  LogLine(line);
  while (!header.empty()) {
    size_t eol = header.find('\n');
    std::string_view l = header.substr(0, eol);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    std::snprintf(line, sizeof line, "microbeam: | %.*s", static_cast<int>(l.size()), l.data());
    LogLine(line);
    header = eol == std::string_view::npos ? std::string_view() : header.substr(eol + 1);
  }
}

[[noreturn]] void Hang() {
  LogLine("microbeam: cannot carry out the exit policy; halting here (PID 1 must not exit)");
  for (;;) pause();
}

[[noreturn]] void RebootWith(int cmd) {
  sync();
  reboot(cmd);
  Hang();
}

[[noreturn]] void Restart() {
  // A fresh ERTS: re-exec /init with the restart recorded. No fd of the old BEAM (its
  // listening sockets above all) may survive into the new one.
  std::vector<long> times = g_restart_times;
  times.push_back(BootSeconds());
  std::string restarts = std::string(kRestartsEnv) + "=" + FormatRestartTimes(times);
  std::vector<char*> envp;
  for (std::string& e : g_restart_env) envp.push_back(e.data());
  envp.push_back(restarts.data());
  envp.push_back(nullptr);
  StopErtsHelpers();
  syscall(SYS_close_range, 3u, ~0u, 0u);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve("/init", g_argv, envp.data());
  LogLine("microbeam: re-exec of /init failed; powering off");
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
  if (g_ending) {  // the end itself crashed: skip to the one step that cannot be skipped
    LogLine("microbeam: fatal signal while carrying out the exit policy; powering off");
    RebootWith(RB_POWER_OFF);
  }
  char how[64];
  std::snprintf(how, sizeof how, "got fatal signal %s in PID 1", SignalName(sig));
  EndOfBeam(how, 128 + sig);
}

}  // namespace

void PrepareShutdown(const Config& config, char** argv, char** envp) {
  g_config = config;
  g_argv = argv;
  for (char** e = envp; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with(std::string(kRestartsEnv) + "=")) {
      g_restart_times = ParseRestartTimes(entry.substr(kRestartsEnv.size() + 1));
    } else {
      g_restart_env.emplace_back(entry);
    }
  }
}

void EndOfBeam(const char* how, int status) {
  if (g_ending) {  // a second thread, or a crash while ending: let the first one finish
    for (;;) pause();
  }
  g_ending = 1;
  ExitPolicy policy = g_requested_action >= 0 ? static_cast<ExitPolicy>(g_requested_action) : g_config.exit_policy;
  if (policy == ExitPolicy::kRestart &&
      IsCrashLoop(g_restart_times, BootSeconds(), g_config.restart_limit,
                  absl::ToInt64Seconds(g_config.restart_window))) {
    LogLine("microbeam: crash loop (restart limit reached within the window); going to the rescue shell");
    policy = ExitPolicy::kShell;
  }
  char line[256];
  std::snprintf(line, sizeof line, "microbeam: the BEAM %s (status %d); exit policy: %s", how,
                status, ExitPolicyName(policy).data());
  LogLine(line);
  if (policy != ExitPolicy::kRestart) ShowCrashDumpHeader();  // a restart's PID 1 reports it
  if (g_config.debug_exit) {
    sync();
    sys::WriteDebugExitPort(status);  // QEMU exits here with (status << 1) | 1
  }
  StopOtherProcesses();
  switch (policy) {
    case ExitPolicy::kPoweroff: RebootWith(RB_POWER_OFF);
    case ExitPolicy::kReboot: RebootWith(RB_AUTOBOOT);
    case ExitPolicy::kRestart: Restart();
    case ExitPolicy::kShell:
      RunRescueShell(line);
      RebootWith(RB_POWER_OFF);
  }
  Hang();
}

void RequestExitAction(ExitPolicy action) { g_requested_action = static_cast<int>(action); }

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
