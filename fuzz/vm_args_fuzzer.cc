// A release's vm.args, split and parsed as erlexec would, then the emulator's argv and
// environment built from it. Errors name the file; no flag PID 1 drops or takes out
// (-env) is left among the flags.
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "beam/emulator_args.h"
#include "fuzz_check.h"
#include "beam/vm_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view content(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kPath = "/release/releases/0.1.0/vm.args";
  absl::StatusOr<microbeam::VmArgs> vm_args = microbeam::ParseVmArgs(content, kPath);
  if (!vm_args.ok()) {
    FUZZ_CHECK(vm_args.status().message().starts_with(kPath), "error does not name the file");
    return 0;
  }
  for (const std::string& f : vm_args->flags) {
    for (std::string_view taken : {"-env", "-args_file", "-heart", "-detached", "-boot", "-config", "-root"}) {
      FUZZ_CHECK(f != taken, "a dropped flag is left among the flags");
    }
  }
  microbeam::Release release{"/release", "13.1.5", "0.1.0", false, {}};
  release.vm_args = *std::move(vm_args);
  std::vector<std::string> argv = microbeam::BuildEmulatorArgs(release, microbeam::Config{});
  FUZZ_CHECK(!argv.empty() && argv[0] == "beam", "argv[0]");
  std::vector<std::string> env = microbeam::BuildEmulatorEnv(release, microbeam::Config{});
  size_t start_script = microbeam::StartScriptEnv(release, microbeam::Config{}).size();
  FUZZ_CHECK(env.size() == 7 + start_script + release.vm_args.env.size() + 1, "environment size");
  FUZZ_CHECK(env.back() == "RELEASE_SYS_CONFIG=/release/releases/0.1.0/sys", "RELEASE_SYS_CONFIG last");
  return 0;
}
