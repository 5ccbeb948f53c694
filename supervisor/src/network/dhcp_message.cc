#include "network/dhcp_message.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace microbeam::dhcp {
namespace {

// BOOTP header offsets (RFC 2131 figure 1).
constexpr size_t kOp = 0, kHtype = 1, kHlen = 2, kXid = 4, kSecs = 8, kFlags = 10, kCiaddr = 12,
                 kYiaddr = 16, kChaddr = 28, kSname = 44, kFile = 108, kCookie = 236, kOptions = 240;
constexpr size_t kSnameLen = 64, kFileLen = 128;
constexpr size_t kMinRequestLen = 300;  // RFC 1542 2.1: relays may drop shorter BOOTP messages
constexpr uint8_t kMagic[4] = {99, 130, 83, 99};
constexpr uint16_t kFlagBroadcast = 0x8000;

enum Option : uint8_t {
  kPad = 0, kSubnetMask = 1, kRouter = 3, kDns = 6, kHostName = 12, kDomainName = 15,
  kRequestedAddress = 50, kLeaseTime = 51, kOverload = 52, kMessageType = 53, kServerId = 54,
  kParameterList = 55, kMessage = 56, kMaxMessageSize = 57, kRenewalTime = 58, kRebindingTime = 59,
  kEnd = 255,
};

// What the client asks for (option 55).
constexpr uint8_t kWanted[] = {kSubnetMask, kRouter, kDns, kDomainName, kLeaseTime, kServerId,
                               kRenewalTime, kRebindingTime};

void Put32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

void AddOption(std::vector<uint8_t>& out, uint8_t code, std::span<const uint8_t> value) {
  out.push_back(code);
  out.push_back(static_cast<uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

void AddAddressOption(std::vector<uint8_t>& out, uint8_t code, Ipv4 a) {
  uint8_t v[4] = {static_cast<uint8_t>(a >> 24), static_cast<uint8_t>(a >> 16), static_cast<uint8_t>(a >> 8),
                  static_cast<uint8_t>(a)};
  AddOption(out, code, v);
}

// Options by code, the values of a repeated code concatenated (RFC 3396).
using Options = std::map<uint8_t, std::string>;

// Reads one option area (the options field, or file/sname when overloaded) up to its
// end option or its end.
absl::Status ReadOptions(std::span<const uint8_t> area, std::string_view where, Options& out) {
  size_t i = 0;
  while (i < area.size()) {
    uint8_t code = area[i];
    if (code == kPad) {
      ++i;
      continue;
    }
    if (code == kEnd) return absl::OkStatus();
    if (i + 1 >= area.size() || i + 2 + area[i + 1] > area.size()) {
      return absl::InvalidArgumentError(absl::StrCat("option ", code, " runs past the end of the ", where));
    }
    out[code].append(reinterpret_cast<const char*>(&area[i + 2]), area[i + 1]);
    i += 2 + area[i + 1];
  }
  return absl::OkStatus();
}

absl::StatusOr<Ipv4> AddressOption(const Options& o, uint8_t code, std::string_view name) {
  auto it = o.find(code);
  if (it == o.end()) return absl::NotFoundError(absl::StrCat("no ", name, " (option ", code, ")"));
  if (it->second.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " (option ", code, ") has ", it->second.size(), " bytes, not 4"));
  }
  return Get32(reinterpret_cast<const uint8_t*>(it->second.data()));
}

// Addresses in a list option (routers, name servers): a multiple of 4 bytes.
absl::StatusOr<std::vector<Ipv4>> AddressList(const Options& o, uint8_t code, std::string_view name) {
  std::vector<Ipv4> out;
  auto it = o.find(code);
  if (it == o.end()) return out;
  if (it->second.empty() || it->second.size() % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " (option ", code, ") has ", it->second.size(), " bytes, not a multiple of 4"));
  }
  for (size_t i = 0; i < it->second.size(); i += 4) {
    out.push_back(Get32(reinterpret_cast<const uint8_t*>(it->second.data() + i)));
  }
  return out;
}

// An address a host may have, or route through: not 0.x, loopback, multicast, class E.
bool IsHostAddress(Ipv4 a) {
  uint8_t first = static_cast<uint8_t>(a >> 24);
  return first != 0 && first != 127 && first < 224;
}

Ipv4 ClassMask(Ipv4 a) {
  if (a < 0x80000000u) return 0xff000000u;
  if (a < 0xc0000000u) return 0xffff0000u;
  return 0xffffff00u;
}

