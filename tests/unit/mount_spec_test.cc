#include "storage/mount_spec.h"

#include <sys/mount.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

namespace microbeam {
namespace {

using ::testing::HasSubstr;

TEST(ParseMountOptions, FlagsByNameTheRestIsData) {
  MountOptions o = ParseMountOptions("noatime,size=16m,ro,,defaults,errors=remount-ro,nodev");
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOATIME | MS_RDONLY | MS_NODEV));
  EXPECT_EQ(o.data, "size=16m,errors=remount-ro");
  EXPECT_EQ(ParseMountOptions("ro,rw").flags, 0u);
  EXPECT_EQ(ParseMountOptions("noatime,relatime").flags, static_cast<unsigned long>(MS_RELATIME));
  EXPECT_EQ(ParseMountOptions("").flags, 0u);
  EXPECT_EQ(ParseMountOptions("").data, "");
}

TEST(ParseMountSpec, ErlinitStyle) {
  absl::StatusOr<MountSpec> m = ParseMountSpec("/dev/vdb:/srv/cache:ext4:noatime,commit=30");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->source, "/dev/vdb");
  EXPECT_EQ(m->target, "/srv/cache");
  EXPECT_EQ(m->fstype, "ext4");
  EXPECT_EQ(m->flags, static_cast<unsigned long>(MS_NOATIME));
  EXPECT_EQ(m->data, "commit=30");
  m = ParseMountSpec("tmpfs:/scratch:tmpfs");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->flags, 0u);
  EXPECT_EQ(m->data, "");
  m = ParseMountSpec("none:/x:tmpfs:size=1m:odd");  // OPTIONS is the rest, colons included
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->data, "size=1m:odd");
}

TEST(ParseMountSpec, SaysWhichPartIsWrong) {
  struct Case {
    const char* spec;
    const char* says;
  } cases[] = {
      {"/dev/vdb", "not DEV:DIR:TYPE:OPTIONS"},
      {"/dev/vdb:/x", "not DEV:DIR:TYPE:OPTIONS"},
      {":/x:ext4:", "DEV is empty"},
      {"/dev/vdb:x:ext4:", "is not absolute"},
      {"/dev/vdb:/:ext4:", "would hide the image"},
      {"/dev/vdb:/a/../b:ext4:", "component"},
      {"/dev/vdb:/a//b:ext4:", "component"},
      {"/dev/vdb:/a/:ext4:", "component"},
      {"/dev/vdb:/proc/x:ext4:", "under /proc"},
      {"/dev/vdb:/dev:ext4:", "under /dev"},
      {"/dev/vdb:/release:ext4:", "under /release"},
      {"/dev/vdb:/x:EXT4:", "not a file system name"},
      {"/dev/vdb:/x::", "not a file system name"},
      {"/dev/vdb:/x:ext4:a\nb", "control character"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<MountSpec> m = ParseMountSpec(c.spec);
    ASSERT_FALSE(m.ok()) << c.spec;
    EXPECT_THAT(std::string(m.status().message()), HasSubstr(c.says)) << c.spec;
  }
  EXPECT_TRUE(ParseMountSpec("/dev/vdb:/devices:ext4").ok());  // not under /dev
  EXPECT_TRUE(ParseMountSpec("/dev/vdb:/data/cache:ext4").ok());
}

TEST(DataMount, Ext4NoatimeAtData) {
  absl::StatusOr<MountSpec> m = DataMount("/dev/vda");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->target, "/data");
  EXPECT_EQ(m->fstype, "ext4");
  EXPECT_EQ(m->flags, static_cast<unsigned long>(MS_NOATIME | MS_NOSUID | MS_NODEV));
  EXPECT_EQ(m->data, "");
  for (const char* bad : {"vda", "/dev/", "/dev/../etc/x", "/etc/vda", ""}) EXPECT_FALSE(DataMount(bad).ok()) << bad;
}

TEST(PathIsUnder, WholeComponentsOnly) {
  EXPECT_TRUE(PathIsUnder("/data", "/data"));
  EXPECT_TRUE(PathIsUnder("/data/kv/x", "/data"));
  EXPECT_TRUE(PathIsUnder("/data/x (deleted)", "/data"));
  EXPECT_FALSE(PathIsUnder("/database", "/data"));
  EXPECT_FALSE(PathIsUnder("/dat", "/data"));
  EXPECT_TRUE(PathIsUnder("/x", "/"));
}

TEST(DataVolume, OneLineNamingDeviceReasonAndPolicy) {
  EXPECT_EQ(DataMountFailure("/dev/vda", "no such device", false),
            "microbeam: /data: /dev/vda: no such device; booting without /data");
  EXPECT_EQ(DataMountFailure("/dev/vda", "cannot mount (ext4): Invalid argument", true),
            "microbeam: /data: /dev/vda: cannot mount (ext4): Invalid argument; microbeam.data_required=1: rescue shell");
  EXPECT_TRUE(RetryReadOnly(EROFS));
  EXPECT_TRUE(RetryReadOnly(EACCES));
  EXPECT_FALSE(RetryReadOnly(EINVAL));
  EXPECT_FALSE(RetryReadOnly(ENOENT));
}

}  // namespace
}  // namespace microbeam
