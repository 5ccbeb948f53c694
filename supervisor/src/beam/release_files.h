// The files PID 1 reads beside the release's start_erl.data for the environment a
// start script would have set (release_env.h), and the runtime sys.config it writes.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "config/config.h"
#include "beam/emulator_args.h"

namespace microbeam {

// Fills RELEASE's name, cookie, runtime_config and env_file from the image. Nothing
// here stops the boot: each problem is one line in the returned warnings.
std::vector<std::string> ReadReleaseEnvironment(Release& release);

// For a runtime config (Mix's reboot_system_after_config), copies the release's
// sys.config to SysConfigPath(...).config, which the config provider rewrites before
// it restarts the VM (the start script's export_release_sys_config). The error names
// the file.
absl::Status WriteRuntimeSysConfig(const Release& release, const Config& config);

}  // namespace microbeam