// A domain name we may write into resolv.conf: letters, digits, '-', '.', 1-253 bytes.
bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.front() == '-' || d.front() == '.') return false;
  return std::all_of(d.begin(), d.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  });
}

absl::Duration Seconds32(uint32_t s) {
  return s == 0xffffffffu ? absl::InfiniteDuration() : absl::Seconds(s);
}

}  // namespace

std::vector<uint8_t> BuildRequest(const Request& r) {
  std::vector<uint8_t> out(kOptions, 0);
  out[kOp] = 1;  // BOOTREQUEST
  out[kHtype] = 1;  // Ethernet
  out[kHlen] = 6;
  Put32(out, kXid, r.xid);
  out[kSecs] = static_cast<uint8_t>(r.secs >> 8);
  out[kSecs + 1] = static_cast<uint8_t>(r.secs);
  if (r.ciaddr == 0) out[kFlags] = kFlagBroadcast >> 8;
  Put32(out, kCiaddr, r.ciaddr);
  std::copy(r.mac.begin(), r.mac.end(), out.begin() + kChaddr);
  std::copy(std::begin(kMagic), std::end(kMagic), out.begin() + kCookie);

  uint8_t type = static_cast<uint8_t>(r.type);
  AddOption(out, kMessageType, std::span<const uint8_t>(&type, 1));
  if (r.requested != 0) AddAddressOption(out, kRequestedAddress, r.requested);
  if (r.server_id != 0) AddAddressOption(out, kServerId, r.server_id);
  if (!r.hostname.empty()) {
    std::string_view name = std::string_view(r.hostname).substr(0, 63);
    AddOption(out, kHostName, std::span(reinterpret_cast<const uint8_t*>(name.data()), name.size()));
  }
  uint8_t max_size[2] = {1500 >> 8, 1500 & 0xff};  // what our receive buffer holds
  AddOption(out, kMaxMessageSize, max_size);
  AddOption(out, kParameterList, kWanted);
  out.push_back(kEnd);
  if (out.size() < kMinRequestLen) out.resize(kMinRequestLen, kPad);
  return out;
}

