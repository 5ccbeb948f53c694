#include "spec_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace microbeam::cpio {
namespace {

using ::testing::HasSubstr;

HostFileReader FakeFiles(std::map<std::string, std::string> files) {
  return [files](const std::string& path) -> absl::StatusOr<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return absl::NotFoundError("no such file");
    return it->second;
  };
}

TEST(ParseSpec, EveryEntryKind) {
  absl::StatusOr<std::vector<Entry>> e = ParseSpec(
      "# comment\n"
      "dir /dev 0755 0 0\n"
      "nod /dev/console 0600 0 0 c 5 1\n"
      "file /init /host/init 0755 0 0   # trailing comment\n"
      "slink /bin/x /init 0777 0 0\n"
      "pipe /p 0644 1 2\n"
      "\tsock /s 0644 0 0\n",
      "base.spec", FakeFiles({{"/host/init", "ELF"}}));
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->size(), 6u);
  EXPECT_EQ((*e)[0].name, "dev");
  EXPECT_EQ((*e)[1].type, EntryType::kCharDevice);
  EXPECT_EQ((*e)[1].rdev_major, 5u);
  EXPECT_EQ((*e)[2].data, "ELF");
  EXPECT_EQ((*e)[2].permissions, 0755u);
  EXPECT_EQ((*e)[3].data, "/init");
  EXPECT_EQ((*e)[4].uid, 1u);
  EXPECT_EQ((*e)[4].gid, 2u);
  EXPECT_EQ((*e)[5].type, EntryType::kSocket);
}

TEST(ParseSpec, ErrorsNameSpecLineAndWhat) {
  auto none = FakeFiles({});
  EXPECT_EQ(ParseSpec("dir /a 0755 0 0\nfile /b /missing 0644 0 0\n", "r.spec", none).status().message(),
            "r.spec:2: cannot read \"/missing\": no such file");
  EXPECT_EQ(ParseSpec("dir /a 0855 0 0\n", "r.spec", none).status().message(), "r.spec:1: bad octal mode \"0855\"");
  EXPECT_EQ(ParseSpec("link /a /b\n", "r.spec", none).status().message(), "r.spec:1: unknown entry type \"link\"");
  EXPECT_EQ(ParseSpec("dir /a 0755 0\n", "r.spec", none).status().message(),
            "r.spec:1: \"dir\" takes 4 fields, found 3");
  EXPECT_THAT(ParseSpec("nod /c 0600 0 0 x 5 1\n", "r.spec", none).status().message(), HasSubstr("c or b"));
  EXPECT_THAT(ParseSpec("dir /a 0755 root 0\n", "r.spec", none).status().message(), HasSubstr("bad uid"));
  EXPECT_THAT(ParseSpec("file /a /x 0644 0 0 /a2\n", "r.spec", none).status().message(), HasSubstr("hard links"));
  EXPECT_THAT(ParseSpec("dir /../a 0755 0 0\n", "r.spec", none).status().message(), HasSubstr("r.spec:1: bad path"));
}

// Found by fuzz/cpio_spec_fuzzer: a NUL byte in a spec went into the archive, where the
// kernel reads the name only up to it.
TEST(ParseSpec, RejectsNulBytesInNames) {
  using namespace std::string_view_literals;
  EXPECT_EQ(ParseSpec("dir /tmp\0x 1777 0 0\n"sv, "r.spec", FakeFiles({})).status().message(),
            "r.spec:1: NUL byte in \"tmp\\x00x\"");
}

}  // namespace
}  // namespace microbeam::cpio
