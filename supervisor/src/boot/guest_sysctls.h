// Kernel tunables PID 1 sets at boot for a small VM with no swap and no disk.
#pragma once

#include <string_view>
#include <vector>

namespace microbeam {

struct Sysctl {
  std::string_view path;   // under /proc/sys
  std::string_view value;
  std::string_view why;
};

// watermark_boost_factor=0: after a fragmentation event the kernel raises the free-page
// watermark by up to 1.5x high (4 MB in a 48 MiB guest) so that kswapd reclaims
// ahead of time. Here nothing is reclaimable (the initramfs is RAM, there is no swap),
// so the boost only makes allocations fail early: with it, the demo's memory floor was
// 50 MiB, without it 48 MiB or less.
std::vector<Sysctl> GuestSysctls();

}  // namespace microbeam
