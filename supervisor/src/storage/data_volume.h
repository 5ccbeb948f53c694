// The data volume (docs/persistent-data.md): a disk PID 1 mounts at /data before the
// BEAM starts (microbeam.data=DEV), any other mount the command line asks for
// (microbeam.mount=DEV:DIR:TYPE:OPTIONS), and their clean end when the VM stops.
//
// Mounting and unmounting take CAP_SYS_ADMIN, which the app's credentials (the BEAM is
// PID 1's main thread: guard/privileges.h) do not hold. So before the drop PID 1 forks a
// keeper: a process of this binary (no exec) that keeps the app's user plus
// CAP_SYS_ADMIN, waits for SIGUSR1 from PID 1 and then unmounts, one line each. A process
// rather than a thread: its memory is not the BEAM's, and it outlives a restart by re-exec
// (the restarted PID 1, the app's user already, finds it by name). Shutdown spares it
// (lifecycle/processes.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace microbeam {

struct VolumesMounted {
  std::vector<std::string> lines;  // one a mount, to log
  bool data_missing = false;       // microbeam.data given, /data not mounted
  std::string why;                 // then: the line's reason, for the rescue shell
};

// Mounts /data (microbeam.data) and then each microbeam.mount, as root before the drop.
// A /data mounted already (a restart by re-exec keeps it) is kept. Boot goes on after
// any failure: the caller opens the rescue shell when data_missing and
// microbeam.data_required=1.
VolumesMounted MountVolumes(const Config& config);
// Only /data again (after the rescue shell).
VolumesMounted MountDataVolume(const Config& config);

// Starts the keeper for the mounts made (or finds the one a restarted PID 1 inherited).
// Call after MountVolumes and before the drop. Returns a line to log, or "".
std::string StartVolumeKeeper(const Config& config);

// The end of every exit path, after the BEAM and the other processes have stopped and
// just before reboot() (lifecycle/shutdown.cc): sync, close what PID 1 still has open on
// the volumes, then the keeper unmounts each, last mounted first (busy: remounted
// read-only, else frozen), one line each. Waits up to 10 s for it. Async-signal-safe.
void CloseVolumes();
// Before a restart by re-exec: sync only. The volumes stay mounted for the next PID 1,
// which runs as the app's user and could not mount them again. Async-signal-safe.
void SyncVolumes();

}  // namespace microbeam
