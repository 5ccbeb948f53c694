#include "lifecycle/crash_dump.h"

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace microbeam {

std::string CrashDumpSlogan(std::string_view text) {
  for (std::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, "Slogan: ")) return std::string(absl::StripTrailingAsciiWhitespace(line));
  }
  return "";
}

std::string_view CrashDumpHeader(std::string_view text) {
  if (!text.starts_with("=erl_crash_dump:")) return "";
  size_t end = text.find("\n=");
  if (end == std::string_view::npos) {
    end = text.rfind('\n');  // the head of a longer file: stop at its last whole line
    if (end == std::string_view::npos) end = text.size();
  }
  return text.substr(0, end);
}

}  // namespace microbeam
