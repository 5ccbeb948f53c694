// PID 1's passage from setting the machine up (as root, all capabilities) to running
// the app (privileges.h): the places the app may write, the drop in every thread that
// exists, and what the end of the BEAM will need prepared while allocating is still safe.
#pragma once

#include "absl/status/statusor.h"
#include "config/config.h"

namespace microbeam {

// Where the app may write besides /tmp: its run directory and the crash dump's
// directory (crash_dump.h), both made the app user's.
inline constexpr char kAppRunDir[] = "/run/microbeam";

// fds 0-2 that are closed (a VMM without a console: the kernel found no /dev/console)
// get /dev/null, before anything else takes those numbers and becomes the BEAM's stdio.
void OpenNullOnClosedStdio();

// Fills what shutdown.h and crash_path.h need: the configuration, PID 1's argv and first
// environment for a re-exec, and the restarts still inside the window (older ones are
// dropped, so the variable cannot grow with every restart).
void PrepareTheEnd(const Config& config, char** argv, char** envp);

// Makes the app's directories, then gives this thread and the stop watcher the app's
// credentials. Returns the line to log.
absl::StatusOr<std::string> LockDown(const Config& config);

}  // namespace microbeam
