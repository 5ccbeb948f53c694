// /proc/meminfo and /proc/self/status as the memory guard reads them: a figure is
// its "FIELD: N kB" line's N times 1024, exactly.
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "fuzz_check.h"
#include "guard/memory_limit.h"

namespace {

// The field's line, taken apart again: N fits in 64 bits once multiplied by 1024.
void CheckFigure(std::string_view text, std::string_view field, uint64_t bytes) {
  for (std::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, field) || !absl::ConsumePrefix(&line, ":")) continue;
    line = absl::StripAsciiWhitespace(line);
    FUZZ_CHECK(absl::ConsumeSuffix(&line, "kB"), "no kB");
    uint64_t kib = 0;
    FUZZ_CHECK(absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib), "not a number");
    FUZZ_CHECK(kib <= UINT64_MAX / 1024 && bytes == kib * 1024, "bytes are not N kB");
    return;
  }
  FUZZ_CHECK(false, "a figure without its line");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (std::optional<microbeam::MemoryFigures> m = microbeam::ParseMeminfo(text)) {
    CheckFigure(text, "MemTotal", m->total);
    CheckFigure(text, "MemAvailable", m->available);
    if (std::optional<uint64_t> rss_anon = microbeam::ParseRssAnon(text)) {
      CheckFigure(text, "RssAnon", *rss_anon);
      microbeam::DataLimit(*rss_anon, *m);
    }
  }
  if (std::optional<uint64_t> rss_anon = microbeam::ParseRssAnon(text)) CheckFigure(text, "RssAnon", *rss_anon);
  return 0;
}
