"""Pure functions: a MicroBEAM guest for VMMs other than QEMU.

`microbeam vmm-config firecracker` prints a Firecracker configuration file (the JSON
`firecracker --no-api --config-file FILE` reads); `microbeam vmm-config cloud-hypervisor`
prints a cloud-hypervisor command line. Both boot the same two files `microbeam run`
boots, with the kernel's own `ip=` on a tap device instead of QEMU's user network.
docs/kernel-cmdline.md describes the kernel command line and each VMM.

Everything but `cli` is pure (no file system, no process), so tests call it directly;
`cli` is the entry point `microbeam vmm-config` dispatches to.
"""

import ipaddress
import json
import os
import re
import shlex
from dataclasses import dataclass
from typing import List

from . import guest_env

VMMS = ("firecracker", "cloud-hypervisor")

DEFAULT_MEMORY = 128        # MiB
DEFAULT_SMP = 2
MIN_MEMORY = 16             # MiB, as qemucmd.validate
FIRECRACKER_MAX_VCPUS = 32  # Firecracker's machine-config limit
DEFAULT_TAP = "tap0"
DEFAULT_GUEST_IP = "172.16.0.2"
DEFAULT_GATEWAY = "172.16.0.1"   # the host's end of the tap device
DEFAULT_NETMASK = "255.255.255.0"
GUEST_DEVICE = "eth0"            # the guest's only NIC, virtio-net

# Firecracker: the serial console on ttyS0 (Firecracker's own default command line turns
# the 8250 UART off), and the conventions of Firecracker's documentation and default
# command line: reboot=k (a guest reboot resets through the i8042, which ends the
# Firecracker process), panic=1, pci=off (its virtio devices are MMIO, announced by
# Firecracker itself with virtio_mmio.device= on the command line), and the i8042
# options that skip probing what its one-key keyboard controller does not have. Not
# i8042.nopnp (Firecracker's docs have it): under its hardware-reduced ACPI the keyboard
# is announced only in the DSDT (PNP0303); without PNP the driver asks for IRQ 1
# directly, fails with -22, and SendCtrlAltDel is never heard (tests/qemu/test_vmm_standins.py).
FIRECRACKER_CMDLINE = ("console=ttyS0", "reboot=k", "panic=1", "pci=off",
                       "i8042.noaux", "i8042.nomux", "i8042.dumbkbd")
# On x86 Firecracker a guest power off halts the vCPUs and the process lives on; only a
# reboot ends it. So PID 1 powers off by rebooting: when the BEAM stops under the default
# exit policy, and at a stop request (SendCtrlAltDel), unless --append says otherwise.
FIRECRACKER_POWEROFF = "microbeam.poweroff=reboot"

# cloud-hypervisor: the legacy serial port on ttyS0 (`--serial tty --console off`), which
# prints from the first kernel line on (hvc0, the virtio console, starts later). Its
# virtio devices are PCI and it powers off through ACPI, so nothing else is needed.
CLOUD_HYPERVISOR_CMDLINE = ("console=ttyS0",)

_TAP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")   # IFNAMSIZ - 1; no ',' or '=' (CH's --net)


class VmmConfigError(ValueError):
    """Bad input: the message is one line naming the option or file."""


@dataclass(frozen=True)
class GuestSpec:
    vmm: str
    kernel: str             # absolute path
    initrd: str             # absolute path
    memory: int = DEFAULT_MEMORY
    smp: int = DEFAULT_SMP
    tap: str = DEFAULT_TAP
    guest_ip: str = DEFAULT_GUEST_IP
    gateway: str = DEFAULT_GATEWAY
    netmask: str = DEFAULT_NETMASK
    append: str = ""        # extra kernel parameters, last


def _count(option: str, text, minimum: int, maximum=None) -> int:
    try:
        n = int(str(text).strip())
    except ValueError:
        raise VmmConfigError(f"{option}: not a number: {text!r}")
    if n < minimum:
        raise VmmConfigError(f"{option}: {n} is too small (at least {minimum})")
    if maximum is not None and n > maximum:
        raise VmmConfigError(f"{option}: {n} is too large (at most {maximum})")
    return n