absl::StatusOr<Reply> ParseReply(std::span<const uint8_t> p, uint32_t xid, const Mac& mac) {
  if (p.size() < kOptions) {
    return absl::InvalidArgumentError(absl::StrCat("too short for DHCP (", p.size(), " bytes)"));
  }
  if (p[kOp] != 2) return absl::InvalidArgumentError("not a BOOTREPLY");
  if (Get32(&p[kXid]) != xid) {
    return absl::InvalidArgumentError(absl::StrFormat("another transaction (xid %08x)", Get32(&p[kXid])));
  }
  if (p[kHtype] != 1 || p[kHlen] != 6 || !std::equal(mac.begin(), mac.end(), p.begin() + kChaddr)) {
    return absl::InvalidArgumentError("for another hardware address");
  }
  if (!std::equal(std::begin(kMagic), std::end(kMagic), p.begin() + kCookie)) {
    return absl::InvalidArgumentError("no DHCP magic cookie");
  }
  Options o;
  if (absl::Status s = ReadOptions(p.subspan(kOptions), "options", o); !s.ok()) return s;
  if (auto it = o.find(kOverload); it != o.end() && it->second.size() == 1) {
    uint8_t overload = static_cast<uint8_t>(it->second[0]);
    Options more;  // an overload option inside file/sname means nothing: drop it
    if (overload & 1) {
      if (absl::Status s = ReadOptions(p.subspan(kFile, kFileLen), "file field", more); !s.ok()) return s;
    }
    if (overload & 2) {
      if (absl::Status s = ReadOptions(p.subspan(kSname, kSnameLen), "sname field", more); !s.ok()) return s;
    }
    more.erase(kOverload);
    for (auto& [code, value] : more) o[code] += value;
  }

  Reply r;
  auto type = o.find(kMessageType);
  if (type == o.end() || type->second.size() != 1) return absl::InvalidArgumentError("no DHCP message type");
  r.type = static_cast<MessageType>(static_cast<uint8_t>(type->second[0]));
  if (r.type != MessageType::kOffer && r.type != MessageType::kAck && r.type != MessageType::kNak) {
    return absl::InvalidArgumentError(
        absl::StrCat("message type ", static_cast<int>(r.type), " is not OFFER, ACK or NAK"));
  }
  if (auto it = o.find(kMessage); it != o.end()) {
    for (char c : it->second) {
      if (absl::ascii_isprint(static_cast<unsigned char>(c))) r.message.push_back(c);
    }
  }
  absl::StatusOr<Ipv4> server = AddressOption(o, kServerId, "server identifier");
  if (r.type == MessageType::kNak) {
    if (server.ok()) r.server_id = *server;
    return r;
  }
  if (!server.ok()) return server.status();
  if (!IsHostAddress(*server)) return absl::InvalidArgumentError("server identifier is not a host address");
  r.server_id = *server;

  r.yiaddr = Get32(&p[kYiaddr]);
  if (!IsHostAddress(r.yiaddr)) {
    return absl::InvalidArgumentError(absl::StrCat("offered address ", FormatIpv4(r.yiaddr), " is not a host address"));
  }
  absl::StatusOr<Ipv4> mask = AddressOption(o, kSubnetMask, "subnet mask");
  if (mask.ok()) {
    if (PrefixLength(*mask) < 1) {
      return absl::InvalidArgumentError(absl::StrCat("subnet mask ", FormatIpv4(*mask), " is not contiguous"));
    }
    r.netmask = *mask;
  } else if (absl::IsNotFound(mask.status())) {
    r.netmask = ClassMask(r.yiaddr);
  } else {
    return mask.status();
  }
  if (PrefixLength(r.netmask) < 31 && (r.yiaddr | r.netmask) == kBroadcast) {
    return absl::InvalidArgumentError(absl::StrCat("offered address ", FormatIpv4(r.yiaddr), " is its subnet's broadcast"));
  }

  absl::StatusOr<std::vector<Ipv4>> routers = AddressList(o, kRouter, "router");
  if (!routers.ok()) return routers.status();
  for (Ipv4 a : *routers) {
    if (IsHostAddress(a) && a != r.yiaddr) {
      r.router = a;
      break;
    }
  }
  absl::StatusOr<std::vector<Ipv4>> dns = AddressList(o, kDns, "domain name server");
  if (!dns.ok()) return dns.status();
  for (Ipv4 a : *dns) {
    if (IsHostAddress(a) && r.dns.size() < kMaxDns) r.dns.push_back(a);
  }
  if (auto it = o.find(kDomainName); it != o.end()) {
    std::string_view d = it->second;
    while (!d.empty() && d.back() == '\0') d.remove_suffix(1);  // some servers add a NUL
    if (ValidDomain(d)) r.domain = std::string(d);
  }

  absl::StatusOr<Ipv4> lease = AddressOption(o, kLeaseTime, "lease time");  // 4 bytes, as an address
  if (!lease.ok()) return lease.status();
  if (*lease == 0) return absl::InvalidArgumentError("lease time 0");
  r.lease = Seconds32(*lease);
  r.t1 = r.lease / 2;
  r.t2 = r.lease * 7 / 8;
  absl::StatusOr<Ipv4> t1 = AddressOption(o, kRenewalTime, "renewal time");
  absl::StatusOr<Ipv4> t2 = AddressOption(o, kRebindingTime, "rebinding time");
  if (!t1.ok() && !absl::IsNotFound(t1.status())) return t1.status();
  if (!t2.ok() && !absl::IsNotFound(t2.status())) return t2.status();
  // Given times are used when they keep T1 <= T2 <= lease; otherwise the defaults.
  absl::Duration given_t1 = t1.ok() ? Seconds32(*t1) : r.t1;
  absl::Duration given_t2 = t2.ok() ? Seconds32(*t2) : r.t2;
  if (given_t1 <= given_t2 && given_t2 <= r.lease) {
    r.t1 = given_t1;
    r.t2 = given_t2;
  }
  return r;
}

std::string FormatIpv4(Ipv4 a) {
  return absl::StrCat(a >> 24, ".", (a >> 16) & 0xff, ".", (a >> 8) & 0xff, ".", a & 0xff);
}

std::string FormatMac(const Mac& m) {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int PrefixLength(Ipv4 netmask) {
  uint32_t inverted = ~netmask;
  if ((inverted & (inverted + 1)) != 0) return -1;  // ones after a zero
  int n = 0;
  while (n < 32 && (netmask & (0x80000000u >> n))) ++n;
  return n;
}

}  // namespace microbeam::dhcp
