#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "config/shown_value.h"

namespace microbeam {
namespace {

using ::testing::ElementsAre;

TEST(SplitKernelCmdline, SplitsOnBlanksAndGroupsDoubleQuotes) {
  EXPECT_THAT(SplitKernelCmdline("console=ttyS0  microbeam.erl_flags=\"+S 1 -demo x\" quiet\n"),
              ElementsAre("console=ttyS0", "microbeam.erl_flags=+S 1 -demo x", "quiet"));
  EXPECT_TRUE(SplitKernelCmdline("   \n").empty());
}

TEST(SplitFlags, SingleAndDoubleQuotes) {
  EXPECT_THAT(SplitFlags("-eval 'io:format(\"a b\")' +S 2"),
              ElementsAre("-eval", "io:format(\"a b\")", "+S", "2"));
}

TEST(ParseConfig, DefaultsWithoutOurKeys) {
  ParsedConfig p = ParseConfig({"console=ttyS0", "quiet", "ip=10.0.2.15::10.0.2.2"}, {});
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_EQ(p.config.exit_policy, ExitPolicy::kPoweroff);
  EXPECT_FALSE(p.config.emergency_shell);
  EXPECT_EQ(p.config.hostname, "microbeam");
  EXPECT_EQ(p.config.console, "/dev/console");
}

TEST(ParseConfig, ReadsEveryKey) {
  ParsedConfig p = ParseConfig(
      {"microbeam.exit=restart", "microbeam.shutdown_timeout=3", "microbeam.hostname=node-1",
       "microbeam.caps=sys_boot,CAP_NET_RAW", "microbeam.erl_flags=+S 1 -demo allow_halt true",
       "microbeam.console=ttyS1", "microbeam.debug_exit=1", "microbeam.restart_limit=2",
       "microbeam.restart_window=30", "microbeam.release=/srv/rel"},
      {"--emergency-shell"});
  EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
  const Config& c = p.config;
  EXPECT_TRUE(c.emergency_shell);
  EXPECT_EQ(c.exit_policy, ExitPolicy::kRestart);
  EXPECT_EQ(c.shutdown_timeout, absl::Seconds(3));
  EXPECT_EQ(c.hostname, "node-1");
  EXPECT_THAT(c.keep_caps, ElementsAre("cap_sys_boot", "cap_net_raw"));
  EXPECT_THAT(c.erl_flags, ElementsAre("+S", "1", "-demo", "allow_halt", "true"));
  EXPECT_EQ(c.console, "/dev/ttyS1");
  EXPECT_TRUE(c.debug_exit);
  EXPECT_EQ(c.restart_limit, 2);
  EXPECT_EQ(c.restart_window, absl::Seconds(30));
  EXPECT_EQ(c.release_root, "/srv/rel");
}

TEST(ParseConfig, PowerOffByReboot) {
  EXPECT_FALSE(ParseConfig({}, {}).config.poweroff_by_reboot);
  EXPECT_TRUE(ParseConfig({"microbeam.poweroff=reboot"}, {}).config.poweroff_by_reboot);
  EXPECT_FALSE(ParseConfig({"microbeam.poweroff=reboot", "microbeam.poweroff=acpi"}, {}).config.poweroff_by_reboot);
  ParsedConfig bad = ParseConfig({"microbeam.poweroff=halt"}, {});
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0], "microbeam: microbeam.poweroff=halt: not acpi|reboot; using acpi");
  EXPECT_FALSE(bad.config.poweroff_by_reboot);
}

