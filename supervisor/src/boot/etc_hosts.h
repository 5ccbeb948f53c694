// /etc/hosts for the guest. Without it, the kernel application's start-up look-up of
// the node's own host name (inet_config on Linux) goes to DNS: musl, with no
// resolv.conf, asks 127.0.0.1:53 twice with a 2.5 s timeout, and boot stalls 5 s.
#pragma once

#include <string>
#include <string_view>

namespace microbeam {

inline constexpr std::string_view kEtcHosts = "/etc/hosts";

// localhost and the guest's host name, both on the loopback address.
std::string EtcHostsFor(std::string_view hostname);

}  // namespace microbeam
