"""The bench's warm-start figure: one `snapshot` of the image, then RUNS restores, each
timed like a cold boot (from just before QEMU starts to the first /health 200 through
the forwarded port), with the phases of a restore: loading the saved state, `cont` to
PID 1's answer on the restore channel (clock stepped, pool reseeded)."""

import tempfile
import time
from pathlib import Path

from . import bench_report as report
from . import snapshot
from .vm import GuestError


def measure(kernel: Path, initrd: Path, runs: int, say, first_200) -> dict:
    """FIRST_200(guest, timeout) is bench.wait_first_200 (passed in: no import cycle)."""
    with tempfile.TemporaryDirectory(prefix="microbeam-bench-snap-") as d:
        state = Path(d) / "bench.snap"
        try:
            meta = snapshot.take(kernel, initrd, state, accel="tcg", say=lambda m: None)
        except (snapshot.SnapshotError, GuestError, OSError) as e:
            return {"error": str(e).splitlines()[0]}
        out = {"state_bytes": meta["state"]["bytes"], "save_s": meta["timings_s"]["save"],
               "runs": []}
        for i in range(runs):
            t0 = time.monotonic()
            g = snapshot.RestoredGuest(state)
            try:
                g.launch()
                t200 = first_200(g, 60)
                run = {"first_200_s": None if t200 is None else t200 - t0,
                       "load_s": g.restore["load_s"], "ack_s": g.restore["ack_s"]}
            except (GuestError, OSError) as e:
                run = {"first_200_s": None, "error": str(e).splitlines()[0]}
            finally:
                g.kill()
            say(f"  restore {i + 1}/{runs}: first 200 after {report._fmt(run['first_200_s'])} s")
            out["runs"].append(run)
        for key in ("first_200_s", "load_s", "ack_s"):
            out[key] = report.spread([r.get(key) for r in out["runs"]])
        return out
