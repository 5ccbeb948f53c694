#include "crash_dump.h"

#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(CrashDumpSlogan, TheHeadersReasonLine) {
  EXPECT_EQ(CrashDumpSlogan("=erl_crash_dump:0.5\nTue Nov 24 18:00:00 2026\nSlogan: boom\r\n"
                            "System version: Erlang/OTP 25\n"),
            "boom");
  EXPECT_EQ(CrashDumpSlogan("=erl_crash_dump:0.5\nno slogan here\n"), "");
  EXPECT_EQ(CrashDumpSlogan(""), "");
}

}  // namespace
}  // namespace microbeam
