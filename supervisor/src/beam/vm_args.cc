#include "beam/vm_args.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace microbeam {

absl::StatusOr<std::vector<std::string>> SplitArgsFile(std::string_view content, std::string_view path) {
  std::vector<std::string> args;
  std::string cur;
  bool in_arg = false;
  int line = 1;
  size_t i = 0;
  while (i < content.size()) {
    char ch = content[i];
    if (!in_arg && absl::ascii_isspace(static_cast<unsigned char>(ch))) {
      line += ch == '\n';
      ++i;
    } else if (ch == '#') {  // ends the argument, if any, and the line is a comment
      if (in_arg) args.push_back(std::move(cur)), cur.clear(), in_arg = false;
      while (i < content.size() && content[i] != '\n') ++i;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(ch))) {
      args.push_back(std::move(cur)), cur.clear(), in_arg = false;
    } else if (ch == '"' || ch == '\'') {
      size_t end = content.find(ch, i + 1);
      if (end == std::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", line, ": unterminated ", std::string(1, ch), " quote"));
      }
      std::string_view quoted = content.substr(i + 1, end - i - 1);
      for (char q : quoted) line += q == '\n';
      cur.append(quoted);
      in_arg = true;
      i = end + 1;
    } else if (ch == '\\') {
      if (i + 1 < content.size()) {
        line += content[i + 1] == '\n';
        cur.push_back(content[i + 1]);
      }
      in_arg = true;
      i += 2;
    } else {
      cur.push_back(ch);
      in_arg = true;
      ++i;
    }
  }
  if (in_arg) args.push_back(std::move(cur));
  return args;
}

namespace {

// Flags PID 1 drops, with how many values follow each and why.
struct Dropped {
  std::string_view flag;
  int values;
  std::string_view why;
};
constexpr Dropped kDropped[] = {
    {"-args_file", 1, "nested argument files are not read"},
    {"-heart", 0, "the image has no heart program; PID 1's exit policy restarts the BEAM"},
    {"-detached", 0, "the BEAM is PID 1's own"},
    {"-boot", 1, "the release's start.boot is used"},
    {"-config", 1, "the release's sys.config is used"},
    {"-root", 1, "the release's root is used"},
};

}  // namespace

absl::StatusOr<VmArgs> ParseVmArgs(std::string_view content, std::string_view path) {
  absl::StatusOr<std::vector<std::string>> args = SplitArgsFile(content, path);
  if (!args.ok()) return args.status();
  VmArgs out;
  for (size_t i = 0; i < args->size(); ++i) {
    const std::string& a = (*args)[i];
    if (a == "-env") {
      if (i + 2 >= args->size()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": -env needs a name and a value"));
      }
      out.env.emplace_back((*args)[i + 1], (*args)[i + 2]);
      i += 2;
      continue;
    }
    const Dropped* dropped = nullptr;
    for (const Dropped& d : kDropped) {
      if (a == d.flag) dropped = &d;
    }
    if (dropped == nullptr) {
      out.flags.push_back(a);
      continue;
    }
    std::string shown = a;
    for (int v = 0; v < dropped->values && i + 1 < args->size(); ++v) absl::StrAppend(&shown, " ", (*args)[++i]);
    out.warnings.push_back(absl::StrCat("microbeam: ", path, ": ignoring ", shown, " (", dropped->why, ")"));
  }
  return out;
}

}  // namespace microbeam