TEST(ParseConfig, BadValuesWarnNamingKeyValueAndFallback) {
  ParsedConfig p = ParseConfig({"microbeam.exit=explode", "microbeam.restart_limit=ten",
                                "microbeam.caps=cap_sys_boot,cap_flying", "microbeam.hostname=-bad",
                                "microbeam.debug_exit=maybe", "microbeam.bogus=1", "microbeam.exit",
                                "microbeam.shutdown_timeout=ten"},
                               {});
  ASSERT_EQ(p.warnings.size(), 8u);
  EXPECT_EQ(p.warnings[0],
            "microbeam: microbeam.exit=explode: unknown policy (poweroff|reboot|restart|shell); using poweroff");
  EXPECT_EQ(p.warnings[1], "microbeam: microbeam.restart_limit=ten: not a count in 0..1000; using 5");
  EXPECT_NE(p.warnings[2].find("unknown capability cap_flying"), std::string::npos);
  EXPECT_NE(p.warnings[3].find("using microbeam"), std::string::npos);
  EXPECT_NE(p.warnings[4].find("microbeam.debug_exit=maybe"), std::string::npos);
  EXPECT_NE(p.warnings[5].find("unknown key microbeam.bogus"), std::string::npos);
  EXPECT_NE(p.warnings[6].find("microbeam.exit has no value"), std::string::npos);
  EXPECT_EQ(p.warnings[7],
            "microbeam: microbeam.shutdown_timeout=ten: not a number of seconds in 0..3600; using 10");
  // Nothing bad was applied.
  EXPECT_EQ(p.config.exit_policy, ExitPolicy::kPoweroff);
  EXPECT_EQ(p.config.restart_limit, 5);
  EXPECT_THAT(p.config.keep_caps, ElementsAre("cap_sys_boot", "cap_net_bind_service"));
}

TEST(ParseConfig, TmpSizeIsBytesWithASuffixOrAPercentage) {
  EXPECT_EQ(ParseConfig({}, {}).config.tmp_size, "25%");
  for (const char* ok : {"16m", "100%", "1%", "4096", "2G"}) {
    ParsedConfig p = ParseConfig({absl::StrCat("microbeam.tmp_size=", ok)}, {});
    EXPECT_TRUE(p.warnings.empty()) << ok;
    EXPECT_EQ(p.config.tmp_size, ok);
  }
  for (const char* bad : {"0", "0%", "101%", "%", "m", "16mb", "-1m", "1,mode=777"}) {
    ParsedConfig p = ParseConfig({absl::StrCat("microbeam.tmp_size=", bad)}, {});
    ASSERT_EQ(p.warnings.size(), 1u) << bad;
    EXPECT_EQ(p.warnings[0], absl::StrCat("microbeam: microbeam.tmp_size=", bad,
                                          ": not a size (bytes with k/m/g, or 1-100%); using 25%"));
    EXPECT_EQ(p.config.tmp_size, "25%");
  }
}

TEST(ParseConfig, EvalIsBase64SoQuotesSurviveTheCommandLine) {
  ParsedConfig p = ParseConfig({"microbeam.eval=aW86Zm9ybWF0KCJhLCBifm4iKSwgaGFsdCgwKQ=="}, {});
  EXPECT_TRUE(p.warnings.empty());
  EXPECT_EQ(p.config.eval_expr, "io:format(\"a, b~n\"), halt(0)");
  ParsedConfig bad = ParseConfig({"microbeam.eval=not base64!"}, {});
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0],
            "microbeam: microbeam.eval=not base64!: not a base64-encoded Erlang expression; using none");
  EXPECT_TRUE(bad.config.eval_expr.empty());
}

TEST(ParseConfig, DhcpUnlessIpOnTheCommandLineOrTurnedOff) {
  Config plain = ParseConfig({"console=ttyS0"}, {}).config;
  EXPECT_TRUE(plain.dhcp);
  EXPECT_FALSE(plain.kernel_ip);
  for (const char* ip : {"ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off", "ip=dhcp", "ip=off", "nfsaddrs=on"}) {
    EXPECT_TRUE(ParseConfig({"console=ttyS0", ip}, {}).config.kernel_ip) << ip;
  }
  // Not the kernel's: a key that merely contains it, or a word after "--" (init's argv).
  EXPECT_FALSE(ParseConfig({"vip=1", "microbeam.hostname=ip"}, {}).config.kernel_ip);
  EXPECT_FALSE(ParseConfig({"--", "ip=dhcp"}, {"ip=dhcp"}).config.kernel_ip);
  ParsedConfig off = ParseConfig({"microbeam.dhcp=0"}, {});
  EXPECT_TRUE(off.warnings.empty());
  EXPECT_FALSE(off.config.dhcp);
  ParsedConfig bad = ParseConfig({"microbeam.dhcp=sometimes"}, {});
  ASSERT_EQ(bad.warnings.size(), 1u);
  EXPECT_EQ(bad.warnings[0], "microbeam: microbeam.dhcp=sometimes: not a boolean (0|1); using 1");
  EXPECT_TRUE(bad.config.dhcp);
}

