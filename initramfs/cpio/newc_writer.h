// A reproducible writer for the "newc" cpio format the kernel unpacks as initramfs.
// Reproducible: entries are sorted by name, inode numbers are assigned in that order,
// and every entry gets the same mtime, so equal inputs give byte-identical archives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace microbeam::cpio {

enum class EntryType { kDirectory, kFile, kSymlink, kCharDevice, kBlockDevice, kFifo, kSocket };

struct Entry {
  std::string name;          // path inside the archive, without a leading '/'
  EntryType type = EntryType::kFile;
  uint32_t permissions = 0;  // the low 12 bits of st_mode (rwx, setuid, setgid, sticky)
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string data;          // file contents, or the target of a symlink
  uint32_t rdev_major = 0;   // devices only
  uint32_t rdev_minor = 0;
};

// Checks the entries (names well formed and unique, parents present as directories)
// and returns the whole archive, ending with the TRAILER!!! record.
absl::StatusOr<std::string> WriteNewc(std::vector<Entry> entries, uint32_t mtime);

// Normalises an archive path: strips leading "/" and "./", rejects "", "..", "//" and NUL.
absl::StatusOr<std::string> NormalizeName(std::string_view name);

}  // namespace microbeam::cpio
