// The thread that hears a restore (restore_message.h, docs/snapshots.md): a VM saved by
// `microbeam snapshot` has a virtio console (hvc0) whose host end `run --restore` writes
// to once the saved guest runs again (not a second UART: QEMU's microvm has only one).
// The guest cannot tell by itself: under QEMU its clocks just continue from the moment
// of the save, and its random pool is the one every other copy of the snapshot has too.
#pragma once

#include "config/config.h"

namespace microbeam {

// Starts the watcher if this VM has the restore channel (a VM without a virtio console,
// one whose kernel console is hvc0, or a container has none: then nothing happens). Also gives the BEAM the read end of a
// pipe ($MICROBEAM_RESTORE_FD) on which each restore is one line. Call before the
// capabilities drop and erl_start: the thread then keeps the app's user and capabilities
// plus CAP_SYS_TIME and CAP_SYS_ADMIN, which the clock step and the reseed need.
void StartRestoreWatcher(const Config& config);

}  // namespace microbeam
