"""Pure functions: the QEMU command line for a MicroBEAM guest, and exit-status mapping.

Nothing here starts a process or touches the file system, so tests check it directly.
"""

import base64
import ipaddress
import os
import signal
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from . import disk as disk_mod
from . import hosttsc

QEMU = "qemu-system-x86_64"


def qemu_binary() -> str:
    """$MICROBEAM_QEMU if set (another build of QEMU, or a test's stand-in), else QEMU."""
    return os.environ.get("MICROBEAM_QEMU") or QEMU
MACHINES = ("microvm", "q35")
GUEST_HTTP_PORT = 8080

# The kernel configures eth0 itself (CONFIG_IP_PNP), matching QEMU's user network:
# guest 10.0.2.15/24, gateway 10.0.2.2, no autoconfiguration protocol.
GUEST_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"

# isa-debug-exit: a guest byte S written to this port makes QEMU exit with (S << 1) | 1.
DEBUG_EXIT_IOBASE = 0xF4
DEBUG_EXIT_IOSIZE = 0x04
DEBUG_EXIT_CMDLINE = "microbeam.debug_exit=1"   # PID 1 reports its status on the port


@dataclass
class VMConfig:
    kernel: str
    initrd: str
    # (host port on host_addr, guest port) for QEMU's user network; none for the probe
    forwards: List[Tuple[int, int]] = field(default_factory=lambda: [(8080, GUEST_HTTP_PORT)])
    memory: int = 128                # MiB
    smp: int = 2
    machine: str = "microvm"         # microvm | q35
    append: str = ""                 # extra kernel parameters
    accel: str = "tcg"               # resolved accelerator: kvm | tcg
    debug_exit: bool = False
    no_reboot: bool = True           # a guest reboot (or panic with panic=N) ends QEMU
    panic: Optional[str] = "-1"      # the kernel's panic= (reboot at once), unless append sets it
    qmp_socket: Optional[str] = None
    serial: str = "stdio"            # QEMU -serial argument
    host_addr: str = "127.0.0.1"
    machine_opts: str = ""           # appended to -M NAME, e.g. "pit=on"
    accel_opts: str = ""             # appended to -accel NAME, e.g. "tb-size=32" (TCG's code cache, MiB)
    tsc_khz: Optional[int] = None    # tsc_early_khz= for the guest (see hosttsc.py)
    extra_args: List[str] = field(default_factory=list)        # more QEMU arguments
    # None: QEMU's user network (NAT, forwards from the host, guest 10.0.2.15). Or
    # "mcast:GROUP:PORT": a private L2 segment shared by every guest started with the
    # same group and port (QEMU socket networking, no root, no host setup); the guest
    # then needs guest_ip, and the host cannot reach it (use --eval or a guest on both).
    private_net: Optional[str] = None
    guest_ip: Optional[str] = None   # "ADDR/PREFIX" on eth0 for private_net
    # The data disk (disk.py): a raw ext4 image the guest sees as /dev/vda.
    disk: Optional[str] = None
    disk_readonly: bool = False


def parse_guest_ip(text: str):
    """("ADDR", prefix) from "ADDR/PREFIX" (prefix 24 if left out); ValueError naming
    the option otherwise."""
    try:
        iface = ipaddress.IPv4Interface(text if "/" in text else text + "/24")
    except ValueError:
        raise ValueError(f"--guest-ip: {text!r} is not an IPv4 address[/prefix]") from None
    if iface.network.prefixlen > 30 or iface.ip in (iface.network.network_address,
                                                    iface.network.broadcast_address):
        raise ValueError(f"--guest-ip: {text!r} is not a host address of its network")
    return str(iface.ip), iface.network.prefixlen


def ip_param(guest_ip: str) -> str:
    """The kernel's ip= (CONFIG_IP_PNP) for a static address on eth0, no gateway."""
    addr, prefix = parse_guest_ip(guest_ip)
    mask = ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask
    return f"ip={addr}:::{mask}::eth0:off"


