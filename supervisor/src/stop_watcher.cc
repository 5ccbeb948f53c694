#include "stop_watcher.h"

#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernel_log.h"
#include "shutdown.h"
#include "stop_requests.h"

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

class Watcher {
 public:
  Watcher(int signal_fd, std::vector<int> key_fds, absl::Duration timeout)
      : signal_fd_(signal_fd), key_fds_(std::move(key_fds)), keys_(key_fds_.size()), timeout_(timeout) {}

  [[noreturn]] void Run() {
    std::vector<struct pollfd> pfds = {{signal_fd_, POLLIN, 0}};
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
      for (size_t i = 0; i < key_fds_.size(); ++i) {
        if (pfds[i + 1].revents & POLLIN) ReadKeys(i);
        if (pfds[i + 1].revents & (POLLERR | POLLHUP | POLLNVAL)) pfds[i + 1].fd = -1;  // device gone
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
    if (stopping_) {
      LogLine(absl::StrCat("microbeam: ", r.what, from, " again while stopping: ", ExitPolicyName(r.action), " now"));
      RequestExitAction(r.action);
      EndOfBeam("was stopped by a second request", 0);
    }
    RequestExitAction(r.action);
    if (!BeamHandlesSigterm()) {
      LogLine(absl::StrCat("microbeam: ", r.what, from, ": the BEAM is not running; ", ExitPolicyName(r.action)));
      EndOfBeam("was not running", 0);
    }
    LogLine(absl::StrCat("microbeam: ", r.what, from, ": stopping the BEAM (init:stop), then ",
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
  std::vector<int> key_fds = OpenKeyDevices();
  int devices = static_cast<int>(key_fds.size());
  std::thread([signal_fd, fds = std::move(key_fds), shutdown_timeout]() mutable {
    Watcher(signal_fd, std::move(fds), shutdown_timeout).Run();
  }).detach();
  return devices;
}

}  // namespace microbeam
