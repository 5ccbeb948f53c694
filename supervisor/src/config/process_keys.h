// The rest of erlinit's duties, as kernel command line keys (pure parsers; PID 1
// applies them in boot/process_setup.cc):
//   microbeam.limits=RESOURCE:SOFT:HARD[,...]   setrlimit() before erl_start (repeatable)
//   microbeam.core_pattern=PATTERN              /proc/sys/kernel/core_pattern, for port programs
//   microbeam.cwd=DIR                           the BEAM's working directory
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace microbeam {

inline constexpr uint64_t kUnlimited = ~uint64_t{0};  // RLIM_INFINITY

struct ResourceLimit {
  int resource = 0;       // RLIMIT_*
  std::string name;       // "nofile"
  uint64_t soft = 0, hard = 0;  // kUnlimited for "unlimited"
  bool operator==(const ResourceLimit&) const = default;
};

// The names microbeam.limits takes ("nofile", "core", ...; prlimit(1)'s, lower case),
// and RLIMIT_* for one; nullopt for another name.
std::optional<int> ResourceByName(std::string_view name);
std::string ResourceNames();  // "as, core, cpu, ..." for the error line

// One microbeam.limits value: a comma list of RESOURCE:SOFT:HARD, each a number or
// "unlimited", SOFT at most HARD. Good entries go to LIMITS (a later one for the same
// resource replaces an earlier one); a bad one adds `"ENTRY": why` to ERRORS (the
// entry shown by ShownValue: printable, bounded) and is skipped.
void ParseLimits(std::string_view value, std::vector<ResourceLimit>& limits, std::vector<std::string>& errors);

// The one line for a value's bad entries: "microbeam: microbeam.limits: ...".
std::string LimitsWarning(const std::vector<std::string>& errors);

// microbeam.core_pattern: what the kernel takes (core(5)): 1..127 printable ASCII
// characters (blanks allowed: a "|program args" pattern). Returns why not, or "".
std::string CorePatternError(std::string_view value);

// microbeam.cwd: an absolute path without "..", at most 4095 bytes. Returns why not, or "".
std::string CwdError(std::string_view value);

}  // namespace microbeam