def _ipv4(option: str, text: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(text).strip())
    except ValueError:
        raise VmmConfigError(f"{option}: not an IPv4 address: {text!r}")


def _netmask(text: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.IPv4Network(f"0.0.0.0/{str(text).strip()}")
    except ValueError:
        net = None
    if net is None or net.prefixlen == 0 or net.prefixlen > 30:
        raise VmmConfigError(f"--netmask: not a netmask for a guest and a gateway: {text!r}")
    return net


def make_spec(vmm: str, kernel: str, initrd: str, memory=DEFAULT_MEMORY, smp=DEFAULT_SMP,
              tap: str = DEFAULT_TAP, guest_ip: str = DEFAULT_GUEST_IP,
              gateway: str = DEFAULT_GATEWAY, netmask: str = DEFAULT_NETMASK,
              append: str = "") -> GuestSpec:
    """Checks every value (not the files: `cli` does) and returns the GuestSpec.
    Raises VmmConfigError with one line naming the option."""
    if vmm not in VMMS:
        raise VmmConfigError(f"unknown VMM {vmm!r} (one of {', '.join(VMMS)})")
    for option, path in (("--kernel", kernel), ("--initrd", initrd)):
        if not os.path.isabs(str(path)):
            raise VmmConfigError(f"{option}: {path}: not an absolute path")
    mem = _count("--memory", memory, MIN_MEMORY)
    cpus = _count("--smp", smp, 1, FIRECRACKER_MAX_VCPUS if vmm == "firecracker" else None)
    if not _TAP_NAME.fullmatch(str(tap)) or tap in (".", ".."):
        raise VmmConfigError(f"--tap: not a tap device name (1-15 of A-Z a-z 0-9 _ . -): {tap!r}")
    guest = _ipv4("--guest-ip", guest_ip)
    gw = _ipv4("--gateway", gateway)
    mask = _netmask(netmask)
    subnet = ipaddress.IPv4Network(f"{guest}/{mask.prefixlen}", strict=False)
    if guest in (subnet.network_address, subnet.broadcast_address):
        raise VmmConfigError(f"--guest-ip: {guest} is the network or broadcast address of {subnet}")
    if gw not in subnet:
        raise VmmConfigError(f"--gateway: {gw} is not in the guest's network {subnet}")
    if gw == guest:
        raise VmmConfigError(f"--gateway: {gw} is the guest's own address")
    return GuestSpec(vmm=vmm, kernel=str(kernel), initrd=str(initrd), memory=mem, smp=cpus,
                     tap=str(tap), guest_ip=str(guest), gateway=str(gw),
                     netmask=str(mask.netmask), append=(append or "").strip())


def ip_param(guest_ip: str, gateway: str, netmask: str, device: str = GUEST_DEVICE) -> str:
    """The kernel's static configuration (CONFIG_IP_PNP), as qemucmd.GUEST_IP:
    ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF."""
    return f"ip={guest_ip}::{gateway}:{netmask}::{device}:off"


def guest_mac(guest_ip: str) -> str:
    """A locally administered unicast MAC that carries the guest's address, as in
    Firecracker's examples (172.16.0.2 -> 06:00:AC:10:00:02)."""
    octets = ipaddress.IPv4Address(guest_ip).packed
    return ":".join(f"{b:02X}" for b in (0x06, 0x00, *octets))


def kernel_cmdline(spec: GuestSpec) -> str:
    """The VMM's console and conventions, ip=, (Firecracker) power off by reboot unless
    --append sets microbeam.poweroff=, then --append."""
    parts = list(FIRECRACKER_CMDLINE if spec.vmm == "firecracker" else CLOUD_HYPERVISOR_CMDLINE)
    parts.append(ip_param(spec.guest_ip, spec.gateway, spec.netmask))
    if spec.vmm == "firecracker" and "microbeam.poweroff=" not in spec.append:
        parts.append(FIRECRACKER_POWEROFF)
    if spec.append:
        parts.append(spec.append)
    return " ".join(parts)


def firecracker_config(spec: GuestSpec) -> dict:
    """Firecracker's configuration file: the same resources and field names as its API
    (`drives` must be present; an initrd needs no root drive)."""
    return {
        "boot-source": {
            "kernel_image_path": spec.kernel,
            "initrd_path": spec.initrd,
            "boot_args": kernel_cmdline(spec),
        },
        "drives": [],
        "machine-config": {
            "vcpu_count": spec.smp,
            "mem_size_mib": spec.memory,
            "smt": False,
        },
        "network-interfaces": [
            {
                "iface_id": GUEST_DEVICE,
                "guest_mac": guest_mac(spec.guest_ip),
                "host_dev_name": spec.tap,
            },
        ],
        # virtio-rng for the guest's CRNG (CONFIG_HW_RANDOM_VIRTIO; docs/crypto.md)
        "entropy": {},
    }


def firecracker_json(spec: GuestSpec) -> str:
    return json.dumps(firecracker_config(spec), indent=2) + "\n"


def cloud_hypervisor_argv(spec: GuestSpec, binary: str = "cloud-hypervisor") -> List[str]:
    """cloud-hypervisor's command line. `--net ip=,mask=` is the host's end of the tap
    (the gateway): cloud-hypervisor creates the tap with that address when it is missing."""
    net = (f"tap={spec.tap},mac={guest_mac(spec.guest_ip)},"
           f"ip={spec.gateway},mask={spec.netmask}")
    return [binary,
            "--kernel", spec.kernel,
            "--initramfs", spec.initrd,
            "--cmdline", kernel_cmdline(spec),
            "--cpus", f"boot={spec.smp}",
            "--memory", f"size={spec.memory}M",
            "--net", net,
            "--rng", "src=/dev/urandom",   # virtio-rng for the guest's CRNG (docs/crypto.md)
            "--serial", "tty",
            "--console", "off"]


def cloud_hypervisor_line(spec: GuestSpec) -> str:
    return shlex.join(cloud_hypervisor_argv(spec)) + "\n"


def render(spec: GuestSpec) -> str:
    """What `microbeam vmm-config VMM` prints."""
    if spec.vmm == "firecracker":
        return firecracker_json(spec)
    return cloud_hypervisor_line(spec)


def default_kernel(out_dir) -> str:
    """out/vmlinux: the uncompressed kernel ELF with its PVH entry note, which both VMMs
    boot (Firecracker loads ELF kernels only)."""
    return os.path.join(str(out_dir), "vmlinux")


def default_initrd(out_dir) -> str:
    return os.path.join(str(out_dir), "microbeam.cpio")


def cli(args, out_dir, say) -> int:
    """`microbeam vmm-config`: checks the files, prints or writes the configuration.
    Bad input: one line through SAY, exit status 2."""
    kernel = os.path.abspath(args.kernel if args.kernel is not None else default_kernel(out_dir))
    initrd = os.path.abspath(args.initrd if args.initrd is not None else default_initrd(out_dir))
    try:
        for option, path, hint in (
                ("--kernel", kernel, "the build puts the uncompressed kernel ELF there"),
                ("--initrd", initrd, "the build puts the initramfs there")):
            if not os.path.isfile(path):
                given = getattr(args, option[2:]) is not None
                raise VmmConfigError(f"{option}: {path}: no such file"
                                     + ("" if given else f" ({hint}; build first, or give {option})"))
        try:
            append = guest_env.with_env(args.append, getattr(args, "env", None))
        except guest_env.EnvError as e:
            raise VmmConfigError(str(e))
        spec = make_spec(args.vmm, kernel, initrd, memory=args.memory, smp=args.smp,
                         tap=args.tap, guest_ip=args.guest_ip, gateway=args.gateway,
                         netmask=args.netmask, append=append)
        text = render(spec)
        if args.out is None:
            print(text, end="", flush=True)
        else:
            try:
                with open(args.out, "w") as f:
                    f.write(text)
            except OSError as e:
                raise VmmConfigError(f"--out: {args.out}: {e.strerror or e}")
    except VmmConfigError as e:
        say(f"error: {e}")
        return 2
    return 0
