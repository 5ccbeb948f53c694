// Reads an archive back the way the kernel's initramfs unpacker does (init/initramfs.c)
// and checks it holds exactly the entries WriteNewc was given.
#pragma once

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "newc_writer.h"

namespace microbeam::fuzz {

inline constexpr size_t kPathMax = 4096;  // the kernel skips records with longer names

struct Record {
  uint32_t ino, mode, uid, gid, nlink, mtime, filesize, major, minor, rmajor, rminor, namesize;
  std::string name;  // as the kernel uses it: up to the first NUL
  std::string data;
};

inline uint32_t Hex8(std::string_view s) {
  uint32_t v = 0;
  for (char c : s) {
    FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'), "header field not upper-case hex");
    v = v * 16 + static_cast<uint32_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  }
  return v;
}

inline size_t Align4(size_t n) { return (n + 3) & ~size_t{3}; }

// The records up to TRAILER!!!, which must end the archive.
inline std::vector<Record> ReadNewc(std::string_view archive) {
  std::vector<Record> out;
  size_t pos = 0;
  while (true) {
    FUZZ_CHECK(pos % 4 == 0 && archive.size() >= pos + 110, "truncated header");
    std::string_view h = archive.substr(pos, 110);
    FUZZ_CHECK(h.substr(0, 6) == "070701", "bad magic");
    uint32_t f[13];
    for (int i = 0; i < 13; ++i) f[i] = Hex8(h.substr(6 + 8 * i, 8));
    Record r{f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], {}, {}};
    FUZZ_CHECK(f[12] == 0, "check field not 0");
    FUZZ_CHECK(r.namesize >= 2 && r.namesize <= kPathMax, "name size the kernel skips");
    size_t name_at = pos + 110;
    FUZZ_CHECK(archive.size() >= name_at + r.namesize, "truncated name");
    std::string_view name = archive.substr(name_at, r.namesize);
    FUZZ_CHECK(name.back() == '\0', "name without its NUL");
    r.name = std::string(name.substr(0, name.find('\0')));
    FUZZ_CHECK(r.name.size() == r.namesize - 1, "NUL inside a name: the kernel reads a shorter one");
    size_t data_at = Align4(name_at + r.namesize);
    FUZZ_CHECK(archive.size() >= data_at + r.filesize, "truncated data");
    r.data = std::string(archive.substr(data_at, r.filesize));
    pos = Align4(data_at + r.filesize);
    if (r.name == "TRAILER!!!") break;
    out.push_back(std::move(r));
  }
  FUZZ_CHECK(pos == archive.size(), "bytes after the trailer");
  return out;
}

inline uint32_t TypeBits(cpio::EntryType t) {
  switch (t) {
    case cpio::EntryType::kDirectory: return 0040000;
    case cpio::EntryType::kFile: return 0100000;
    case cpio::EntryType::kSymlink: return 0120000;
    case cpio::EntryType::kCharDevice: return 0020000;
    case cpio::EntryType::kBlockDevice: return 0060000;
    case cpio::EntryType::kFifo: return 0010000;
    case cpio::EntryType::kSocket: return 0140000;
  }
  return 0;
}

// `given`: the entries passed to WriteNewc, which accepted them and wrote `archive`.
inline void CheckArchive(std::vector<cpio::Entry> given, std::string_view archive, uint32_t mtime) {
  for (cpio::Entry& e : given) {
    absl::StatusOr<std::string> name = cpio::NormalizeName(e.name);
    FUZZ_CHECK(name.ok(), "WriteNewc accepted a name NormalizeName rejects");
    e.name = *name;
  }
  std::sort(given.begin(), given.end(),
            [](const cpio::Entry& a, const cpio::Entry& b) { return a.name < b.name; });
  std::vector<Record> records = ReadNewc(archive);
  FUZZ_CHECK(records.size() == given.size(), "the kernel reads another number of entries");
  std::set<std::string> directories;
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    const cpio::Entry& e = given[i];
    FUZZ_CHECK(r.name == e.name, "names differ or are out of order");
    FUZZ_CHECK(r.ino == i + 1, "inode numbers not 1, 2, ...");
    FUZZ_CHECK(r.mode == (TypeBits(e.type) | e.permissions) && e.permissions <= 07777, "mode");
    FUZZ_CHECK(r.uid == e.uid && r.gid == e.gid && r.mtime == mtime, "owner or mtime");
    FUZZ_CHECK(r.rmajor == e.rdev_major && r.rminor == e.rdev_minor, "device numbers");
    bool has_data = e.type == cpio::EntryType::kFile || e.type == cpio::EntryType::kSymlink;
    FUZZ_CHECK(r.data == (has_data ? e.data : ""), "data");
    if (e.type == cpio::EntryType::kSymlink) {
      FUZZ_CHECK(!r.data.empty() && r.data.find('\0') == std::string::npos,
                 "symlink target the kernel reads shorter (NUL) or empty");
    }
    if (size_t slash = r.name.rfind('/'); slash != std::string::npos) {
      FUZZ_CHECK(directories.contains(r.name.substr(0, slash)), "a parent directory comes later or not at all");
    }
    if (e.type == cpio::EntryType::kDirectory) directories.insert(r.name);
  }
}

}  // namespace microbeam::fuzz
