// The shutdown report read back at the next boot (exit_record.h writes it): the one
// console line about the last exit. Also where /data is mounted. Pure functions, so
// tests and fuzzers call them; the file may hold anything after a bad disk.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace microbeam {

// A JSON object of strings, numbers, booleans and nulls (what FormatExitRecord writes):
// key -> the value, strings unescaped, other values as their JSON text ("null", "3").
// nullopt for anything else (a nested value, trailing text, a bad escape, over 64 KiB).
struct JsonScalar {
  bool is_string = false;
  std::string text;
};
std::optional<std::map<std::string, JsonScalar>> ParseFlatJsonObject(std::string_view text);

// The one line the next boot prints about a record read from FILE_TEXT, e.g.
// "microbeam: last exit: the BEAM halted (status 3) at 2026-11-28T23:55:01Z after 42.1 s
// up; policy poweroff; stop request: power button". Short, no control characters.
std::string LastExitLine(std::string_view file_text);

// Whether DIR is a mount point in /proc/self/mountinfo's TEXT (the last mount on it
// counts), and whether it is read-only.
struct MountState {
  bool mounted = false;
  bool read_only = false;
};
MountState MountAt(std::string_view mountinfo, std::string_view dir);

}  // namespace microbeam
