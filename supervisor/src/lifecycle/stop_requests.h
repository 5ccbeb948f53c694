// Stop requests from outside the guest, and what each one asks for. Pure logic: the
// thread that reads them from the system is stop_watcher.
//
//   source                                   action
//   ACPI power button (system_powerdown)     graceful stop, then power off
//   Ctrl-Alt-Del (send-key, SendCtrlAltDel)  graceful stop, then power off
//   SIGINT (the kernel's CAD, kill -INT 1)   graceful stop, then power off
//   SIGPWR (power failure, kill -PWR 1)      graceful stop, then power off
//   SIGUSR2 (busybox/erlinit: poweroff)      graceful stop, then power off
//   SIGUSR1 (busybox/erlinit: halt)          graceful stop, then reboot (a halted VM is hung)
//   SIGTERM                                  ERTS's own: init:stop(), then the exit policy
//
// "Graceful": the BEAM gets SIGTERM, which ERTS turns into init:stop() (applications
// stop in order); PID 1 acts when the BEAM has halted, or at the shutdown timeout.
// A second request while stopping acts at once.
#pragma once

#include <signal.h>

#include <optional>
#include <string_view>

#include "config/config.h"

namespace microbeam {

struct StopRequest {
  ExitPolicy action;       // kPoweroff or kReboot
  std::string_view what;   // for the log line: "SIGPWR", "power button"...
};

// The signals PID 1 takes for itself (blocked in every thread, read by the watcher).
// SIGTERM is not one of them: ERTS handles it.
sigset_t StopSignals();

// What a signal from StopSignals() asks for; nullopt for any other signal.
std::optional<StopRequest> StopForSignal(int sig);

// Follows key events (EV_KEY code/value, as evdev reports them) and recognises the
// power key and Ctrl-Alt-Del (either Ctrl, either Alt, then Delete).
class StopKeys {
 public:
  std::optional<StopRequest> OnKey(unsigned code, int value);

 private:
  unsigned ctrl_down_ = 0;  // bit 0: left, bit 1: right
  unsigned alt_down_ = 0;
};

}  // namespace microbeam
