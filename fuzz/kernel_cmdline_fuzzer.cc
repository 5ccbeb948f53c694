// /proc/cmdline as PID 1 reads it: split the kernel's way, then the microbeam.* keys
// (init's argv being what follows "--"), then the emulator's argv from the result.
// Whatever the input, the configuration holds only values the keys allow.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "guard/capabilities.h"
#include "config/config.h"
#include "beam/emulator_args.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view cmdline(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> params = microbeam::SplitKernelCmdline(cmdline);
  std::vector<std::string> init_args;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i] == "--") {
      init_args.assign(params.begin() + static_cast<long>(i) + 1, params.end());
      break;
    }
  }
  microbeam::ParsedConfig parsed = microbeam::ParseConfig(params, init_args);
  const microbeam::Config& c = parsed.config;

  for (const std::string& w : parsed.warnings) {
    FUZZ_CHECK(w.starts_with("microbeam: "), "warning prefix");
    // One printable console line, whatever the values held (config/shown_value.h).
    for (char ch : w) FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f, "warning control byte");
  }
  FUZZ_CHECK(!c.hostname.empty() && c.hostname.size() <= 64 && c.hostname[0] != '-', "hostname");
  for (char ch : c.hostname) {
    FUZZ_CHECK((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '-' || ch == '.',
               "hostname character");
  }
  FUZZ_CHECK(c.shutdown_timeout >= absl::ZeroDuration() && c.shutdown_timeout <= absl::Seconds(3600),
             "shutdown_timeout");
  FUZZ_CHECK(c.restart_limit >= 0 && c.restart_limit <= 1000, "restart_limit");
  FUZZ_CHECK(c.restart_window >= absl::Seconds(1) && c.restart_window <= absl::Seconds(86400),
             "restart_window");
  FUZZ_CHECK(c.console.starts_with("/") && c.console.find("..") == std::string::npos, "console");
  FUZZ_CHECK(c.release_root.starts_with("/") && c.release_root.find("..") == std::string::npos,
             "release");
  for (const auto& [name, value] : c.env) {
    FUZZ_CHECK(microbeam::ValidEnvName(name), "microbeam.env name");
    FUZZ_CHECK(value.find('\0') == std::string::npos, "microbeam.env value with NUL");
  }
  for (const microbeam::ResourceLimit& l : c.limits) FUZZ_CHECK(l.soft <= l.hard, "microbeam.limits soft above hard");
  FUZZ_CHECK(c.core_pattern.size() <= 127, "microbeam.core_pattern length");
  FUZZ_CHECK(c.cwd.empty() || c.cwd.starts_with("/"), "microbeam.cwd");
  for (const std::string& cap : c.keep_caps) {
    FUZZ_CHECK(microbeam::CapabilityFromName(cap).has_value(), "unknown capability kept");
  }

  microbeam::Release release{"/release", "13.1.5", "0.1.0", false, {}};
  std::vector<std::string> argv = microbeam::BuildEmulatorArgs(release, c);
  FUZZ_CHECK(!argv.empty() && argv[0] == "beam", "argv[0]");
  if (!c.eval_expr.empty()) FUZZ_CHECK(argv.back() == c.eval_expr, "-eval comes last");

  microbeam::SplitFlags(cmdline);
  return 0;
}
