#include "guard/privileges.h"

#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "guard/capabilities.h"

namespace microbeam {

std::optional<AppUser> ParseAppUser(std::string_view value) {
  if (value == "root") return AppUser{0, 0};
  size_t colon = value.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  uint32_t uid = 0, gid = 0;
  std::string_view u = value.substr(0, colon), g = value.substr(colon + 1);
  auto digits = [](std::string_view s) { return !s.empty() && s.find_first_not_of("0123456789") == s.npos; };
  // (uid_t)-1 means "unchanged" to setresuid: never a real id.
  constexpr uint32_t kMax = std::numeric_limits<int32_t>::max() - 1;
  if (!digits(u) || !digits(g) || !absl::SimpleAtoi(u, &uid) || !absl::SimpleAtoi(g, &gid) || uid > kMax ||
      gid > kMax) {
    return std::nullopt;
  }
  return AppUser{uid, gid};
}

uint64_t CapabilityMask(const std::vector<std::string>& names) {
  uint64_t mask = 0;
  for (const std::string& name : names) {
    std::optional<int> cap = CapabilityFromName(name);
    if (cap && *cap >= 0 && *cap < 64) mask |= uint64_t{1} << *cap;
  }
  return mask;
}

ThreadCredentials AppCredentials(const AppUser& user, uint64_t keep) {
  ThreadCredentials c;
  c.uid = user.uid;
  c.gid = user.gid;
  c.bounding = c.permitted = c.effective = keep;
  if (user.uid != 0) c.inheritable = c.ambient = keep;
  return c;
}

ThreadCredentials HelperThreadCredentials(const AppUser& user, uint64_t keep, uint64_t extra) {
  ThreadCredentials c = AppCredentials(user, keep);
  c.permitted |= extra;
  c.effective |= extra;
  return c;
}

std::string CapabilityNames(uint64_t mask) {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap) {
    if (!(mask >> cap & 1)) continue;
    std::string name = CapabilityName(cap);
    names.push_back(name.empty() ? absl::StrCat(cap) : name);
  }
  return names.empty() ? "none" : absl::StrJoin(names, ",");
}

std::string DescribeCredentials(const ThreadCredentials& c) {
  return absl::StrCat("microbeam: the BEAM runs as uid ", c.uid, " gid ", c.gid, " with ",
                      CapabilityNames(c.effective), " (bounding set the same",
                      c.ambient ? "; ambient too, for a restart by re-exec" : "",
                      "), no_new_privs; port programs with none");
}

}  // namespace microbeam
