#include "lifecycle/stop_watcher.h"

#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crash/crash_path.h"
#include "sys/kernel_log.h"
#include "lifecycle/shutdown.h"
#include "lifecycle/stop_requests.h"
#include "sys/system.h"

namespace microbeam {
namespace {

bool HasKey(int fd, unsigned key) {
  unsigned long keys[KEY_MAX / (8 * sizeof(unsigned long)) + 1] = {};
  if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) < 0) return false;
  constexpr size_t kBits = 8 * sizeof(unsigned long);
  return (keys[key / kBits] >> (key % kBits)) & 1;
}

std::vector<int> OpenKeyDevices() {
  std::vector<int> fds;
  // A restarted PID 1 (the app's user, who may not open them) keeps its predecessor's.
  if (const char* kept = std::getenv(kInputFdsEnv)) {
    for (std::string_view item : absl::StrSplit(kept, ',', absl::SkipEmpty())) {
      int fd = -1;
      if (absl::SimpleAtoi(item, &fd) && fd > 2 && (HasKey(fd, KEY_POWER) || HasKey(fd, KEY_DELETE))) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fds.push_back(fd);
      }
    }
    return fds;
  }
  for (int i = 0; i < 32; ++i) {
    int fd = open(absl::StrCat("/dev/input/event", i).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) continue;
    if (HasKey(fd, KEY_POWER) || HasKey(fd, KEY_DELETE)) {
      fds.push_back(fd);
    } else {
      close(fd);
    }
  }
  return fds;
}

// ERTS installs its SIGTERM handler (init:stop()) early in erl_start. Before that, or
// in the rescue shell, nobody would act on SIGTERM (PID 1 ignores default signals).
bool BeamHandlesSigterm() {
  struct sigaction old = {};
  sigaction(SIGTERM, nullptr, &old);
  return old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN;
}

// The watcher exists before PID 1 drops its privileges, and Linux keeps credentials per
// thread: it applies the drop itself when asked (DropWatcherPrivileges).
struct DropRequest {
  int fd = -1;  // eventfd the watcher polls
  std::mutex mu;
  std::condition_variable done_cv;
  std::optional<ThreadCredentials> creds;
  std::optional<absl::Status> result;
};
DropRequest* g_drop = nullptr;
std::vector<int> g_input_fds;  // written before the thread starts, read-only afterwards

void ServeDropRequest() {
  uint64_t n;
  if (read(g_drop->fd, &n, sizeof n) != sizeof n) return;
  std::lock_guard<std::mutex> lock(g_drop->mu);
  if (!g_drop->creds) return;
  g_drop->result = sys::ApplyThreadCredentials(*g_drop->creds);
  g_drop->done_cv.notify_all();
}

class Watcher {
 public:
  Watcher(int signal_fd, std::vector<int> key_fds, absl::Duration timeout)
      : signal_fd_(signal_fd), key_fds_(std::move(key_fds)), keys_(key_fds_.size()), timeout_(timeout) {}

