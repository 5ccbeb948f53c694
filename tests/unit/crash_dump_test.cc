#include "lifecycle/crash_dump.h"

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

TEST(CrashDumpHeader, UpToTheFirstSection) {
  EXPECT_EQ(CrashDumpHeader("=erl_crash_dump:0.5\nSlogan: boom\nSystem version: Erlang/OTP 25\n"
                            "=scheduler:1\nScheduler Sleep Info Flags: \n"),
            "=erl_crash_dump:0.5\nSlogan: boom\nSystem version: Erlang/OTP 25");
}

TEST(CrashDumpHeader, AHeadCutShortEndsAtItsLastWholeLine) {
  EXPECT_EQ(CrashDumpHeader("=erl_crash_dump:0.5\nSlogan: boom\nSystem ver"), "=erl_crash_dump:0.5\nSlogan: boom");
  EXPECT_EQ(CrashDumpHeader("=erl_crash_dump:0.5"), "=erl_crash_dump:0.5");
}

TEST(CrashDumpHeader, NotACrashDump) {
  EXPECT_EQ(CrashDumpHeader(""), "");
  EXPECT_EQ(CrashDumpHeader("Slogan: boom\n=scheduler:1\n"), "");
}

}  // namespace
}  // namespace microbeam
