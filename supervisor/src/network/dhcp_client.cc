#include "network/dhcp_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace microbeam::dhcp {
namespace {

std::string Describe(const Lease& l) {
  std::vector<std::string> dns;
  for (Ipv4 a : l.dns) dns.push_back(FormatIpv4(a));
  return absl::StrCat(FormatIpv4(l.address), "/", PrefixLength(l.netmask), " by DHCP from ", FormatIpv4(l.server),
                      ", gateway ", l.router ? FormatIpv4(l.router) : "none", ", DNS ",
                      dns.empty() ? "none" : absl::StrJoin(dns, " "), ", lease ",
                      l.lease == absl::InfiniteDuration() ? "infinite" : absl::StrCat(absl::ToInt64Seconds(l.lease), " s"));
}

}  // namespace

Client::Client(std::string ifname, Mac mac, std::string hostname, uint64_t seed)
    : ifname_(std::move(ifname)), mac_(mac), hostname_(std::move(hostname)), rng_(seed | 1) {}

uint64_t Client::Random() {  // xorshift64: enough for xids and jitter
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

absl::Duration Client::Backoff(int attempt) {
  absl::Duration base = absl::Seconds(int64_t{1} << std::min(attempt, 5));
  return base + base * static_cast<double>(Random() % 1000) / 4000.0;
}

uint16_t Client::Secs(absl::Duration now) const {
  return static_cast<uint16_t>(std::clamp<int64_t>(absl::ToInt64Seconds(now - exchange_start_), 0, 0xffff));
}

Actions Client::Start(absl::Duration now) { return Discover(now, true); }

Actions Client::Discover(absl::Duration now, bool new_round) {
  if (new_round) {
    state_ = State::kSelecting;
    attempt_ = 0;
    xid_ = static_cast<uint32_t>(Random());
    exchange_start_ = now;
  }
  Request r{.type = MessageType::kDiscover, .xid = xid_, .mac = mac_, .secs = Secs(now), .hostname = hostname_};
  Actions a;
  a.send = BuildRequest(r);
  wake_ = now + Backoff(attempt_++);
  return a;
}

Actions Client::SendRequest(absl::Duration now) {
  Request r{.type = MessageType::kRequest, .xid = xid_, .mac = mac_, .secs = Secs(now), .hostname = hostname_};
  Actions a;
  if (state_ == State::kRequesting) {
    r.requested = offer_.yiaddr;
    r.server_id = offer_.server_id;
    if (attempt_ == 0) request_sent_ = now;
    wake_ = now + Backoff(attempt_);
  } else {  // RENEWING (unicast to the server) or REBINDING (broadcast), with ciaddr
    r.ciaddr = lease_->address;
    if (state_ == State::kRenewing) a.send_to = lease_->server;
    if (attempt_ == 0) request_sent_ = now;
    absl::Duration until = bound_at_ + (state_ == State::kRenewing ? lease_->t2 : lease_->lease);
    wake_ = std::min(until, now + std::max(kMinRenewRetry, (until - now) / 2));
  }
  ++attempt_;
  a.send = BuildRequest(r);
  return a;
}

Actions Client::Bind(absl::Duration now, const Reply& ack) {
  Lease l{.address = ack.yiaddr, .netmask = ack.netmask, .router = ack.router, .server = ack.server_id,
          .dns = ack.dns, .domain = ack.domain, .lease = ack.lease, .t1 = ack.t1, .t2 = ack.t2};
  Actions a;
  bool changed = !lease_ || lease_->address != l.address || lease_->netmask != l.netmask ||
                 lease_->router != l.router || lease_->dns != l.dns || lease_->domain != l.domain;
  if (changed) {
    a.configure = l;
    a.log.push_back(absl::StrCat("microbeam: ", ifname_, ": ", Describe(l)));
  }
  lease_ = std::move(l);
  state_ = State::kBound;
  bound_at_ = request_sent_;
  wake_ = bound_at_ + lease_->t1;
  if (wake_ < now) wake_ = now;  // a reply slower than T1 (tiny leases): renew at once
  return a;
}

Actions Client::Restart(absl::Duration now, absl::Duration pause, bool drop, std::string why) {
  Actions a;
  a.log.push_back(absl::StrCat("microbeam: ", ifname_, ": ", why));
  if (drop && lease_) {
    a.deconfigure = true;
    lease_.reset();
  }
  state_ = State::kWaiting;
  wake_ = now + pause;
  return a;
}

Actions Client::OnTimeout(absl::Duration now) {
  if (now < wake_) return {};
  switch (state_) {
    case State::kWaiting:
      return Discover(now, true);
    case State::kSelecting:
      if (attempt_ >= kDiscoverTries) {
        return Restart(now, kRoundPause, false,
                       absl::StrCat("no DHCP offer after ", attempt_, " DISCOVERs in ",
                                    absl::ToInt64Seconds(now - exchange_start_), " s; trying again in ",
                                    absl::ToInt64Seconds(kRoundPause), " s"));
      }
      return Discover(now, false);
    case State::kRequesting:
      if (attempt_ >= kRequestTries) {
        Actions a = Discover(now, true);
        a.log.push_back(absl::StrCat("microbeam: ", ifname_, ": no DHCP answer to REQUEST for ",
                                     FormatIpv4(offer_.yiaddr), " from ", FormatIpv4(offer_.server_id),
                                     "; discovering again"));
        return a;
      }
      return SendRequest(now);
    case State::kBound:
      state_ = State::kRenewing;
      attempt_ = 0;
      xid_ = static_cast<uint32_t>(Random());
      exchange_start_ = now;
      return SendRequest(now);
    case State::kRenewing:
      if (now >= bound_at_ + lease_->t2) {
        state_ = State::kRebinding;
        attempt_ = 0;
      }
      return SendRequest(now);
    case State::kRebinding:
      if (now >= bound_at_ + lease_->lease) {
        return Restart(now, absl::ZeroDuration(), true,
                       absl::StrCat("lease of ", FormatIpv4(lease_->address), " expired without renewal; address dropped"));
      }
      return SendRequest(now);
  }
  return {};
}

Actions Client::OnPacket(absl::Duration now, std::span<const uint8_t> packet) {
  if (state_ == State::kBound || state_ == State::kWaiting) return {};
  absl::StatusOr<Reply> reply = ParseReply(packet, xid_, mac_);
  if (!reply.ok()) return {};  // not for us, or malformed: keep waiting
  if (state_ == State::kSelecting) {
    if (reply->type != MessageType::kOffer) return {};
    offer_ = *reply;
    state_ = State::kRequesting;
    attempt_ = 0;
    return SendRequest(now);
  }
  if (reply->type == MessageType::kNak) {
    std::string why = absl::StrCat("DHCP server ", FormatIpv4(reply->server_id), " refused ",
                                   state_ == State::kRequesting ? FormatIpv4(offer_.yiaddr) : FormatIpv4(lease_->address),
                                   reply->message.empty() ? "" : absl::StrCat(" (", reply->message, ")"),
                                   "; discovering again");
    return Restart(now, kNakPause, true, std::move(why));
  }
  if (reply->type != MessageType::kAck) return {};
  if (state_ == State::kRequesting && reply->yiaddr != offer_.yiaddr) return {};
  return Bind(now, *reply);
}

}  // namespace microbeam::dhcp
