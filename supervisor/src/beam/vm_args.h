// A release's vm.args, read as erlexec reads an -args_file (OTP 25 erlexec.c,
// build_args_from_string with comments): PID 1 calls erl_start itself, so nobody else
// would read it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace microbeam {

struct VmArgs {
  // Flags in file order, `+X` emulator flags and `-X` init flags alike, as
  // microbeam.erl_flags carries them; BuildEmulatorArgs sorts them by kind.
  std::vector<std::string> flags;
  // `-env NAME VALUE`: set in the emulator's environment, as erlexec does.
  std::vector<std::pair<std::string, std::string>> env;
  // Flags that mean something only to erlexec or a start script and are dropped here,
  // one line each, naming the file.
  std::vector<std::string> warnings;
};

// Splits the way erlexec does: blanks separate arguments, `#` starts a comment up to
// the end of the line (outside quotes), '...' and "..." group and are removed, and a
// backslash takes the next character as it is. An unterminated quote is an error that
// names PATH and the line.
absl::StatusOr<std::vector<std::string>> SplitArgsFile(std::string_view content, std::string_view path);

// Splits CONTENT, takes out `-env` pairs and the flags PID 1 cannot honour
// (-args_file, -heart, -detached, -boot, -config, -root: the boot file, sys.config and
// root are the release's own). Errors name PATH.
absl::StatusOr<VmArgs> ParseVmArgs(std::string_view content, std::string_view path);

}  // namespace microbeam
