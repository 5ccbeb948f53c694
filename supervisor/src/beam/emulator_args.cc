#include "beam/emulator_args.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "beam/release_env.h"

namespace microbeam {

absl::StatusOr<Release> ParseStartErlData(std::string_view content, std::string_view root) {
  std::vector<std::string_view> fields =
      absl::StrSplit(content, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty());
  if (fields.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        root, "/releases/start_erl.data: expected \"ERTS_VSN REL_VSN\", found ", fields.size(), " fields"));
  }
  for (std::string_view f : fields) {
    if (f == "." || f == "..") {  // the versions name directories under the release
      return absl::InvalidArgumentError(
          absl::StrCat(root, "/releases/start_erl.data: bad version \"", f, "\""));
    }
    for (char c : f) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' && c != '+') {
        return absl::InvalidArgumentError(
            absl::StrCat(root, "/releases/start_erl.data: bad version \"", f, "\""));
      }
    }
  }
  return Release{std::string(root), std::string(fields[0]), std::string(fields[1])};
}

std::vector<std::string> BuildEmulatorArgs(const Release& release, const Config& config) {
  std::vector<std::string> emulator_flags;
  std::vector<std::string> init_flags;
  bool in_emulator_flag = false;
  std::vector<std::string> user_flags = release.vm_args.flags;
  user_flags.insert(user_flags.end(), config.erl_flags.begin(), config.erl_flags.end());
  for (const std::string& f : user_flags) {
    if (f.starts_with("+")) {
      emulator_flags.push_back(absl::StrCat("-", f.substr(1)));
      in_emulator_flag = true;
    } else if (f.starts_with("-")) {
      init_flags.push_back(f);
      in_emulator_flag = false;
    } else {
      (in_emulator_flag ? emulator_flags : init_flags).push_back(f);
    }
  }
  std::vector<std::string> args = {"beam"};
  args.insert(args.end(), std::begin(kDefaultEmulatorFlags), std::end(kDefaultEmulatorFlags));
  args.insert(args.end(), emulator_flags.begin(), emulator_flags.end());
  // The three segments erlexec passes: emulator flags -- root/bindir/progname -- home --
  // init flags.
  args.insert(args.end(), {"--", "-root", release.root, "-bindir", release.BinDir(), "-progname",
                           "erl", "--", "-home", "/", "--", "-boot", release.BootFile(),
                           "-noshell", "-noinput"});
  if (release.has_sys_config) args.insert(args.end(), {"-config", SysConfigPath(release, config)});
  bool names_node = false, sets_distribution = false;
  for (const std::string& f : init_flags) {
    names_node = names_node || f == "-name" || f == "-sname";
    sets_distribution = sets_distribution || f == "start_distribution";
  }
  if (names_node && !sets_distribution) {
    args.insert(args.end(), std::begin(kDistributionOnFlags), std::end(kDistributionOnFlags));
  }
  args.insert(args.end(), init_flags.begin(), init_flags.end());
  if (!config.eval_expr.empty()) args.insert(args.end(), {"-eval", config.eval_expr});
  return args;
}

std::vector<std::string> BuildEmulatorEnv(const Release& release, const Config& config) {
  std::vector<std::string> env = {"BINDIR=" + release.BinDir(), "ROOTDIR=" + release.root,
                                  "EMU=beam", "PROGNAME=erl", "HOME=/", "PATH=/usr/bin:/bin",
                                  "TERM=vt100"};
  for (const auto& [name, value] : StartScriptEnv(release, config)) env.push_back(absl::StrCat(name, "=", value));
  for (const auto& [name, value] : UserEnv(release, config)) env.push_back(absl::StrCat(name, "=", value));
  env.push_back(absl::StrCat("RELEASE_SYS_CONFIG=", SysConfigPath(release, config)));
  return env;
}

}  // namespace microbeam
