#include "storage/mount_spec.h"

#include <sys/mount.h>

#include <cerrno>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace microbeam {
namespace {

struct FlagName {
  std::string_view name;
  unsigned long set;
  unsigned long clear;
};

constexpr FlagName kFlags[] = {
    {"ro", MS_RDONLY, 0},          {"rw", 0, MS_RDONLY},
    {"noatime", MS_NOATIME, MS_RELATIME | MS_STRICTATIME},
    {"relatime", MS_RELATIME, MS_NOATIME | MS_STRICTATIME},
    {"strictatime", MS_STRICTATIME, MS_NOATIME | MS_RELATIME},
    {"nodiratime", MS_NODIRATIME, 0}, {"lazytime", MS_LAZYTIME, 0},
    {"nodev", MS_NODEV, 0},        {"dev", 0, MS_NODEV},
    {"nosuid", MS_NOSUID, 0},      {"suid", 0, MS_NOSUID},
    {"noexec", MS_NOEXEC, 0},      {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},   {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
};

// The directories PID 1 mounts or owns itself: another mount there would hide them.
constexpr std::string_view kReserved[] = {"/proc", "/sys", "/dev", "/run", "/tmp", "/release", "/init"};

absl::Status CheckDir(std::string_view dir) {
  if (!dir.starts_with("/")) return absl::InvalidArgumentError(absl::StrCat("DIR \"", dir, "\" is not absolute"));
  if (dir == "/") return absl::InvalidArgumentError("DIR \"/\" would hide the image");
  for (std::string_view part : absl::StrSplit(dir.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat("DIR \"", dir, "\" has an empty, . or .. component"));
    }
  }
  for (std::string_view r : kReserved) {
    if (PathIsUnder(dir, r)) {
      return absl::InvalidArgumentError(absl::StrCat("DIR \"", dir, "\" is under ", r, ", which PID 1 keeps"));
    }
  }
  return absl::OkStatus();
}

bool ValidFsType(std::string_view type) {
  if (type.empty() || type.size() > 32) return false;
  for (char ch : type) {
    if (!absl::ascii_islower(static_cast<unsigned char>(ch)) && !absl::ascii_isdigit(static_cast<unsigned char>(ch)) &&
        ch != '_' && ch != '.' && ch != '-') {
      return false;
    }
  }
  return true;
}

bool HasControlChar(std::string_view s) {
  for (char ch : s) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) return true;
  }
  return false;
}

}  // namespace

MountOptions ParseMountOptions(std::string_view options) {
  MountOptions out;
  for (std::string_view item : absl::StrSplit(options, ',', absl::SkipEmpty())) {
    if (item == "defaults") continue;
    bool known = false;
    for (const FlagName& f : kFlags) {
      if (item == f.name) {
        out.flags = (out.flags & ~f.clear) | f.set;
        known = true;
        break;
      }
    }
    if (!known) absl::StrAppend(&out.data, out.data.empty() ? "" : ",", item);
  }
  return out;
}

absl::StatusOr<MountSpec> ParseMountSpec(std::string_view spec) {
  std::vector<std::string_view> parts = absl::StrSplit(spec, absl::MaxSplits(':', 3));
  if (parts.size() < 3) return absl::InvalidArgumentError("not DEV:DIR:TYPE:OPTIONS");
  if (HasControlChar(spec)) return absl::InvalidArgumentError("has a control character");
  if (parts[0].empty()) return absl::InvalidArgumentError("DEV is empty");
  if (absl::Status s = CheckDir(parts[1]); !s.ok()) return s;
  if (!ValidFsType(parts[2])) return absl::InvalidArgumentError(absl::StrCat("TYPE \"", parts[2], "\" is not a file system name"));
  MountOptions o = ParseMountOptions(parts.size() == 4 ? parts[3] : "");
  return MountSpec{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]), o.flags, std::move(o.data)};
}

absl::StatusOr<MountSpec> DataMount(std::string_view device) {
  if (!device.starts_with("/dev/") || device.size() == 5 || device.find("..") != std::string_view::npos ||
      HasControlChar(device)) {
    return absl::InvalidArgumentError("not a device path under /dev");
  }
  MountOptions o = ParseMountOptions(kDataOptions);
  return MountSpec{std::string(device), kDataDir, kDataFsType, o.flags, std::move(o.data)};
}

std::string DataMountFailure(std::string_view device, std::string_view what, bool required) {
  return absl::StrCat("microbeam: /data: ", device, ": ", what, "; ",
                      required ? "microbeam.data_required=1: rescue shell" : "booting without /data");
}

bool RetryReadOnly(int err) { return err == EROFS || err == EACCES; }

bool PathIsUnder(std::string_view path, std::string_view dir) {
  if (!path.starts_with(dir)) return false;
  return path.size() == dir.size() || path[dir.size()] == '/' || dir == "/";
}

}  // namespace microbeam
