#include "guard/lock_down.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "lifecycle/crash_dump.h"
#include "crash/crash_path.h"
#include "sys/kernel_log.h"
#include "guard/privileges.h"
#include "lifecycle/restart_history.h"
#include "lifecycle/shutdown.h"
#include "lifecycle/stop_watcher.h"
#include "sys/system.h"

namespace microbeam {
namespace {

long BootSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return ts.tv_sec;
}

// A directory the app user owns. A restarted PID 1 (already the app's user) finds it.
absl::Status MakeAppDir(const char* path, mode_t mode, const AppUser& user) {
  if (mkdir(path, mode) != 0 && errno != EEXIST) return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
  struct stat st;
  if (stat(path, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("stat ", path));
  if (st.st_uid == user.uid && st.st_gid == user.gid) return absl::OkStatus();
  if (chown(path, user.uid, user.gid) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("chown ", path));
  return absl::OkStatus();
}

}  // namespace

void OpenNullOnClosedStdio() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    int null = open("/dev/null", O_RDWR);  // takes the lowest free number: this one
    if (null >= 0 && null != fd) {
      dup2(null, fd);
      close(null);
    }
  }
}

void PrepareTheEnd(const Config& config, char** argv, char** envp) {
  const char* times = std::getenv(std::string(kRestartsEnv).c_str());
  std::vector<long> recent = RecentRestartTimes(ParseRestartTimes(times ? times : ""), BootSeconds(),
                                                absl::ToInt64Seconds(config.restart_window), config.restart_limit);
  PrepareShutdown(config, recent);
  PrepareCrashPath({argv, envp, recent, KernelLogFd(), config.debug_exit});
}

absl::StatusOr<std::string> LockDown(const Config& config) {
  // The kernel's rootfs (tmpfs) has a root of mode 1777, and the cpio cannot change it:
  // anyone could create files in / (the app could plant a file /init's successor reads).
  if (chmod("/", 0755) != 0 && errno != EPERM) return absl::ErrnoToStatus(errno, "chmod /");
  for (const auto& [dir, mode] : {std::pair{kAppRunDir, 0755}, std::pair{kCrashDumpDir, 0700}}) {
    if (absl::Status s = MakeAppDir(dir, mode, config.user); !s.ok()) return s;
  }
  setenv("ERL_CRASH_DUMP", kCrashDumpPath, 1);
  KeepInputFdsAcrossReExec(StopWatcherInputFds());
  ThreadCredentials creds = AppCredentials(config.user, CapabilityMask(config.keep_caps));
  if (absl::Status s = sys::ApplyThreadCredentials(creds); !s.ok()) return s;
  if (absl::Status s = DropWatcherPrivileges(creds); !s.ok()) {
    return absl::InternalError(absl::StrCat("the stop watcher: ", s.message()));
  }
  return DescribeCredentials(creds);
}

}  // namespace microbeam
