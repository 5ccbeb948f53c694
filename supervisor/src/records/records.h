// Records that outlive the VM (docs/records.md). When a file system is mounted at /data
// (the data disk), PID 1 keeps in /data/microbeam (the app's user's, mode 0700):
//   last-exit.json      the shutdown report (exit_record.h), written at every end
//                       (crash/end_records.h); the next boot prints one line about it
//                       (last_exit.h), hands it to the app as /run/microbeam/last-exit.json
//                       and renames it previous-exit.json, so that a boot finding none
//                       knows the run before it did not shut down
//   crash/              copies of the BEAM's crash dumps, the newest few (dump_copies.h)
//   random-seed         the seed kept across boots (random_seed.h): root's, mode 0600
#pragma once

#include "config/config.h"

namespace microbeam {

// The last exit as the app may read it (the demo's GET /boot serves it).
inline constexpr char kLastExitRunFile[] = "/run/microbeam/last-exit.json";

// At boot, after /data is mounted and before the capabilities drop (LockDown): the last
// exit's line and the app's copy of it; the random seed fed to the kernel's pool and
// replaced (not after a restart by re-exec: the pool is seeded, and the app's user could
// not); the directories the end writes to opened and handed to it. One line for each
// thing done or failed; nothing here stops the boot. No mount at /data: nothing at all.
void OpenRecords(const Config& config, bool in_container, bool restarted);

}  // namespace microbeam
