"""The host's TSC frequency: a TCG guest reads the host's TSC unscaled.

Why: on `-M microvm` there is neither HPET nor an ACPI PM timer, and the legacy PIT
interrupt is not routed, so the guest kernel can calibrate its TSC only by polling the
PIT. Under TCG on a busy host that calibration fails ("tsc: Unable to calibrate against
PIT ... Marking TSC unstable") and the boot hangs in calibrate_delay() waiting for jiffies
that never tick. Telling the kernel the frequency (`tsc_early_khz=`) skips the
calibration. The frequency is measured here with RDTSC against CLOCK_MONOTONIC.

The same frequency gives the delay loop (`lpj=`, loops per jiffy = kHz * 1000 / HZ):
without it each secondary CPU calibrates its own, ~80 ms of a TCG boot (measured: "smp:
Brought up" 0.09 s after "Bringing up" against 0.013 s with it). And `tsc=reliable`:
the vCPUs' TSCs are QEMU's one clock, but the kernel's sync check under TCG marks them
unstable and falls back to the jiffies clocksource, which has no vDSO, so every
clock_gettime() (ERTS reads the time constantly) becomes a system call.
"""

import ctypes
import mmap
import platform
import time

# rdtsc ; shl rdx, 32 ; or rax, rdx ; ret
_RDTSC = bytes([0x0F, 0x31, 0x48, 0xC1, 0xE2, 0x20, 0x48, 0x09, 0xD0, 0xC3])

_cached = None


def _rdtsc_function():
    buf = mmap.mmap(-1, mmap.PAGESIZE,
                    prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buf.write(_RDTSC)
    addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    fn = ctypes.CFUNCTYPE(ctypes.c_uint64)(addr)
    fn._keep = buf            # the code page lives as long as the function
    return fn


def measure_khz(interval: float = 0.02, rounds: int = 5):
    """The host TSC frequency in kHz (median of ROUNDS measurements), or None where it
    cannot be measured (not x86-64, or no executable anonymous memory)."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        rdtsc = _rdtsc_function()
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    samples = []
    for _ in range(rounds):
        t0, c0 = time.monotonic_ns(), rdtsc()
        time.sleep(interval)
        t1, c1 = time.monotonic_ns(), rdtsc()
        if t1 > t0 and c1 > c0:
            samples.append((c1 - c0) * 1_000_000 // (t1 - t0))
    if not samples:
        return None
    samples.sort()
    return samples[len(samples) // 2]


def tsc_khz():
    """measure_khz(), cached for the process."""
    global _cached
    if _cached is None:
        _cached = measure_khz() or 0
    return _cached or None


def needs_hint(machine: str, accel: str, append: str) -> bool:
    """The microvm + TCG case, unless the command line already sets the TSC up."""
    words = (append or "").split()
    told = any(w.startswith(("tsc_early_khz=", "tsc=", "lpj=")) for w in words)
    return machine == "microvm" and accel == "tcg" and not told


# Both kernels the project boots (its own and the benchmark's Debian baseline) have
# CONFIG_HZ=250; with another HZ, lpj= only makes udelay() longer or shorter.
KERNEL_HZ = 250


def hint(khz) -> str:
    return f"tsc_early_khz={int(khz)} lpj={int(khz) * 1000 // KERNEL_HZ} tsc=reliable"
