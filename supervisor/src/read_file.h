// Reads a whole file (kernel-made files in /proc included). The error names the path.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace microbeam {

absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace microbeam
