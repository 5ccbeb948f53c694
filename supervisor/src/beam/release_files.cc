#include "beam/release_files.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sys/read_file.h"
#include "beam/release_env.h"
#include "sys/system.h"

namespace microbeam {

std::vector<std::string> ReadReleaseEnvironment(Release& release) {
  std::vector<std::string> warnings;
  std::string name_file = absl::StrCat(release.root, "/", kReleaseNameFile);
  if (absl::StatusOr<std::string> text = ReadFile(name_file); text.ok()) {
    absl::StatusOr<std::string> name = ParseReleaseName(*text, name_file);
    if (name.ok()) {
      release.name = *name;
    } else {
      warnings.push_back(absl::StrCat("microbeam: ", name.status().message(), "; RELEASE_NAME is not set"));
    }
  } else {
    warnings.push_back(absl::StrCat("microbeam: ", name_file, ": missing; RELEASE_NAME is not set"));
  }
  if (absl::StatusOr<std::string> cookie = ReadFile(release.root + "/releases/COOKIE"); cookie.ok()) {
    release.cookie = std::string(absl::StripAsciiWhitespace(*cookie));
  }
  if (release.has_sys_config) {
    // Mix puts the marker in the file's first lines.
    absl::StatusOr<std::string> head = ReadFile(release.SysConfig() + ".config", 4096);
    release.runtime_config = head.ok() && IsRuntimeSysConfig(*head);
  }
  if (sys::Exists(kEnvFile)) {
    absl::StatusOr<std::string> text = ReadFile(kEnvFile);
    if (!text.ok()) {
      warnings.push_back(absl::StrCat("microbeam: ", text.status().message(), "; its variables are not set"));
    } else {
      ParsedEnvFile parsed = ParseEnvFile(*text, kEnvFile);
      release.env_file = std::move(parsed.entries);
      for (std::string& w : parsed.warnings) warnings.push_back(std::move(w));
    }
  }
  return warnings;
}

absl::Status WriteRuntimeSysConfig(const Release& release, const Config& config) {
  if (!release.runtime_config) return absl::OkStatus();
  std::string target = SysConfigPath(release, config) + ".config";
  std::string dir = target.substr(0, target.rfind('/'));
  if (!dir.empty() && mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat(dir, ": cannot create (RELEASE_TMP)"));
  }
  absl::StatusOr<std::string> text = ReadFile(release.SysConfig() + ".config");
  if (!text.ok()) return text.status();
  return sys::WriteFile(target, *text);
}

}  // namespace microbeam
