#include "network/dhcp_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dhcp_test_util.h"

namespace microbeam::dhcp {
namespace {

using testing::Addr;
using testing::Be32;
using testing::OptionList;
using testing::ReplyBytes;
using testing::RequestOptions;
using testing::SlirpOptions;
using testing::SlirpReply;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr Mac kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint32_t kXid = 0x1234abcd;

std::string ParseError(const std::vector<uint8_t>& p) {
  absl::StatusOr<Reply> r = ParseReply(p, kXid, kMac);
  return r.ok() ? "ok" : std::string(r.status().message());
}

OptionList Without(OptionList o, uint8_t code) {
  std::erase_if(o, [code](const auto& kv) { return kv.first == code; });
  return o;
}

OptionList With(OptionList o, uint8_t code, std::vector<uint8_t> value) {
  o = Without(std::move(o), code);
  o.emplace_back(code, std::move(value));
  return o;
}

TEST(BuildRequest, DiscoverIsABroadcastBootRequestWithOurAddressAndWishes) {
  std::vector<uint8_t> m = BuildRequest({.type = MessageType::kDiscover, .xid = kXid, .mac = kMac, .secs = 3,
                                         .hostname = "microbeam"});
  ASSERT_EQ(m.size(), 300u);  // padded for old relays
  EXPECT_EQ(m[0], 1);         // BOOTREQUEST
  EXPECT_EQ(m[1], 1);         // Ethernet
  EXPECT_EQ(m[2], 6);
  EXPECT_EQ(testing::XidOf(m), kXid);
  EXPECT_EQ(m[8], 0);
  EXPECT_EQ(m[9], 3);                        // secs
  EXPECT_EQ(m[10], 0x80);                    // BROADCAST: no address yet
  EXPECT_EQ(testing::CiaddrOf(m), 0u);
  EXPECT_TRUE(std::equal(kMac.begin(), kMac.end(), m.begin() + 28));
  EXPECT_THAT(std::vector<uint8_t>(m.begin() + 236, m.begin() + 240), ElementsAre(99, 130, 83, 99));
  auto o = RequestOptions(m);
  EXPECT_THAT(o[53], ElementsAre(1));
  EXPECT_EQ(std::string(o[12].begin(), o[12].end()), "microbeam");
  EXPECT_THAT(o[55], ElementsAre(1, 3, 6, 15, 51, 54, 58, 59));
  EXPECT_THAT(o[57], ElementsAre(1500 >> 8, 1500 & 0xff));
  EXPECT_FALSE(o.contains(50));
  EXPECT_FALSE(o.contains(54));
}

TEST(BuildRequest, SelectingNamesTheOfferRenewingCarriesCiaddr) {
  auto selecting = BuildRequest({.type = MessageType::kRequest, .xid = kXid, .mac = kMac,
                                 .requested = Addr(10, 0, 2, 15), .server_id = Addr(10, 0, 2, 2)});
  auto o = RequestOptions(selecting);
  EXPECT_THAT(o[53], ElementsAre(3));
  EXPECT_EQ(o[50], Be32(Addr(10, 0, 2, 15)));
  EXPECT_EQ(o[54], Be32(Addr(10, 0, 2, 2)));
  EXPECT_FALSE(o.contains(12));  // no host name given
  EXPECT_EQ(selecting[10], 0x80);

  auto renewing = BuildRequest({.type = MessageType::kRequest, .xid = kXid, .mac = kMac, .ciaddr = Addr(10, 0, 2, 15)});
  EXPECT_EQ(testing::CiaddrOf(renewing), Addr(10, 0, 2, 15));
  EXPECT_EQ(renewing[10], 0);  // it can take a unicast now
  EXPECT_FALSE(RequestOptions(renewing).contains(50));
  EXPECT_FALSE(RequestOptions(renewing).contains(54));
}

TEST(BuildRequest, LongHostNameIsCutTo63Bytes) {
  auto o = RequestOptions(BuildRequest({.mac = kMac, .hostname = std::string(64, 'a')}));
  EXPECT_EQ(o[12].size(), 63u);
}

TEST(ParseReply, SlirpOfferAndAck) {
  for (uint8_t type : {2, 5}) {
    absl::StatusOr<Reply> r = ParseReply(SlirpReply(type, kXid, kMac), kXid, kMac);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(static_cast<int>(r->type), type);
    EXPECT_EQ(r->yiaddr, Addr(10, 0, 2, 15));
    EXPECT_EQ(r->server_id, Addr(10, 0, 2, 2));
    EXPECT_EQ(r->netmask, Addr(255, 255, 255, 0));
    EXPECT_EQ(r->router, Addr(10, 0, 2, 2));
    EXPECT_THAT(r->dns, ElementsAre(Addr(10, 0, 2, 3)));
    EXPECT_EQ(r->lease, absl::Seconds(86400));
    EXPECT_EQ(r->t1, absl::Seconds(43200));  // 1/2 and 7/8 of the lease (RFC 2131 4.4.5)
    EXPECT_EQ(r->t2, absl::Seconds(75600));
    EXPECT_TRUE(r->domain.empty());
  }
}

TEST(ParseReply, NotForUs) {
  EXPECT_THAT(ParseError(SlirpReply(2, kXid + 1, kMac)), HasSubstr("another transaction"));
  Mac other = kMac;
  other[5] ^= 1;
  EXPECT_THAT(ParseError(SlirpReply(2, kXid, other)), HasSubstr("another hardware address"));
  auto request = SlirpReply(2, kXid, kMac);
  request[0] = 1;
  EXPECT_EQ(ParseError(request), "not a BOOTREPLY");
  auto no_cookie = SlirpReply(2, kXid, kMac);
  no_cookie[236] = 0;
  EXPECT_EQ(ParseError(no_cookie), "no DHCP magic cookie");
  EXPECT_EQ(ParseError(std::vector<uint8_t>(239, 0)), "too short for DHCP (239 bytes)");
  EXPECT_EQ(ParseError({}), "too short for DHCP (0 bytes)");
}

TEST(ParseReply, BoundsOfEveryOption) {
  auto p = SlirpReply(2, kXid, kMac);
  p.pop_back();           // the end option
  p.push_back(6);         // DNS, length 8, but only 4 bytes follow
  p.push_back(8);
  for (uint8_t b : Be32(Addr(1, 1, 1, 1))) p.push_back(b);
  EXPECT_EQ(ParseError(p), "option 6 runs past the end of the options");
  p.resize(p.size() - 5);  // the code and no length
  EXPECT_EQ(ParseError(p), "option 6 runs past the end of the options");
  // Without an end option the options end with the packet.
  auto no_end = SlirpReply(2, kXid, kMac);
  no_end.pop_back();
  EXPECT_EQ(ParseError(no_end), "ok");
}

TEST(ParseReply, WhatAnOfferMustHave) {
  const Ipv4 ip = Addr(10, 0, 2, 15);
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, Without(SlirpOptions(2), 53))), "no DHCP message type");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(2), 53, {3}))),
            "message type 3 is not OFFER, ACK or NAK");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, Without(SlirpOptions(2), 54))), "no server identifier (option 54)");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(2), 54, {10, 0, 2}))),
            "server identifier (option 54) has 3 bytes, not 4");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, Without(SlirpOptions(5), 51))), "no lease time (option 51)");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(5), 51, Be32(0)))), "lease time 0");
  for (Ipv4 bad : {Addr(0, 0, 0, 0), Addr(127, 0, 0, 1), Addr(224, 0, 0, 1), Addr(255, 255, 255, 255)}) {
    EXPECT_THAT(ParseError(ReplyBytes(kXid, kMac, bad, SlirpOptions(2))), HasSubstr("is not a host address"));
  }
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, Addr(10, 0, 2, 255), SlirpOptions(2))),
            "offered address 10.0.2.255 is its subnet's broadcast");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(2), 1, Be32(Addr(255, 0, 255, 0))))),
            "subnet mask 255.0.255.0 is not contiguous");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(2), 1, Be32(0)))),
            "subnet mask 0.0.0.0 is not contiguous");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(2), 3, {10, 0, 2, 2, 9}))),
            "router (option 3) has 5 bytes, not a multiple of 4");
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(2), 6, {}))),
            "domain name server (option 6) has 0 bytes, not a multiple of 4");
}

