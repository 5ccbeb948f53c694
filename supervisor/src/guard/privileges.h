// What PID 1 keeps once set up (pure logic; sys::ApplyThreadCredentials applies it).
//
// The BEAM is PID 1's main thread, so its credentials are the app's: by default an
// unprivileged uid/gid (microbeam.user) holding only microbeam.caps (cap_sys_boot, to
// carry out the exit policy; cap_net_bind_service, to listen below 1024) in its bounding,
// permitted and effective sets. For a non-root user the same caps are inheritable and
// ambient: the restart policy re-execs /init, and ambient caps are the only ones an exec
// by a non-root uid keeps. ERTS's helper programs (erl_child_setup, inet_gethost, which
// are this binary) clear every set at their start, so port programs hold none.
//
// Linux keeps credentials per thread: each thread that exists before the drop applies
// it itself (the stop watcher does, when asked; stop_watcher.h). musl's setuid/setgid
// would change every thread at once (__synccall) and so strip the capabilities of a
// thread that must keep them: PID 1 uses raw system calls, one thread at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace microbeam {

// The uid/gid the app runs as when microbeam.user is not given.
inline constexpr uid_t kDefaultAppUid = 1000;
inline constexpr gid_t kDefaultAppGid = 1000;

struct AppUser {
  uid_t uid = kDefaultAppUid;
  gid_t gid = kDefaultAppGid;
  bool operator==(const AppUser&) const = default;
};

// "UID:GID" (decimal, each below 2^31 - 1) or "root" (0:0); nullopt otherwise.
std::optional<AppUser> ParseAppUser(std::string_view value);

// One thread's credentials: ids and the five capability sets as bit masks (bit N:
// capability N).
struct ThreadCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  uint64_t bounding = 0, permitted = 0, effective = 0, inheritable = 0, ambient = 0;
  bool operator==(const ThreadCredentials&) const = default;
};

// Bits of the named capabilities ("cap_sys_boot"...); unknown names are skipped (the
// configuration has rejected them already).
uint64_t CapabilityMask(const std::vector<std::string>& names);

// What PID 1's threads hold after the drop: KEEP in bounding, permitted and effective;
// inheritable and ambient too for a non-root USER (see above), else empty.
ThreadCredentials AppCredentials(const AppUser& user, uint64_t keep);

// For a thread that PID 1 starts before the drop and that needs more for its whole life
// (the DHCP client: CAP_NET_ADMIN, and uid 0 for /etc/resolv.conf): USER's ids, KEEP plus
// EXTRA in its permitted and effective sets, applied by that thread itself (credentials
// are per thread: the BEAM's threads never hold EXTRA). Its bounding set is KEEP, so an
// exec from it (a restart carried out by a crash in it) gains nothing beyond the app's;
// inheritable and ambient as AppCredentials.
ThreadCredentials HelperThreadCredentials(const AppUser& user, uint64_t keep, uint64_t extra);

// "cap_net_bind_service,cap_sys_boot" for a mask ("none" for 0).
std::string CapabilityNames(uint64_t mask);

// The line PID 1 logs once the drop is done.
std::string DescribeCredentials(const ThreadCredentials& c);

}  // namespace microbeam
