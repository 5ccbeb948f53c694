#include "beam/emulator_args.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace microbeam {
namespace {

using ::testing::ElementsAre;

TEST(ParseStartErlData, ReadsVersions) {
  absl::StatusOr<Release> r = ParseStartErlData("13.1.5 0.1.0\n", "/release");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->erts_vsn, "13.1.5");
  EXPECT_EQ(r->rel_vsn, "0.1.0");
  EXPECT_EQ(r->BinDir(), "/release/erts-13.1.5/bin");
  EXPECT_EQ(r->BootFile(), "/release/releases/0.1.0/start");
}

TEST(ParseStartErlData, BadContentNamesTheFile) {
  absl::StatusOr<Release> r = ParseStartErlData("13.1.5\n", "/release");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/release/releases/start_erl.data"), std::string::npos);
  EXPECT_FALSE(ParseStartErlData("13.1.5 ../../x", "/release").ok());
  EXPECT_FALSE(ParseStartErlData("13.1.5 ..", "/release").ok());
  EXPECT_FALSE(ParseStartErlData(".. 0.1.0", "/release").ok());
}

TEST(BuildEmulatorArgs, LikeErlexecWithFlagsSplitByKind) {
  Release r{"/release", "13.1.5", "0.1.0", true};
  Config c;
  c.erl_flags = {"+S", "1:1", "-demo", "allow_halt", "true", "+sbwt", "none"};
  EXPECT_THAT(BuildEmulatorArgs(r, c),
              ElementsAre("beam", "-P", "65536", "-Q", "16384", "-SDio", "2", "-Mut", "false",  // defaults
                          "-swt", "very_low", "-sbwtdio", "none",
                          "-S", "1:1", "-sbwt", "none", "--", "-root", "/release", "-bindir",
                          "/release/erts-13.1.5/bin", "-progname", "erl", "--", "-home", "/", "--", "-boot",
                          "/release/releases/0.1.0/start", "-noshell", "-noinput", "-config",
                          "/release/releases/0.1.0/sys", "-demo", "allow_halt", "true"));
}

TEST(BuildEmulatorArgs, UserFlagsComeAfterTheDefaultsSoTheyWin) {
  Release r{"/release", "13.1.5", "0.1.0", false};
  Config c;
  c.erl_flags = {"+P", "1000000"};
  std::vector<std::string> args = BuildEmulatorArgs(r, c);
  auto first = std::find(args.begin(), args.end(), "-P");
  auto last = std::find(first + 1, args.end(), "-P");
  ASSERT_NE(last, args.end());
  EXPECT_EQ(*(last + 1), "1000000");
}

TEST(BuildEmulatorArgs, DistributionIsTurnedOnOnlyForANamedNode) {
  // Off by default in the boot script (assemble.escript): no flag to parse at boot.
  Release r{"/release", "13.1.5", "0.1.0", false};
  auto on = [&](std::vector<std::string> flags) {
    Config c;
    c.erl_flags = std::move(flags);
    std::vector<std::string> a = BuildEmulatorArgs(r, c);
    auto it = std::search(a.begin(), a.end(), std::begin(kDistributionOnFlags), std::end(kDistributionOnFlags));
    return it != a.end();
  };
  EXPECT_FALSE(on({}));
  EXPECT_TRUE(on({"-sname", "a"}));
  EXPECT_TRUE(on({"-name", "a@h"}));
  EXPECT_FALSE(on({"-name", "a@h", "-kernel", "start_distribution", "false"}));  // the user's say
  Config own;
  own.erl_flags = {"-sname", "a", "-kernel", "start_distribution", "true"};
  std::vector<std::string> a = BuildEmulatorArgs(r, own);
  EXPECT_EQ(std::count(a.begin(), a.end(), "start_distribution"), 1);
}

TEST(BuildEmulatorArgs, NoConfigWhenReleaseHasNone) {
  Release r{"/release", "13.1.5", "0.1.0", false};
  std::vector<std::string> args = BuildEmulatorArgs(r, Config{});
  EXPECT_EQ(std::find(args.begin(), args.end(), "-config"), args.end());
}

TEST(BuildEmulatorEnv, PointsAtTheRelease) {
  Release r{"/release", "13.1.5", "0.1.0", false};
  std::vector<std::string> env = BuildEmulatorEnv(r, Config{});
  EXPECT_NE(std::find(env.begin(), env.end(), "BINDIR=/release/erts-13.1.5/bin"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "ROOTDIR=/release"), env.end());
}

}  // namespace
}  // namespace microbeam
