// DHCPv4 messages on the wire (RFC 2131 section 2, options RFC 2132): the requests PID 1's
// client sends, and the server's replies it accepts. Pure functions: the bytes in and
// out, nothing touches a socket, so tests and the fuzzer call them directly.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace microbeam::dhcp {

using Ipv4 = uint32_t;  // host byte order: 10.0.2.15 is 0x0a00020f
using Mac = std::array<uint8_t, 6>;

inline constexpr Ipv4 kBroadcast = 0xffffffff;
inline constexpr uint16_t kServerPort = 67;
inline constexpr uint16_t kClientPort = 68;

enum class MessageType : uint8_t {
  kDiscover = 1, kOffer = 2, kRequest = 3, kDecline = 4, kAck = 5, kNak = 6, kRelease = 7, kInform = 8,
};

// A client message (op BOOTREQUEST). Which fields a state fills: RFC 2131 table 5.
struct Request {
  MessageType type = MessageType::kDiscover;
  uint32_t xid = 0;
  Mac mac = {};
  uint16_t secs = 0;        // seconds since this exchange began
  Ipv4 ciaddr = 0;          // our address while RENEWING/REBINDING, else 0
  Ipv4 requested = 0;       // option 50, in SELECTING's REQUEST
  Ipv4 server_id = 0;       // option 54, in SELECTING's REQUEST
  std::string hostname;     // option 12, if not empty (at most 63 bytes are sent)
};

// The BOOTP header plus options, padded to the 300 bytes old relays expect. The
// BROADCAST flag is set while ciaddr is 0: an interface without an address drops a
// unicast reply to the address it is being offered (it is not ours yet).
std::vector<uint8_t> BuildRequest(const Request& r);

// A server's OFFER, ACK or NAK, checked and with the defaults of RFC 2131 applied.
struct Reply {
  MessageType type = MessageType::kNak;
  Ipv4 yiaddr = 0;             // the address offered / leased
  Ipv4 server_id = 0;          // option 54
  Ipv4 netmask = 0;            // option 1, else the address class's mask
  Ipv4 router = 0;             // the first of option 3, 0 if none
  std::vector<Ipv4> dns;       // option 6, at most kMaxDns (musl reads 3)
  std::string domain;          // option 15 if it is a valid domain name, else empty
  absl::Duration lease;        // option 51; absl::InfiniteDuration() for 0xffffffff
  absl::Duration t1, t2;       // options 58/59, else 1/2 and 7/8 of the lease
  std::string message;         // option 56 (a NAK's reason), printable bytes only
};

inline constexpr size_t kMaxDns = 3;

// Parses one UDP payload received on port 68. An error says why it is not a reply to
// us: not BOOTREPLY, another transaction (xid) or hardware address (chaddr), an
// option running past the end, no message type, an OFFER/ACK without the address,
// server identifier or lease time RFC 2131 requires, a netmask that is not contiguous.
absl::StatusOr<Reply> ParseReply(std::span<const uint8_t> packet, uint32_t xid, const Mac& mac);

std::string FormatIpv4(Ipv4 a);
std::string FormatMac(const Mac& m);
// The prefix length of a contiguous netmask (255.255.255.0 -> 24), else -1.
int PrefixLength(Ipv4 netmask);

}  // namespace microbeam::dhcp
