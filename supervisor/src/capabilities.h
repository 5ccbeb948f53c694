// Capabilities with libcap: name lookup (pure) and the bounding-set drop PID 1 does
// before erl_start, so nothing the BEAM spawns can ever gain a dropped capability.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace microbeam {

// "cap_sys_boot" -> CAP_SYS_BOOT's number; nullopt for an unknown name.
std::optional<int> CapabilityFromName(const std::string& name);

// Drops every capability not named in `keep` from the bounding set, and sets
// no_new_privs so no spawned program gains privileges through exec.
absl::Status RestrictCapabilities(const std::vector<std::string>& keep);

}  // namespace microbeam
