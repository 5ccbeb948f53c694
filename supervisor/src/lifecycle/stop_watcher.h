// The thread that hears stop requests (stop_requests.h): the power button and
// Ctrl-Alt-Del from evdev, SIGINT/SIGPWR/SIGUSR1/SIGUSR2 from a signalfd. It asks the
// BEAM to stop (SIGTERM: ERTS runs init:stop()) and ends it at the shutdown timeout.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "guard/privileges.h"

namespace microbeam {

// Blocks the stop signals in the calling thread. Call in main() before any thread
// exists: every thread, ERTS's included, inherits the mask, so ERTS's own handlers
// (its SIGINT break handler, its SIGUSR1 crash dump) never see them and only the
// watcher's signalfd does.
void BlockStopSignals();

// An empty signal mask, for the helper programs (erl_child_setup, inet_gethost) that
// ERTS execs from PID 1's image: exec keeps the mask, and they expect none.
void UnblockAllSignals();

// Starts the watcher thread. Returns how many input devices (with a power or Delete
// key) it watches; an error only if the signals cannot be watched.
absl::StatusOr<int> WatchStopRequests(absl::Duration shutdown_timeout);

// The input devices the watcher reads (kept open across a restart by re-exec).
std::vector<int> StopWatcherInputFds();

// Has the watcher thread give itself CREDS (sys::ApplyThreadCredentials): it was
// started before PID 1 dropped its privileges and would keep its own otherwise. Waits
// for its answer (up to 5 s). OK if there is no watcher.
absl::Status DropWatcherPrivileges(const ThreadCredentials& creds);

}  // namespace microbeam
