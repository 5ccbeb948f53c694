#include "guard/capabilities.h"

#include <sys/capability.h>

namespace microbeam {

std::optional<int> CapabilityFromName(const std::string& name) {
  cap_value_t value;
  if (cap_from_name(name.c_str(), &value) != 0) return std::nullopt;
  return static_cast<int>(value);
}

std::string CapabilityName(int cap) {
  if (cap < 0 || cap > CAP_LAST_CAP) return "";
  char* name = cap_to_name(static_cast<cap_value_t>(cap));
  if (name == nullptr) return "";
  std::string out(name);
  cap_free(name);
  return out;
}

}  // namespace microbeam
