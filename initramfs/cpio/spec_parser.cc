#include "spec_parser.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace microbeam::cpio {
namespace {

bool ParseOctal(std::string_view s, uint32_t& out) {
  if (s.empty() || s.size() > 11) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return false;
    v = v * 8 + static_cast<uint64_t>(c - '0');
  }
  if (v > 07777) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

struct LineFields {
  std::vector<std::string_view> f;
  std::string where;  // "spec:line"
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
  }
};

// Parses "MODE UID GID" starting at fields[i].
absl::Status ParseModeOwner(const LineFields& l, size_t i, Entry& e) {
  if (!ParseOctal(l.f[i], e.permissions)) return l.Error(absl::StrCat("bad octal mode \"", l.f[i], "\""));
  if (!absl::SimpleAtoi(l.f[i + 1], &e.uid)) return l.Error(absl::StrCat("bad uid \"", l.f[i + 1], "\""));
  if (!absl::SimpleAtoi(l.f[i + 2], &e.gid)) return l.Error(absl::StrCat("bad gid \"", l.f[i + 2], "\""));
  return absl::OkStatus();
}

absl::StatusOr<Entry> ParseLine(const LineFields& l, const HostFileReader& read_file) {
  const std::string_view kind = l.f[0];
  auto expect = [&](size_t n) -> absl::Status {
    if (l.f.size() == n) return absl::OkStatus();
    return l.Error(absl::StrCat("\"", kind, "\" takes ", n - 1, " fields, found ", l.f.size() - 1));
  };
  Entry e;
  e.name = std::string(l.f.size() > 1 ? l.f[1] : "");
  if (kind == "dir" || kind == "pipe" || kind == "sock") {
    if (absl::Status s = expect(5); !s.ok()) return s;
    e.type = kind == "dir" ? EntryType::kDirectory : kind == "pipe" ? EntryType::kFifo : EntryType::kSocket;
    if (absl::Status s = ParseModeOwner(l, 2, e); !s.ok()) return s;
  } else if (kind == "file") {
    if (l.f.size() > 6) return l.Error("hard links are not supported");
    if (absl::Status s = expect(6); !s.ok()) return s;
    e.type = EntryType::kFile;
    if (absl::Status s = ParseModeOwner(l, 3, e); !s.ok()) return s;
    absl::StatusOr<std::string> data = read_file(std::string(l.f[2]));
    if (!data.ok()) return l.Error(absl::StrCat("cannot read \"", l.f[2], "\": ", data.status().message()));
    e.data = *std::move(data);
  } else if (kind == "slink") {
    if (absl::Status s = expect(6); !s.ok()) return s;
    e.type = EntryType::kSymlink;
    e.data = std::string(l.f[2]);
    if (absl::Status s = ParseModeOwner(l, 3, e); !s.ok()) return s;
  } else if (kind == "nod") {
    if (absl::Status s = expect(8); !s.ok()) return s;
    if (absl::Status s = ParseModeOwner(l, 2, e); !s.ok()) return s;
    if (l.f[5] == "c") {
      e.type = EntryType::kCharDevice;
    } else if (l.f[5] == "b") {
      e.type = EntryType::kBlockDevice;
    } else {
      return l.Error(absl::StrCat("device type must be c or b, not \"", l.f[5], "\""));
    }
    if (!absl::SimpleAtoi(l.f[6], &e.rdev_major) || !absl::SimpleAtoi(l.f[7], &e.rdev_minor)) {
      return l.Error("bad device numbers");
    }
  } else {
    return l.Error(absl::StrCat("unknown entry type \"", kind, "\""));
  }
  absl::StatusOr<std::string> name = NormalizeName(e.name);
  if (!name.ok()) return l.Error(name.status().message());
  e.name = *std::move(name);
  return e;
}

}  // namespace

absl::StatusOr<std::vector<Entry>> ParseSpec(std::string_view text, std::string_view spec_name,
                                             const HostFileReader& read_file) {
  std::vector<Entry> entries;
  int line_no = 0;
  for (std::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    LineFields l{absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty()),
                 absl::StrCat(spec_name, ":", line_no)};
    if (l.f.empty()) continue;
    absl::StatusOr<Entry> e = ParseLine(l, read_file);
    if (!e.ok()) return e.status();
    entries.push_back(*std::move(e));
  }
  return entries;
}

}  // namespace microbeam::cpio
