#include "network/resolv_conf.h"

#include "absl/strings/str_cat.h"

namespace microbeam::dhcp {

std::string ResolvConfFor(const Lease& lease) {
  if (lease.dns.empty()) return "";
  std::string out = absl::StrCat(kResolvConfMarker, "\n");
  for (Ipv4 a : lease.dns) absl::StrAppend(&out, "nameserver ", FormatIpv4(a), "\n");
  if (!lease.domain.empty()) absl::StrAppend(&out, "search ", lease.domain, "\n");
  return out;
}

}  // namespace microbeam::dhcp