def parse_private_net(text: str):
    """("GROUP", port) from "mcast:GROUP:PORT"; ValueError naming the option otherwise."""
    kind, _, rest = text.partition(":")
    group, _, port = rest.rpartition(":")
    try:
        ok = kind == "mcast" and ipaddress.IPv4Address(group).is_multicast and 0 < int(port) < 65536
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"--net: {text!r} is not mcast:GROUP:PORT (e.g. mcast:230.0.0.1:4321)")
    return group, int(port)


def guest_mac(guest_ip: str) -> str:
    """A locally administered MAC from the address, so guests on one segment differ."""
    a, b, c, d = ipaddress.IPv4Address(parse_guest_ip(guest_ip)[0]).packed
    return f"52:54:{a:02x}:{b:02x}:{c:02x}:{d:02x}"


def kernel_cmdline(extra: str = "", debug_exit: bool = False, tsc_khz=None,
                   guest_ip: Optional[str] = None, panic: Optional[str] = None) -> str:
    """console=ttyS0 and the guest address (QEMU's user network unless GUEST_IP), then
    panic=PANIC unless EXTRA sets panic=, then the TSC hint (hosttsc.hint) if TSC_KHZ,
    then (with debug_exit) microbeam.debug_exit=1 unless EXTRA already says, then EXTRA."""
    parts = ["console=ttyS0", ip_param(guest_ip) if guest_ip else GUEST_IP]
    extra = (extra or "").strip()
    if panic is not None and not any(w.startswith("panic=") for w in extra.split()):
        parts.append(f"panic={panic}")
    if tsc_khz:
        parts.append(hosttsc.hint(tsc_khz))
    if debug_exit and "microbeam.debug_exit=" not in extra:
        parts.append(DEBUG_EXIT_CMDLINE)
    if extra:
        parts.append(extra)
    return " ".join(parts)


# x86's COMMAND_LINE_SIZE is 2048 bytes; leave room for the rest of the line.
EVAL_PARAM_MAX = 1500


def eval_wrapper(expr: str) -> str:
    """The Erlang expression `run --eval EXPR` has init evaluate after boot: EXPR's value
    becomes the BEAM's exit status, 0 for ok/true/{ok, _}, 1 (printed) for any other
    value, 2 (printed) for an exception. EXPR may halt by itself with its own status."""
    return ("MicrobeamEvalStatus__ = try begin " + expr + "\n end of "
            "ok -> 0; true -> 0; {ok, _} -> 0; "
            "MicrobeamEvalValue__ -> io:format(\"microbeam eval: ~tp~n\", [MicrobeamEvalValue__]), 1 "
            "catch MicrobeamEvalC__:MicrobeamEvalE__:MicrobeamEvalS__ -> "
            "io:format(\"microbeam eval: ~p:~tp~n  ~tp~n\", "
            "[MicrobeamEvalC__, MicrobeamEvalE__, MicrobeamEvalS__]), 2 end, "
            "erlang:halt(MicrobeamEvalStatus__).")


def eval_kernel_param(expr: str) -> str:
    """microbeam.eval=BASE64 for PID 1 (base64: the kernel command line has no escapes)."""
    if not expr.strip():
        raise ValueError("--eval: empty expression")
    encoded = base64.b64encode(eval_wrapper(expr.strip().rstrip(".")).encode()).decode()
    if len(encoded) > EVAL_PARAM_MAX:
        raise ValueError(f"--eval: expression too long for the kernel command line "
                         f"({len(encoded)} bytes as base64, at most {EVAL_PARAM_MAX})")
    return "microbeam.eval=" + encoded


def hostfwd(host_addr: str, host_port: int, guest_port: int = GUEST_HTTP_PORT) -> str:
    return f"hostfwd=tcp:{host_addr}:{host_port}-:{guest_port}"


def netdev_arg(cfg: VMConfig) -> str:
    return ",".join(["user", "id=n0", *(hostfwd(cfg.host_addr, h, g) for h, g in cfg.forwards)])


