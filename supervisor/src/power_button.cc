#include "power_button.h"

#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernel_log.h"
#include "shutdown.h"

namespace microbeam {
namespace {

bool HasPowerKey(int fd) {
  unsigned long keys[KEY_MAX / (8 * sizeof(unsigned long)) + 1] = {};
  if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys) < 0) return false;
  constexpr size_t kBits = 8 * sizeof(unsigned long);
  return (keys[KEY_POWER / kBits] >> (KEY_POWER % kBits)) & 1;
}

[[noreturn]] void Watch(std::vector<int> fds, absl::Duration timeout) {
  std::vector<struct pollfd> pfds;
  for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
  for (;;) {
    if (poll(pfds.data(), pfds.size(), -1) < 0) continue;
    for (const struct pollfd& p : pfds) {
      if (!(p.revents & POLLIN)) continue;
      struct input_event ev[16];
      ssize_t n = read(p.fd, ev, sizeof ev);
      for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof ev[0]); ++i) {
        if (ev[i].type != EV_KEY || ev[i].code != KEY_POWER || ev[i].value != 1) continue;
        LogLine(absl::StrCat("microbeam: power button: stopping the BEAM (init:stop), then powering off; ",
                             absl::ToInt64Seconds(timeout), " s allowed"));
        RequestPoweroff();
        kill(1, SIGTERM);  // ERTS's SIGTERM handler runs init:stop()
        absl::SleepFor(timeout);
        EndOfBeam("did not stop within microbeam.shutdown_timeout", 0);
      }
    }
  }
}

}  // namespace

absl::Status WatchPowerButton(absl::Duration shutdown_timeout) {
  std::vector<int> fds;
  for (int i = 0; i < 32; ++i) {
    int fd = open(absl::StrCat("/dev/input/event", i).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    if (HasPowerKey(fd)) {
      fds.push_back(fd);
    } else {
      close(fd);
    }
  }
  if (fds.empty()) return absl::NotFoundError("no input device with a power key");
  std::thread(Watch, std::move(fds), shutdown_timeout).detach();
  return absl::OkStatus();
}

}  // namespace microbeam
