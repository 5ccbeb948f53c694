#include "boot/guest_sysctls.h"

#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(GuestSysctls, OnlyProcSysPathsEachWithAReason) {
  std::vector<Sysctl> all = GuestSysctls();
  ASSERT_FALSE(all.empty());
  for (const Sysctl& s : all) {
    EXPECT_TRUE(s.path.starts_with("/proc/sys/")) << s.path;
    EXPECT_FALSE(s.value.empty()) << s.path;
    EXPECT_FALSE(s.why.empty()) << s.path;
  }
}

}  // namespace
}  // namespace microbeam
