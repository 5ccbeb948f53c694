// The cpio spec parser (gen_init_cpio's format), then the writer on what it parsed:
// a `file` line's host file holds its own path, and host paths starting with
// "missing" cannot be read. An error must name the spec; what WriteNewc accepts, the
// kernel's reader must read back exactly.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "newc_check.h"
#include "spec_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto read_file = [](const std::string& path) -> absl::StatusOr<std::string> {
    if (path.starts_with("missing")) return absl::NotFoundError("No such file or directory");
    return path;
  };
  absl::StatusOr<std::vector<microbeam::cpio::Entry>> entries =
      microbeam::cpio::ParseSpec(text, "fuzz.spec", read_file);
  if (!entries.ok()) {
    FUZZ_CHECK(entries.status().message().starts_with("fuzz.spec:"), "error does not name the spec");
    return 0;
  }
  constexpr uint32_t kMtime = 0;
  absl::StatusOr<std::string> archive = microbeam::cpio::WriteNewc(*entries, kMtime);
  if (archive.ok()) microbeam::fuzz::CheckArchive(*entries, *archive, kMtime);
  return 0;
}
