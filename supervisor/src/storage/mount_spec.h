// The mounts a kernel command line asks PID 1 for: the data volume (microbeam.data=DEV,
// ext4 at /data) and any other (microbeam.mount=DEV:DIR:TYPE:OPTIONS, erlinit's -m).
// Pure functions: parsing never touches the system, so tests and the fuzzer call them.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "boot/early_mounts.h"

namespace microbeam {

// Where the data volume is mounted, and how: ext4, no access times (a read would
// otherwise be a write), no device nodes or set-id programs from a disk image.
inline constexpr char kDataDir[] = "/data";
inline constexpr char kDataFsType[] = "ext4";
inline constexpr char kDataOptions[] = "noatime,nosuid,nodev";

// OPTIONS as mount(8) reads them: the generic flags by name (ro, rw, noatime, nodev,
// nosuid, noexec, sync, dirsync, relatime, strictatime, nodiratime, lazytime) become
// MS_* bits, "defaults" and empty items are dropped, everything else is the file
// system's own data ("size=16m", "errors=remount-ro"), in order.
struct MountOptions {
  unsigned long flags = 0;
  std::string data;
};
MountOptions ParseMountOptions(std::string_view options);

// "DEV:DIR:TYPE[:OPTIONS]" (OPTIONS is the rest of the value, colons included). DEV
// not empty; DIR absolute, without "." or ".." components, not "/" and not under a
// directory PID 1 mounts itself (/proc, /sys, /dev, /run, /tmp) or the release; TYPE a
// file system name ([a-z0-9_.-]). The error says which part is wrong.
absl::StatusOr<MountSpec> ParseMountSpec(std::string_view spec);

// The data volume's mount for DEVICE (an absolute path under /dev, no "..").
absl::StatusOr<MountSpec> DataMount(std::string_view device);

// The line for a data volume that did not mount: DEVICE, what went wrong, and the policy
// (microbeam.data_required).
std::string DataMountFailure(std::string_view device, std::string_view what, bool required);

// Whether a refused read-write mount is worth a read-only one: a read-only disk (the
// block layer answers EACCES, ext4 EROFS).
bool RetryReadOnly(int err);

// Whether PATH is DIR or inside it ("/data", "/data/x": yes; "/database": no).
bool PathIsUnder(std::string_view path, std::string_view dir);

}  // namespace microbeam