TEST(ParseReply, DefaultsForWhatAServerMayLeaveOut) {
  OptionList bare = {{53, {5}}, {54, Be32(Addr(192, 168, 1, 1))}, {51, Be32(0xffffffff)}};
  absl::StatusOr<Reply> r = ParseReply(ReplyBytes(kXid, kMac, Addr(192, 168, 1, 20), bare), kXid, kMac);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->netmask, Addr(255, 255, 255, 0));  // the class C mask
  EXPECT_EQ(r->router, 0u);
  EXPECT_TRUE(r->dns.empty());
  EXPECT_EQ(r->lease, absl::InfiniteDuration());
  EXPECT_EQ(r->t1, absl::InfiniteDuration());
  r = ParseReply(ReplyBytes(kXid, kMac, Addr(10, 1, 2, 3), bare), kXid, kMac);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->netmask, Addr(255, 0, 0, 0));
}

TEST(ParseReply, RenewalTimesUsedOnlyWhenConsistent) {
  const Ipv4 ip = Addr(10, 0, 2, 15);
  using Times = std::pair<int64_t, int64_t>;
  auto times = [&](std::vector<uint8_t> t1, std::vector<uint8_t> t2) {
    OptionList o = SlirpOptions(5);
    if (!t1.empty()) o.emplace_back(58, t1);
    if (!t2.empty()) o.emplace_back(59, t2);
    absl::StatusOr<Reply> r = ParseReply(ReplyBytes(kXid, kMac, ip, o), kXid, kMac);
    EXPECT_TRUE(r.ok()) << r.status();
    return std::pair(absl::ToInt64Seconds(r->t1), absl::ToInt64Seconds(r->t2));
  };
  EXPECT_EQ(times(Be32(600), Be32(1200)), Times(600, 1200));
  EXPECT_EQ(times(Be32(600), {}), Times(600, 75600));
  EXPECT_EQ(times(Be32(2000), Be32(1000)), Times(43200, 75600));  // T1 > T2
  EXPECT_EQ(times({}, Be32(90000)), Times(43200, 75600));          // T2 > lease
  EXPECT_EQ(ParseError(ReplyBytes(kXid, kMac, ip, With(SlirpOptions(5), 58, {1, 2}))),
            "renewal time (option 58) has 2 bytes, not 4");
}

