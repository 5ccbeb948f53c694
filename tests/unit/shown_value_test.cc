#include "config/shown_value.h"

#include <gtest/gtest.h>

#include <string>

namespace microbeam {
namespace {

TEST(ShownValue, PrintableValuesAsTheyAre) {
  EXPECT_EQ(ShownValue("explode"), "explode");
  EXPECT_EQ(ShownValue(""), "");
  EXPECT_EQ(ShownValue("caf\xc3\xa9 a=b \"q\""), "caf\xc3\xa9 a=b \"q\"");
  EXPECT_EQ(ShownValue(std::string(kShownValueMax, 'x')), std::string(kShownValueMax, 'x'));
}

TEST(ShownValue, ControlBytesBecomeQuestionMarks) {
  EXPECT_EQ(ShownValue("a\nb"), "a?b");
  EXPECT_EQ(ShownValue("\r\t\x1b[2J\x7f"), "???[2J?");
  EXPECT_EQ(ShownValue(std::string("a\0b", 3)), "a?b");
}

TEST(ShownValue, LongValuesAreCutWithAMarker) {
  EXPECT_EQ(ShownValue(std::string(kShownValueMax + 1, 'x')), std::string(kShownValueMax, 'x') + "...");
  EXPECT_EQ(ShownValue(std::string(5000, '\n')), std::string(kShownValueMax, '?') + "...");
  EXPECT_EQ(ShownValue("abcdef", 3), "abc...");
  // Never half a UTF-8 character: "é" is two bytes, the cut falls between them.
  EXPECT_EQ(ShownValue("ab\xc3\xa9z", 3), "ab...");
}

}  // namespace
}  // namespace microbeam