def parse_forward(text: str) -> Tuple[int, int]:
    """(host, guest) from "HOST:GUEST"; ValueError naming the option otherwise."""
    host, sep, guest = text.partition(":")
    try:
        pair = (int(host), int(guest)) if sep else None
    except ValueError:
        pair = None
    if pair is None or not all(0 < p < 65536 for p in pair):
        raise ValueError(f"--forward: {text!r} is not HOST:GUEST, two ports 1..65535 "
                         "(e.g. 4000:4000)")
    return pair


def exit_policy(append: str) -> str:
    """The exit policy PID 1 will use: the last microbeam.exit= of APPEND (poweroff)."""
    policy = "poweroff"
    for w in (append or "").split():
        if w.startswith("microbeam.exit="):
            policy = w.partition("=")[2]
    return policy


def status_by_default(append: str) -> bool:
    """Whether `run` has the guest report the BEAM's status on isa-debug-exit by
    default: yes, unless the exit policy keeps the guest up after the BEAM ends (the
    port's write ends QEMU, so it would cut a restart, a reboot or the rescue shell)."""
    return exit_policy(append) == "poweroff"


def validate(cfg: VMConfig) -> None:
    if cfg.machine not in MACHINES:
        raise ValueError(f"unknown machine {cfg.machine!r} (one of {', '.join(MACHINES)})")
    if cfg.accel not in ("kvm", "tcg"):
        raise ValueError(f"accelerator must be resolved to kvm or tcg, not {cfg.accel!r}")
    hosts = [h for h, _ in cfg.forwards]
    for h, g in cfg.forwards:
        if not (0 < h < 65536 and 0 < g < 65536):
            raise ValueError(f"forward {h}:{g}: ports must be 1..65535")
        if hosts.count(h) > 1:
            raise ValueError(f"host port {h} is forwarded twice")
    if cfg.memory < 16:
        raise ValueError(f"memory {cfg.memory} MiB is too small")
    if cfg.smp < 1:
        raise ValueError(f"smp {cfg.smp} must be at least 1")
    if cfg.private_net:
        parse_private_net(cfg.private_net)
        if not cfg.guest_ip:
            raise ValueError("--net mcast:... needs --guest-ip ADDR/PREFIX")
    if cfg.guest_ip and not cfg.private_net:
        raise ValueError("--guest-ip is for --net mcast:...; QEMU's user network gives 10.0.2.15")
    if cfg.guest_ip:
        parse_guest_ip(cfg.guest_ip)


def qemu_argv(cfg: VMConfig, qemu: str = QEMU) -> List[str]:
    """The full QEMU command line for cfg."""
    validate(cfg)
    machine = f"{cfg.machine},{cfg.machine_opts}" if cfg.machine_opts else cfg.machine
    accel = f"{cfg.accel},{cfg.accel_opts}" if cfg.accel_opts else cfg.accel
    argv = [qemu, "-M", machine, "-accel", accel,
            "-cpu", "host" if cfg.accel == "kvm" else "max",
            "-m", str(cfg.memory), "-smp", str(cfg.smp),
            "-nodefaults", "-no-user-config", "-nographic",
            "-serial", cfg.serial]
    if cfg.no_reboot:
        argv.append("-no-reboot")
    nic = "virtio-net-device" if cfg.machine == "microvm" else "virtio-net-pci"
    if cfg.private_net:
        group, port = parse_private_net(cfg.private_net)
        argv += ["-device", f"{nic},netdev=n0,mac={guest_mac(cfg.guest_ip)}",
                 "-netdev", f"socket,id=n0,mcast={group}:{port}"]
    else:
        argv += ["-device", f"{nic},netdev=n0", "-netdev", netdev_arg(cfg)]
    if cfg.machine == "microvm":
        # A PS/2 controller, as Firecracker has, so that Ctrl-Alt-Del (QMP send-key)
        # reaches the guest; q35 has one built in.
        argv += ["-device", "i8042"]
    # Entropy for the guest's CRNG (CONFIG_HW_RANDOM_VIRTIO; docs/crypto.md).
    argv += ["-device", "virtio-rng-device" if cfg.machine == "microvm" else "virtio-rng-pci"]
    if cfg.disk:
        argv += disk_mod.qemu_args(disk_mod.Disk(cfg.disk, cfg.disk_readonly), cfg.machine)
    if cfg.debug_exit:
        argv += ["-device", f"isa-debug-exit,iobase={DEBUG_EXIT_IOBASE:#x},"
                            f"iosize={DEBUG_EXIT_IOSIZE:#04x}"]
    if cfg.qmp_socket:
        argv += ["-qmp", f"unix:{cfg.qmp_socket},server=on,wait=off"]
    argv += list(cfg.extra_args)
    argv += ["-kernel", cfg.kernel, "-initrd", cfg.initrd,
             "-append", kernel_cmdline(cfg.append, cfg.debug_exit, cfg.tsc_khz, cfg.guest_ip,
                                       cfg.panic)]
    return argv


