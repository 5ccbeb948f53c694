// The DHCPv4 client's states and timers (RFC 2131 section 4.4), as a plain object: the
// caller feeds it the monotonic time, received packets and timeouts, and carries out
// what it asks (send, configure, log). No sockets and no clock inside, so unit tests
// drive whole exchanges, renewals and expiries directly.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "network/dhcp_message.h"

namespace microbeam::dhcp {

// What a bound lease gives the interface.
struct Lease {
  Ipv4 address = 0;
  Ipv4 netmask = 0;
  Ipv4 router = 0;        // 0: no default route
  Ipv4 server = 0;
  std::vector<Ipv4> dns;
  std::string domain;
  absl::Duration lease, t1, t2;
};

// What the caller does after an event, in this order.
struct Actions {
  bool deconfigure = false;          // drop the address (lease expired or refused)
  std::optional<Lease> configure;    // set address, netmask, default route, resolv.conf
  std::vector<uint8_t> send;         // a message for UDP port 67, if not empty
  Ipv4 send_to = kBroadcast;         // 255.255.255.255, or the server while RENEWING
  std::vector<std::string> log;      // console lines
};

enum class State { kSelecting, kRequesting, kBound, kRenewing, kRebinding, kWaiting };

// Retransmission: 1, 2, 4 ... 32 s (RFC 2131 4.1 doubles from 4 s; a guest wants its
// address sooner), each stretched by up to a quarter at random so that guests started
// together do not retransmit in step. A round of DISCOVERs ends after kDiscoverTries
// with one console line; the next round starts kRoundPause later, for ever.
inline constexpr int kDiscoverTries = 6;
inline constexpr int kRequestTries = 4;
inline constexpr absl::Duration kRoundPause = absl::Seconds(60);
inline constexpr absl::Duration kNakPause = absl::Seconds(2);
// While RENEWING and REBINDING, retransmit after half the time left, at least this.
inline constexpr absl::Duration kMinRenewRetry = absl::Seconds(60);

class Client {
 public:
  // `ifname` only names the interface in log lines; `seed` feeds xids and jitter.
  Client(std::string ifname, Mac mac, std::string hostname, uint64_t seed);

  Actions Start(absl::Duration now);  // now: a monotonic clock
  Actions OnTimeout(absl::Duration now);
  Actions OnPacket(absl::Duration now, std::span<const uint8_t> packet);

  State state() const { return state_; }
  absl::Duration wake() const { return wake_; }  // when OnTimeout is due
  uint32_t xid() const { return xid_; }
  const std::optional<Lease>& lease() const { return lease_; }

 private:
  Actions Discover(absl::Duration now, bool new_round);
  Actions SendRequest(absl::Duration now);
  Actions Bind(absl::Duration now, const Reply& ack);
  Actions Restart(absl::Duration now, absl::Duration pause, bool drop, std::string why);
  absl::Duration Backoff(int attempt);
  uint64_t Random();
  uint16_t Secs(absl::Duration now) const;

  std::string ifname_;
  Mac mac_;
  std::string hostname_;
  uint64_t rng_;
  State state_ = State::kWaiting;
  absl::Duration wake_ = absl::InfiniteDuration();
  uint32_t xid_ = 0;
  int attempt_ = 0;                  // sends in this state so far
  absl::Duration exchange_start_;    // first message of this exchange (for secs)
  absl::Duration request_sent_;      // the lease's times count from here
  Reply offer_;                      // SELECTING's chosen OFFER
  std::optional<Lease> lease_;       // bound, renewing or rebinding
  absl::Duration bound_at_;
};

}  // namespace microbeam::dhcp
