#include "lifecycle/stop_requests.h"

#include <linux/input-event-codes.h>

namespace microbeam {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGPWR, SIGUSR1, SIGUSR2}) sigaddset(&set, sig);
  return set;
}

std::optional<StopRequest> StopForSignal(int sig) {
  switch (sig) {
    case SIGINT: return StopRequest{ExitPolicy::kPoweroff, "SIGINT (Ctrl-Alt-Del)"};
    case SIGPWR: return StopRequest{ExitPolicy::kPoweroff, "SIGPWR"};
    case SIGUSR2: return StopRequest{ExitPolicy::kPoweroff, "SIGUSR2"};
    case SIGUSR1: return StopRequest{ExitPolicy::kReboot, "SIGUSR1"};
    default: return std::nullopt;
  }
}

std::optional<StopRequest> StopKeys::OnKey(unsigned code, int value) {
  // value: 1 press, 0 release, 2 autorepeat (ignored: one press is one request)
  auto track = [value](unsigned& down, unsigned bit) {
    if (value == 1) down |= bit;
    if (value == 0) down &= ~bit;
  };
  switch (code) {
    case KEY_LEFTCTRL: track(ctrl_down_, 1); break;
    case KEY_RIGHTCTRL: track(ctrl_down_, 2); break;
    case KEY_LEFTALT: track(alt_down_, 1); break;
    case KEY_RIGHTALT: track(alt_down_, 2); break;
    case KEY_POWER:
      if (value == 1) return StopRequest{ExitPolicy::kPoweroff, "power button"};
      break;
    case KEY_DELETE:
      if (value == 1 && ctrl_down_ && alt_down_) return StopRequest{ExitPolicy::kPoweroff, "Ctrl-Alt-Del"};
      break;
    default: break;
  }
  return std::nullopt;
}

}  // namespace microbeam
