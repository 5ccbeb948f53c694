// Network autoconfiguration when the kernel command line has no `ip=`: PID 1's own
// DHCPv4 client (dhcp_client.h) on the first Ethernet interface, in one background
// thread, so that QEMU's defaults (`-nic user`, no `ip=`) give the guest its address.
//
// Why not the kernel's `ip=dhcp`: its IP autoconfiguration runs before init, and waits
// for it: 12 s for a NIC that never appears, up to 120 s for a carrier, over a minute of
// retries when no server answers. A VMM without a network would stall every boot. Here
// nothing waits: with no Ethernet interface nothing starts; otherwise the thread starts
// and PID 1 goes on to erl_start at once.
//
// Capabilities are per thread. The thread uses CAP_NET_ADMIN (interface up, address,
// netmask, default route; again at every renewal whose lease changes), and
// CAP_NET_BIND_SERVICE (bind UDP port 68, once at start). It never needs CAP_NET_RAW
// (SO_BINDTODEVICE on a fresh socket needs none since Linux 5.7). PID 1 drops only the
// bounding set today, which leaves the thread its effective set; work that drops PID 1's
// effective or permitted capabilities must keep CAP_NET_ADMIN in this thread (it is
// created before, and libcap's cap_set_proc changes the calling thread only), or a
// renewal that moves the address will fail with one console line. After a restart by
// re-exec, the bounding set has cut the new PID 1's capabilities: the thread then
// leaves an address and route that are already right alone, and says so if one must
// change.
#pragma once

#include "config/config.h"

namespace microbeam {

// Starts the client unless `ip=` (or `nfsaddrs=`) is on the kernel command line or
// microbeam.dhcp=0. Call after lo is up and /etc exists, from a thread whose signal
// mask the new thread should inherit (PID 1's, with the stop signals blocked).
void StartNetworkAutoconfig(const Config& config);

}  // namespace microbeam
