#include "guard/privileges.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace microbeam {
namespace {

constexpr uint64_t kNetBind = uint64_t{1} << 10, kSysBoot = uint64_t{1} << 22;

TEST(ParseAppUser, UidColonGidOrRoot) {
  EXPECT_EQ(ParseAppUser("1000:1000"), (AppUser{1000, 1000}));
  EXPECT_EQ(ParseAppUser("0:0"), (AppUser{0, 0}));
  EXPECT_EQ(ParseAppUser("root"), (AppUser{0, 0}));
  EXPECT_EQ(ParseAppUser("65534:65533"), (AppUser{65534, 65533}));
  for (const char* bad : {"", "1000", ":", "1000:", ":1000", "a:b", "-1:0", "1000:1000:1", " 1:1",
                          "4294967295:0", "2147483647:0", "+5:5", "nobody"}) {
    EXPECT_EQ(ParseAppUser(bad), std::nullopt) << bad;
  }
}

TEST(AppCredentials, NonRootKeepsTheCapsAmbientForTheReExec) {
  ThreadCredentials c = AppCredentials({1000, 1001}, kSysBoot | kNetBind);
  EXPECT_EQ(c.uid, 1000u);
  EXPECT_EQ(c.gid, 1001u);
  EXPECT_EQ(c.bounding, kSysBoot | kNetBind);
  EXPECT_EQ(c.permitted, kSysBoot | kNetBind);
  EXPECT_EQ(c.effective, kSysBoot | kNetBind);
  EXPECT_EQ(c.inheritable, kSysBoot | kNetBind);
  EXPECT_EQ(c.ambient, kSysBoot | kNetBind);
}

TEST(AppCredentials, RootNeedsNoAmbientSet) {
  // A root exec gets its bounding set back as permitted; ambient and inheritable stay empty.
  ThreadCredentials c = AppCredentials({0, 0}, kSysBoot);
  EXPECT_EQ(c.permitted, kSysBoot);
  EXPECT_EQ(c.inheritable, 0u);
  EXPECT_EQ(c.ambient, 0u);
}

TEST(HelperThreadCredentials, ExtraCapsForTheThreadOnlyNeverAcrossAnExec) {
  constexpr uint64_t kNetAdmin = uint64_t{1} << 12, kNetRaw = uint64_t{1} << 13;
  ThreadCredentials c = HelperThreadCredentials({1000, 1000}, kSysBoot | kNetBind, kNetAdmin | kNetRaw);
  EXPECT_EQ(c.effective, kSysBoot | kNetBind | kNetAdmin | kNetRaw);
  EXPECT_EQ(c.permitted, c.effective);
  EXPECT_EQ(c.bounding, kSysBoot | kNetBind);  // an exec from this thread gains nothing more
  EXPECT_EQ(c.ambient, kSysBoot | kNetBind);  // what a re-exec from this thread would keep
  EXPECT_EQ(c.inheritable, kSysBoot | kNetBind);
}

TEST(HelperThreadCredentials, TheDhcpThreadKeepsUidZeroWithoutAmbient) {
  constexpr uint64_t kNetAdmin = uint64_t{1} << 12;
  ThreadCredentials c = HelperThreadCredentials({0, 0}, kSysBoot | kNetBind, kNetAdmin);
  EXPECT_EQ(c.uid, 0u);
  EXPECT_EQ(c.effective, kSysBoot | kNetBind | kNetAdmin);
  EXPECT_EQ(c.bounding, kSysBoot | kNetBind);
  EXPECT_EQ(c.ambient, 0u);
}

TEST(CapabilityMask, NamesToBits) {
  EXPECT_EQ(CapabilityMask({"cap_sys_boot", "cap_net_bind_service"}), kSysBoot | kNetBind);
  EXPECT_EQ(CapabilityMask({"cap_flying"}), 0u);
  EXPECT_EQ(CapabilityNames(kSysBoot | kNetBind), "cap_net_bind_service,cap_sys_boot");
  EXPECT_EQ(CapabilityNames(0), "none");
}

TEST(DescribeCredentials, SaysUidCapsAndAmbient) {
  EXPECT_EQ(DescribeCredentials(AppCredentials({1000, 1000}, kSysBoot)),
            "microbeam: the BEAM runs as uid 1000 gid 1000 with cap_sys_boot (bounding set the same; ambient too, "
            "for a restart by re-exec), no_new_privs; port programs with none");
}

TEST(Config, UserKeyAndDefault) {
  EXPECT_EQ(ParseConfig({}, {}).config.user, (AppUser{kDefaultAppUid, kDefaultAppGid}));
  EXPECT_EQ(ParseConfig({"microbeam.user=root"}, {}).config.user, (AppUser{0, 0}));
  ParsedConfig bad = ParseConfig({"microbeam.user=alice"}, {});
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0], "microbeam: microbeam.user=alice: not UID:GID (numbers) or root; using 1000:1000");
}

TEST(Config, CapsWithoutSysBootKeepItAndSaySo) {
  ParsedConfig p = ParseConfig({"microbeam.caps=net_bind_service"}, {});
  EXPECT_THAT(p.config.keep_caps, testing::ElementsAre("cap_net_bind_service", "cap_sys_boot"));
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0],
            "microbeam: microbeam.caps=net_bind_service: PID 1 needs cap_sys_boot to power off; using "
            "cap_net_bind_service,cap_sys_boot");
}

}  // namespace
}  // namespace microbeam
