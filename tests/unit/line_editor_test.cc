#include "rescue/line_editor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace microbeam::rescue {
namespace {

using Event = LineEditor::Event;

Event FeedAll(LineEditor& ed, std::string_view input, std::string& echo) {
  Event last = Event::kNone;
  for (char c : input) last = ed.Feed(c, echo);
  return last;
}

TEST(LineEditor, TypesAndFinishesALine) {
  LineEditor ed;
  std::string echo;
  EXPECT_EQ(FeedAll(ed, "ls /\r", echo), Event::kLine);
  EXPECT_EQ(ed.TakeLine(), "ls /");
  EXPECT_EQ(echo, "ls /\r\n");
}

TEST(LineEditor, BackspaceAndKillLine) {
  LineEditor ed;
  std::string echo;
  FeedAll(ed, "lz\x7fs\x15" "cat x\by\n", echo);
  EXPECT_EQ(ed.TakeLine(), "cat y");
}

TEST(LineEditor, CtrlCCancelsAndCtrlDEndsOnlyAnEmptyLine) {
  LineEditor ed;
  std::string echo;
  EXPECT_EQ(FeedAll(ed, "abc\x03", echo), Event::kCancel);
  EXPECT_EQ(FeedAll(ed, "x\x04", echo), Event::kNone);
  EXPECT_EQ(FeedAll(ed, "\x7f\x04", echo), Event::kEof);
}

TEST(LineEditor, SkipsArrowKeys) {
  LineEditor ed;
  std::string echo;
  FeedAll(ed, "a\x1b[Ab\x1b[3~c\r", echo);
  EXPECT_EQ(ed.TakeLine(), "abc");
}

}  // namespace
}  // namespace microbeam::rescue
