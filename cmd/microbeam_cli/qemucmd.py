"""Pure functions: the QEMU command line for a MicroBEAM guest, and exit-status mapping.

Nothing here starts a process or touches the file system, so tests check it directly.
"""

import signal
from dataclasses import dataclass, field
from typing import List, Optional

QEMU = "qemu-system-x86_64"
MACHINES = ("microvm", "q35")
GUEST_HTTP_PORT = 8080

# The kernel configures eth0 itself (CONFIG_IP_PNP), matching QEMU's user network:
# guest 10.0.2.15/24, gateway 10.0.2.2, no autoconfiguration protocol.
GUEST_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"
BASE_CMDLINE = ("console=ttyS0", GUEST_IP)

# isa-debug-exit: a guest byte S written to this port makes QEMU exit with (S << 1) | 1.
DEBUG_EXIT_IOBASE = 0xF4
DEBUG_EXIT_IOSIZE = 0x04
DEBUG_EXIT_CMDLINE = "microbeam.debug_exit=1"   # PID 1 reports its status on the port


@dataclass
class VMConfig:
    kernel: str
    initrd: str
    host_port: int = 8080            # 127.0.0.1:host_port -> guest :8080
    memory: int = 128                # MiB
    smp: int = 2
    machine: str = "microvm"         # microvm | q35
    append: str = ""                 # extra kernel parameters
    accel: str = "tcg"               # resolved accelerator: kvm | tcg
    debug_exit: bool = False
    no_reboot: bool = True           # a guest reboot (or panic with panic=N) ends QEMU
    qmp_socket: Optional[str] = None
    serial: str = "stdio"            # QEMU -serial argument
    host_addr: str = "127.0.0.1"
    extra_forwards: List[tuple] = field(default_factory=list)  # (host_port, guest_port)
    machine_opts: str = ""           # appended to -M NAME, e.g. "pit=on"
    tsc_khz: Optional[int] = None    # tsc_early_khz= for the guest (see hosttsc.py)
    extra_args: List[str] = field(default_factory=list)        # more QEMU arguments


def kernel_cmdline(extra: str = "", debug_exit: bool = False, tsc_khz=None) -> str:
    """console=ttyS0 and the static guest address, then tsc_early_khz= if TSC_KHZ,
    then (with debug_exit) microbeam.debug_exit=1 unless EXTRA already says, then EXTRA."""
    parts = list(BASE_CMDLINE)
    extra = (extra or "").strip()
    if tsc_khz:
        parts.append(f"tsc_early_khz={int(tsc_khz)}")
    if debug_exit and "microbeam.debug_exit=" not in extra:
        parts.append(DEBUG_EXIT_CMDLINE)
    if extra:
        parts.append(extra)
    return " ".join(parts)


def hostfwd(host_addr: str, host_port: int, guest_port: int = GUEST_HTTP_PORT) -> str:
    return f"hostfwd=tcp:{host_addr}:{host_port}-:{guest_port}"


def netdev_arg(cfg: VMConfig) -> str:
    fwds = [hostfwd(cfg.host_addr, cfg.host_port)]
    fwds += [hostfwd(cfg.host_addr, h, g) for h, g in cfg.extra_forwards]
    return ",".join(["user", "id=n0", *fwds])


def validate(cfg: VMConfig) -> None:
    if cfg.machine not in MACHINES:
        raise ValueError(f"unknown machine {cfg.machine!r} (one of {', '.join(MACHINES)})")
    if cfg.accel not in ("kvm", "tcg"):
        raise ValueError(f"accelerator must be resolved to kvm or tcg, not {cfg.accel!r}")
    if not 0 < cfg.host_port < 65536:
        raise ValueError(f"host port {cfg.host_port} out of range 1..65535")
    if cfg.memory < 16:
        raise ValueError(f"memory {cfg.memory} MiB is too small")
    if cfg.smp < 1:
        raise ValueError(f"smp {cfg.smp} must be at least 1")


def qemu_argv(cfg: VMConfig, qemu: str = QEMU) -> List[str]:
    """The full QEMU command line for cfg."""
    validate(cfg)
    machine = f"{cfg.machine},{cfg.machine_opts}" if cfg.machine_opts else cfg.machine
    argv = [qemu, "-M", machine, "-accel", cfg.accel,
            "-cpu", "host" if cfg.accel == "kvm" else "max",
            "-m", str(cfg.memory), "-smp", str(cfg.smp),
            "-nodefaults", "-no-user-config", "-nographic",
            "-serial", cfg.serial]
    if cfg.no_reboot:
        argv.append("-no-reboot")
    nic = "virtio-net-device" if cfg.machine == "microvm" else "virtio-net-pci"
    argv += ["-device", f"{nic},netdev=n0", "-netdev", netdev_arg(cfg)]
    if cfg.machine == "microvm":
        # A PS/2 controller, as Firecracker has, so that Ctrl-Alt-Del (QMP send-key)
        # reaches the guest; q35 has one built in.
        argv += ["-device", "i8042"]
    if cfg.debug_exit:
        argv += ["-device", f"isa-debug-exit,iobase={DEBUG_EXIT_IOBASE:#x},"
                            f"iosize={DEBUG_EXIT_IOSIZE:#04x}"]
    if cfg.qmp_socket:
        argv += ["-qmp", f"unix:{cfg.qmp_socket},server=on,wait=off"]
    argv += list(cfg.extra_args)
    argv += ["-kernel", cfg.kernel, "-initrd", cfg.initrd,
             "-append", kernel_cmdline(cfg.append, cfg.debug_exit, cfg.tsc_khz)]
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
