// The restore channel's line from the host (restore_message.h): whatever parses formats
// back to the same message; the line splitter never yields an overlong line.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "lifecycle/restore_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  microbeam::LineSplitter lines;
  lines.Feed(bytes);
  std::string line;
  while (lines.Next(line)) {
    FUZZ_CHECK(line.size() <= microbeam::kRestoreLineMax, "overlong line");
    FUZZ_CHECK(line.find('\n') == std::string::npos, "newline in a line");
    auto m = microbeam::ParseRestoreMessage(line);
    if (!m.ok()) continue;
    std::string again = microbeam::FormatRestoreMessage(*m);
    again.pop_back();
    auto back = microbeam::ParseRestoreMessage(again);
    FUZZ_CHECK(back.ok() && back->unix_ns == m->unix_ns && back->seed == m->seed, "round trip");
  }
  return 0;
}
