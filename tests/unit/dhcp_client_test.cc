#include "network/dhcp_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dhcp_test_util.h"
#include "network/resolv_conf.h"

namespace microbeam::dhcp {
namespace {

using testing::Addr;
using testing::Be32;
using testing::ReplyBytes;
using testing::RequestOptions;
using testing::SlirpOptions;
using testing::SlirpReply;
using testing::XidOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr Mac kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
const absl::Duration kT0 = absl::Seconds(5);  // the monotonic clock at the thread's start

class ClientTest : public ::testing::Test {
 protected:
  Client client_{"eth0", kMac, "microbeam", 42};

  uint8_t TypeOf(const Actions& a) { return RequestOptions(a.send).at(53).at(0); }

  // DISCOVER, OFFER, REQUEST, ACK at kT0 (+10 ms per step).
  void Bind(std::vector<uint8_t> (*ack)(uint32_t) = nullptr) {
    Actions d = client_.Start(kT0);
    ASSERT_EQ(TypeOf(d), 1);
    Actions r = client_.OnPacket(kT0 + absl::Milliseconds(10), SlirpReply(2, XidOf(d.send), kMac));
    ASSERT_EQ(TypeOf(r), 3);
    Actions a = client_.OnPacket(kT0 + absl::Milliseconds(20),
                                 ack ? ack(XidOf(r.send)) : SlirpReply(5, XidOf(r.send), kMac));
    ASSERT_TRUE(a.configure.has_value());
    ASSERT_EQ(client_.state(), State::kBound);
  }
};

TEST_F(ClientTest, DiscoverOfferRequestAckConfigures) {
  Actions d = client_.Start(kT0);
  EXPECT_EQ(client_.state(), State::kSelecting);
  EXPECT_EQ(TypeOf(d), 1);
  EXPECT_EQ(d.send_to, kBroadcast);
  EXPECT_FALSE(d.configure.has_value());
  EXPECT_THAT(d.log, IsEmpty());
  EXPECT_GE(client_.wake(), kT0 + absl::Seconds(1));  // first retransmission after 1-1.25 s
  EXPECT_LE(client_.wake(), kT0 + absl::Milliseconds(1250));

  uint32_t xid = XidOf(d.send);
  Actions r = client_.OnPacket(kT0 + absl::Milliseconds(10), SlirpReply(2, xid, kMac));
  EXPECT_EQ(client_.state(), State::kRequesting);
  EXPECT_EQ(TypeOf(r), 3);
  EXPECT_EQ(XidOf(r.send), xid);  // the same transaction
  EXPECT_EQ(r.send_to, kBroadcast);
  auto o = RequestOptions(r.send);
  EXPECT_EQ(o[50], Be32(Addr(10, 0, 2, 15)));
  EXPECT_EQ(o[54], Be32(Addr(10, 0, 2, 2)));

  Actions a = client_.OnPacket(kT0 + absl::Milliseconds(30), SlirpReply(5, xid, kMac));
  EXPECT_EQ(client_.state(), State::kBound);
  ASSERT_TRUE(a.configure.has_value());
  EXPECT_EQ(a.configure->address, Addr(10, 0, 2, 15));
  EXPECT_EQ(a.configure->netmask, Addr(255, 255, 255, 0));
  EXPECT_EQ(a.configure->router, Addr(10, 0, 2, 2));
  EXPECT_THAT(a.configure->dns, ElementsAre(Addr(10, 0, 2, 3)));
  EXPECT_TRUE(a.send.empty());
  EXPECT_THAT(a.log, ElementsAre("microbeam: eth0: 10.0.2.15/24 by DHCP from 10.0.2.2, gateway 10.0.2.2, "
                                 "DNS 10.0.2.3, lease 86400 s"));
  // T1 counts from the REQUEST (RFC 2131 4.4.1), not from the ACK.
  EXPECT_EQ(client_.wake(), kT0 + absl::Milliseconds(10) + absl::Seconds(43200));
}

TEST_F(ClientTest, IgnoresWhatIsNotItsAnswer) {
  Actions d = client_.Start(kT0);
  uint32_t xid = XidOf(d.send);
  absl::Duration wake = client_.wake();
  Mac other = kMac;
  other[0] ^= 2;
  for (const std::vector<uint8_t>& p : {SlirpReply(2, xid + 1, kMac), SlirpReply(2, xid, other),
                                        SlirpReply(5, xid, kMac),  // an ACK while selecting
                                        std::vector<uint8_t>(100, 0xff)}) {
    Actions a = client_.OnPacket(kT0, p);
    EXPECT_TRUE(a.send.empty());
    EXPECT_EQ(client_.state(), State::kSelecting);
    EXPECT_EQ(client_.wake(), wake);
  }
  // An early timeout does nothing either.
  EXPECT_TRUE(client_.OnTimeout(wake - absl::Milliseconds(1)).send.empty());
  // An ACK for another address than the offered one is not ours.
  Actions r = client_.OnPacket(kT0, SlirpReply(2, xid, kMac));
  auto other_ack = ReplyBytes(xid, kMac, Addr(10, 0, 2, 16), SlirpOptions(5));
  EXPECT_FALSE(client_.OnPacket(kT0, other_ack).configure.has_value());
  EXPECT_EQ(client_.state(), State::kRequesting);
}

TEST_F(ClientTest, DiscoverBacksOffThenGivesUpARoundWithOneLineAndStartsAnother) {
  Actions a = client_.Start(kT0);
  uint32_t xid = XidOf(a.send);
  absl::Duration now = kT0;
  for (int i = 0; i + 1 < kDiscoverTries; ++i) {  // gaps of 1, 2, 4, 8, 16 s (+ up to 1/4)
    double gap = absl::ToDoubleSeconds(client_.wake() - now);
    EXPECT_GE(gap, 1 << i) << i;
    EXPECT_LE(gap, (1 << i) * 1.25) << i;
    now = client_.wake();
    a = client_.OnTimeout(now);
    ASSERT_EQ(TypeOf(a), 1);
    EXPECT_EQ(XidOf(a.send), xid);  // retransmissions keep the xid
    EXPECT_THAT(a.log, IsEmpty());
  }
  double last = absl::ToDoubleSeconds(client_.wake() - now);
  EXPECT_GE(last, 32);
  EXPECT_LE(last, 40);
  now = client_.wake();
  a = client_.OnTimeout(now);
  EXPECT_TRUE(a.send.empty());
  EXPECT_EQ(client_.state(), State::kWaiting);
  ASSERT_EQ(a.log.size(), 1u);
  EXPECT_THAT(a.log[0], ::testing::MatchesRegex(
                            "microbeam: eth0: no DHCP offer after 6 DISCOVERs in [0-9]+ s; trying again in 60 s"));
  EXPECT_EQ(client_.wake(), now + kRoundPause);
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(TypeOf(a), 1);
  EXPECT_NE(XidOf(a.send), xid);  // a new transaction
  EXPECT_EQ(client_.state(), State::kSelecting);
}

TEST_F(ClientTest, UnansweredRequestGoesBackToDiscover) {
  Actions d = client_.Start(kT0);
  client_.OnPacket(kT0, SlirpReply(2, XidOf(d.send), kMac));
  Actions a;
  for (int i = 1; i < kRequestTries; ++i) {
    a = client_.OnTimeout(client_.wake());
    EXPECT_EQ(TypeOf(a), 3);
  }
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(TypeOf(a), 1);
  EXPECT_EQ(client_.state(), State::kSelecting);
  EXPECT_THAT(a.log, ElementsAre("microbeam: eth0: no DHCP answer to REQUEST for 10.0.2.15 from 10.0.2.2; "
                                 "discovering again"));
}

TEST_F(ClientTest, NakWhileRequestingStartsOverAfterAPause) {
  Actions d = client_.Start(kT0);
  client_.OnPacket(kT0, SlirpReply(2, XidOf(d.send), kMac));
  auto nak = ReplyBytes(XidOf(d.send), kMac, 0, {{53, {6}}, {54, Be32(Addr(10, 0, 2, 2))}, {56, {'t', 'a', 'k', 'e', 'n'}}});
  Actions a = client_.OnPacket(kT0 + absl::Seconds(1), nak);
  EXPECT_FALSE(a.deconfigure);  // nothing was configured yet
  EXPECT_THAT(a.log, ElementsAre("microbeam: eth0: DHCP server 10.0.2.2 refused 10.0.2.15 (taken); discovering again"));
  EXPECT_EQ(client_.state(), State::kWaiting);
  EXPECT_EQ(client_.wake(), kT0 + absl::Seconds(1) + kNakPause);
}

TEST_F(ClientTest, RenewsAtT1UnicastQuietlyWhenNothingChanged) {
  Bind();
  absl::Duration t1 = client_.wake();
  Actions r = client_.OnTimeout(t1);
  EXPECT_EQ(client_.state(), State::kRenewing);
  EXPECT_EQ(TypeOf(r), 3);
  EXPECT_EQ(r.send_to, Addr(10, 0, 2, 2));  // unicast to the server
  EXPECT_EQ(testing::CiaddrOf(r.send), Addr(10, 0, 2, 15));
  EXPECT_FALSE(RequestOptions(r.send).contains(50));
  Actions a = client_.OnPacket(t1 + absl::Milliseconds(5), SlirpReply(5, XidOf(r.send), kMac));
  EXPECT_EQ(client_.state(), State::kBound);
  EXPECT_FALSE(a.configure.has_value());
  EXPECT_THAT(a.log, IsEmpty());
  EXPECT_EQ(client_.wake(), t1 + absl::Seconds(43200));

  // A renewal that moves the address reconfigures and says so.
  r = client_.OnTimeout(client_.wake());
  auto moved = ReplyBytes(XidOf(r.send), kMac, Addr(10, 0, 2, 16), SlirpOptions(5));
  a = client_.OnPacket(client_.wake(), moved);
  ASSERT_TRUE(a.configure.has_value());
  EXPECT_EQ(a.configure->address, Addr(10, 0, 2, 16));
  EXPECT_EQ(a.log.size(), 1u);
}

TEST_F(ClientTest, RenewingThenRebindingThenExpiryDropsTheAddress) {
  // A 1000 s lease: T1 500 s, T2 875 s.
  Bind([](uint32_t xid) {
    return ReplyBytes(xid, kMac, Addr(10, 0, 2, 15), testing::OptionList{{53, {5}}, {54, Be32(Addr(10, 0, 2, 2))},
                                                                        {51, Be32(1000)}});
  });
  const absl::Duration bound = kT0 + absl::Milliseconds(10);
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(500));
  Actions a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(a.send_to, Addr(10, 0, 2, 2));
  // Renewing retries after half the time left to T2, at least 60 s: 187.5 s, then 93.75 s.
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(500) + absl::Milliseconds(187500));
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(client_.state(), State::kRenewing);
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(875) - absl::Milliseconds(93750));
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(841) + absl::Milliseconds(250));  // at least 60 s
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(875));  // 60 s would pass T2: T2
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(client_.state(), State::kRebinding);
  EXPECT_EQ(a.send_to, kBroadcast);
  EXPECT_EQ(testing::CiaddrOf(a.send), Addr(10, 0, 2, 15));
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(875) + absl::Seconds(62) + absl::Milliseconds(500));
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(997) + absl::Milliseconds(500));
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(client_.wake(), bound + absl::Seconds(1000));
  a = client_.OnTimeout(client_.wake());
  EXPECT_TRUE(a.deconfigure);
  EXPECT_THAT(a.log, ElementsAre("microbeam: eth0: lease of 10.0.2.15 expired without renewal; address dropped"));
  EXPECT_FALSE(client_.lease().has_value());
  a = client_.OnTimeout(client_.wake());
  EXPECT_EQ(TypeOf(a), 1);
}

