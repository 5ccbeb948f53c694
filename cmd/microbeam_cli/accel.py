"""Choosing the accelerator: KVM only when a short probe shows it really runs a guest.

Nested KVM can be present (/dev/kvm opens) yet fail at the first instruction ("KVM
internal error") or hang. The probe boots a 64 KiB firmware image whose reset vector
writes a known byte to isa-debug-exit: KVM works iff QEMU exits with the matching code
within a few seconds. Any other outcome means TCG. The verdict is cached for the process.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import qemucmd

PROBE_BYTE = 0x2A
PROBE_TIMEOUT = 5.0
ROM_SIZE = 64 * 1024

# Real-mode code at the reset vector (the last 16 bytes of the firmware, F000:FFF0):
#   mov al, PROBE_BYTE ; out 0xf4, al ; hlt ; jmp $-3 (back to hlt)
_RESET_CODE = bytes([0xB0, PROBE_BYTE, 0xE6, qemucmd.DEBUG_EXIT_IOBASE, 0xF4, 0xEB, 0xFD])

_verdict = None   # (accel, reason) once probed


def probe_rom() -> bytes:
    code = _RESET_CODE.ljust(16, b"\xf4")
    return b"\xf4" * (ROM_SIZE - 16) + code


def probe_argv(rom: str, accel: str = "kvm", qemu: str = qemucmd.QEMU) -> list:
    return [qemu, "-M", "microvm", "-accel", accel, "-m", "16", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-bios", rom,
            "-device", f"isa-debug-exit,iobase={qemucmd.DEBUG_EXIT_IOBASE:#x},"
                       f"iosize={qemucmd.DEBUG_EXIT_IOSIZE:#04x}"]


def probe(accel: str = "kvm", timeout: float = PROBE_TIMEOUT, qemu: str = qemucmd.QEMU):
    """Runs the probe guest under ACCEL; returns (ok, reason)."""
    if accel == "kvm" and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "no usable /dev/kvm"
    if not shutil.which(qemu):
        return False, f"{qemu} not found"
    with tempfile.TemporaryDirectory(prefix="microbeam-probe-") as tmp:
        rom = Path(tmp) / "probe.rom"
        rom.write_bytes(probe_rom())
        p = subprocess.Popen(probe_argv(str(rom), accel, qemu), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            return False, f"probe guest hung for {timeout:g} s"
    want = qemucmd.debug_exit_code(PROBE_BYTE)
    if p.returncode == want:
        return True, "probe guest ran"
    first = (err or b"").decode(errors="replace").strip().splitlines()
    why = first[0] if first else "no message"
    return False, f"probe exited {p.returncode} (wanted {want}): {why}"


def resolve(requested: str = "auto", verbose=None) -> str:
    """'kvm' or 'tcg' for a requested 'auto' | 'kvm' | 'tcg'. For 'auto',
    $MICROBEAM_ACCEL (kvm|tcg) wins if set, else the cached probe verdict."""
    global _verdict
    if requested in ("kvm", "tcg"):
        return requested
    if requested != "auto":
        raise ValueError(f"unknown accelerator {requested!r} (auto|kvm|tcg)")
    env = os.environ.get("MICROBEAM_ACCEL", "").strip().lower()
    if env in ("kvm", "tcg"):
        return env
    if _verdict is None:
        ok, reason = probe("kvm")
        _verdict = ("kvm" if ok else "tcg", reason)
    if verbose:
        verbose(f"accelerator: {_verdict[0]} ({_verdict[1]})")
    return _verdict[0]


def reset_cache() -> None:
    global _verdict
    _verdict = None