TEST(ParseConfig, KernelParamsAfterDoubleDashAreReadFromArgvOnly) {
  // The kernel hands what follows "--" to init's argv; /proc/cmdline shows it too.
  ParsedConfig p = ParseConfig({"console=ttyS0", "--", "microbeam.erl_flags=-x"},
                               {"microbeam.erl_flags=-x"});
  EXPECT_THAT(p.config.erl_flags, ElementsAre("-x"));
}

TEST(ParseConfig, EnvEntriesInOrderWithBlanksQuotedAndBase64) {
  // The kernel's own quoting: both spellings group "hello world" into one parameter.
  std::vector<std::string> params = SplitKernelCmdline(
      "quiet \"microbeam.env=MSG=hello world\" microbeam.env=\"GREETING=hi there\" "
      "microbeam.env=URL=ecto://u:p@db/app?a=b microbeam.env=EMPTY= "
      "microbeam.env_b64=QUOTE=c2F5ICJoaSIgJ2EnIGI9Yw== microbeam.env=MSG=again");
  ParsedConfig p = ParseConfig(params, {});
  EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
  EXPECT_THAT(p.config.env, ElementsAre(std::pair<std::string, std::string>("MSG", "hello world"),
                                        std::pair<std::string, std::string>("GREETING", "hi there"),
                                        std::pair<std::string, std::string>("URL", "ecto://u:p@db/app?a=b"),
                                        std::pair<std::string, std::string>("EMPTY", ""),
                                        std::pair<std::string, std::string>("QUOTE", "say \"hi\" 'a' b=c"),
                                        std::pair<std::string, std::string>("MSG", "again")));
}

TEST(ParseConfig, BadEnvEntryIsOneLineWithoutTheValueAndBootGoesOn) {
  ParsedConfig p = ParseConfig({"microbeam.env=1X=secret1", "microbeam.env=NOEQUALS",
                                "microbeam.env=A-B=secret2", "microbeam.env_b64=K=!!secret3",
                                "microbeam.env_b64=Z=AA==", "microbeam.env=OK=1", "microbeam.exit=reboot"},
                               {});
  ASSERT_EQ(p.warnings.size(), 5u);
  for (const std::string& w : p.warnings) {
    EXPECT_EQ(w.find('\n'), std::string::npos);
    EXPECT_EQ(w.find("secret"), std::string::npos) << w;
    EXPECT_NE(w.find("entry ignored"), std::string::npos) << w;
  }
  EXPECT_NE(p.warnings[0].find("\"1X\" is not a variable name"), std::string::npos);
  EXPECT_NE(p.warnings[1].find("microbeam.env=NOEQUALS: not NAME=VALUE"), std::string::npos);
  EXPECT_NE(p.warnings[3].find("the value of K is not base64"), std::string::npos);
  EXPECT_NE(p.warnings[4].find("NUL"), std::string::npos);
  EXPECT_THAT(p.config.env, ElementsAre(std::pair<std::string, std::string>("OK", "1")));
  EXPECT_EQ(p.config.exit_policy, ExitPolicy::kReboot);
}

TEST(ValidEnvName, PosixShellNames) {
  for (const char* ok : {"A", "_", "DATABASE_URL", "a1_b"}) EXPECT_TRUE(ValidEnvName(ok)) << ok;
  for (const char* bad : {"", "1A", "A-B", "A.B", "A B", "Ä"}) EXPECT_FALSE(ValidEnvName(bad)) << bad;
}

TEST(ParseConfig, DataVolumeAndMounts) {
  ParsedConfig p = ParseConfig({"microbeam.data=/dev/vda", "microbeam.data_required=1",
                                "microbeam.mount=tmpfs:/scratch:tmpfs:size=1m,noexec",
                                "microbeam.mount=/dev/vdb:/srv:ext4"},
                               {});
  EXPECT_TRUE(p.warnings.empty()) << p.warnings.front();
  EXPECT_EQ(p.config.data_device, "/dev/vda");
  EXPECT_TRUE(p.config.data_required);
  ASSERT_EQ(p.config.mounts.size(), 2u);
  EXPECT_EQ(p.config.mounts[0].target, "/scratch");
  EXPECT_EQ(p.config.mounts[0].data, "size=1m");
  EXPECT_EQ(p.config.mounts[1].source, "/dev/vdb");
  EXPECT_FALSE(ParseConfig({}, {}).config.data_required);
  EXPECT_EQ(ParseConfig({}, {}).config.data_device, "");
}

