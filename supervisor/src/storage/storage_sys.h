// The system calls of the data volume (the thin sys:: layer, as sys/system.h): mounting
// at boot, and at the end the steps that leave a file system clean. Everything marked
// async-signal-safe runs on PID 1's end path (crash/crash_path.h says why it must).
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "boot/early_mounts.h"

namespace microbeam::sys {

// mount(2) of M on its target (made first if missing): 0, or the errno.
int MountErrno(const MountSpec& m);
// rmdir(PATH), quietly (a mount point made for a mount that failed).
void RemoveEmptyDir(const std::string& path);
// Whether PATH is a mount point (its device differs from its parent's).
bool IsMountPointPath(const std::string& path);
// Waits up to TIMEOUT_MS for PATH to exist (a disk whose driver probes late); whether it does.
bool WaitForPath(const std::string& path, int timeout_ms);
// PATH's owner, or {-1, -1}.
struct Owner {
  long uid = -1, gid = -1;
};
Owner OwnerOf(const std::string& path);
absl::Status Chown(const std::string& path, uid_t uid, gid_t gid);

// How a mount ended (async-signal-safe, CloseMount).
enum class Closed { kUnmounted, kReadOnly, kFrozen, kFailed };
// umount2(TARGET); when busy, a read-only remount; when that is refused (files open for
// writing), FIFREEZE, which flushes the journal and marks the file system clean. ERR
// gets the errno of the unmount when nothing worked. Async-signal-safe.
Closed CloseMount(const char* target, int& err);
// Closes every fd of this process whose path is TARGET or below it (what the BEAM left
// open there), and leaves the working directory if it is there. Async-signal-safe.
void CloseFdsUnder(const char* target);

}  // namespace microbeam::sys
