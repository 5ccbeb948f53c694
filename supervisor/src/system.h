// The thin layer of system calls PID 1 makes. Everything here touches the machine;
// the decisions about what to call live in plain functions elsewhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "early_mounts.h"
#include "processes.h"

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
// Calls `fn` for every process in /proc (skipping those that vanish meanwhile). Async-
// signal-safe: raw getdents64 and read into stack buffers, no allocation.
void ForEachProcess(absl::FunctionRef<void(const ProcStat&)> fn);

}  // namespace microbeam::sys
