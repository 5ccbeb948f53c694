#include "rescue/line_editor.h"

#include <utility>

namespace microbeam::rescue {

LineEditor::Event LineEditor::Feed(char c, std::string& echo) {
  if (escape_ > 0) {  // ESC [ X or ESC [ digits ~ : skip until a final byte
    if (escape_ == 2 && c == '[') {
      escape_ = 1;
    } else if (!(c >= '0' && c <= '9') && c != ';') {
      escape_ = 0;
    }
    return Event::kNone;
  }
  switch (c) {
    case '\x1b':
      escape_ = 2;
      return Event::kNone;
    case '\r':
    case '\n':
      echo += "\r\n";
      done_ = std::exchange(line_, "");
      return Event::kLine;
    case '\x7f':
    case '\b':
      if (!line_.empty()) {
        line_.pop_back();
        echo += "\b \b";
      }
      return Event::kNone;
    case '\x15':  // Ctrl-U
      for (size_t i = 0; i < line_.size(); ++i) echo += "\b \b";
      line_.clear();
      return Event::kNone;
    case '\x03':  // Ctrl-C
      echo += "^C\r\n";
      line_.clear();
      return Event::kCancel;
    case '\x04':  // Ctrl-D
      if (line_.empty()) {
        echo += "\r\n";
        return Event::kEof;
      }
      return Event::kNone;
    default:
      if (static_cast<unsigned char>(c) >= 0x20 && line_.size() < 4096) {
        line_.push_back(c);
        echo.push_back(c);
      }
      return Event::kNone;
  }
}

std::string LineEditor::TakeLine() { return std::exchange(done_, ""); }

}  // namespace microbeam::rescue
