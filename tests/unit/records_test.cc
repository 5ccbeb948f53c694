// The records PID 1 keeps on /data: SHA-256, the random seed's file and credit rule,
// the crash dump copies' plan, the shutdown report and the line the next boot prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "records/dump_copies.h"
#include "records/exit_record.h"
#include "records/last_exit.h"
#include "records/random_seed.h"
#include "records/sha256.h"

namespace microbeam {
namespace {

using ::testing::HasSubstr;

std::string Hex(const uint8_t* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) out += {kHex[p[i] >> 4], kHex[p[i] & 15]};
  return out;
}

std::string Sha(std::string_view s, size_t chunk = 0) {
  Sha256 h;
  if (chunk == 0) {
    h.Update(s);
  } else {
    for (size_t i = 0; i < s.size(); i += chunk) h.Update(s.substr(i, chunk));
  }
  uint8_t d[Sha256::kDigestBytes];
  h.Final(d);
  return Hex(d, sizeof d);
}

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(Sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(Sha(two_blocks), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha(two_blocks, 1), Sha(two_blocks));  // byte by byte: the same
  EXPECT_EQ(Sha(std::string(1'000'000, 'a'), 4096),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(SeedLength, APoolsWorthWithinBounds) {
  EXPECT_EQ(SeedLength("256\n"), 32u);
  EXPECT_EQ(SeedLength("4096\n"), 512u);
  EXPECT_EQ(SeedLength("65536"), 512u);
  EXPECT_EQ(SeedLength("8"), 32u);
  EXPECT_EQ(SeedLength(""), 32u);
  EXPECT_EQ(SeedLength("lots"), 32u);
}

std::string SeedText(bool creditable, size_t n, char fill = 'x') {
  std::string seed(n, fill);
  std::string out(kSeedHeaderBytes + n, '\0');
  size_t size = FormatSeedFile(creditable, reinterpret_cast<const uint8_t*>(seed.data()), n, out.data());
  out.resize(size);
  return out;
}

TEST(SeedFile, FormatAndParse) {
  EXPECT_EQ(SeedText(true, 32).substr(0, kSeedHeaderBytes), "microbeam-seed-v1 C\n");
  EXPECT_EQ(SeedText(false, 32).substr(0, kSeedHeaderBytes), "microbeam-seed-v1 N\n");
  const std::string text = SeedText(true, 32);  // ParseSeedFile's views point into it
  SeedFile c = ParseSeedFile(text);
  EXPECT_EQ(c.kind, SeedKind::kCreditable);
  EXPECT_EQ(c.seed, std::string(32, 'x'));
  EXPECT_EQ(ParseSeedFile(SeedText(false, 64)).kind, SeedKind::kNotCreditable);
  EXPECT_EQ(ParseSeedFile("").kind, SeedKind::kNone);
  // Anything else is mixed in, never credited: another tool's seed, a cut header.
  SeedFile foreign = ParseSeedFile("0123456789abcdef0123456789abcdef");
  EXPECT_EQ(foreign.kind, SeedKind::kForeign);
  EXPECT_EQ(foreign.seed.size(), 32u);
  EXPECT_EQ(ParseSeedFile("microbeam-seed-v1 C\n").kind, SeedKind::kForeign);  // no seed after it
  EXPECT_EQ(ParseSeedFile("microbeam-seed-v1 X\nabc").kind, SeedKind::kForeign);
  EXPECT_EQ(ParseSeedFile(std::string(2000, 'z')).seed.size(), kMaxSeedBytes);
  EXPECT_EQ(ParseSeedFile(SeedText(true, 600)).kind, SeedKind::kForeign);  // longer than ours
}

TEST(CreditSeed, OnlyOursCreditableAndRootsAlone) {
  const std::string text = SeedText(true, 32), not_creditable = SeedText(false, 32), foreign(64, 'q'),
                    too_short = SeedText(true, 16);
  SeedFile c = ParseSeedFile(text);
  SeedFileStat roots{true, 0, 0600, 1};
  EXPECT_TRUE(CreditSeed(c, roots, true));
  EXPECT_FALSE(CreditSeed(c, roots, false));  // microbeam.seed_credit=0
  EXPECT_FALSE(CreditSeed(ParseSeedFile(not_creditable), roots, true));
  EXPECT_FALSE(CreditSeed(ParseSeedFile(foreign), roots, true));
  EXPECT_FALSE(CreditSeed(ParseSeedFile(too_short), roots, true));  // too short
  EXPECT_FALSE(CreditSeed(c, {true, 1000, 0600, 1}, true));  // the app's user wrote it
  EXPECT_FALSE(CreditSeed(c, {true, 0, 0644, 1}, true));     // others could read it
  EXPECT_FALSE(CreditSeed(c, {true, 0, 0600, 2}, true));     // a second name for it
  EXPECT_FALSE(CreditSeed(c, {false, 0, 0600, 1}, true));    // not a regular file
}

TEST(MixSeed, ReplacesTheTailWithAHashOfOldAndNew) {
  std::vector<uint8_t> a(64, 7), b(64, 7);
  const uint8_t old1[] = {1, 2, 3}, old2[] = {1, 2, 4};
  MixSeed(a.data(), a.size(), old1, sizeof old1, 10, 20);
  MixSeed(b.data(), b.size(), old2, sizeof old2, 10, 20);
  EXPECT_EQ(std::vector<uint8_t>(a.begin(), a.begin() + 32), std::vector<uint8_t>(32, 7));  // head kept
  EXPECT_NE(std::vector<uint8_t>(a.begin() + 32, a.end()), std::vector<uint8_t>(32, 7));
  EXPECT_NE(a, b);  // the old seed counts
  std::vector<uint8_t> c(64, 7), d(64, 7);
  MixSeed(c.data(), c.size(), old1, sizeof old1, 10, 20);
  MixSeed(d.data(), d.size(), old1, sizeof old1, 11, 20);
  EXPECT_EQ(a, c);  // deterministic
  EXPECT_NE(c, d);  // so do the clocks
  std::vector<uint8_t> e(32, 7);
  MixSeed(e.data(), e.size(), nullptr, 0, 0, 0);
  EXPECT_NE(e, std::vector<uint8_t>(32, 7));  // 32 bytes: all of it
}

TEST(DumpCopies, Names) {
  char name[32];
  EXPECT_EQ(std::string(name, DumpName(1, name)), "erl_crash.000001.dump");
  EXPECT_EQ(std::string(name, DumpName(1234567, name)), "erl_crash.1234567.dump");
  EXPECT_EQ(DumpSequence("erl_crash.000042.dump"), 42u);
  EXPECT_EQ(DumpSequence("erl_crash.1234567.dump"), 1234567u);
  EXPECT_EQ(DumpSequence("erl_crash.42.dump"), std::nullopt);
  EXPECT_EQ(DumpSequence("erl_crash.00004x.dump"), std::nullopt);
  EXPECT_EQ(DumpSequence(".erl_crash.new"), std::nullopt);
  EXPECT_EQ(DumpSequence("erl_crash.dump"), std::nullopt);
}

TEST(DumpCopies, KeepsTheNewestFewWithinTheTotal) {
  DumpLimits limits{3, 100};
  EXPECT_EQ(PlanDumpCopy(nullptr, 0, 40, limits).seq, 1u);
  EXPECT_EQ(PlanDumpCopy(nullptr, 0, 40, limits).copy_bytes, 40u);
  DumpEntry two[] = {{4, 10}, {5, 10}};
  DumpPlan p = PlanDumpCopy(two, 2, 40, limits);
  EXPECT_EQ(p.delete_oldest, 0u);
  EXPECT_EQ(p.seq, 6u);
  DumpEntry three[] = {{4, 10}, {5, 10}, {6, 10}};
  EXPECT_EQ(PlanDumpCopy(three, 3, 40, limits).delete_oldest, 1u);  // by count
  DumpEntry big[] = {{1, 50}, {2, 40}};
  EXPECT_EQ(PlanDumpCopy(big, 2, 40, limits).delete_oldest, 1u);  // by size: 50 + 40 + 40 > 100, the 50 goes
  EXPECT_EQ(PlanDumpCopy(big, 2, 70, limits).delete_oldest, 2u);
  DumpPlan huge = PlanDumpCopy(big, 2, 500, limits);
  EXPECT_EQ(huge.copy_bytes, 100u);  // its head only
  EXPECT_EQ(huge.delete_oldest, 2u);
  EXPECT_EQ(PlanDumpCopy(big, 2, 10, DumpLimits{0, 100}).copy_bytes, 0u);
}

TEST(DumpCopies, SortsBySequence) {
  DumpEntry e[] = {{9, 1}, {2, 2}, {5, 3}, {1, 4}};
  SortDumps(e, 4);
  EXPECT_EQ(e[0].seq, 1u);
  EXPECT_EQ(e[1].seq, 2u);
  EXPECT_EQ(e[2].seq, 5u);
  EXPECT_EQ(e[3].seq, 9u);
}

TEST(LastExit, SignalAndSlogan) {
  EXPECT_EQ(ExitSignal("got fatal signal SIGSEGV in PID 1", 139), "SIGSEGV");
  EXPECT_EQ(ExitSignal("aborted", 134), "SIGABRT");
  EXPECT_EQ(ExitSignal("halted", 3), "");
  EXPECT_EQ(SloganOf("=erl_crash_dump:0.5\nTue Nov 24\nSlogan: boom: \"x\"\r\nSystem version: 25\n"),
            "boom: \"x\"");
  EXPECT_EQ(SloganOf("Slogan: first\n"), "first");
  EXPECT_EQ(SloganOf("Slogan: cut sh"), "cut sh");
  EXPECT_EQ(SloganOf("=erl_crash_dump:0.5\nno slogan\n"), "");
}

TEST(LastExit, Utc) {
  char buf[24];
  EXPECT_EQ(std::string(buf, FormatUtc(0, buf)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(std::string(buf, FormatUtc(951782400, buf)), "2000-02-29T00:00:00Z");
  EXPECT_EQ(std::string(buf, FormatUtc(1764374101, buf)), "2025-11-28T23:55:01Z");
  EXPECT_EQ(std::string(buf, FormatUtc(4102444799, buf)), "2099-12-31T23:59:59Z");
  EXPECT_EQ(std::string(buf, FormatUtc(-1, buf)), "1969-12-31T23:59:59Z");
}

ExitRecord Sample() {
  ExitRecord r;
  r.how = "halted";
  r.status = 3;
  r.stop_request = "power button";
  r.crash_slogan = "boom \"quoted\" \x01 caf\xc3\xa9 bad\xff";
  r.crash_dump = "/data/microbeam/crash/erl_crash.000002.dump";
  r.crash_dump_bytes = 12345;
  r.crash_dump_copied = 12345;
  r.policy = "poweroff";
  r.time_unix = 1764374101;
  r.uptime_ms = 42123;
  r.boot_id = "0f6c1b9e-5d1a-4b0c-9a57-2d7f3f0e8c11";
  return r;
}

TEST(LastExit, RecordRoundTrips) {
  char buf[4096];
  size_t n = FormatExitRecord(Sample(), buf, sizeof buf);
  ASSERT_GT(n, 0u);
  std::string_view json(buf, n);
  EXPECT_TRUE(json.ends_with("}\n"));
  auto rec = ParseFlatJsonObject(json);
  ASSERT_TRUE(rec.has_value()) << json;
  EXPECT_EQ((*rec)["how"].text, "halted");
  EXPECT_EQ((*rec)["status"].text, "3");
  EXPECT_FALSE((*rec)["status"].is_string);
  EXPECT_EQ((*rec)["signal"].text, "null");
  EXPECT_EQ((*rec)["stop_request"].text, "power button");
  EXPECT_EQ((*rec)["crash_slogan"].text, "boom \"quoted\" \x01 caf\xc3\xa9 bad\xef\xbf\xbd");  // U+FFFD
  EXPECT_EQ((*rec)["policy"].text, "poweroff");
  EXPECT_EQ((*rec)["time"].text, "2025-11-28T23:55:01Z");
  EXPECT_EQ((*rec)["uptime_ms"].text, "42123");
  EXPECT_EQ((*rec)["boot_id"].text, "0f6c1b9e-5d1a-4b0c-9a57-2d7f3f0e8c11");
  EXPECT_EQ(FormatExitRecord(Sample(), buf, 100), 0u);  // does not fit: nothing
}

TEST(LastExit, EmptyFieldsAreNull) {
  ExitRecord r;
  r.how = "got fatal signal SIGSEGV in PID 1";
  r.status = 139;
  r.policy = "restart";
  char buf[4096];
  auto rec = ParseFlatJsonObject(std::string_view(buf, FormatExitRecord(r, buf, sizeof buf)));
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ((*rec)["signal"].text, "SIGSEGV");
  EXPECT_EQ((*rec)["stop_request"].text, "null");
  EXPECT_EQ((*rec)["crash_dump"].text, "null");
}

TEST(LastExit, TheNextBootsLine) {
  char buf[4096];
  std::string line = LastExitLine(std::string_view(buf, FormatExitRecord(Sample(), buf, sizeof buf)));
  EXPECT_THAT(line, HasSubstr("microbeam: last exit: the BEAM halted (status 3) at 2025-11-28T23:55:01Z "
                              "after 42.1 s up; policy poweroff; stop request: power button; slogan: boom"));
  EXPECT_THAT(line, HasSubstr("; crash dump: /data/microbeam/crash/erl_crash.000002.dump"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\x01'), std::string::npos);  // control characters shown as '?'
  EXPECT_EQ(LastExitLine("garbage"), "microbeam: last exit: the record is not a JSON object of ours; ignored");
  EXPECT_EQ(LastExitLine("{\"how\":\"x\"}"), "microbeam: last exit: the record has no \"how\" or \"status\"; ignored");
  EXPECT_EQ(LastExitLine("{\"how\":\"halted\",\"status\":0}"), "microbeam: last exit: the BEAM halted (status 0)");
}

TEST(FlatJson, AcceptsWhatJsonAllowsOfScalars) {
  auto rec = ParseFlatJsonObject(" { \"a\" : -1.5e3 , \"b\":true,\"c\":null,\"d\":\"\\u00e9\\ud83d\\ude00\\n\"} \n");
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ((*rec)["a"].text, "-1.5e3");
  EXPECT_EQ((*rec)["b"].text, "true");
  EXPECT_EQ((*rec)["d"].text, "\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_TRUE(ParseFlatJsonObject("{}").has_value());
  for (const char* bad : {"", "{", "{\"a\":1,}", "{\"a\":[1]}", "{\"a\":{}}", "{\"a\":01}", "{\"a\":1} x",
                          "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{a:1}", "{\"a\":\"tab\there\"}", "[1]"}) {
    EXPECT_FALSE(ParseFlatJsonObject(bad).has_value()) << bad;
  }
}

TEST(MountAt, FindsTheMountPointAndReadOnly) {
  const std::string info =
      "22 1 0:21 / / rw,relatime - rootfs rootfs rw\n"
      "30 22 254:0 / /data rw,noatime shared:1 - ext4 /dev/vda rw\n"
      "31 22 0:5 / /database rw - tmpfs tmpfs rw\n";
  EXPECT_TRUE(MountAt(info, "/data").mounted);
  EXPECT_FALSE(MountAt(info, "/data").read_only);
  EXPECT_FALSE(MountAt(info, "/dat").mounted);
  EXPECT_TRUE(MountAt(info + "40 30 254:0 / /data ro,noatime - ext4 /dev/vda ro\n", "/data").read_only);
  EXPECT_FALSE(MountAt("", "/data").mounted);
  EXPECT_FALSE(MountAt("1 2 3 4 /data\n", "/data").mounted);  // cut short
}

}  // namespace
}  // namespace microbeam
