#include "storage/storage_sys.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "storage/mount_spec.h"
#include "sys/dir_entries.h"

namespace microbeam::sys {

int MountErrno(const MountSpec& m) {
  if (mkdir(m.target.c_str(), 0755) != 0 && errno != EEXIST) return errno;
  if (mount(m.source.c_str(), m.target.c_str(), m.fstype.c_str(), m.flags,
            m.data.empty() ? nullptr : m.data.c_str()) != 0) {
    return errno;
  }
  return 0;
}

void RemoveEmptyDir(const std::string& path) { rmdir(path.c_str()); }

bool IsMountPointPath(const std::string& path) {
  struct stat here = {}, parent = {};
  if (stat(path.c_str(), &here) != 0 || stat(absl::StrCat(path, "/..").c_str(), &parent) != 0) return false;
  return here.st_dev != parent.st_dev || here.st_ino == parent.st_ino;
}

bool WaitForPath(const std::string& path, int timeout_ms) {
  for (int waited = 0;; waited += 10) {
    if (access(path.c_str(), F_OK) == 0) return true;
    if (waited >= timeout_ms) return false;
    struct timespec ts = {0, 10'000'000};
    nanosleep(&ts, nullptr);
  }
}

Owner OwnerOf(const std::string& path) {
  struct stat st = {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {static_cast<long>(st.st_uid), static_cast<long>(st.st_gid)};
}

absl::Status Chown(const std::string& path, uid_t uid, gid_t gid) {
  if (chown(path.c_str(), uid, gid) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("chown ", path));
  return absl::OkStatus();
}

Closed CloseMount(const char* target, int& err) {
  if (umount2(target, 0) == 0) return Closed::kUnmounted;
  err = errno;
  if (err != EBUSY) return Closed::kFailed;
  if (mount(nullptr, target, nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0) return Closed::kReadOnly;
  int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    bool frozen = ioctl(fd, FIFREEZE, 0) == 0;
    close(fd);
    if (frozen) return Closed::kFrozen;
  }
  return Closed::kFailed;
}

void CloseFdsUnder(const char* target) {
  std::string_view dir(target);
  char cwd[256];
  if (getcwd(cwd, sizeof cwd) != nullptr && PathIsUnder(cwd, dir)) chdir("/");
  int fds = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fds < 0) return;
  char entries[4096];
  // Collected first, closed after: closing while reading the directory would skip entries.
  int doomed[256];
  size_t count = 0;
  ForEachDirEntry(fds, entries, [&](const char* p) {
    int fd = 0;
    if (*p < '0' || *p > '9') return;
    for (; *p >= '0' && *p <= '9'; ++p) fd = fd * 10 + (*p - '0');
    if (fd == fds || fd <= 2) return;
    char link[40], path[512];
    char* end = link;
    for (const char* s = "/proc/self/fd/"; *s;) *end++ = *s++;
    char digits[12];
    int k = 0;
    for (int v = fd; k == 0 || v > 0; v /= 10) digits[k++] = static_cast<char>('0' + v % 10);
    while (k > 0) *end++ = digits[--k];
    *end = '\0';
    ssize_t len = readlink(link, path, sizeof path - 1);
    if (len <= 0) return;
    if (PathIsUnder(std::string_view(path, static_cast<size_t>(len)), dir) && count < 256) doomed[count++] = fd;
  });
  close(fds);
  for (size_t i = 0; i < count; ++i) close(doomed[i]);
}

}  // namespace microbeam::sys
