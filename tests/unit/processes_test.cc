#include "lifecycle/processes.h"

#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(ParseProcStat, ReadsPidCommStatePpidAndFlags) {
  ProcStat p;
  ASSERT_TRUE(ParseProcStat("42 (erl_child_setup) S 1 42 42 0 -1 4194560 120 0 0 0\n", p));
  EXPECT_EQ(p.pid, 42);
  EXPECT_EQ(p.ppid, 1);
  EXPECT_EQ(p.state, 'S');
  EXPECT_EQ(p.flags, 4194560u);
  EXPECT_STREQ(p.comm, "erl_child_setup");
}

TEST(ParseProcStat, CommMayHoldBlanksAndParentheses) {
  ProcStat p;
  ASSERT_TRUE(ParseProcStat("7 (a) b (c) Z 3 7 7 0 -1 0 0", p));
  EXPECT_STREQ(p.comm, "a) b (c");
  EXPECT_EQ(p.state, 'Z');
  EXPECT_EQ(p.ppid, 3);
}

TEST(ParseProcStat, RejectsTruncatedOrMalformedLines) {
  ProcStat p;
  EXPECT_FALSE(ParseProcStat("", p));
  EXPECT_FALSE(ParseProcStat("12 (sh", p));
  EXPECT_FALSE(ParseProcStat("x (sh) S 1 1 1 0 -1 0", p));
  EXPECT_FALSE(ParseProcStat("12 (sh) S", p));
  EXPECT_FALSE(ParseProcStat("12 (sh) S 1 1 1 0", p));  // no flags field
}

TEST(SparedAtShutdown, SparesPid1KernelThreadsZombiesAndTheErtsHelper) {
  ProcStat p;
  ASSERT_TRUE(ParseProcStat("1 (init) S 0 1 1 0 -1 4194560", p));
  EXPECT_TRUE(SparedAtShutdown(p));
  ASSERT_TRUE(ParseProcStat("2 (kthreadd) S 0 0 0 0 -1 2129984", p));  // PF_KTHREAD
  EXPECT_TRUE(SparedAtShutdown(p));
  ASSERT_TRUE(ParseProcStat("9 (sleep) Z 1 9 9 0 -1 0", p));
  EXPECT_TRUE(SparedAtShutdown(p));
  ASSERT_TRUE(ParseProcStat("5 (erl_child_setup) S 1 5 5 0 -1 4194560", p));
  EXPECT_TRUE(SparedAtShutdown(p));
}

TEST(IsErtsHelper, OnlyPid1sChildOfThatName) {
  ProcStat p;
  ASSERT_TRUE(ParseProcStat("5 (erl_child_setup) Z 1 5 5 0 -1 0", p));
  EXPECT_TRUE(IsErtsHelper(p));
  ASSERT_TRUE(ParseProcStat("9 (erl_child_setup) S 4 9 9 0 -1 0", p));
  EXPECT_FALSE(IsErtsHelper(p));
  ASSERT_TRUE(ParseProcStat("6 (sh) S 1 6 6 0 -1 0", p));
  EXPECT_FALSE(IsErtsHelper(p));
}

TEST(SparedAtShutdown, SignalsPortProgramsAndOrphans) {
  ProcStat p;
  ASSERT_TRUE(ParseProcStat("6 (sh) S 5 6 6 0 -1 4194560", p));  // a port program
  EXPECT_FALSE(SparedAtShutdown(p));
  ASSERT_TRUE(ParseProcStat("8 (sleep) S 1 8 8 0 -1 4194560", p));  // an orphan
  EXPECT_FALSE(SparedAtShutdown(p));
  ASSERT_TRUE(ParseProcStat("9 (erl_child_setup) S 4 9 9 0 -1 0", p));  // not ERTS's
  EXPECT_FALSE(SparedAtShutdown(p));
}

}  // namespace
}  // namespace microbeam
