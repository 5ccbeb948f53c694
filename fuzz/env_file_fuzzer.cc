// The image's env file (/etc/microbeam.env) and releases/release_name, as PID 1 reads
// them, then the emulator's environment built with them. Whatever the input: names are
// valid, no value holds NUL or a newline, warnings name the file and never carry a
// value, and RELEASE_SYS_CONFIG stays PID 1's.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "beam/emulator_args.h"
#include "fuzz_check.h"
#include "beam/release_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view content(reinterpret_cast<const char*>(data), size);
  microbeam::ParsedEnvFile parsed = microbeam::ParseEnvFile(content, microbeam::kEnvFile);
  for (const auto& [name, value] : parsed.entries) {
    FUZZ_CHECK(microbeam::ValidEnvName(name), "env file name");
    FUZZ_CHECK(value.find('\0') == std::string::npos && value.find('\n') == std::string::npos, "env file value");
  }
  for (const std::string& w : parsed.warnings) {
    FUZZ_CHECK(w.starts_with(std::string("microbeam: ") + microbeam::kEnvFile + ":"), "warning names the file");
    FUZZ_CHECK(w.find('\n') == std::string::npos, "one line");
  }
  absl::StatusOr<std::string> name = microbeam::ParseReleaseName(content, "/release/releases/release_name");
  if (name.ok()) {
    FUZZ_CHECK(!name->empty() && name->find('/') == std::string::npos && *name != "..", "release name");
  }
  microbeam::Release release{"/release", "13.1.5", "0.1.0", true, {}};
  release.name = name.ok() ? *name : "";
  release.runtime_config = true;
  release.env_file = parsed.entries;
  std::vector<std::string> env = microbeam::BuildEmulatorEnv(release, microbeam::Config{});
  FUZZ_CHECK(env.back().starts_with("RELEASE_SYS_CONFIG=/") && env.back().ends_with(".runtime"),
             "RELEASE_SYS_CONFIG last, an absolute path in RELEASE_TMP");
  return 0;
}
