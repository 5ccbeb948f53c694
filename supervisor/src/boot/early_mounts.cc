#include "boot/early_mounts.h"

#include <sys/mount.h>

#include "absl/strings/str_cat.h"

namespace microbeam {

std::vector<MountSpec> EarlyMounts() {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  return {
      {"proc", "/proc", "proc", kSafe, ""},
      {"sysfs", "/sys", "sysfs", kSafe, ""},
      {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"},
      {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=0620,ptmxmode=0666"},
      {"tmpfs", "/dev/shm", "tmpfs", kSafe, "mode=1777,size=10%"},
      {"tmpfs", "/run", "tmpfs", kSafe, "mode=0755,size=10%"},
  };
}

MountSpec TmpMount(std::string_view size) {
  return {"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, absl::StrCat("mode=1777,size=", size)};
}

}  // namespace microbeam
