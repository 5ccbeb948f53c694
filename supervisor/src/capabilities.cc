#include "capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"

namespace microbeam {

std::optional<int> CapabilityFromName(const std::string& name) {
  cap_value_t value;
  if (cap_from_name(name.c_str(), &value) != 0) return std::nullopt;
  return static_cast<int>(value);
}

absl::Status RestrictCapabilities(const std::vector<std::string>& keep) {
  std::set<int> kept;
  for (const std::string& name : keep) {
    std::optional<int> cap = CapabilityFromName(name);
    if (!cap) return absl::InvalidArgumentError(absl::StrCat("unknown capability ", name));
    kept.insert(*cap);
  }
  for (int cap = 0; cap <= CAP_LAST_CAP || cap_get_bound(static_cast<cap_value_t>(cap)) >= 0; ++cap) {
    // Already out (a restarted PID 1 inherits its predecessor's bounding set): dropping
    // again would need CAP_SETPCAP, which is gone too.
    if (kept.contains(cap) || cap_get_bound(static_cast<cap_value_t>(cap)) == 0) continue;
    if (cap_drop_bound(static_cast<cap_value_t>(cap)) != 0 && errno != EINVAL) {
      return absl::InternalError(absl::StrCat("dropping capability ", cap, " from the bounding set: ",
                                              std::strerror(errno)));
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("prctl(PR_SET_NO_NEW_PRIVS): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace microbeam
