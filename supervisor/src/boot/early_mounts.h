// The file systems PID 1 mounts before anything else runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace microbeam {

struct MountSpec {
  std::string source;
  std::string target;
  std::string fstype;
  unsigned long flags;
  std::string data;
};

// In order: parents before children (/dev before /dev/pts). /proc first: the
// configuration comes from /proc/cmdline.
std::vector<MountSpec> EarlyMounts();

// /tmp, once the configuration is read: a tmpfs of at most SIZE (tmpfs's size=, e.g.
// "25%" or "16m"), so that filling it cannot take the memory the BEAM needs (tmpfs's
// default is half the RAM, and tmpfs pages cannot be reclaimed without swap).
MountSpec TmpMount(std::string_view size);

}  // namespace microbeam
