#include "config/shown_value.h"

namespace microbeam {

std::string ShownValue(std::string_view value, size_t max) {
  bool cut = value.size() > max;
  if (cut) {
    size_t end = max;
    // Not in the middle of a UTF-8 character (its continuation bytes are 10xxxxxx).
    while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xc0) == 0x80) --end;
    value = value.substr(0, end);
  }
  std::string shown(value);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // the line stays one line
  }
  if (cut) shown += kShownCut;
  return shown;
}

}  // namespace microbeam
