#include "beam/signal_stack.h"

#include <gtest/gtest.h>

namespace microbeam {
namespace {

stack_t Stack(void* sp, size_t size, int flags) {
  stack_t ss = {};
  ss.ss_sp = sp;
  ss.ss_size = size;
  ss.ss_flags = flags;
  return ss;
}

TEST(SignalStack, KeepsPid1sOwnLargerStack) {
  static char buf[64 * 1024];
  EXPECT_TRUE(KeepsOwnAltStack(Stack(buf, sizeof buf, 0), 8192));
  EXPECT_TRUE(KeepsOwnAltStack(Stack(buf, 8192, 0), 8192));
}

TEST(SignalStack, LetsErtsSetOneWhenThereIsNoneOrItIsTooSmall) {
  static char buf[4096];
  EXPECT_FALSE(KeepsOwnAltStack(Stack(nullptr, 0, SS_DISABLE), 8192));
  EXPECT_FALSE(KeepsOwnAltStack(Stack(buf, sizeof buf, SS_DISABLE), 8192));
  EXPECT_FALSE(KeepsOwnAltStack(Stack(buf, sizeof buf, 0), 8192));
  EXPECT_FALSE(KeepsOwnAltStack(Stack(nullptr, 65536, 0), 8192));
}

TEST(SignalStack, ThisThreadsRealStackAsSigaltstackReportsIt) {
  static char buf[64 * 1024];
  stack_t old = {};
  ASSERT_EQ(sigaltstack(nullptr, &old), 0);
  stack_t ss = Stack(buf, sizeof buf, 0);
  ASSERT_EQ(sigaltstack(&ss, nullptr), 0);
  stack_t now = {};
  ASSERT_EQ(sigaltstack(nullptr, &now), 0);
  EXPECT_TRUE(KeepsOwnAltStack(now, SIGSTKSZ));
  stack_t off = Stack(nullptr, 0, SS_DISABLE);
  ASSERT_EQ(sigaltstack(&off, nullptr), 0);
  ASSERT_EQ(sigaltstack(nullptr, &now), 0);
  EXPECT_FALSE(KeepsOwnAltStack(now, SIGSTKSZ));
  if (!(old.ss_flags & SS_DISABLE)) sigaltstack(&old, nullptr);
}

}  // namespace
}  // namespace microbeam
