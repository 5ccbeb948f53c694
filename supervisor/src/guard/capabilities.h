// Capability names with libcap (pure): the configuration checks microbeam.caps with them.
#pragma once

#include <optional>
#include <string>

namespace microbeam {

// "cap_sys_boot" -> CAP_SYS_BOOT's number; nullopt for an unknown name.
std::optional<int> CapabilityFromName(const std::string& name);

// CAP_SYS_BOOT's number -> "cap_sys_boot"; "" for a number libcap does not know.
std::string CapabilityName(int cap);

}  // namespace microbeam
