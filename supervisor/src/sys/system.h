// The thin layer of system calls PID 1 makes. Everything here touches the machine;
// the decisions about what to call live in plain functions elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "boot/early_mounts.h"
#include "guard/privileges.h"
#include "lifecycle/processes.h"

namespace microbeam::sys {

absl::Status Mount(const MountSpec& m);          // creates the mount point if missing
absl::Status WriteFile(const std::string& path, const std::string& content);
bool Exists(const std::string& path);
absl::Status SetHostname(const std::string& name);
absl::Status BringUpLoopback();
// The soft RLIMIT_DATA of this process (the hard limit stays, so a restarted PID 1
// without CAP_SYS_RESOURCE can set it again).
absl::Status SetDataLimit(uint64_t bytes);
// Makes `path` the controlling terminal and fds 0, 1, 2.
absl::Status AttachConsole(const std::string& path);
// Lets PID 1 reach QEMU's isa-debug-exit port (must run before capabilities drop).
absl::Status EnableDebugExitPort();
// Async-signal-safe: writes `status` to the isa-debug-exit port.
void WriteDebugExitPort(int status);
// Gives the CALLING THREAD only these credentials (privileges.h): bounding set, then
// gid/uid (raw system calls: musl's would change every thread), then the capability
// sets, ambient last, and no_new_privs. Already-dropped bounding caps are skipped, so a
// restarted PID 1 (with the caps it kept) can apply the same again.
absl::Status ApplyThreadCredentials(const ThreadCredentials& c);
// Clears the calling thread's permitted, effective, inheritable and ambient sets (ERTS's
// helper programs: nothing they exec inherits a capability).
absl::Status DropAllCapabilities();
// The calling thread's credentials as the kernel has them (ids and the five sets).
ThreadCredentials CurrentThreadCredentials();
// Calls `fn` for every process in /proc (skipping those that vanish meanwhile). Async-
// signal-safe: raw getdents64 and read into stack buffers, no allocation.
void ForEachProcess(absl::FunctionRef<void(const ProcStat&)> fn);

}  // namespace microbeam::sys
