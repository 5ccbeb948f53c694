#include "boot/boot_timeline.h"

#include <time.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace microbeam {

void BootTimeline::Mark(std::string name) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  MarkAt(std::move(name), static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6);
}

std::string BootTimeline::ConsoleLine() const {
  std::string line = "microbeam: boot timeline:";
  for (const auto& [name, ms] : marks_) absl::StrAppendFormat(&line, " %s=%.1fms", name, ms);
  return line;
}

std::string BootTimeline::Json() const {
  std::string json = "{\"clock\":\"boottime\",\"marks_ms\":{";
  for (size_t i = 0; i < marks_.size(); ++i) {
    // Mark names are ours (identifiers), so they need no escaping.
    absl::StrAppendFormat(&json, "%s\"%s\":%.3f", i ? "," : "", marks_[i].first, marks_[i].second);
  }
  return json + "}}";
}

}  // namespace microbeam
