#include "config/process_keys.h"

#include <sys/resource.h>

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/shown_value.h"

namespace microbeam {
namespace {

constexpr std::pair<std::string_view, int> kResources[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

bool ParseLimitValue(std::string_view v, uint64_t& out) {
  if (v == "unlimited" || v == "infinity") return out = kUnlimited, true;
  return !v.empty() && v[0] != '+' && absl::SimpleAtoi(v, &out) && out != kUnlimited;
}

}  // namespace

std::optional<int> ResourceByName(std::string_view name) {
  for (const auto& [n, r] : kResources) {
    if (n == name) return r;
  }
  return std::nullopt;
}

std::string LimitsWarning(const std::vector<std::string>& errors) {
  return absl::StrCat("microbeam: microbeam.limits: ", absl::StrJoin(errors, "; "), "; ",
                      errors.size() == 1 ? "that limit is left as it is" : "those limits are left as they are");
}

std::string ResourceNames() {
  std::string out;
  for (const auto& [n, r] : kResources) absl::StrAppend(&out, out.empty() ? "" : ", ", n);
  return out;
}

void ParseLimits(std::string_view value, std::vector<ResourceLimit>& limits, std::vector<std::string>& errors) {
  if (value.empty()) {
    errors.push_back("empty (expected RESOURCE:SOFT:HARD[,...])");
    return;
  }
  for (std::string_view entry : absl::StrSplit(value, ',')) {
    auto bad = [&](std::string_view why) {
      errors.push_back(absl::StrCat("\"", ShownValue(entry), "\": ", why));
    };
    std::vector<std::string_view> parts = absl::StrSplit(entry, ':');
    if (parts.size() != 3) {
      bad("not RESOURCE:SOFT:HARD");
      continue;
    }
    std::optional<int> resource = ResourceByName(parts[0]);
    if (!resource) {
      bad(absl::StrCat("unknown resource (", ResourceNames(), ")"));
      continue;
    }
    ResourceLimit limit{*resource, std::string(parts[0]), 0, 0};
    if (!ParseLimitValue(parts[1], limit.soft) || !ParseLimitValue(parts[2], limit.hard)) {
      bad("SOFT and HARD must be numbers or unlimited");
      continue;
    }
    if (limit.soft > limit.hard) {
      bad("SOFT is above HARD");
      continue;
    }
    std::erase_if(limits, [&](const ResourceLimit& l) { return l.resource == limit.resource; });
    limits.push_back(std::move(limit));
  }
}

std::string CorePatternError(std::string_view value) {
  if (value.empty()) return "empty";
  if (value.size() > 127) return "longer than the kernel's 127 characters";
  for (char c : value) {
    if (c < 0x20 || c > 0x7e) return "not printable ASCII";
  }
  return "";
}

std::string CwdError(std::string_view value) {
  if (!value.starts_with("/")) return "not an absolute path";
  if (value.size() > 4095) return "longer than 4095 bytes";
  for (std::string_view part : absl::StrSplit(value, '/')) {
    if (part == "..") return "holds \"..\"";
  }
  return "";
}

}  // namespace microbeam
