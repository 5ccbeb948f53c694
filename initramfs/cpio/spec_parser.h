// Reads archive listings in the format of the kernel's usr/gen_init_cpio:
//   dir   NAME MODE UID GID
//   file  NAME HOSTPATH MODE UID GID
//   slink NAME TARGET MODE UID GID
//   nod   NAME MODE UID GID c|b MAJOR MINOR
//   pipe  NAME MODE UID GID
//   sock  NAME MODE UID GID
// MODE is octal; '#' starts a comment. Errors name the spec and the line.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "newc_writer.h"

namespace microbeam::cpio {

// Reads a host file's contents for a `file` line.
using HostFileReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;

absl::StatusOr<std::vector<Entry>> ParseSpec(std::string_view text, std::string_view spec_name,
                                             const HostFileReader& read_file);

}  // namespace microbeam::cpio
