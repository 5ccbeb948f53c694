#include "lifecycle/restart_history.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(RestartHistory, RoundTripsAndSkipsGarbage) {
  EXPECT_EQ(ParseRestartTimes("3,x,10,,-4,12"), (std::vector<long>{3, 10, 12}));
  EXPECT_EQ(FormatRestartTimes({3, 10, 12}), "3,10,12");
  EXPECT_TRUE(ParseRestartTimes("").empty());
}

TEST(RestartHistory, CrashLoopIsLimitRestartsInsideTheWindow) {
  EXPECT_FALSE(IsCrashLoop({}, 100, 3, 60));
  EXPECT_FALSE(IsCrashLoop({50, 90}, 100, 3, 60));
  EXPECT_TRUE(IsCrashLoop({50, 90, 99}, 100, 3, 60));
  EXPECT_FALSE(IsCrashLoop({10, 20, 99}, 100, 3, 60));  // two fell out of the window
  EXPECT_TRUE(IsCrashLoop({}, 100, 0, 60));             // limit 0: never restart
}

TEST(RestartHistory, OnlyTimesInsideTheWindowAndAtMostTheLimitAreKept) {
  // Without pruning the variable grew by one time a restart, until execve failed (E2BIG).
  EXPECT_EQ(RecentRestartTimes({1, 2, 50, 90, 99}, 100, 60, 5), (std::vector<long>{50, 90, 99}));
  EXPECT_EQ(RecentRestartTimes({50, 90, 99}, 100, 60, 2), (std::vector<long>{90, 99}));
  EXPECT_TRUE(RecentRestartTimes({50, 90, 99}, 100, 60, 0).empty());
  EXPECT_EQ(RecentRestartTimes({101, 99}, 100, 60, 5), (std::vector<long>{99}));  // not from the future
  std::vector<long> many;
  for (long t = 0; t < 100000; ++t) many.push_back(t);
  EXPECT_EQ(RecentRestartTimes(many, 100000, 86400, 1000).size(), 1000u);
}

}  // namespace
}  // namespace microbeam
