#include "network/autoconfig.h"

#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sys/kernel_log.h"
#include "network/dhcp_client.h"
#include "network/net_sys.h"
#include "network/resolv_conf.h"
#include "guard/privileges.h"
#include "sys/read_file.h"
#include "sys/system.h"

namespace microbeam {
namespace {

// How long the thread waits for the link before its first DISCOVER (a message sent
// without carrier is dropped, and the first retransmission comes 1 s later).
constexpr absl::Duration kCarrierWait = absl::Seconds(3);

absl::Duration Monotonic() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return absl::DurationFromTimespec(ts);
}

// Asynchronous signals go to ERTS's threads, which expect them; the synchronous ones
// (a fault in this thread) must stay deliverable so PID 1's crash handlers see them.
void BlockAsyncSignals() {
  sigset_t set;
  sigfillset(&set);
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS}) sigdelset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

// Carries out what the client asks on one interface.
class Interface {
 public:
  explicit Interface(std::string name) : name_(std::move(name)) {
    absl::StatusOr<std::string> existing = ReadFile(dhcp::kResolvConf, 256);
    write_resolv_conf_ = !existing.ok() || absl::StartsWith(*existing, dhcp::kResolvConfMarker);
  }

  void Apply(int fd, const dhcp::Actions& a) {
    if (a.deconfigure) {
      if (absl::Status s = sys::SetInterfaceAddress(name_, 0, 0); !s.ok()) Say(s.message());
      router_ = 0;
    }
    if (a.configure) Configure(*a.configure);
    if (!a.send.empty()) (void)sys::SendDhcp(fd, a.send, a.send_to);  // lost: retransmitted
    for (const std::string& line : a.log) LogLine(line);
  }

 private:
  void Say(std::string_view what) { LogLine(absl::StrCat("microbeam: DHCP: ", what)); }

  void Configure(const dhcp::Lease& l) {
    sys::InterfaceAddress now = sys::GetInterfaceAddress(name_);
    // Already right (a renewal, or a restart by re-exec with fewer capabilities): the
    // address and its routes stay as they are.
    bool same = now.address == l.address && now.netmask == l.netmask;
    if (!same) {
      if (absl::Status s = sys::SetInterfaceAddress(name_, l.address, l.netmask); !s.ok()) {
        Say(absl::StrCat(s.message(), "; the lease is not used"));
        return;
      }
    }
    if (l.router != 0 && (!same || (router_ != 0 && router_ != l.router))) {
      if (absl::Status s = sys::AddDefaultRoute(name_, l.router); !s.ok()) Say(s.message());
    }
    router_ = l.router;
    if (write_resolv_conf_) WriteResolvConf(dhcp::ResolvConfFor(l));
  }

  void WriteResolvConf(const std::string& text) {
    if (text.empty()) return;
    std::string tmp = absl::StrCat(dhcp::kResolvConf, ".new");
    mkdir("/etc", 0755);  // PID 1 made it for /etc/hosts; harmless if it exists
    if (absl::Status s = sys::WriteFile(tmp, text); !s.ok()) {
      Say(s.message());
    } else if (std::rename(tmp.c_str(), dhcp::kResolvConf) != 0) {  // readers see old or new
      Say(absl::StrCat("rename to ", dhcp::kResolvConf, ": ", std::strerror(errno)));
    }
  }

  std::string name_;
  bool write_resolv_conf_ = false;
  dhcp::Ipv4 router_ = 0;  // the default route this thread set, 0 if none
};

[[noreturn]] void Run(sys::EthernetInterface nic, std::string hostname, int fd, ThreadCredentials creds) {
  BlockAsyncSignals();
  // Started before PID 1 drops its privileges, this thread keeps its own (they are per
  // thread) unless it drops them itself: to what it needs for its life (privileges.h).
  if (absl::Status s = sys::ApplyThreadCredentials(creds); !s.ok()) {
    LogLine(absl::StrCat("microbeam: DHCP: ", s.message(), "; the client stops here"));
    for (;;) pause();
  }
  sys::WaitForCarrier(nic.name, kCarrierWait);  // no link by then: DISCOVER anyway, and retransmit
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) {  // no entropy yet: vary by NIC and time
    for (uint8_t b : nic.mac) seed = seed << 8 | b;
    seed ^= static_cast<uint64_t>(absl::ToInt64Nanoseconds(Monotonic()));
  }
  dhcp::Client client(nic.name, nic.mac, std::move(hostname), seed);
  Interface iface(nic.name);
  iface.Apply(fd, client.Start(Monotonic()));
  uint8_t buf[2048];
  for (;;) {
    int timeout_ms = -1;
    if (client.wake() != absl::InfiniteDuration()) {
      int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(client.wake() - Monotonic(), absl::Milliseconds(1)));
      timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, INT_MAX));
    }
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0 && (p.revents & POLLIN)) {
      ssize_t len = recv(fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
      if (len > 0 && static_cast<size_t>(len) <= sizeof buf) {
        iface.Apply(fd, client.OnPacket(Monotonic(), std::span<const uint8_t>(buf, static_cast<size_t>(len))));
      }
      continue;
    }
    if (n < 0) usleep(100000);  // not expected; do not spin
    iface.Apply(fd, client.OnTimeout(Monotonic()));
  }
}

}  // namespace

void StartNetworkAutoconfig(const Config& config) {
  if (config.kernel_ip || !config.dhcp) return;
  std::vector<sys::EthernetInterface> nics = sys::EthernetInterfaces();
  if (nics.empty()) return;  // no NIC, no wait
  sys::EthernetInterface nic = nics.front();
  if (absl::Status s = sys::BringUpInterface(nic.name); !s.ok()) {
    LogLine(absl::StrCat("microbeam: DHCP: ", s.message(), "; no network configuration"));
    return;
  }
  // Opened here, not in the thread: a failure is known before erl_start, and the port
  // is bound while PID 1 still has every capability.
  absl::StatusOr<int> fd = sys::OpenDhcpSocket(nic.name);
  if (!fd.ok()) {
    LogLine(absl::StrCat("microbeam: DHCP: ", fd.status().message(), "; no network configuration"));
    return;
  }
  LogLine(absl::StrCat("microbeam: ", nic.name, " (", dhcp::FormatMac(nic.mac),
                       "): no ip= on the kernel command line; asking DHCP in the background"));
  // uid 0 (/etc, where resolv.conf goes, is root's) with the app's caps and CAP_NET_ADMIN
  // (addresses, routes); the bounding set the app's, so an exec from here gains nothing.
  constexpr uint64_t kNetAdmin = uint64_t{1} << 12;  // CAP_NET_ADMIN
  ThreadCredentials creds = HelperThreadCredentials({0, 0}, CapabilityMask(config.keep_caps), kNetAdmin);
  std::thread(Run, std::move(nic), config.hostname, *fd, creds).detach();
}

}  // namespace microbeam
