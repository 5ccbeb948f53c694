#include "network/net_sys.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace microbeam::sys {
namespace {

// An AF_INET datagram socket for the interface ioctls, closed on scope exit.
class IoctlSocket {
 public:
  IoctlSocket() : fd_(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~IoctlSocket() {
    if (fd_ >= 0) close(fd_);
  }
  IoctlSocket(const IoctlSocket&) = delete;
  IoctlSocket& operator=(const IoctlSocket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct ifreq Request(const std::string& name) {
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

absl::Status Errno(const std::string& name, std::string_view what) {
  return absl::ErrnoToStatus(errno, absl::StrCat(name, ": ", what));
}

void PutAddress(struct sockaddr* sa, dhcp::Ipv4 a) {
  struct sockaddr_in sin = {};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(a);
  std::memcpy(sa, &sin, sizeof sin);
}

dhcp::Ipv4 GetAddress(const struct sockaddr* sa) {
  struct sockaddr_in sin;
  std::memcpy(&sin, sa, sizeof sin);
  return ntohl(sin.sin_addr.s_addr);
}

}  // namespace

std::vector<EthernetInterface> EthernetInterfaces() {
  std::vector<EthernetInterface> out;
  struct if_nameindex* names = if_nameindex();
  if (names == nullptr) return out;
  std::vector<std::pair<unsigned, std::string>> by_index;
  for (struct if_nameindex* n = names; n->if_index != 0; ++n) by_index.emplace_back(n->if_index, n->if_name);
  if_freenameindex(names);
  std::sort(by_index.begin(), by_index.end());
  IoctlSocket s;
  if (s.fd() < 0) return out;
  for (const auto& [index, name] : by_index) {
    struct ifreq ifr = Request(name);
    if (ioctl(s.fd(), SIOCGIFHWADDR, &ifr) != 0 || ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) continue;
    EthernetInterface e{.name = name, .mac = {}};
    std::memcpy(e.mac.data(), ifr.ifr_hwaddr.sa_data, e.mac.size());
    out.push_back(std::move(e));
  }
  return out;
}

absl::Status BringUpInterface(const std::string& name) {
  IoctlSocket s;
  if (s.fd() < 0) return Errno(name, "socket");
  struct ifreq ifr = Request(name);
  if (ioctl(s.fd(), SIOCGIFFLAGS, &ifr) != 0) return Errno(name, "SIOCGIFFLAGS");
  if (ifr.ifr_flags & IFF_UP) return absl::OkStatus();
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s.fd(), SIOCSIFFLAGS, &ifr) != 0) return Errno(name, "SIOCSIFFLAGS up");
  return absl::OkStatus();
}

bool WaitForCarrier(const std::string& name, absl::Duration timeout) {
  IoctlSocket s;
  if (s.fd() < 0) return false;
  for (absl::Time until = absl::Now() + timeout;;) {
    struct ifreq ifr = Request(name);
    if (ioctl(s.fd(), SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_RUNNING)) return true;
    if (absl::Now() >= until) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::StatusOr<int> OpenDhcpSocket(const std::string& name) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(name, "DHCP socket");
  int one = 1;
  absl::Status status = absl::OkStatus();
  struct sockaddr_in any = {};
  any.sin_family = AF_INET;
  any.sin_port = htons(dhcp::kClientPort);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    status = Errno(name, "SO_REUSEADDR");
  } else if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) {
    status = Errno(name, "SO_BROADCAST");
  } else if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), static_cast<socklen_t>(name.size())) != 0) {
    status = Errno(name, "SO_BINDTODEVICE");
  } else if (bind(fd, reinterpret_cast<struct sockaddr*>(&any), sizeof any) != 0) {
    status = Errno(name, "bind UDP port 68");
  }
  if (!status.ok()) {
    close(fd);
    return status;
  }
  return fd;
}

absl::Status SendDhcp(int fd, std::span<const uint8_t> message, dhcp::Ipv4 to) {
  struct sockaddr_in dst = {};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(dhcp::kServerPort);
  dst.sin_addr.s_addr = htonl(to);
  if (sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr*>(&dst),
             sizeof dst) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("sendto ", dhcp::FormatIpv4(to), ":67"));
  }
  return absl::OkStatus();
}

InterfaceAddress GetInterfaceAddress(const std::string& name) {
  InterfaceAddress out;
  IoctlSocket s;
  struct ifreq ifr = Request(name);
  if (s.fd() < 0 || ioctl(s.fd(), SIOCGIFADDR, &ifr) != 0) return out;  // EADDRNOTAVAIL: none
  out.address = GetAddress(&ifr.ifr_addr);
  ifr = Request(name);
  if (ioctl(s.fd(), SIOCGIFNETMASK, &ifr) == 0) out.netmask = GetAddress(&ifr.ifr_netmask);
  return out;
}

absl::Status SetInterfaceAddress(const std::string& name, dhcp::Ipv4 address, dhcp::Ipv4 netmask) {
  IoctlSocket s;
  if (s.fd() < 0) return Errno(name, "socket");
  struct ifreq ifr = Request(name);
  PutAddress(&ifr.ifr_addr, address);
  if (ioctl(s.fd(), SIOCSIFADDR, &ifr) != 0) return Errno(name, absl::StrCat("SIOCSIFADDR ", dhcp::FormatIpv4(address)));
  if (address == 0) return absl::OkStatus();
  ifr = Request(name);
  PutAddress(&ifr.ifr_netmask, netmask);
  if (ioctl(s.fd(), SIOCSIFNETMASK, &ifr) != 0) {
    return Errno(name, absl::StrCat("SIOCSIFNETMASK ", dhcp::FormatIpv4(netmask)));
  }
  return absl::OkStatus();
}

absl::Status AddDefaultRoute(const std::string& name, dhcp::Ipv4 gateway) {
  IoctlSocket s;
  if (s.fd() < 0) return Errno(name, "socket");
  struct rtentry rt = {};
  PutAddress(&rt.rt_dst, 0);
  PutAddress(&rt.rt_genmask, 0);
  PutAddress(&rt.rt_gateway, gateway);
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  std::string dev = name;  // rt_dev is a char*, not const
  rt.rt_dev = dev.data();
  if (ioctl(s.fd(), SIOCADDRT, &rt) != 0 && errno != EEXIST) {
    return Errno(name, absl::StrCat("SIOCADDRT default via ", dhcp::FormatIpv4(gateway)));
  }
  return absl::OkStatus();
}

}  // namespace microbeam::sys
