// The file systems PID 1 mounts before anything else runs.
#pragma once

#include <string>
#include <vector>

namespace microbeam {

struct MountSpec {
  std::string source;
  std::string target;
  std::string fstype;
  unsigned long flags;
  std::string data;
};

// In order: parents before children (/dev before /dev/pts).
std::vector<MountSpec> EarlyMounts();

}  // namespace microbeam
