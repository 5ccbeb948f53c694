// One UDP payload on port 68, as PID 1's DHCP client receives it from the network.
// The xid and chaddr are taken from the input itself, so that the fuzzer gets past
// those checks to the options. Then the same bytes, made to match, drive the client
// through SELECTING, REQUESTING and a renewal.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_check.h"
#include "network/dhcp_client.h"
#include "network/dhcp_message.h"
#include "network/resolv_conf.h"

namespace {

using microbeam::dhcp::Ipv4;

bool HostAddress(Ipv4 a) { return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 24) < 224; }

void CheckReply(const microbeam::dhcp::Reply& r) {
  using microbeam::dhcp::MessageType;
  FUZZ_CHECK(r.type == MessageType::kOffer || r.type == MessageType::kAck || r.type == MessageType::kNak, "type");
  for (char c : r.message) FUZZ_CHECK(c >= 0x20 && c < 0x7f, "message printable");
  if (r.type == MessageType::kNak) return;
  FUZZ_CHECK(HostAddress(r.yiaddr) && HostAddress(r.server_id), "addresses");
  int prefix = microbeam::dhcp::PrefixLength(r.netmask);
  FUZZ_CHECK(prefix >= 1 && prefix <= 32, "netmask");
  FUZZ_CHECK(r.router == 0 || HostAddress(r.router), "router");
  FUZZ_CHECK(r.dns.size() <= microbeam::dhcp::kMaxDns, "dns count");
  for (Ipv4 a : r.dns) FUZZ_CHECK(HostAddress(a), "dns address");
  FUZZ_CHECK(r.lease > absl::ZeroDuration() && r.t1 <= r.t2 && r.t2 <= r.lease, "times");
  for (char c : r.domain) {
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.',
               "domain character");
  }
  // Nothing from the packet can add a line of its own to resolv.conf.
  microbeam::dhcp::Lease l{.address = r.yiaddr, .dns = r.dns, .domain = r.domain};
  std::string conf = microbeam::dhcp::ResolvConfFor(l);
  FUZZ_CHECK(static_cast<size_t>(std::count(conf.begin(), conf.end(), '\n')) ==
                 (r.dns.empty() ? 0 : 1 + r.dns.size() + (r.domain.empty() ? 0 : 1)),
             "resolv.conf lines");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> p(data, data + size);
  uint32_t xid = size >= 8 ? (uint32_t{data[4]} << 24 | uint32_t{data[5]} << 16 | uint32_t{data[6]} << 8 | data[7]) : 0;
  microbeam::dhcp::Mac mac = {};
  if (size >= 34) std::memcpy(mac.data(), data + 28, mac.size());
  absl::StatusOr<microbeam::dhcp::Reply> r = microbeam::dhcp::ParseReply(p, xid, mac);
  if (r.ok()) {
    CheckReply(*r);
  } else {
    FUZZ_CHECK(!r.status().message().empty(), "an error says why");
  }

  // The client, fed the packet as an answer to each of its requests.
  microbeam::dhcp::Client client("eth0", mac, "microbeam", 1);
  absl::Duration now = absl::Seconds(1);
  client.Start(now);
  for (int step = 0; step < 4 && size >= 8; ++step) {
    uint32_t x = client.xid();
    for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<uint8_t>(x >> (24 - 8 * i));
    microbeam::dhcp::Actions a = client.OnPacket(now, p);
    if (a.configure) {
      FUZZ_CHECK(HostAddress(a.configure->address), "configured address");
      FUZZ_CHECK(client.state() == microbeam::dhcp::State::kBound, "bound after configure");
    }
    FUZZ_CHECK(client.wake() >= now, "wakes in the future");
    if (client.wake() != absl::InfiniteDuration()) {
      now = client.wake();
      client.OnTimeout(now);
    }
  }
  return 0;
}
