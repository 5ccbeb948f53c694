// The rescue shell built into PID 1 (no busybox): entered with --emergency-shell, when
// the BEAM cannot start, or by the "shell" exit policy. Reads the console directly.
#pragma once

#include <string_view>

namespace microbeam {

enum class ShellExit {
  kBoot,         // "boot" or Ctrl-D: go on to start the BEAM
  kConsoleGone,  // the console is closed or unreadable: nobody is there to type
};

// Prints why the shell was entered, then runs commands until `boot`/Ctrl-D
// (returns), `reboot`/`poweroff` (does not return) or a closed console.
ShellExit RunRescueShell(std::string_view why);

}  // namespace microbeam
