#include "guard/memory_limit.h"

#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(ParseMeminfo, TotalAndAvailableInBytes) {
  std::optional<MemoryFigures> m = ParseMeminfo(
      "MemTotal:         123904 kB\nMemFree:          90000 kB\nMemAvailable:     98304 kB\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->total, 123904ull * 1024);
  EXPECT_EQ(m->available, 98304ull * 1024);
}

TEST(ParseMeminfo, MissingOrMalformedIsNothing) {
  EXPECT_FALSE(ParseMeminfo("MemTotal: 1000 kB\n").has_value());
  EXPECT_FALSE(ParseMeminfo("MemTotal: x kB\nMemAvailable: 90000 kB\n").has_value());
  EXPECT_FALSE(ParseMeminfo("MemTotal: 0 kB\nMemAvailable: 0 kB\n").has_value());
  EXPECT_FALSE(ParseMeminfo("").has_value());
}

// Found by fuzz/meminfo_fuzzer: a figure too large for 64 bits in bytes wrapped around.
TEST(ParseMeminfo, TooLargeForBytesIsMalformed) {
  EXPECT_FALSE(ParseMeminfo("MemTotal: 4 kB\nMemAvailable: 4099276460824344799 kB\n").has_value());
  EXPECT_EQ(ParseRssAnon("RssAnon: 18014398509481983 kB\n"), 18014398509481983ull * 1024);  // 2^54 - 1
  EXPECT_FALSE(ParseRssAnon("RssAnon: 18014398509481984 kB\n").has_value());
}

TEST(ParseRssAnon, FromProcSelfStatus) {
  EXPECT_EQ(ParseRssAnon("Name:\tinit\nVmData:\t   22952 kB\nRssAnon:\t   12532 kB\n"), 12532ull * 1024);
  EXPECT_FALSE(ParseRssAnon("Name:\tinit\nVmData:\t 1 kB\n").has_value());
}

TEST(GuardsMemory, FromSixtyFourMiB) {
  EXPECT_FALSE(GuardsMemory(48ull << 20));
  EXPECT_TRUE(GuardsMemory(64ull << 20));
  EXPECT_TRUE(GuardsMemory(128ull << 20));
}

TEST(DataLimit, GrowthIsWhatIsAvailableBeyondTheReserve) {
  MemoryFigures m{128ull << 20, 99ull << 20};
  EXPECT_EQ(KernelReserve(m.total), 2ull << 20);
  EXPECT_EQ(DataLimit(20ull << 20, m), (20ull + 99 - 2) << 20);
  MemoryFigures small{38ull << 20, 20ull << 20};
  EXPECT_EQ(KernelReserve(small.total), 1ull << 20);
  // Nothing left: the data segment may not grow at all.
  EXPECT_EQ(DataLimit(30ull << 20, MemoryFigures{128ull << 20, 2ull << 20}), 30ull << 20);
}

}  // namespace
}  // namespace microbeam