TEST(ParseConfig, BadDataAndMountValuesAreOneLineEach) {
  ParsedConfig p = ParseConfig({"microbeam.data=vda", "microbeam.data_required=sure",
                                "microbeam.mount=/dev/vdb:/proc/x:ext4", "microbeam.mount=/dev/vdb"},
                               {});
  ASSERT_EQ(p.warnings.size(), 4u);
  EXPECT_EQ(p.warnings[0], "microbeam: microbeam.data=vda: not a device path under /dev; using no data volume");
  EXPECT_EQ(p.warnings[1], "microbeam: microbeam.data_required=sure: not a boolean (0|1); using 0");
  EXPECT_EQ(p.warnings[2],
            "microbeam: microbeam.mount=/dev/vdb:/proc/x:ext4: DIR \"/proc/x\" is under /proc, which PID 1 keeps; "
            "using no such mount");
  EXPECT_EQ(p.warnings[3], "microbeam: microbeam.mount=/dev/vdb: not DEV:DIR:TYPE:OPTIONS; using no such mount");
  EXPECT_EQ(p.config.data_device, "");
  EXPECT_TRUE(p.config.mounts.empty());
}

// Every warning that shows a value shows it printable and bounded (config/shown_value.h):
// a newline or escape in a value never splits or garbles the console line.
TEST(ParseConfig, WarningsShowValuesOnOneBoundedLine) {
  const std::string evil = "x\ny\x1b[2J";
  std::vector<std::string> params;
  for (const char* key : {"microbeam.exit", "microbeam.hostname", "microbeam.shutdown_timeout", "microbeam.user",
                          "microbeam.release", "microbeam.eval", "microbeam.tmp_size",
                          "microbeam.data", "microbeam.mount", "microbeam.core_pattern", "microbeam.cwd",
                          "microbeam.limits", "microbeam.bogus"}) {
    params.push_back(absl::StrCat(key, "=", evil));
  }
  params.push_back(absl::StrCat("microbeam.caps=cap_sys_boot,", evil));
  params.push_back(absl::StrCat("microbeam.env=", evil, "=secret"));
  ParsedConfig p = ParseConfig(params, {});
  ASSERT_EQ(p.warnings.size(), params.size());
  for (const std::string& w : p.warnings) {
    for (char c : w) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << w;
    EXPECT_NE(w.find("x?y?[2J"), std::string::npos) << w;
  }
  EXPECT_EQ(p.warnings[0],
            "microbeam: microbeam.exit=x?y?[2J: unknown policy (poweroff|reboot|restart|shell); using poweroff");
  EXPECT_EQ(p.warnings[12], "microbeam: unknown key microbeam.bogus (value \"x?y?[2J\") ignored; see the README for the keys");
  EXPECT_NE(p.warnings[13].find("unknown capability x?y?[2J"), std::string::npos);
  EXPECT_NE(p.warnings[14].find("\"x?y?[2J\" is not a variable name"), std::string::npos);

  // The fallback may be an earlier value of the same key: shown the same way.
  ParsedConfig again = ParseConfig({"microbeam.console=tty\x1b[2J", "microbeam.console=../x"}, {});
  ASSERT_EQ(again.warnings.size(), 1u);
  EXPECT_EQ(again.warnings[0], "microbeam: microbeam.console=../x: not a device name; using /dev/tty?[2J");

  // A long value: its first kShownValueMax bytes, then "...".
  const std::string big(3000, 'v');
  for (const char* key : {"microbeam.exit", "microbeam.cwd", "microbeam.bogus", "microbeam.limits"}) {
    ParsedConfig q = ParseConfig({absl::StrCat(key, "=", big)}, {});
    ASSERT_EQ(q.warnings.size(), 1u) << key;
    EXPECT_NE(q.warnings[0].find(std::string(kShownValueMax, 'v') + "..."), std::string::npos) << key;
    EXPECT_EQ(q.warnings[0].find(std::string(kShownValueMax + 1, 'v')), std::string::npos) << key;
    EXPECT_LT(q.warnings[0].size(), 300u) << key;
  }
}

}  // namespace
}  // namespace microbeam