def debug_exit_code(status: int) -> int:
    """What QEMU exits with when the guest writes STATUS to the debug-exit port."""
    return ((status & 0xFF) << 1 | 1) & 0xFF


def map_exit_status(returncode: int, debug_exit: bool, started: bool = True) -> int:
    """QEMU's returncode (subprocess style: negative = killed by that signal) as the
    status `microbeam run` exits with.

    With debug_exit and a guest that ran (started: QEMU got as far as answering QMP),
    an odd code (S << 1) | 1 is mapped back to S; an even code is QEMU's own (0 after
    a plain poweroff). A QEMU that failed before starting keeps its code as is.
    """
    if returncode < 0:
        return 128 + (-returncode)
    if debug_exit and started and returncode & 1:
        return returncode >> 1
    return returncode


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


# `run`'s status when the guest's kernel panicked, or the guest reset without reporting
# a status (with panic=-1 and -no-reboot, a panic is a reset that ends QEMU).
PANIC_STATUS = 70


@dataclass
class Outcome:
    status: int                      # what `microbeam run` exits with
    what: str                        # one line: why


def outcome(returncode: int, debug_exit: bool, started: bool, reason: Optional[str] = None,
            panic: Optional[str] = None, forced_by: Optional[int] = None) -> Outcome:
    """What a finished QEMU means for `run`.

    RETURNCODE is QEMU's (negative: killed by that signal); DEBUG_EXIT whether the guest
    reports the BEAM's status on isa-debug-exit; STARTED whether QEMU answered QMP;
    REASON the `reason` of QMP's SHUTDOWN event, if one came (guest-shutdown,
    guest-reset, guest-panic, host-qmp-quit, host-signal, ...); PANIC the console's
    `Kernel panic - not syncing:` message, if any; FORCED_BY the signal after which
    `run` made QEMU quit or killed it, if it had to.
    """
    if not started:
        status = 128 - returncode if returncode < 0 else (returncode or 1)
        return Outcome(status, f"QEMU did not start ({describe_exit(returncode)})")
    if panic is not None:
        return Outcome(PANIC_STATUS, f"the guest's kernel panicked: {panic}")
    if debug_exit and returncode > 0 and returncode & 1:
        s = returncode >> 1
        return Outcome(s, f"the BEAM ended with status {s}")
    if forced_by is not None:
        try:
            name = signal.Signals(forced_by).name
        except ValueError:
            name = f"signal {forced_by}"
        return Outcome(128 + forced_by, f"the guest did not stop after {name}: QEMU was ended")
    if returncode < 0:
        return Outcome(128 - returncode, f"QEMU was {describe_exit(returncode)}")
    if returncode != 0:
        return Outcome(returncode, f"QEMU failed ({describe_exit(returncode)})")
    if reason in ("guest-reset", "guest-panic"):
        if debug_exit or reason == "guest-panic":
            return Outcome(PANIC_STATUS, "the guest reset without reporting a status "
                                         "(a kernel panic or a CPU fault; see the console)")
        return Outcome(0, "the guest rebooted")
    if reason is not None and reason.startswith("host-"):
        return Outcome(1, f"QEMU was stopped from the host ({reason})")
    if debug_exit:
        return Outcome(0, "the guest powered off")
    return Outcome(0, "the guest powered off (no status from it: its exit policy is not poweroff)")
