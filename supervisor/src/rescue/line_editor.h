// Line editing for the rescue shell, byte by byte and free of I/O so tests drive it:
// printable characters, backspace/DEL, Ctrl-U (kill line), Ctrl-C (cancel), Ctrl-D
// (end of input on an empty line), Enter. Escape sequences (arrow keys) are skipped.
#pragma once

#include <string>

namespace microbeam::rescue {

class LineEditor {
 public:
  enum class Event { kNone, kLine, kCancel, kEof };

  // Feeds one input byte; `echo` receives what to write back to the terminal.
  Event Feed(char c, std::string& echo);
  // The finished line after kLine (and clears the editor).
  std::string TakeLine();

 private:
  std::string line_;
  std::string done_;
  int escape_ = 0;  // bytes of an escape sequence still to skip
};

}  // namespace microbeam::rescue
