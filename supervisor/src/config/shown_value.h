// How a warning shows a value the user gave (a kernel command line key's): one
// printable line of bounded length, whatever the value holds, so that a newline or an
// escape sequence in it can neither split the console line nor garble the console.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace microbeam {

inline constexpr size_t kShownValueMax = 80;  // bytes of the value a warning shows
inline constexpr std::string_view kShownCut = "...";  // marks a value cut short

// VALUE with each control byte (below 0x20, and 0x7f) as '?', cut after MAX bytes (back
// to a UTF-8 character's start) with "..." appended.
std::string ShownValue(std::string_view value, size_t max = kShownValueMax);

}  // namespace microbeam
