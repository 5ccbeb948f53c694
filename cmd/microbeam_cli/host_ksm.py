"""The host's kernel same-page merging (KSM), for `bench --density`: turned on for one
fleet of idle guests and put back as it was afterwards.

QEMU marks each guest's RAM MADV_MERGEABLE (`-machine mem-merge=on`, its default); ksmd
merges identical pages of such areas once /sys/kernel/mm/ksm/run is 1. A merged page is
one read-only page mapped by every process that had a copy, so /proc/PID/smaps_rollup's
Pss divides it among them like any shared page.

The sysfs root is a parameter, so that tests drive this against a directory of files.
"""

import os
import time
from pathlib import Path

SYSFS = Path("/sys/kernel/mm/ksm")
# What `enable` writes, and so what `restore` puts back.
TUNABLES = ("pages_to_scan", "sleep_millisecs", "run")
COUNTERS = ("full_scans", "pages_shared", "pages_sharing", "pages_unshared", "pages_volatile",
            "ksm_zero_pages", "general_profit")


def unavailable(root: Path = SYSFS, euid: int = None) -> str:
    """Why KSM cannot be used here, or "" if it can."""
    if not (root / "run").is_file():
        return f"no KSM on this host ({root} missing: kernel without CONFIG_KSM)"
    if (os.geteuid() if euid is None else euid) != 0:
        return "KSM needs root (it writes /sys/kernel/mm/ksm/run)"
    if not os.access(root / "run", os.W_OK):
        return f"{root / 'run'} is not writable (sysfs read-only here)"
    return ""


def read_counters(root: Path = SYSFS) -> dict:
    """KSM's own counters that exist on this kernel ({name: int})."""
    out = {}
    for name in COUNTERS:
        try:
            out[name] = int((root / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def scan_rate(pages: int, pass_s: float, sleep_ms: int) -> int:
    """pages_to_scan for one pass over PAGES in about PASS_S seconds, ksmd sleeping
    SLEEP_MS between batches (at least the kernel's default of 100)."""
    batches = max(1.0, pass_s * 1000 / max(1, sleep_ms))
    return max(100, int(pages / batches) + 1)


def process_stat(pid: int) -> dict:
    """/proc/PID/ksm_stat ({"ksm_merging_pages": n, ...}); empty if the kernel has none."""
    try:
        text = Path(f"/proc/{pid}/ksm_stat").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[1].lstrip("-").isdigit():
            out[words[0]] = int(words[1])
    return out


def ksmd_cpu_s() -> float:
    """CPU seconds ksmd (the kernel thread) has used, or None if it is not found."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != "ksmd":
                continue
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


class Session:
    """`with Session(): ...`: KSM's tunables as found are saved on entry and written back
    on exit, whatever happened inside (errors, Ctrl-C). Nothing is written until
    `enable`."""

    def __init__(self, root: Path = SYSFS):
        self.root = Path(root)
        self.saved = {}

    def __enter__(self):
        self.saved = {name: (self.root / name).read_text().strip() for name in TUNABLES}
        return self

    def __exit__(self, *exc):
        self.restore()
        return False

    def _write(self, name, value):
        (self.root / name).write_text(f"{value}\n")

    def enable(self, pages_to_scan: int, sleep_ms: int) -> None:
        self._write("pages_to_scan", pages_to_scan)
        self._write("sleep_millisecs", sleep_ms)
        self._write("run", 1)

    def restore(self) -> None:
        """run last: ksmd goes on with the host's own rate, or, if KSM was off, first
        unmerges every page (run=2) so that it is off as it was, not off with our merged
        pages and its bookkeeping of them left behind; then stops."""
        for name in TUNABLES:
            if name not in self.saved:
                continue
            if name == "run" and self.saved[name] == "0":
                self._write("run", 2)
            self._write(name, self.saved[name])

    def wait_settled(self, min_passes: int, timeout: float, growth: float = 0.02, poll: float = 0.5,
                     say=None) -> dict:
        """Waits until ksmd has finished MIN_PASSES more full scans and the last one
        merged little more (pages_sharing grew by less than GROWTH), or TIMEOUT seconds.
        A page is merged only once it is seen unchanged on two passes, so a fleet needs
        three or more. Returns the counters and {"passes", "wait_s", "timed_out"}."""
        start = read_counters(self.root).get("full_scans", 0)
        t0 = time.monotonic()
        seen, sharing_then = start, 0
        while True:
            now = read_counters(self.root)
            scans, sharing = now.get("full_scans", 0), now.get("pages_sharing", 0)
            if scans != seen:
                if say:
                    say(f"    ksm pass {scans - start} after {time.monotonic() - t0:.0f} s: "
                        f"pages_sharing {sharing}, pages_shared {now.get('pages_shared')}")
                if settled(scans - start, min_passes, sharing_then, sharing, growth):
                    break
                seen, sharing_then = scans, sharing
            if time.monotonic() - t0 > timeout:
                break
            time.sleep(poll)
        return {**now, "passes": scans - start, "wait_s": round(time.monotonic() - t0, 1),
                "timed_out": not settled(scans - start, min_passes, sharing_then, sharing, growth)}


def settled(passes: int, min_passes: int, sharing_before: int, sharing: int, growth: float) -> bool:
    """Done: enough passes, and the last one added under GROWTH of what is merged; or
    twice as many passes and still nothing merged (nothing alike to merge)."""
    if passes >= min_passes and sharing == 0:
        return passes >= 2 * min_passes
    return passes >= min_passes and sharing - sharing_before <= growth * sharing