TEST(ParseReply, NameServersDomainAndRouterList) {
  OptionList o = With(SlirpOptions(5), 6,
                      {0, 0, 0, 0, 1, 1, 1, 1, 127, 0, 0, 1, 8, 8, 8, 8, 9, 9, 9, 9, 4, 4, 4, 4});
  o = With(o, 3, {0, 0, 0, 0, 10, 0, 2, 1, 10, 0, 2, 2});  // a zero router is skipped
  o.emplace_back(15, std::vector<uint8_t>{'e', 'x', '.', 'o', 'r', 'g', 0});
  absl::StatusOr<Reply> r = ParseReply(ReplyBytes(kXid, kMac, Addr(10, 0, 2, 15), o), kXid, kMac);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->dns, ElementsAre(Addr(1, 1, 1, 1), Addr(8, 8, 8, 8), Addr(9, 9, 9, 9)));  // musl reads 3
  EXPECT_EQ(r->router, Addr(10, 0, 2, 1));
  EXPECT_EQ(r->domain, "ex.org");
  for (std::string bad : {std::string("a b"), std::string("x;rm"), std::string("-x"),
                          std::string("a\nnameserver 6.6.6.6")}) {
    OptionList d = SlirpOptions(5);
    d.emplace_back(15, std::vector<uint8_t>(bad.begin(), bad.end()));
    r = ParseReply(ReplyBytes(kXid, kMac, Addr(10, 0, 2, 15), d), kXid, kMac);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->domain, "") << bad;
  }
}

TEST(ParseReply, OverloadedFileAndSnameAndSplitOptions) {
  // Option 52 = 3: options go on in the file field, then in sname (RFC 2132 9.3); a
  // repeated option is one value, concatenated (RFC 3396).
  auto p = ReplyBytes(kXid, kMac, Addr(10, 0, 2, 15), With(Without(SlirpOptions(5), 6), 52, {3}));
  const uint8_t file[] = {6, 4, 1, 1, 1, 1, 255};
  const uint8_t sname[] = {6, 4, 2, 2, 2, 2, 52, 1, 1, 255};
  std::copy(std::begin(file), std::end(file), p.begin() + 108);
  std::copy(std::begin(sname), std::end(sname), p.begin() + 44);
  absl::StatusOr<Reply> r = ParseReply(p, kXid, kMac);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->dns, ElementsAre(Addr(1, 1, 1, 1), Addr(2, 2, 2, 2)));
  p[108 + 1] = 200;  // runs past the file field
  EXPECT_EQ(ParseError(p), "option 6 runs past the end of the file field");
}

TEST(ParseReply, NakNeedsOnlyItsTypeAndKeepsAPrintableMessage) {
  auto p = ReplyBytes(kXid, kMac, 0, {{53, {6}}, {56, {'n', 'o', '\n', 'p', 'e'}}});
  absl::StatusOr<Reply> r = ParseReply(p, kXid, kMac);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, MessageType::kNak);
  EXPECT_EQ(r->message, "nope");
  EXPECT_EQ(r->server_id, 0u);
}

TEST(Format, AddressesMacsPrefixes) {
  EXPECT_EQ(FormatIpv4(Addr(10, 0, 2, 15)), "10.0.2.15");
  EXPECT_EQ(FormatIpv4(0xffffffff), "255.255.255.255");
  EXPECT_EQ(FormatMac(kMac), "52:54:00:12:34:56");
  EXPECT_EQ(PrefixLength(Addr(255, 255, 255, 0)), 24);
  EXPECT_EQ(PrefixLength(0xffffffff), 32);
  EXPECT_EQ(PrefixLength(Addr(255, 255, 254, 0)), 23);
  EXPECT_EQ(PrefixLength(0), 0);
  EXPECT_EQ(PrefixLength(Addr(255, 0, 255, 0)), -1);
  EXPECT_EQ(PrefixLength(Addr(0, 0, 0, 255)), -1);
}

}  // namespace
}  // namespace microbeam::dhcp
