#include "newc_writer.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace microbeam::cpio {
namespace {

constexpr std::string_view kTrailer = "TRAILER!!!";

uint32_t FileTypeBits(EntryType type) {
  switch (type) {
    case EntryType::kDirectory: return 0040000;
    case EntryType::kFile: return 0100000;
    case EntryType::kSymlink: return 0120000;
    case EntryType::kCharDevice: return 0020000;
    case EntryType::kBlockDevice: return 0060000;
    case EntryType::kFifo: return 0010000;
    case EntryType::kSocket: return 0140000;
  }
  return 0;
}

void PadTo4(std::string& out) { out.append((4 - out.size() % 4) % 4, '\0'); }

void AppendRecord(std::string& out, uint32_t ino, uint32_t mode, const Entry& e,
                  uint32_t nlink, uint32_t mtime, std::string_view name,
                  std::string_view data) {
  // newc header: magic, then 13 fields of 8 hex digits; the name size counts its NUL.
  absl::StrAppendFormat(&out, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
                        mode, e.uid, e.gid, nlink, mtime, static_cast<uint32_t>(data.size()),
                        0u, 0u, e.rdev_major, e.rdev_minor,
                        static_cast<uint32_t>(name.size() + 1), 0u);
  out.append(name);
  out.push_back('\0');
  PadTo4(out);
  out.append(data);
  PadTo4(out);
}

}  // namespace

absl::StatusOr<std::string> NormalizeName(std::string_view name) {
  while (absl::StartsWith(name, "/") || absl::StartsWith(name, "./")) {
    name.remove_prefix(name[0] == '/' ? 1 : 2);
  }
  if (name.empty() || name == ".") return absl::InvalidArgumentError("empty path");
  // The kernel reads names as C strings: "a\0b" would unpack as "a".
  if (name.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("NUL byte in \"", absl::CHexEscape(name), "\""));
  }
  for (std::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat("bad path component in \"", name, "\""));
    }
  }
  return std::string(name);
}

absl::StatusOr<std::string> WriteNewc(std::vector<Entry> entries, uint32_t mtime) {
  std::set<std::string> directories;
  for (Entry& e : entries) {
    absl::StatusOr<std::string> name = NormalizeName(e.name);
    if (!name.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("entry \"", e.name, "\": ", name.status().message()));
    }
    e.name = *std::move(name);
    if (e.name == kTrailer) {  // the kernel would stop unpacking there
      return absl::InvalidArgumentError(absl::StrCat("entry \"", e.name, "\": the name that ends a newc archive"));
    }
    if (e.permissions > 07777) {
      return absl::InvalidArgumentError(absl::StrFormat("entry \"%s\": mode %o has more than permission bits", e.name, e.permissions));
    }
    if (e.type == EntryType::kSymlink && e.data.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("symlink \"", e.name, "\" has no target"));
    }
    if (e.type == EntryType::kSymlink && e.data.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("symlink \"", e.name, "\" has a NUL byte in its target"));
    }
    if (e.data.size() > UINT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("file \"", e.name, "\" is larger than newc's 4 GiB limit"));
    }
    if (e.type == EntryType::kDirectory) directories.insert(e.name);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& name = entries[i].name;
    if (i > 0 && entries[i - 1].name == name) {
      return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" is listed twice"));
    }
    size_t slash = name.rfind('/');
    if (slash != std::string::npos && !directories.contains(name.substr(0, slash))) {
      return absl::InvalidArgumentError(absl::StrCat("the parent directory of \"", name, "\" is not listed"));
    }
  }
  std::string out;
  uint32_t ino = 1;
  for (const Entry& e : entries) {
    uint32_t mode = FileTypeBits(e.type) | e.permissions;
    uint32_t nlink = e.type == EntryType::kDirectory ? 2 : 1;
    bool has_data = e.type == EntryType::kFile || e.type == EntryType::kSymlink;
    AppendRecord(out, ino++, mode, e, nlink, mtime, e.name, has_data ? std::string_view(e.data) : "");
  }
  AppendRecord(out, 0, 0, Entry{}, 1, 0, kTrailer, "");
  return out;
}

}  // namespace microbeam::cpio
