// The ACPI power button: how QEMU (system_powerdown), Firecracker and cloud-hypervisor
// ask a guest to stop. A press asks the BEAM to stop gracefully (SIGTERM, which ERTS
// turns into init:stop(): applications stop in order), then powers off; if the BEAM has
// not stopped within the timeout, PID 1 powers off anyway.
#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace microbeam {

// Starts a thread that waits for KEY_POWER on the /dev/input/event* devices that have
// it. An error if there is none (no ACPI button in this VM).
absl::Status WatchPowerButton(absl::Duration shutdown_timeout);

}  // namespace microbeam
