#include "boot/etc_hosts.h"

#include "absl/strings/str_cat.h"

namespace microbeam {

std::string EtcHostsFor(std::string_view hostname) {
  std::string hosts = "127.0.0.1\tlocalhost";
  if (!hostname.empty() && hostname != "localhost") absl::StrAppend(&hosts, " ", hostname);
  return absl::StrCat(hosts, "\n");
}

}  // namespace microbeam
