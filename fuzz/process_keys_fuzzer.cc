// microbeam.limits, microbeam.core_pattern and microbeam.cwd values: whatever the input,
// only sane limits come out, and the complaint is one line naming the key.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/process_keys.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  std::vector<microbeam::ResourceLimit> limits;
  std::vector<std::string> errors;
  microbeam::ParseLimits(value, limits, errors);
  for (const microbeam::ResourceLimit& l : limits) {
    FUZZ_CHECK(l.soft <= l.hard, "soft above hard");
    FUZZ_CHECK(microbeam::ResourceByName(l.name) == l.resource, "resource name");
    for (const microbeam::ResourceLimit& other : limits) {
      FUZZ_CHECK(&other == &l || other.resource != l.resource, "one entry a resource");
    }
  }
  for (const std::string& e : errors) FUZZ_CHECK(e.starts_with("\"") || value.empty(), "names the entry");
  if (!errors.empty()) {
    std::string line = microbeam::LimitsWarning(errors);
    FUZZ_CHECK(line.starts_with("microbeam: microbeam.limits: "), "names the key");
    FUZZ_CHECK(line.find('\n') == std::string::npos, "one line");
  }
  if (microbeam::CorePatternError(value).empty()) {
    FUZZ_CHECK(!value.empty() && value.size() <= 127, "core pattern length");
    for (char c : value) FUZZ_CHECK(c >= 0x20 && c <= 0x7e, "core pattern character");
  }
  if (microbeam::CwdError(value).empty()) {
    FUZZ_CHECK(value.starts_with("/") && value.find("/../") == std::string_view::npos && !value.ends_with("/.."),
               "cwd");
  }
  return 0;
}
