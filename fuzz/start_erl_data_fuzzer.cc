// releases/start_erl.data ("ERTS_VSN REL_VSN"): accepted versions are non-empty and of
// the allowed characters; errors name the file.
#include <cstdint>
#include <string>
#include <string_view>

#include "beam/emulator_args.h"
#include "fuzz_check.h"

namespace {

bool VersionChars(const std::string& v) {
  if (v.empty()) return false;
  for (char c : v) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_' || c == '+';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view content(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<microbeam::Release> release = microbeam::ParseStartErlData(content, "/release");
  if (!release.ok()) {
    FUZZ_CHECK(release.status().message().starts_with("/release/releases/start_erl.data: "),
               "error does not name the file");
    return 0;
  }
  FUZZ_CHECK(VersionChars(release->erts_vsn) && VersionChars(release->rel_vsn), "version characters");
  FUZZ_CHECK(release->BinDir() == "/release/erts-" + release->erts_vsn + "/bin", "bin dir");
  return 0;
}
