#include "crash/fixed_line.h"

#include <gtest/gtest.h>

#include <climits>

namespace microbeam {
namespace {

TEST(FixedLine, FormatsTextAndNumbers) {
  FixedLine<128> line;
  line << "status " << 0 << " " << -134 << " " << 1234567890123LL << " " << LLONG_MIN;
  EXPECT_EQ(line.view(), "status 0 -134 1234567890123 -9223372036854775808");
  line.Clear();
  EXPECT_EQ(line.view(), "");
  EXPECT_STREQ((line << static_cast<const char*>(nullptr)).c_str(), "(null)");
}

TEST(FixedLine, CutsAtItsCapacityAndStaysTerminated) {
  FixedLine<8> line;
  line << "abcdef" << 12345;
  EXPECT_EQ(line.view(), "abcdef1");
  EXPECT_STREQ(line.c_str(), "abcdef1");
}

}  // namespace
}  // namespace microbeam
