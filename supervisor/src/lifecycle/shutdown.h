// The end of a BEAM's life in PID 1: whatever way it ended (halt, abort, a fatal
// signal), PID 1 carries out the configured exit policy and never returns, so the
// kernel never sees init exit (which would panic it).
#pragma once

#include <vector>

#include "config/config.h"

namespace microbeam {

// Stores what the final moments need (with PrepareCrashPath(), crash_path.h): the
// configuration and the earlier restarts' times. Call once, before erl_start.
void PrepareShutdown(const Config& config, const std::vector<long>& restart_times);

// Carries out the exit policy for a BEAM that ended with `status`, described by `how`
// ("halted", "aborted", "fatal signal SIGSEGV"...). Async-signal-safe and allocation-free
// (crash_path.h); the first thread to call it carries it out, any other parks. Restart
// and shell re-exec /init (the shell opens in the fresh image). Never returns.
[[noreturn]] void EndOfBeam(const char* how, int status);

// A stop was asked for from outside (stop_requests.h) with `action` (kPoweroff or
// kReboot): whatever way the BEAM then ends, PID 1 does that, whatever the exit policy
// says. Async-signal-safe.
void RequestExitAction(ExitPolicy action);

// The rescue shell's `reboot` and `poweroff` (kReboot, kPoweroff): the way every other
// exit ends, without a BEAM to stop: the other processes stopped, the volumes closed,
// microbeam.poweroff honoured. Never returns.
[[noreturn]] void EndTheVm(ExitPolicy action);

// Routes fatal signals raised inside PID 1 (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT)
// to EndOfBeam.
void InstallCrashHandlers();

}  // namespace microbeam
