#include "crash_dump.h"

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace microbeam {

std::string CrashDumpSlogan(std::string_view text) {
  for (std::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "Slogan: ")) return std::string(absl::StripTrailingAsciiWhitespace(line));
  }
  return "";
}

}  // namespace microbeam
