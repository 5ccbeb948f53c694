// The rescue shell's input, byte by byte from the console, then split into words as the
// shell does before running a command (the commands themselves act on the system and
// are not run here). A finished line holds no control bytes and at most 4096 bytes.
#include <cstdint>
#include <string>

#include "config/config.h"
#include "fuzz_check.h"
#include "rescue/line_editor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  microbeam::rescue::LineEditor editor;
  std::string echo;
  for (size_t i = 0; i < size; ++i) {
    auto event = editor.Feed(static_cast<char>(data[i]), echo);
    if (event != microbeam::rescue::LineEditor::Event::kLine) continue;
    std::string line = editor.TakeLine();
    FUZZ_CHECK(line.size() <= 4096, "line longer than 4096 bytes");
    for (char c : line) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control byte in a line");
    microbeam::SplitFlags(line);
    FUZZ_CHECK(editor.TakeLine().empty(), "TakeLine twice");
  }
  return 0;
}
