// /etc/resolv.conf from a DHCP lease (options 6 and 15), for musl's resolver, which
// re-reads the file at every look-up. Written only where the image brings none.
#pragma once

#include <string>
#include <string_view>

#include "network/dhcp_client.h"

namespace microbeam::dhcp {

inline constexpr char kResolvConf[] = "/etc/resolv.conf";
// The first line of the file PID 1 writes: a file that starts so is PID 1's to rewrite
// (after a restart by re-exec too); any other was the image's and stays.
inline constexpr std::string_view kResolvConfMarker = "# written by microbeam's DHCP client";

// The file for `lease`, or "" when the lease names no name server.
std::string ResolvConfFor(const Lease& lease);

}  // namespace microbeam::dhcp
