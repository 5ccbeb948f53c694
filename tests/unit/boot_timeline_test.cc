#include "boot/boot_timeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace microbeam {
namespace {

TEST(BootTimeline, ConsoleLineAndJson) {
  BootTimeline t;
  t.MarkAt("init_entered", 612.5);
  t.MarkAt("erl_start", 640.25);
  EXPECT_EQ(t.ConsoleLine(), "microbeam: boot timeline: init_entered=612.5ms erl_start=640.2ms");
  EXPECT_EQ(t.Json(), "{\"clock\":\"boottime\",\"marks_ms\":{\"init_entered\":612.500,\"erl_start\":640.250}}");
}

TEST(BootTimeline, MarkUsesTheBootClock) {
  BootTimeline t;
  t.Mark("now");
  EXPECT_NE(t.Json().find("\"now\":"), std::string::npos);
}

}  // namespace
}  // namespace microbeam
