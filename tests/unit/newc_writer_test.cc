#include "newc_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace microbeam::cpio {
namespace {

using ::testing::HasSubstr;

Entry Dir(std::string name) { return {std::move(name), EntryType::kDirectory, 0755, 0, 0, "", 0, 0}; }
Entry File(std::string name, std::string data) {
  return {std::move(name), EntryType::kFile, 0644, 0, 0, std::move(data), 0, 0};
}

// Field i (0 = ino) of the header at `offset`.
uint32_t Field(const std::string& a, size_t offset, int i) {
  return static_cast<uint32_t>(std::stoul(a.substr(offset + 6 + 8 * static_cast<size_t>(i), 8), nullptr, 16));
}

TEST(WriteNewc, HeaderLayoutPaddingAndTrailer) {
  absl::StatusOr<std::string> a = WriteNewc({File("init", "abcde")}, 42);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->substr(0, 6), "070701");
  EXPECT_EQ(Field(*a, 0, 1), 0100644u);  // mode
  EXPECT_EQ(Field(*a, 0, 5), 42u);       // mtime
  EXPECT_EQ(Field(*a, 0, 6), 5u);        // size
  EXPECT_EQ(Field(*a, 0, 11), 5u);       // "init" + NUL
  // 110-byte header + "init\0" = 115, padded to 116; data 5 padded to 8.
  EXPECT_EQ(a->substr(110, 5), std::string("init\0", 5));
  EXPECT_EQ(a->substr(116, 5), "abcde");
  EXPECT_EQ(a->substr(124, 6), "070701");
  EXPECT_THAT(*a, HasSubstr("TRAILER!!!"));
  EXPECT_EQ(a->size() % 4, 0u);
}

TEST(WriteNewc, SortedAndReproducibleWhateverTheInputOrder) {
  std::vector<Entry> one = {File("b/x", "1"), Dir("b"), File("a", "2")};
  std::vector<Entry> two = {File("a", "2"), Dir("b"), File("b/x", "1")};
  absl::StatusOr<std::string> a = WriteNewc(one, 0), b = WriteNewc(two, 0);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_LT(a->find("a\0", 0), a->find("b/x"));
}

TEST(WriteNewc, DevicesAndSymlinks) {
  Entry console{"dev/console", EntryType::kCharDevice, 0600, 0, 0, "", 5, 1};
  console.rdev_major = 5;
  console.rdev_minor = 1;
  Entry link{"bin/sh", EntryType::kSymlink, 0777, 0, 0, "/init", 0, 0};
  absl::StatusOr<std::string> a = WriteNewc({Dir("dev"), Dir("bin"), console, link}, 0);
  ASSERT_TRUE(a.ok()) << a.status();
  size_t at = a->find("070701", a->find("bin/sh") - 110);  // the header of bin/sh
  EXPECT_EQ(Field(*a, at, 1), 0120777u);
  EXPECT_THAT(*a, HasSubstr("/init"));
  at = a->find("dev/console") - 110;
  EXPECT_EQ(Field(*a, at, 1), 0020600u);
  EXPECT_EQ(Field(*a, at, 9), 5u);
  EXPECT_EQ(Field(*a, at, 10), 1u);
}

TEST(WriteNewc, RejectsBadInputNamingTheEntry) {
  EXPECT_THAT(WriteNewc({File("a", "1"), File("/a", "2")}, 0).status().message(), HasSubstr("\"a\" is listed twice"));
  EXPECT_THAT(WriteNewc({File("d/a", "1")}, 0).status().message(), HasSubstr("parent directory of \"d/a\""));
  EXPECT_THAT(WriteNewc({File("../x", "1")}, 0).status().message(), HasSubstr("bad path component"));
  EXPECT_THAT(WriteNewc({File("", "1")}, 0).status().message(), HasSubstr("empty path"));
  Entry bad = File("x", "");
  bad.permissions = 0100644;
  EXPECT_THAT(WriteNewc({bad}, 0).status().message(), HasSubstr("more than permission bits"));
  EXPECT_THAT(WriteNewc({{"l", EntryType::kSymlink, 0777, 0, 0, "", 0, 0}}, 0).status().message(), HasSubstr("no target"));
}

// Found by fuzz/newc_writer_fuzzer: the kernel's unpacker reads names and symlink
// targets as C strings, and stops at the first entry named TRAILER!!!.
TEST(WriteNewc, RejectsWhatTheKernelWouldReadOtherwise) {
  EXPECT_THAT(WriteNewc({File(std::string("a\0z", 3), "1")}, 0).status().message(), HasSubstr("NUL byte in \"a\\x00z\""));
  EXPECT_THAT(WriteNewc({{"l", EntryType::kSymlink, 0777, 0, 0, std::string("/init\0x", 7), 0, 0}}, 0).status().message(),
              HasSubstr("NUL byte in its target"));
  EXPECT_THAT(WriteNewc({File("/TRAILER!!!", "1"), File("init", "2")}, 0).status().message(),
              HasSubstr("the name that ends a newc archive"));
  EXPECT_TRUE(WriteNewc({Dir("TRAILER!!!.d"), File("TRAILER!!!.d/TRAILER!!!", "1")}, 0).ok());
}

TEST(NormalizeName, StripsLeadingSlashesAndDots) {
  EXPECT_EQ(*NormalizeName("/./a/b"), "a/b");
  EXPECT_FALSE(NormalizeName("a//b").ok());
  EXPECT_FALSE(NormalizeName("/").ok());
}

}  // namespace
}  // namespace microbeam::cpio
