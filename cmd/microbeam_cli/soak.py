"""`microbeam soak`: load from the host for a bounded time against one guest.

`wrk` runs against the guest's forwarded port in rounds; after each round the guest's
/metrics gives its memory (MemTotal - MemAvailable) and the BEAM's uptime. The run passes
when no request failed, the BEAM never restarted (its uptime only grows), and memory at
the end is within the allowed growth of memory at the start. Prints a table and writes
out/soak.json.
"""

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from . import bench_report as report
from . import paths, proc
from .vm import Guest

MEMORY_GROWTH_LIMIT_KIB = 2048   # "flat": at most 2 MiB more used at the end than at the start


@dataclass
class Round:
    seconds: float
    requests: int
    errors: int
    requests_per_s: Optional[float]
    mem_used_kib: Optional[int]
    beam_uptime_ms: Optional[int]


def verdict(start_used_kib: int, rounds: List[Round]) -> List[str]:
    """What went wrong, one line each; empty when the soak passed."""
    problems = []
    errors = sum(r.errors for r in rounds)
    if errors:
        problems.append(f"{errors} failed requests")
    if not rounds or not all(r.requests for r in rounds):
        problems.append("a round served no request")
    uptimes = [r.beam_uptime_ms for r in rounds]
    if any(u is None for u in uptimes) or any(b < a for a, b in zip(uptimes, uptimes[1:])):
        problems.append(f"the BEAM restarted or stopped answering /metrics (uptimes {uptimes})")
    end = rounds[-1].mem_used_kib if rounds else None
    if end is None or start_used_kib is None:
        problems.append("guest memory could not be read")
    elif end - start_used_kib > MEMORY_GROWTH_LIMIT_KIB:
        problems.append(f"guest memory grew {end - start_used_kib} KiB "
                        f"(limit {MEMORY_GROWTH_LIMIT_KIB} KiB): {start_used_kib} -> {end}")
    return problems


def _metrics(g: Guest) -> dict:
    try:
        return g.http_get("/metrics", timeout=30).json() or {}
    except Exception:  # noqa: BLE001 - a guest that does not answer is reported, not raised
        return {}


def soak(seconds: int, round_seconds: int = 60, connections: int = 4, memory: int = 128,
         accel: str = "auto", kernel=None, initrd=None, out: Path = None, say=proc.say) -> dict:
    kernel = kernel or paths.default_kernel()
    initrd = initrd or paths.default_initrd()
    with Guest.start(kernel, initrd, append="panic=-1", memory=memory, accel=accel,
                     say=say) as g:
        say(f"soak: accelerator {g.accel} ({g.choice.why})")
        t0 = time.monotonic()
        while g.http_get("/health", timeout=60).status != 200:
            time.sleep(0.5)
        time.sleep(1.0)  # let the boot settle
        start = _metrics(g)
        start_used = (start.get("os_memory_kib") or {}).get("used")
        say(f"soak: booted in {time.monotonic() - t0:.1f} s; memory used {start_used} KiB; "
            f"{seconds} s of wrk -c{connections} in rounds of {round_seconds} s")
        rounds = []
        left = seconds
        while left > 0:
            d = min(round_seconds, left)
            w = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{d}s", "--timeout", "10s",
                                f"http://127.0.0.1:{g.port}/health"],
                               capture_output=True, text=True, timeout=d + 60)
            parsed = report.parse_wrk(w.stdout)
            m = _metrics(g)
            r = Round(d, parsed["requests"] or 0, parsed["errors"], parsed["requests_per_s"],
                      (m.get("os_memory_kib") or {}).get("used"), m.get("uptime_ms"))
            rounds.append(r)
            say(f"soak: {seconds - left + d:>5} s  {r.requests:>8} requests  {r.errors} errors  "
                f"{r.requests_per_s or 0:>8.0f}/s  memory used {r.mem_used_kib} KiB")
            left -= d
        console = g.console_text()
    problems = verdict(start_used, rounds)
    if "Kernel panic" in console:
        problems.append("the kernel panicked")
    result = {"seconds": seconds, "connections": connections, "memory_mib": memory,
              "start_mem_used_kib": start_used, "rounds": [r.__dict__ for r in rounds],
              "end_mem_used_kib": rounds[-1].mem_used_kib if rounds else None,
              "requests": sum(r.requests for r in rounds), "errors": sum(r.errors for r in rounds),
              "passed": not problems, "problems": problems}
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(seconds: int, out: Path) -> int:
    result = soak(seconds, out=out)
    print(f"soak: {result['requests']} requests in {result['seconds']} s, {result['errors']} errors; "
          f"memory used {result['start_mem_used_kib']} -> {result['end_mem_used_kib']} KiB; "
          + ("passed" if result["passed"] else "FAILED: " + "; ".join(result["problems"])))
    print(f"wrote {out / 'soak.json'}")
    return 0 if result["passed"] else 1
