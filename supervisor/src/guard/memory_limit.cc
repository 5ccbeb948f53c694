#include "guard/memory_limit.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace microbeam {
namespace {

constexpr uint64_t kGuardedFrom = 50ull << 20;  // MemTotal of a -m 60 guest

// The value of a "FIELD:   N kB" line in bytes.
std::optional<uint64_t> FieldBytes(std::string_view text, std::string_view field) {
  for (std::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, field) || !absl::ConsumePrefix(&line, ":")) continue;
    line = absl::StripAsciiWhitespace(line);
    uint64_t kib = 0;
    if (absl::ConsumeSuffix(&line, "kB") && absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib) &&
        kib <= UINT64_MAX / 1024) {  // no wrap-around to a small figure
      return kib * 1024;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<MemoryFigures> ParseMeminfo(std::string_view meminfo) {
  std::optional<uint64_t> total = FieldBytes(meminfo, "MemTotal");
  std::optional<uint64_t> available = FieldBytes(meminfo, "MemAvailable");
  if (!total || !available || *total == 0) return std::nullopt;
  return MemoryFigures{*total, *available};
}

std::optional<uint64_t> ParseRssAnon(std::string_view status) { return FieldBytes(status, "RssAnon"); }

uint64_t KernelReserve(uint64_t total) { return std::max<uint64_t>(1ull << 20, total / 64); }

bool GuardsMemory(uint64_t total) { return total >= kGuardedFrom; }

uint64_t DataLimit(uint64_t rss_anon, const MemoryFigures& m) {
  uint64_t reserve = KernelReserve(m.total);
  return rss_anon + (m.available > reserve ? m.available - reserve : 0);
}

}  // namespace microbeam
