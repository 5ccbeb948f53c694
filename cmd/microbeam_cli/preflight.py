"""Checks `run` makes before QEMU starts, each failing with one line that says what to do:
enough guest memory for this image, and host ports that are free."""

import errno
import socket

from . import initrd as initrd_mod
from . import qemucmd


def check_memory(cfg: qemucmd.VMConfig) -> None:
    """ValueError if cfg.memory is below what cfg.initrd needs (initrd.py)."""
    try:
        contents = initrd_mod.contents(cfg.initrd)
    except initrd_mod.InitrdError as e:
        raise ValueError(f"initrd {e}") from None
    need = initrd_mod.minimum_memory_mib(contents)
    if cfg.memory < need:
        raise ValueError(
            f"--memory {cfg.memory}: this image needs at least {need} MiB "
            f"({initrd_mod.need_line(contents)})")


def port_in_use(host: str, port: int) -> bool:
    """Whether something listens on HOST:PORT (TCP). Binds as QEMU's user network does
    (SO_REUSEADDR), so a port only in TIME_WAIT counts as free, as it is for QEMU."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                return True
            if e.errno == errno.EACCES:
                raise ValueError(f"host port {port}: binding {host}:{port} is not allowed "
                                 "for this user (ports below 1024 need root); pick another "
                                 "with --port or --forward") from None
            raise
    return False


def check_ports(cfg: qemucmd.VMConfig) -> None:
    """ValueError naming the first forwarded host port that is in use."""
    if cfg.private_net:
        return
    for host_port, guest_port in cfg.forwards:
        if port_in_use(cfg.host_addr, host_port):
            other = _suggest(cfg, host_port)
            how = (f"--port {other}" if guest_port == qemucmd.GUEST_HTTP_PORT
                   else f"--forward {other}:{guest_port}")
            raise ValueError(
                f"host port {host_port} ({cfg.host_addr}:{host_port}, for guest port "
                f"{guest_port}) is in use: stop what listens there (`ss -ltnp "
                f"'sport = :{host_port}'` names it) or forward another host port, "
                f"e.g. {how}")


def _suggest(cfg, busy: int) -> int:
    taken = {h for h, _ in cfg.forwards}
    for p in range(busy + 1, min(busy + 100, 65536)):
        if p not in taken and not port_in_use(cfg.host_addr, p):
            return p
    return busy + 1


def check(cfg: qemucmd.VMConfig) -> None:
    check_memory(cfg)
    check_ports(cfg)
