#include "boot/guest_sysctls.h"

namespace microbeam {

std::vector<Sysctl> GuestSysctls() {
  return {{"/proc/sys/vm/watermark_boost_factor", "0", "nothing to reclaim early in the guest"}};
}

}  // namespace microbeam
