#include "lifecycle/restore_watcher.h"

#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/config.h"
#include "sys/kernel_log.h"
#include "guard/privileges.h"
#include "sys/read_file.h"
#include "lifecycle/restore_message.h"
#include "sys/system.h"

namespace microbeam {
namespace {

void Say(std::string_view line) { LogLine(line); }

int64_t RealtimeNs() {
  timespec ts = {};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the BEAM's pipe full (nobody reads it) or the console gone: drop
    done += static_cast<size_t>(n);
  }
}

// Mixes the host's bytes into the input pool with credit, then makes the kernel build a
// new key from the pool now (RNDRESEEDCRNG) rather than at its next scheduled reseed:
// every later read of /dev/urandom and getrandom() differs from the other copies'.
std::string ReseedRandom(const RestoreMessage& m) {
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return absl::StrCat("/dev/urandom: ", strerror(errno));
  struct {
    rand_pool_info info;
    uint8_t bytes[32];
  } entropy = {};
  entropy.info.entropy_count = 8 * sizeof entropy.bytes;
  entropy.info.buf_size = sizeof entropy.bytes;
  memcpy(entropy.bytes, m.seed.data(), sizeof entropy.bytes);
  std::string error;
  if (ioctl(fd, RNDADDENTROPY, &entropy) != 0) {
    error = absl::StrCat("RNDADDENTROPY: ", strerror(errno));
  } else if (ioctl(fd, RNDRESEEDCRNG) != 0) {
    error = absl::StrCat("RNDRESEEDCRNG: ", strerror(errno));
  }
  close(fd);
  return error;
}

void Apply(const RestoreMessage& m, uint64_t restores, int channel, int beam) {
  int64_t before = RealtimeNs();
  timespec target = {static_cast<time_t>(m.unix_ns / 1'000'000'000), static_cast<long>(m.unix_ns % 1'000'000'000)};
  std::string clock_error;
  if (clock_settime(CLOCK_REALTIME, &target) != 0) clock_error = strerror(errno);
  int64_t step = clock_error.empty() ? m.unix_ns - before : 0;
  std::string random_error = ReseedRandom(m);
  WriteAll(channel, FormatRestoreAck(restores, step));
  if (beam >= 0) WriteAll(beam, FormatBeamNotice(restores, step));
  Say(absl::StrFormat("microbeam: restored (#%d): %s, %s", restores,
                      clock_error.empty() ? absl::StrFormat("clock stepped by %+.3f s", step / 1e9)
                                          : absl::StrCat("clock not set: ", clock_error),
                      random_error.empty() ? "random pool reseeded"
                                           : absl::StrCat("random pool not reseeded: ", random_error)));
}

void Watch(int channel, int beam, ThreadCredentials creds) {
  // Started before PID 1 drops its privileges, this thread keeps its own (they are per
  // thread) unless it drops them itself: to the app's, plus what a restore needs.
  if (absl::Status s = sys::ApplyThreadCredentials(creds); !s.ok()) {
    Say(absl::StrCat("microbeam: restore channel: ", s.message(), "; a restore will not be heard"));
    return;
  }
  LineSplitter lines;
  uint64_t restores = 0;
  char buf[512];
  while (true) {
    ssize_t n = read(channel, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Say(absl::StrCat("microbeam: restore channel: ", n < 0 ? strerror(errno) : "closed",
                       "; a later restore will not be heard"));
      return;
    }
    lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
    std::string line;
    while (lines.Next(line)) {
      absl::StatusOr<RestoreMessage> m = ParseRestoreMessage(line);
      if (!m.ok()) {
        Say(absl::StrCat("microbeam: restore channel: ", m.status().message(), "; ignored"));
        continue;
      }
      Apply(*m, ++restores, channel, beam);
    }
  }
}

}  // namespace

void StartRestoreWatcher(const Config& config) {
  if (std::getenv("container") != nullptr) return;  // a container's clock is the host's
  // hvc0 as the kernel's console is a VMM's console, not our channel.
  if (absl::StatusOr<std::string> cmdline = ReadFile("/proc/cmdline");
      cmdline.ok() && absl::StrContains(*cmdline, "console=hvc0")) {
    return;
  }
  // Without a virtio console hvc0 fails to open (ENODEV): a VM not made for snapshots.
  int channel = open(std::string(kRestoreChannel).c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (channel < 0) return;
  termios t = {};
  if (tcgetattr(channel, &t) == 0) {
    cfmakeraw(&t);  // bytes as sent: no echo back to the host, no line editing
    tcsetattr(channel, TCSANOW, &t);
  }
  int pipe_fds[2] = {-1, -1};
  if (pipe2(pipe_fds, O_CLOEXEC) == 0) {
    fcntl(pipe_fds[1], F_SETFL, O_NONBLOCK);  // an app that never reads must not block us
    setenv(std::string(kRestoreFdEnv).c_str(), absl::StrCat(pipe_fds[0]).c_str(), 1);
  } else {
    Say(absl::StrCat("microbeam: restore channel: pipe: ", strerror(errno), "; the BEAM will not be told"));
  }
  // The app's user and capabilities, plus CAP_SYS_TIME (the clock step) and CAP_SYS_ADMIN
  // (RNDADDENTROPY, RNDRESEEDCRNG); the bounding set the app's.
  constexpr uint64_t kSysTime = uint64_t{1} << 25, kSysAdmin = uint64_t{1} << 21;
  ThreadCredentials creds =
      HelperThreadCredentials(config.user, CapabilityMask(config.keep_caps), kSysTime | kSysAdmin);
  std::thread(Watch, channel, pipe_fds[1], creds).detach();
}

}  // namespace microbeam
