// WriteNewc with any entries: one per line, fields separated by tabs,
//   TYPE NAME MODE UID GID DATA MAJOR MINOR
// TYPE one of d f l c b p s; MODE octal (more than 07777 too); missing fields are empty
// or 0; \n \t \0 \\ in NAME and DATA stand for those bytes (other bytes are taken as
// they are). What WriteNewc accepts, the kernel's reader must read back exactly, and
// NormalizeName must be idempotent.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "newc_check.h"
#include "newc_writer.h"

using microbeam::cpio::Entry;
using microbeam::cpio::EntryType;

namespace {

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    out.push_back(c == 'n' ? '\n' : c == 't' ? '\t' : c == '0' ? '\0' : c);
  }
  return out;
}

uint32_t Number(std::string_view s, int base) {
  uint32_t v = 0;
  if (base == 8) {
    for (char c : s) v = c >= '0' && c <= '7' ? v * 8 + static_cast<uint32_t>(c - '0') : v;
  } else if (!absl::SimpleAtoi(s, &v)) {
    v = 0;
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<Entry> entries;
  for (std::string_view line : absl::StrSplit(input, '\n', absl::SkipEmpty())) {
    std::vector<std::string_view> f = absl::StrSplit(line, '\t');
    f.resize(8);
    Entry e;
    switch (f[0].empty() ? 'f' : f[0][0]) {
      case 'd': e.type = EntryType::kDirectory; break;
      case 'l': e.type = EntryType::kSymlink; break;
      case 'c': e.type = EntryType::kCharDevice; break;
      case 'b': e.type = EntryType::kBlockDevice; break;
      case 'p': e.type = EntryType::kFifo; break;
      case 's': e.type = EntryType::kSocket; break;
      default: e.type = EntryType::kFile; break;
    }
    e.name = Unescape(f[1]);
    e.permissions = Number(f[2], 8);
    e.uid = Number(f[3], 10);
    e.gid = Number(f[4], 10);
    e.data = Unescape(f[5]);
    e.rdev_major = Number(f[6], 10);
    e.rdev_minor = Number(f[7], 10);
    entries.push_back(std::move(e));
    if (entries.size() > 64) break;
  }

  for (const Entry& e : entries) {
    absl::StatusOr<std::string> name = microbeam::cpio::NormalizeName(e.name);
    if (!name.ok()) continue;
    absl::StatusOr<std::string> again = microbeam::cpio::NormalizeName(*name);
    FUZZ_CHECK(again.ok() && *again == *name, "NormalizeName not idempotent");
  }

  constexpr uint32_t kMtime = 1700000000;
  absl::StatusOr<std::string> archive = microbeam::cpio::WriteNewc(entries, kMtime);
  if (archive.ok()) microbeam::fuzz::CheckArchive(entries, *archive, kMtime);
  return 0;
}