  [[noreturn]] void Run() {
    std::vector<struct pollfd> pfds = {{signal_fd_, POLLIN, 0}, {g_drop->fd, POLLIN, 0}};
    for (int fd : key_fds_) pfds.push_back({fd, POLLIN, 0});
    for (;;) {
      int wait_ms = -1;
      if (stopping_) {
        absl::Duration wait = std::min(deadline_, next_sigterm_) - absl::Now();
        wait_ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wait)));
      }
      int n = poll(pfds.data(), pfds.size(), wait_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 && stopping_) {
        if (absl::Now() >= deadline_) EndOfBeam("did not stop within microbeam.shutdown_timeout", 0);
        AskBeamToStop();
      }
      if (pfds[0].revents & POLLIN) ReadSignals();
      if (pfds[1].revents & POLLIN) ServeDropRequest();
      for (size_t i = 0; i < key_fds_.size(); ++i) {
        if (pfds[i + 2].revents & POLLIN) ReadKeys(i);
        if (pfds[i + 2].revents & (POLLERR | POLLHUP | POLLNVAL)) pfds[i + 2].fd = -1;  // device gone
      }
    }
  }

 private:
  void ReadSignals() {
    struct signalfd_siginfo info;
    while (read(signal_fd_, &info, sizeof info) == sizeof info) {
      if (std::optional<StopRequest> r = StopForSignal(static_cast<int>(info.ssi_signo))) {
        Handle(*r, static_cast<pid_t>(info.ssi_pid));
      }
    }
  }

  void ReadKeys(size_t i) {
    struct input_event ev[16];
    ssize_t n;
    while ((n = read(key_fds_[i], ev, sizeof ev)) > 0) {
      for (ssize_t k = 0; k < n / static_cast<ssize_t>(sizeof ev[0]); ++k) {
        if (ev[k].type != EV_KEY) continue;
        if (std::optional<StopRequest> r = keys_[i].OnKey(ev[k].code, ev[k].value)) Handle(*r, 0);
      }
    }
  }

  void Handle(const StopRequest& r, pid_t sender) {
    std::string from = sender > 0 ? absl::StrCat(" from PID ", sender) : "";
    if (EndClaimed()) {
      // The BEAM is gone and PID 1 is carrying out its end: a restart's cleanup, or the
      // shell's re-exec. The request takes its place (crash_path.h); once the exec is
      // committed it goes along as a pending signal, which the next PID 1 hears.
      RequestExitAction(r.action);
      LogAlways(absl::StrCat("microbeam: ", r.what, from, " while the BEAM ends: ", ExitPolicyName(r.action),
                             " instead"));
      if (ReExecCommitted()) {
        kill(getpid(), r.action == ExitPolicy::kReboot ? SIGUSR1 : SIGPWR);
        Park();  // unread from here on: blocked in every thread, it stays pending
      }
      return;
    }
    if (stopping_) {
      LogAlways(absl::StrCat("microbeam: ", r.what, from, " again while stopping: ", ExitPolicyName(r.action), " now"));
      RequestExitAction(r.action);
      EndOfBeam("was stopped by a second request", 0);
    }
    RequestExitAction(r.action);
    if (!BeamHandlesSigterm()) {
      LogAlways(absl::StrCat("microbeam: ", r.what, from, ": the BEAM is not running; ", ExitPolicyName(r.action)));
      EndOfBeam("was not running", 0);
    }
    LogAlways(absl::StrCat("microbeam: ", r.what, from, ": stopping the BEAM (init:stop), then ",
                         ExitPolicyName(r.action), "; ", absl::ToInt64Seconds(timeout_), " s allowed"));
    stopping_ = true;
    deadline_ = absl::Now() + timeout_;
    AskBeamToStop();
  }

  // ERTS's SIGTERM handler runs init:stop() through the kernel application's signal
  // server; while the BEAM is still starting that server may not exist yet, and ERTS
  // drops the signal. So it goes again every kSigtermEvery until the BEAM ends (a
  // second init:stop() while stopping is ignored).
  void AskBeamToStop() {
    kill(getpid(), SIGTERM);
    next_sigterm_ = absl::Now() + kSigtermEvery;
  }

  static constexpr absl::Duration kSigtermEvery = absl::Seconds(2);

  int signal_fd_;
  std::vector<int> key_fds_;
  std::vector<StopKeys> keys_;  // one per device: modifier state is per keyboard
  absl::Duration timeout_;
  bool stopping_ = false;
  absl::Time next_sigterm_ = absl::InfiniteFuture();
  absl::Time deadline_;
};

}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void UnblockAllSignals() {
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
}

absl::StatusOr<int> WatchStopRequests(absl::Duration shutdown_timeout) {
  sigset_t set = StopSignals();
  int signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) return absl::ErrnoToStatus(errno, "signalfd");
  g_drop = new DropRequest;  // lives as long as PID 1
  g_drop->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (g_drop->fd < 0) return absl::ErrnoToStatus(errno, "eventfd");
  std::vector<int> key_fds = OpenKeyDevices();
  g_input_fds = key_fds;
  int devices = static_cast<int>(key_fds.size());
  std::thread([signal_fd, fds = std::move(key_fds), shutdown_timeout]() mutable {
    Watcher(signal_fd, std::move(fds), shutdown_timeout).Run();
  }).detach();
  return devices;
}

std::vector<int> StopWatcherInputFds() { return g_input_fds; }

absl::Status DropWatcherPrivileges(const ThreadCredentials& creds) {
  if (g_drop == nullptr) return absl::OkStatus();  // no watcher thread
  std::unique_lock<std::mutex> lock(g_drop->mu);
  g_drop->creds = creds;
  uint64_t one = 1;
  if (write(g_drop->fd, &one, sizeof one) != sizeof one) return absl::ErrnoToStatus(errno, "eventfd");
  if (!g_drop->done_cv.wait_for(lock, std::chrono::seconds(5), [] { return g_drop->result.has_value(); })) {
    return absl::DeadlineExceededError("the stop watcher did not answer within 5 s");
  }
  return *g_drop->result;
}

}  // namespace microbeam
