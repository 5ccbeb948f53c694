#include "rescue/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace microbeam::rescue {
namespace {

using ::testing::HasSubstr;

TEST(RescueCommands, EchoHelpUnknown) {
  EXPECT_EQ(RunCommand({"echo", "a", "b"}).output, "a b\n");
  EXPECT_THAT(RunCommand({"help"}).output, HasSubstr("poweroff"));
  EXPECT_EQ(RunCommand({"nope"}).output, "nope: unknown command (try help)\n");
  EXPECT_EQ(RunCommand({}).output, "");
}

TEST(RescueCommands, LsAndCatOnRealFiles) {
  char dir[] = "/tmp/rescue_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string file = std::string(dir) + "/hello.txt";
  std::ofstream(file) << "hi\n";
  ASSERT_EQ(symlink("/init", (std::string(dir) + "/link").c_str()), 0);
  std::string ls = RunCommand({"ls", dir}).output;
  EXPECT_THAT(ls, HasSubstr("hello.txt"));
  EXPECT_THAT(ls, HasSubstr("link -> /init"));
  EXPECT_EQ(RunCommand({"cat", file}).output, "hi\n");
  EXPECT_THAT(RunCommand({"cat", std::string(dir) + "/missing"}).output, HasSubstr("No such file"));
  unlink(file.c_str());
  unlink((std::string(dir) + "/link").c_str());
  rmdir(dir);
}

TEST(RescueCommands, CatOfAnEndlessFileStopsAtOneMiB) {
  // The output is buffered in PID 1: cat /dev/zero grew it until memory ran out.
  std::string out = RunCommand({"cat", "/dev/zero"}).output;
  EXPECT_LE(out.size(), (1u << 20) + 100);
  EXPECT_THAT(out, HasSubstr("cat: /dev/zero: cut at 1 MiB"));
}

TEST(RescueCommands, ActionsAndArgumentChecks) {
  EXPECT_EQ(RunCommand({"boot"}).action, Action::kBoot);
  EXPECT_EQ(RunCommand({"reboot"}).action, Action::kReboot);
  EXPECT_EQ(RunCommand({"poweroff"}).action, Action::kPoweroff);
  EXPECT_THAT(RunCommand({"kill", "1"}).output, HasSubstr("not a PID other than 1"));
  EXPECT_THAT(RunCommand({"kill", "-x", "5"}).output, HasSubstr("bad signal"));
  EXPECT_THAT(RunCommand({"umount"}).output, HasSubstr("usage"));
  EXPECT_THAT(RunCommand({"ps"}).output, HasSubstr("PID STATE"));
  EXPECT_THAT(RunCommand({"free"}).output, HasSubstr("Mem:"));
}

}  // namespace
}  // namespace microbeam::rescue
