// The environment a release's own start script would have set, computed for PID 1,
// which runs no script: Mix's `bin/NAME start` exports RELEASE_ROOT, RELEASE_NAME,
// RELEASE_VSN, RELEASE_SYS_CONFIG, ... (Elixir 1.14, Mix's rel/ templates), and
// Elixir's config provider fails in do_boot without them. Then the user's own
// environment: vm.args' -env, the image's env file, microbeam.env on the command line.
// Pure functions: tests call them directly.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace microbeam {

struct Release;

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The image's env file (`microbeam build --release --env-file`, or a second initramfs
// that the VMM appends): secrets stay off the kernel command line, which the guest can
// read in /proc/cmdline.
inline constexpr char kEnvFile[] = "/etc/microbeam.env";

// Written by the assembler beside start_erl.data: the release's name (RELEASE_NAME).
inline constexpr char kReleaseNameFile[] = "releases/release_name";

// Where a Mix release's runtime configuration is written (RELEASE_TMP, writable).
inline constexpr char kDefaultReleaseTmp[] = "/tmp";

struct ParsedEnvFile {
  EnvList entries;
  // One line each, naming the file and line; the value is never shown.
  std::vector<std::string> warnings;
};

// NAME=VALUE lines; blank lines and lines starting with '#' are skipped; the value is
// the rest of the line as it is (no quotes, no escapes; a trailing CR is dropped). A
// bad line gets a warning and is skipped.
ParsedEnvFile ParseEnvFile(std::string_view content, std::string_view path);

// releases/release_name: one name of [A-Za-z0-9_.+-]; the error names PATH.
absl::StatusOr<std::string> ParseReleaseName(std::string_view content, std::string_view path);

// Mix writes "RUNTIME_CONFIG=true" into sys.config when the config provider rewrites it
// and restarts the VM (reboot_system_after_config): the start script then copies it to
// RELEASE_TMP, since the release's own copy may be read-only.
bool IsRuntimeSysConfig(std::string_view sys_config);

// The user's environment in the order it applies (a later NAME wins): vm.args' -env,
// the env file, microbeam.env.
EnvList UserEnv(const Release& release, const Config& config);

// The last value NAME has in ENV, or FALLBACK.
std::string EnvValue(const EnvList& env, std::string_view name, std::string_view fallback);

// The -config argument (without .config), also RELEASE_SYS_CONFIG: the release's
// sys.config, or for a runtime config its copy RELEASE_TMP/NAME-VSN.runtime.
std::string SysConfigPath(const Release& release, const Config& config);

// RELEASE_* as Mix's start script sets them (the user's values win, as with the
// script's ${VAR:-default}), except RELEASE_SYS_CONFIG, which must be the file PID 1
// passes as -config.
EnvList StartScriptEnv(const Release& release, const Config& config);

}  // namespace microbeam
