// The system calls of network autoconfiguration (the thin sys:: layer, as system.h):
// interfaces, the DHCP client's socket, addresses and the default route. Each call
// names the interface in its error. Capabilities, which are per thread, that each needs
// in the calling thread: CAP_NET_ADMIN to bring an interface up, set or drop an address,
// add a route; CAP_NET_BIND_SERVICE to bind UDP port 68; CAP_NET_RAW only to change a
// socket's SO_BINDTODEVICE once set (never done here).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "network/dhcp_message.h"

namespace microbeam::sys {

struct EthernetInterface {
  std::string name;
  dhcp::Mac mac;
};

// The Ethernet interfaces (ARPHRD_ETHER; never lo), by interface index. Cheap: one
// netlink dump and an ioctl each; an empty list when there are none.
std::vector<EthernetInterface> EthernetInterfaces();

absl::Status BringUpInterface(const std::string& name);
// Waits until the driver reports a link (IFF_RUNNING), checking every 20 ms, at most
// `timeout`; false if it did not come. QEMU's e1000 reports it ~2 s after the interface
// comes up; a message sent before is dropped.
bool WaitForCarrier(const std::string& name, absl::Duration timeout);

// A UDP socket on 0.0.0.0:68, bound to `name` (SO_BINDTODEVICE), allowed to broadcast.
// It sends from 0.0.0.0 while the interface has no address, and receives the broadcast
// replies (rp_filter is 0, the kernel's default). Close-on-exec.
absl::StatusOr<int> OpenDhcpSocket(const std::string& name);
absl::Status SendDhcp(int fd, std::span<const uint8_t> message, dhcp::Ipv4 to);

struct InterfaceAddress {
  dhcp::Ipv4 address = 0;  // 0: none
  dhcp::Ipv4 netmask = 0;
};
InterfaceAddress GetInterfaceAddress(const std::string& name);
// Sets the address, then the netmask; address 0 drops the address (and its routes).
absl::Status SetInterfaceAddress(const std::string& name, dhcp::Ipv4 address, dhcp::Ipv4 netmask);
// The default route through `gateway` on `name`; one that exists already is fine.
absl::Status AddDefaultRoute(const std::string& name, dhcp::Ipv4 gateway);

}  // namespace microbeam::sys
