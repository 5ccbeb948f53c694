#include "restart_history.h"

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

}  // namespace
}  // namespace microbeam
