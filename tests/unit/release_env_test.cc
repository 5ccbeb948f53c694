#include "beam/release_env.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "beam/emulator_args.h"

namespace microbeam {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::Pair;

Release MixRelease() {
  Release r{"/release", "13.1.5", "0.1.0", true};
  r.name = "greeter";
  r.cookie = "COOKIE123";
  return r;
}

TEST(StartScriptEnv, WhatMixsStartScriptExports) {
  EnvList env = StartScriptEnv(MixRelease(), Config{});
  EXPECT_THAT(env, IsSupersetOf({Pair("RELEASE_ROOT", "/release"), Pair("RELEASE_NAME", "greeter"),
                                 Pair("RELEASE_VSN", "0.1.0"), Pair("RELEASE_PROG", "greeter"),
                                 Pair("RELEASE_COMMAND", "start"), Pair("RELEASE_MODE", "interactive"),
                                 Pair("RELEASE_TMP", "/tmp"), Pair("RELEASE_NODE", "greeter"),
                                 Pair("RELEASE_COOKIE", "COOKIE123"), Pair("RELEASE_DISTRIBUTION", "none"),
                                 Pair("RELEASE_BOOT_SCRIPT", "start"),
                                 Pair("RELEASE_BOOT_SCRIPT_CLEAN", "start_clean"),
                                 Pair("RELEASE_VM_ARGS", "/release/releases/0.1.0/vm.args"),
                                 Pair("RELEASE_REMOTE_VM_ARGS", "/release/releases/0.1.0/remote.vm.args")}));
}

TEST(StartScriptEnv, FollowsTheFlagsThatNameTheNodeAndTheMode) {
  Release r = MixRelease();
  r.vm_args.flags = {"-sname", "fromfile", "-mode", "embedded"};
  Config c;
  c.erl_flags = {"-name", "a@10.0.0.2", "-setcookie", "secret"};
  EnvList env = StartScriptEnv(r, c);
  EXPECT_THAT(env, IsSupersetOf({Pair("RELEASE_NODE", "a@10.0.0.2"), Pair("RELEASE_DISTRIBUTION", "name"),
                                 Pair("RELEASE_MODE", "embedded"), Pair("RELEASE_COOKIE", "secret")}));
}

TEST(StartScriptEnv, NoNameNoCookieLeavesThemUnset) {
  Release r{"/release", "13.1.5", "0.1.0", false};
  EnvList env = StartScriptEnv(r, Config{});
  for (const char* name : {"RELEASE_NAME", "RELEASE_PROG", "RELEASE_NODE", "RELEASE_COOKIE"}) {
    EXPECT_THAT(env, Not(Contains(Pair(name, ::testing::_)))) << name;
  }
}

TEST(SysConfigPath, RuntimeConfigIsACopyInReleaseTmp) {
  Release r = MixRelease();
  EXPECT_EQ(SysConfigPath(r, Config{}), "/release/releases/0.1.0/sys");
  r.runtime_config = true;
  EXPECT_EQ(SysConfigPath(r, Config{}), "/tmp/greeter-0.1.0.runtime");
  Config c;
  c.env = {{"RELEASE_TMP", "/run/rel"}};
  EXPECT_EQ(SysConfigPath(r, c), "/run/rel/greeter-0.1.0.runtime");
  c.env = {{"RELEASE_TMP", "relative"}};
  EXPECT_EQ(SysConfigPath(r, c), "/tmp/greeter-0.1.0.runtime");
  std::vector<std::string> args = BuildEmulatorArgs(r, Config{});
  auto it = std::find(args.begin(), args.end(), "-config");
  ASSERT_NE(it, args.end());
  EXPECT_EQ(*(it + 1), "/tmp/greeter-0.1.0.runtime");
}

TEST(BuildEmulatorEnv, UserEnvWinsOverDefaultsButNotOverSysConfig) {
  Release r = MixRelease();
  r.runtime_config = true;
  r.vm_args.env = {{"A", "vm_args"}, {"B", "vm_args"}};
  r.env_file = {{"B", "file"}, {"C", "file"}, {"RELEASE_SYS_CONFIG", "/elsewhere"}};
  Config c;
  c.env = {{"C", "cmdline"}, {"RELEASE_NODE", "other"}};
  std::vector<std::string> env = BuildEmulatorEnv(r, c);
  auto last = [&](std::string_view name) {
    std::string v;
    for (const std::string& e : env) {
      if (e.starts_with(std::string(name) + "=")) v = e.substr(name.size() + 1);
    }
    return v;
  };
  EXPECT_EQ(last("A"), "vm_args");
  EXPECT_EQ(last("B"), "file");
  EXPECT_EQ(last("C"), "cmdline");
  EXPECT_EQ(last("RELEASE_NODE"), "other");
  EXPECT_EQ(last("RELEASE_SYS_CONFIG"), "/tmp/greeter-0.1.0.runtime");
  EXPECT_EQ(last("BINDIR"), "/release/erts-13.1.5/bin");
}

TEST(ParseEnvFile, NameValueLinesCommentsAndBadLines) {
  ParsedEnvFile p = ParseEnvFile(
      "# secrets\nDATABASE_URL=ecto://u:p@db/app?ssl=true\n\n  SECRET_KEY_BASE=a b=c \r\n1BAD=x\nnoequals\n"
      "EMPTY=\n",
      "/etc/microbeam.env");
  EXPECT_THAT(p.entries, ElementsAre(Pair("DATABASE_URL", "ecto://u:p@db/app?ssl=true"),
                                     Pair("SECRET_KEY_BASE", "a b=c "), Pair("EMPTY", "")));
  ASSERT_EQ(p.warnings.size(), 2u);
  EXPECT_THAT(p.warnings[0], HasSubstr("/etc/microbeam.env:5:"));
  EXPECT_THAT(p.warnings[1], HasSubstr("/etc/microbeam.env:6:"));
  EXPECT_THAT(p.warnings[0], Not(HasSubstr("=x")));  // no value shown
}

TEST(ParseReleaseName, OneNameOfSafeCharacters) {
  EXPECT_EQ(*ParseReleaseName("greeter\n", "/r/releases/release_name"), "greeter");
  for (const char* bad : {"", "..", "a b", "a/b", "x\ny"}) {
    absl::StatusOr<std::string> n = ParseReleaseName(bad, "/r/releases/release_name");
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_THAT(std::string(n.status().message()), HasSubstr("/r/releases/release_name"));
  }
}

TEST(IsRuntimeSysConfig, MixsMarker) {
  EXPECT_TRUE(IsRuntimeSysConfig("%% coding: utf-8\n%% RUNTIME_CONFIG=true\n[]."));
  EXPECT_FALSE(IsRuntimeSysConfig("%% coding: utf-8\n%% RUNTIME_CONFIG=false\n[]."));
}

}  // namespace
}  // namespace microbeam
