#include "crash/crash_path.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string_view>

#include "crash/fixed_line.h"
#include "lifecycle/restart_history.h"
#include "lifecycle/stop_requests.h"

namespace microbeam {
namespace {

constexpr size_t kMaxEnv = 256;
constexpr size_t kMaxTimes = 1024;  // microbeam.restart_limit is at most 1000

// All filled by PrepareCrashPath(), read-only afterwards except the three buffers
// that ReExecInit() fills, which only the thread owning the end writes.
char** g_argv = nullptr;
char* g_envp[kMaxEnv + 4] = {};
size_t g_env_count = 0;
long g_times[kMaxTimes] = {};
size_t g_time_count = 0;
constexpr size_t kMaxKept = 40;
int g_kept[kMaxKept] = {};  // fds kept across the exec, ascending
size_t g_kept_count = 0;
int g_kmsg_fd = -1;
bool g_ioport = false;
sigset_t g_exec_mask;
FixedLine<24 + kMaxTimes * 21> g_restarts_var;
FixedLine<48> g_kmsg_var;
FixedLine<48 + kMaxKept * 11> g_input_var;
FixedLine<1024> g_rescue_var;
FixedLine<48> g_keeper_var;
char g_ioport_var[] = "MICROBEAM_IOPORT=inherited";

std::atomic<long> g_owner{0};  // the tid carrying out the end, 0 before
std::atomic<bool> g_committed{false};
std::atomic<int> g_requested{-1};

long Tid() { return syscall(SYS_gettid); }

bool IsOurs(std::string_view entry) {
  for (std::string_view name : {kRestartsEnv, std::string_view(kKernelLogFdEnv), std::string_view(kRescueEnv),
                                std::string_view(kIoPortEnv), std::string_view(kInputFdsEnv),
                                std::string_view(kVolumeKeeperEnv)}) {
    if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') return true;
  }
  return false;
}

long BootSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec;
}

}  // namespace

void PrepareCrashPath(const CrashPathSetup& setup) {
  g_argv = setup.argv;
  for (char** e = setup.envp; e && *e && g_env_count < kMaxEnv; ++e) {
    if (!IsOurs(*e)) g_envp[g_env_count++] = *e;  // PID 1's initial environment outlives it
  }
  size_t skip = setup.restart_times.size() > kMaxTimes - 1 ? setup.restart_times.size() - (kMaxTimes - 1) : 0;
  for (size_t i = skip; i < setup.restart_times.size(); ++i) g_times[g_time_count++] = setup.restart_times[i];
  g_kmsg_fd = setup.kernel_log_fd;
  g_ioport = setup.debug_exit_port;
  if (g_kmsg_fd > 2) {
    g_kept[g_kept_count++] = g_kmsg_fd;
    g_kmsg_var << kKernelLogFdEnv << "=" << g_kmsg_fd;
  }
  g_exec_mask = StopSignals();
}

void KeepInputFdsAcrossReExec(std::span<const int> fds) {
  g_input_var.Clear();
  if (!fds.empty()) g_input_var << kInputFdsEnv << "=";
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] <= 2 || g_kept_count >= kMaxKept) continue;
    g_input_var << (i ? "," : "") << fds[i];
    g_kept[g_kept_count++] = fds[i];
  }
  std::sort(g_kept, g_kept + g_kept_count);
}

void KeepVolumeKeeperAcrossReExec(int pid) {
  g_keeper_var.Clear();
  if (pid > 1) g_keeper_var << kVolumeKeeperEnv << "=" << pid;
}

bool ClaimTheEnd() {
  long expected = 0;
  return g_owner.compare_exchange_strong(expected, Tid());
}

bool EndClaimed() { return g_owner.load() != 0; }
bool OwnsTheEnd() { return g_owner.load() == Tid(); }

void Park() {
  for (;;) pause();
}

bool ReExecCommitted() { return g_committed.load(); }
void SetRequestedAction(int action) { g_requested.store(action); }
int RequestedAction() { return g_requested.load(); }

bool ReExecInit(bool record_restart, const char* rescue_reason) {
  size_t n = g_env_count;
  char* envp[kMaxEnv + 7];  // ours: restarts, kernel log, input fds, rescue, I/O port, keeper; then NULL
  std::memcpy(envp, g_envp, n * sizeof(char*));
  g_restarts_var.Clear();
  g_restarts_var << kRestartsEnv << "=";
  for (size_t i = 0; i < g_time_count; ++i) g_restarts_var << (i ? "," : "") << g_times[i];
  if (record_restart) g_restarts_var << (g_time_count ? "," : "") << BootSeconds();
  envp[n++] = g_restarts_var.data();
  if (!g_kmsg_var.view().empty()) envp[n++] = g_kmsg_var.data();
  if (!g_input_var.view().empty()) envp[n++] = g_input_var.data();
  if (rescue_reason != nullptr) {
    g_rescue_var.Clear();
    g_rescue_var << kRescueEnv << "=" << rescue_reason;
    envp[n++] = g_rescue_var.data();
  }
  if (g_ioport) envp[n++] = g_ioport_var;
  if (!g_keeper_var.view().empty()) envp[n++] = g_keeper_var.data();
  envp[n] = nullptr;
  // No fd of the old BEAM (its listening sockets above all) may survive into the new one:
  // all are closed but stdio and the kept ones, which lose close-on-exec.
  unsigned from = 3;
  for (size_t i = 0; i < g_kept_count; ++i) {
    unsigned fd = static_cast<unsigned>(g_kept[i]);
    if (fd > from) syscall(SYS_close_range, from, fd - 1, 0u);
    fcntl(g_kept[i], F_SETFD, 0);
    from = fd + 1;
  }
  syscall(SYS_close_range, from, ~0u, 0u);
  // The thread's mask is kept by execve: exactly the stop signals, so a pending one is
  // neither lost nor delivered to ERTS's handlers, which are still installed until then.
  sigprocmask(SIG_SETMASK, &g_exec_mask, nullptr);
  // Sequentially consistent with the watcher's SetRequestedAction() then
  // ReExecCommitted(): either this sees its request, or it sees the commit and leaves
  // the request pending as a signal.
  g_committed.store(true);
  if (g_requested.load() >= 0) return true;
  execve("/init", g_argv, envp);
  return false;
}

}  // namespace microbeam
