// A DHCP server's side for the tests: replies built byte by byte (RFC 2131 figure 1),
// and the options of a client's request read back.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "network/dhcp_message.h"

namespace microbeam::dhcp::testing {

inline std::vector<uint8_t> Be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
          static_cast<uint8_t>(v)};
}

inline constexpr Ipv4 Addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}

using OptionList = std::vector<std::pair<uint8_t, std::vector<uint8_t>>>;

// A BOOTREPLY with these options (in order, then the end option) after the cookie.
inline std::vector<uint8_t> ReplyBytes(uint32_t xid, const Mac& mac, Ipv4 yiaddr, const OptionList& options) {
  std::vector<uint8_t> p(240, 0);
  p[0] = 2;
  p[1] = 1;
  p[2] = 6;
  auto put = [&](size_t at, const std::vector<uint8_t>& v) { std::copy(v.begin(), v.end(), p.begin() + at); };
  put(4, Be32(xid));
  put(16, Be32(yiaddr));
  put(20, Be32(Addr(10, 0, 2, 2)));
  std::copy(mac.begin(), mac.end(), p.begin() + 28);
  put(236, {99, 130, 83, 99});
  for (const auto& [code, value] : options) {
    p.push_back(code);
    p.push_back(static_cast<uint8_t>(value.size()));
    p.insert(p.end(), value.begin(), value.end());
  }
  p.push_back(255);
  return p;
}

// What QEMU's user network (slirp) answers: server and gateway 10.0.2.2, DNS 10.0.2.3,
// a /24, one day.
inline OptionList SlirpOptions(uint8_t type) {
  return {{53, {type}},
          {54, Be32(Addr(10, 0, 2, 2))},
          {1, Be32(Addr(255, 255, 255, 0))},
          {3, Be32(Addr(10, 0, 2, 2))},
          {6, Be32(Addr(10, 0, 2, 3))},
          {51, Be32(86400)}};
}

inline std::vector<uint8_t> SlirpReply(uint8_t type, uint32_t xid, const Mac& mac) {
  return ReplyBytes(xid, mac, Addr(10, 0, 2, 15), SlirpOptions(type));
}

// The options of a client's message, by code (each code once in what we send).
inline std::map<uint8_t, std::vector<uint8_t>> RequestOptions(const std::vector<uint8_t>& m) {
  std::map<uint8_t, std::vector<uint8_t>> out;
  for (size_t i = 240; i < m.size() && m[i] != 255;) {
    if (m[i] == 0) {
      ++i;
      continue;
    }
    out[m[i]] = std::vector<uint8_t>(m.begin() + static_cast<long>(i) + 2,
                                      m.begin() + static_cast<long>(i) + 2 + m[i + 1]);
    i += 2 + m[i + 1];
  }
  return out;
}

inline uint32_t XidOf(const std::vector<uint8_t>& m) {
  return uint32_t{m[4]} << 24 | uint32_t{m[5]} << 16 | uint32_t{m[6]} << 8 | m[7];
}

inline Ipv4 CiaddrOf(const std::vector<uint8_t>& m) {
  return uint32_t{m[12]} << 24 | uint32_t{m[13]} << 16 | uint32_t{m[14]} << 8 | m[15];
}

}  // namespace microbeam::dhcp::testing
