// The part of PID 1's end that runs when the BEAM is already gone or going: in a signal
// handler (SIGSEGV in PID 1), in exit()/abort() called by any ERTS thread, or in the stop
// watcher at the shutdown timeout. Any of these may interrupt a thread that holds the
// allocator's lock, so nothing here allocates or takes a lock: only async-signal-safe
// system calls, fixed buffers (fixed_line.h), and what PrepareCrashPath() built before
// erl_start.
#pragma once

#include <span>

namespace microbeam {

struct CrashPathSetup {
  char** argv = nullptr;     // PID 1's own, for the re-exec
  char** envp = nullptr;     // as PID 1 got it (before the BEAM's variables were added)
  std::span<const long> restart_times;  // earlier restarts still inside the window (copied)
  int kernel_log_fd = -1;    // kept open across the re-exec
  bool debug_exit_port = false;  // this thread's I/O port access, kept across the re-exec
};

// Builds the re-exec's argv/envp and everything else the end needs. Call once, before
// any thread but the stop watcher exists.
void PrepareCrashPath(const CrashPathSetup& setup);

// The stop watcher's input devices (power button, keyboard), kept open across the
// re-exec too. Call before erl_start (the watcher itself never re-execs).
void KeepInputFdsAcrossReExec(std::span<const int> fds);

// The volume keeper's PID (storage/data_volume.h), passed to the next PID 1 so that it
// adopts exactly that child, not whatever orphan bears the keeper's name. Call before
// erl_start.
void KeepVolumeKeeperAcrossReExec(int pid);

// The one-owner hand-off: the first thread to claim the end carries it out (true);
// any other (a second abort on another scheduler, the watcher timing out meanwhile)
// gets false and must Park().
bool ClaimTheEnd();
bool EndClaimed();
bool OwnsTheEnd();  // the calling thread claimed it
[[noreturn]] void Park();

// A stop request from outside (stop_watcher): its action (an ExitPolicy as int), -1 if
// none. Whatever way the BEAM ends, PID 1 then does that.
void SetRequestedAction(int action);
int RequestedAction();

// Set by ReExecInit() just before it looks at RequestedAction() for the last time: a
// request heard later must stay pending across the exec instead (stop_watcher).
bool ReExecCommitted();

// Re-execs /init for a fresh ERTS, with the restart recorded (RECORD_RESTART) and, when
// RESCUE_REASON is not null, the rescue shell opened first with that reason. Only fds
// 0-2, the kernel log and the input devices survive (the next PID 1, the app's user, could
// not open them); the stop signals stay blocked so that any pending one
// reaches the next PID 1's watcher. Returns true if it did not exec because a stop was
// requested meanwhile (carry that out), false if execve failed.
bool ReExecInit(bool record_restart, const char* rescue_reason);

// Environment variables the re-exec passes (read by the next PID 1, stripped from the
// environment it passes on).
inline constexpr char kKernelLogFdEnv[] = "MICROBEAM_KMSG_FD";
inline constexpr char kRescueEnv[] = "MICROBEAM_RESCUE";
inline constexpr char kIoPortEnv[] = "MICROBEAM_IOPORT";
inline constexpr char kInputFdsEnv[] = "MICROBEAM_INPUT_FDS";
inline constexpr char kVolumeKeeperEnv[] = "MICROBEAM_VOLUME_KEEPER";

}  // namespace microbeam
