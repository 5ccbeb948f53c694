#include "beam/release_env.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "beam/emulator_args.h"

namespace microbeam {
namespace {

// The value after the last FLAG among the user's flags (vm.args, then the command
// line), or FALLBACK.
std::string FlagValue(const Release& release, const Config& config, std::string_view flag,
                      std::string_view fallback) {
  std::string value(fallback);
  for (const std::vector<std::string>* flags : {&release.vm_args.flags, &config.erl_flags}) {
    for (size_t i = 0; i + 1 < flags->size(); ++i) {
      if ((*flags)[i] == flag) value = (*flags)[i + 1];
    }
  }
  return value;
}

}  // namespace

ParsedEnvFile ParseEnvFile(std::string_view content, std::string_view path) {
  ParsedEnvFile out;
  int number = 0;
  for (std::string_view line : absl::StrSplit(content, '\n')) {
    ++number;
    absl::ConsumeSuffix(&line, "\r");
    std::string_view trimmed = absl::StripLeadingAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.starts_with("#")) continue;
    size_t eq = trimmed.find('=');
    std::string_view name = trimmed.substr(0, eq);
    if (eq == std::string_view::npos || !ValidEnvName(name)) {
      out.warnings.push_back(absl::StrCat("microbeam: ", path, ":", number,
                                          ": not NAME=VALUE with NAME of letters, digits, _; line ignored"));
      continue;
    }
    std::string_view value = trimmed.substr(eq + 1);
    if (value.find('\0') != std::string_view::npos) {
      out.warnings.push_back(absl::StrCat("microbeam: ", path, ":", number, ": the value of ", name,
                                          " holds a NUL byte; line ignored"));
      continue;
    }
    out.entries.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

absl::StatusOr<std::string> ParseReleaseName(std::string_view content, std::string_view path) {
  std::string_view name = absl::StripAsciiWhitespace(content);
  bool ok = !name.empty() && name.size() <= 255 && name != "." && name != "..";
  for (char c : name) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '+');
  }
  if (!ok) return absl::InvalidArgumentError(absl::StrCat(path, ": not a release name"));
  return std::string(name);
}

bool IsRuntimeSysConfig(std::string_view sys_config) {
  return sys_config.find("RUNTIME_CONFIG=true") != std::string_view::npos;
}

EnvList UserEnv(const Release& release, const Config& config) {
  EnvList env = release.vm_args.env;
  env.insert(env.end(), release.env_file.begin(), release.env_file.end());
  env.insert(env.end(), config.env.begin(), config.env.end());
  return env;
}

std::string EnvValue(const EnvList& env, std::string_view name, std::string_view fallback) {
  std::string value(fallback);
  for (const auto& [n, v] : env) {
    if (n == name) value = v;
  }
  return value;
}

std::string SysConfigPath(const Release& release, const Config& config) {
  if (!release.runtime_config) return release.SysConfig();
  std::string tmp = EnvValue(UserEnv(release, config), "RELEASE_TMP", kDefaultReleaseTmp);
  if (tmp.empty() || tmp[0] != '/') tmp = kDefaultReleaseTmp;
  return absl::StrCat(tmp, "/", release.name.empty() ? "release" : release.name, "-", release.rel_vsn,
                      ".runtime");
}

EnvList StartScriptEnv(const Release& release, const Config& config) {
  std::string vsn_dir = absl::StrCat(release.root, "/releases/", release.rel_vsn);
  // The guest's code server runs interactive unless the flags say -mode embedded.
  std::string mode = FlagValue(release, config, "-mode", "interactive");
  std::string node = FlagValue(release, config, "-sname", "");
  std::string distribution = node.empty() ? "none" : "sname";
  if (std::string long_name = FlagValue(release, config, "-name", ""); !long_name.empty()) {
    node = long_name;
    distribution = "name";
  }
  if (node.empty()) node = release.name;
  std::string cookie = FlagValue(release, config, "-setcookie", release.cookie);
  EnvList env = {
      {"RELEASE_ROOT", release.root},
      {"RELEASE_VSN", release.rel_vsn},
      {"RELEASE_COMMAND", "start"},
      {"RELEASE_MODE", mode},
      {"RELEASE_TMP", kDefaultReleaseTmp},
      {"RELEASE_VM_ARGS", vsn_dir + "/vm.args"},
      {"RELEASE_REMOTE_VM_ARGS", vsn_dir + "/remote.vm.args"},
      {"RELEASE_DISTRIBUTION", distribution},
      {"RELEASE_BOOT_SCRIPT", "start"},
      {"RELEASE_BOOT_SCRIPT_CLEAN", "start_clean"},
  };
  if (!release.name.empty()) {
    env.insert(env.begin() + 1, {{"RELEASE_NAME", release.name}, {"RELEASE_PROG", release.name}});
  }
  if (!node.empty()) env.emplace_back("RELEASE_NODE", node);
  if (!cookie.empty()) env.emplace_back("RELEASE_COOKIE", cookie);
  return env;
}

}  // namespace microbeam
