// Reads a whole file (kernel-made files in /proc included), or its first MAX_BYTES.
// The error names the path.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "absl/status/statusor.h"

namespace microbeam {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     size_t max_bytes = std::numeric_limits<size_t>::max());

}  // namespace microbeam