TEST_F(ClientTest, NakWhileRenewingDropsTheAddress) {
  Bind();
  Actions r = client_.OnTimeout(client_.wake());
  Actions a = client_.OnPacket(client_.wake(), ReplyBytes(XidOf(r.send), kMac, 0, {{53, {6}}}));
  EXPECT_TRUE(a.deconfigure);
  EXPECT_EQ(client_.state(), State::kWaiting);
}

TEST_F(ClientTest, InfiniteLeaseNeverWakes) {
  Bind([](uint32_t xid) {
    return ReplyBytes(xid, kMac, Addr(10, 0, 2, 15),
                      testing::OptionList{{53, {5}}, {54, Be32(Addr(10, 0, 2, 2))}, {51, Be32(0xffffffff)}});
  });
  EXPECT_EQ(client_.wake(), absl::InfiniteDuration());
  EXPECT_TRUE(client_.OnPacket(kT0, SlirpReply(5, client_.xid(), kMac)).send.empty());  // bound: ignored
}

TEST(ResolvConf, NameServersAndSearchDomainUnderTheMarker) {
  Lease l{.address = Addr(10, 0, 2, 15), .dns = {Addr(10, 0, 2, 3), Addr(1, 1, 1, 1)}, .domain = "example.org"};
  EXPECT_EQ(ResolvConfFor(l),
            "# written by microbeam's DHCP client\nnameserver 10.0.2.3\nnameserver 1.1.1.1\nsearch example.org\n");
  l.dns.clear();
  EXPECT_EQ(ResolvConfFor(l), "");
}

}  // namespace
}  // namespace microbeam::dhcp
