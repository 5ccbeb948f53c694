#include "lifecycle/restore_message.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace microbeam {
namespace {

using ::testing::HasSubstr;

constexpr char kSeed[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eFF";

TEST(RestoreMessage, ParsesTimeAndSeed) {
  auto m = ParseRestoreMessage(std::string("microbeam-restore 1764370000123456789 ") + kSeed);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->unix_ns, 1764370000123456789);
  EXPECT_EQ(m->seed[0], 0x00);
  EXPECT_EQ(m->seed[15], 0x0f);
  EXPECT_EQ(m->seed[31], 0xff);
}

TEST(RestoreMessage, AcceptsCarriageReturn) {
  EXPECT_TRUE(ParseRestoreMessage(std::string("microbeam-restore 5 ") + kSeed + "\r").ok());
}

TEST(RestoreMessage, RoundTrip) {
  RestoreMessage m;
  m.unix_ns = 42;
  for (size_t i = 0; i < m.seed.size(); ++i) m.seed[i] = static_cast<uint8_t>(i * 7);
  std::string line = FormatRestoreMessage(m);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  auto back = ParseRestoreMessage(line);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->unix_ns, 42);
  EXPECT_EQ(back->seed, m.seed);
}

TEST(RestoreMessage, RejectsBadInputNamingThePart) {
  EXPECT_THAT(ParseRestoreMessage("hello").status().message(), HasSubstr("not \"microbeam-restore"));
  EXPECT_THAT(ParseRestoreMessage(std::string("microbeam-restore  ") + kSeed).status().message(),
              HasSubstr("UNIX_NS"));
  EXPECT_THAT(ParseRestoreMessage(std::string("microbeam-restore -5 ") + kSeed).status().message(),
              HasSubstr("UNIX_NS"));
  EXPECT_THAT(ParseRestoreMessage(std::string("microbeam-restore +5 ") + kSeed).status().message(),
              HasSubstr("UNIX_NS"));
  EXPECT_THAT(ParseRestoreMessage("microbeam-restore 5 abcd").status().message(), HasSubstr("SEED"));
  std::string bad = std::string("microbeam-restore 5 ") + kSeed;
  bad[bad.size() - 3] = 'g';
  EXPECT_THAT(ParseRestoreMessage(bad).status().message(), HasSubstr("SEED"));
  EXPECT_FALSE(ParseRestoreMessage(std::string("microbeam-restore 5 ") + kSeed + " x").ok());
}

TEST(RestoreMessage, AckAndNotice) {
  EXPECT_EQ(FormatRestoreAck(2, -1500), "microbeam-restored 2 -1500\n");
  EXPECT_EQ(FormatBeamNotice(1, 7), "restored 1 7\n");
}

TEST(LineSplitter, SplitsAcrossReads) {
  LineSplitter s;
  std::string line;
  s.Feed("ab");
  EXPECT_FALSE(s.Next(line));
  s.Feed("c\nde\nf");
  ASSERT_TRUE(s.Next(line));
  EXPECT_EQ(line, "abc");
  ASSERT_TRUE(s.Next(line));
  EXPECT_EQ(line, "de");
  EXPECT_FALSE(s.Next(line));
  s.Feed("\n");
  ASSERT_TRUE(s.Next(line));
  EXPECT_EQ(line, "f");
}

TEST(LineSplitter, DropsOverlongLinesWhole) {
  LineSplitter s;
  std::string line;
  s.Feed(std::string(kRestoreLineMax + 10, 'x'));
  EXPECT_FALSE(s.Next(line));
  s.Feed("tail of the long line\nok\n");
  ASSERT_TRUE(s.Next(line));
  EXPECT_EQ(line, "ok");
  s.Feed(std::string(kRestoreLineMax + 1, 'y') + "\nnext\n");
  ASSERT_TRUE(s.Next(line));
  EXPECT_EQ(line, "next");
}

}  // namespace
}  // namespace microbeam
