// Keeps RLIMIT_DATA of PID 1 (and so of the BEAM in it) at DataLimit() (memory_limit.h),
// re-read every `period` by a thread of its own.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace microbeam {

// Sets the first limit now and starts the thread; returns the kernel reserve in bytes
// (the crash dump is kept inside it), or why no limit is kept.
absl::StatusOr<uint64_t> StartMemoryGuard(absl::Duration period);

}  // namespace microbeam
