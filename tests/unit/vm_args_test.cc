#include "beam/vm_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "beam/emulator_args.h"

namespace microbeam {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr std::string_view kPath = "/release/releases/0.1.0/vm.args";

std::vector<std::string> Split(std::string_view text) {
  absl::StatusOr<std::vector<std::string>> args = SplitArgsFile(text, kPath);
  EXPECT_TRUE(args.ok()) << args.status();
  return args.ok() ? *args : std::vector<std::string>{};
}

TEST(SplitArgsFile, BlanksCommentsQuotesAndBackslashesAsErlexec) {
  EXPECT_THAT(Split("## comment\n-name demo@10.0.2.15\n+S 2   # trailing\n"),
              ElementsAre("-name", "demo@10.0.2.15", "+S", "2"));
  EXPECT_THAT(Split("-demo greeting \"hello world\" -x 'a b'c"),
              ElementsAre("-demo", "greeting", "hello world", "-x", "a bc"));
  EXPECT_THAT(Split("-a b\\ c -d \\#e f#g h"), ElementsAre("-a", "b c", "-d", "#e", "f"));
  EXPECT_THAT(Split("-q \"#not a comment\""), ElementsAre("-q", "#not a comment"));
  EXPECT_THAT(Split(""), ElementsAre());
  EXPECT_THAT(Split("# only\n\t\r\n"), ElementsAre());
}

TEST(SplitArgsFile, UnterminatedQuoteNamesFileAndLine) {
  absl::StatusOr<std::vector<std::string>> args = SplitArgsFile("+S 2\n-setcookie \"abc\n", kPath);
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().message(), "/release/releases/0.1.0/vm.args:2: unterminated \" quote");
}

TEST(ParseVmArgs, MixReleaseDefaultIsAllComments) {
  absl::StatusOr<VmArgs> v = ParseVmArgs(
      "## Customize flags given to the VM: https://www.erlang.org/doc/man/erl.html\n"
      "## -mode/-name/-sname/-setcookie are configured via env vars, do not set them here\n\n"
      "## Increase number of concurrent ports/sockets\n##+Q 65536\n\n"
      "## Tweak GC to run more often\n##-env ERL_FULLSWEEP_AFTER 10\n",
      kPath);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->flags.empty());
  EXPECT_TRUE(v->env.empty());
  EXPECT_TRUE(v->warnings.empty());
}

TEST(ParseVmArgs, EnvPairsAndDroppedFlagsComeOut) {
  absl::StatusOr<VmArgs> v = ParseVmArgs(
      "-sname a\n-setcookie secret\n+K true\n-env ERL_FULLSWEEP_AFTER 10\n-heart\n"
      "-args_file /etc/more.args\n-kernel inet_dist_listen_min 9100\n",
      kPath);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_THAT(v->flags, ElementsAre("-sname", "a", "-setcookie", "secret", "+K", "true", "-kernel",
                                    "inet_dist_listen_min", "9100"));
  EXPECT_THAT(v->env, ElementsAre(Pair("ERL_FULLSWEEP_AFTER", "10")));
  ASSERT_EQ(v->warnings.size(), 2u);
  EXPECT_THAT(v->warnings[0], HasSubstr("vm.args: ignoring -heart"));
  EXPECT_THAT(v->warnings[1], HasSubstr("ignoring -args_file /etc/more.args"));
}

TEST(ParseVmArgs, EnvWithoutValueIsAnError) {
  absl::StatusOr<VmArgs> v = ParseVmArgs("+S 1\n-env ONLY_NAME\n", kPath);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "/release/releases/0.1.0/vm.args: -env needs a name and a value");
}

TEST(BuildEmulatorArgs, VmArgsGoFirstAndTheCommandLineWins) {
  Release r{"/release", "13.1.5", "0.1.0", false};
  r.vm_args.flags = {"+S", "2", "-sname", "fromfile", "-demo", "port", "80"};
  r.vm_args.env = {{"ERL_FULLSWEEP_AFTER", "10"}};
  Config c;
  c.erl_flags = {"+S", "1", "-demo", "port", "8080"};
  std::vector<std::string> a = BuildEmulatorArgs(r, c);
  auto s1 = std::find(a.begin(), a.end(), "-S");
  ASSERT_NE(s1, a.end());
  EXPECT_EQ(*(s1 + 1), "2");
  auto s2 = std::find(s1 + 1, a.end(), "-S");
  ASSERT_NE(s2, a.end());
  EXPECT_EQ(*(s2 + 1), "1");  // later, so it wins
  // -sname in vm.args names the node: distribution on (the boot script has it off).
  EXPECT_THAT(std::vector<std::string>(a.end() - 11, a.end()),
              ElementsAre("-kernel", "start_distribution", "true", "-sname", "fromfile", "-demo", "port", "80",
                          "-demo", "port", "8080"));
  std::vector<std::string> env = BuildEmulatorEnv(r, c);
  EXPECT_EQ(env[env.size() - 2], "ERL_FULLSWEEP_AFTER=10");  // then RELEASE_SYS_CONFIG
}

TEST(BuildEmulatorArgs, EvalComesLastAfterEveryOtherFlag) {
  Release r{"/release", "13.1.5", "0.1.0", false};
  Config c;
  c.erl_flags = {"-demo", "x", "y"};
  c.eval_expr = "erlang:halt(3)";
  std::vector<std::string> a = BuildEmulatorArgs(r, c);
  EXPECT_THAT(std::vector<std::string>(a.end() - 5, a.end()),
              ElementsAre("-demo", "x", "y", "-eval", "erlang:halt(3)"));
}

}  // namespace
}  // namespace microbeam
