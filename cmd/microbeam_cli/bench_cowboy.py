"""The bench's row for examples/cowboy_hello, next to the demo: a real third-party web
stack (Cowboy 2.8, Ranch 2.1, Cowlib 2.9 from Debian's rabbitmq-server source, compiled
with erlc at bench time as the cowboy_release test does; crypto and ssl in its /init).
Its image's size (`build --release`'s size-report.json) and its boot to the first
`GET /` 200 under TCG, timed like the demo's boots (from just before QEMU starts, same
machine and memory), RUNS boots."""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import bench_report as report
from . import paths


def build(work: Path, say) -> Path:
    """The release (examples/cowboy_hello/build.sh) and its image; returns the image
    directory. A failure raises RuntimeError with the command's last lines."""
    repo = paths.repo_root()
    steps = [([str(repo / "examples" / "cowboy_hello" / "build.sh"), str(work / "rel")], "the release"),
             ([sys.executable, str(repo / "cmd" / "microbeam"), "build", "--release", str(work / "rel"),
               "--out", str(work / "images")], "its image")]
    for argv, what in steps:
        say(f"  cowboy_hello: building {what}")
        p = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
        if p.returncode != 0:
            tail = (p.stdout + p.stderr).strip().splitlines()[-3:]
            raise RuntimeError(f"examples/cowboy_hello: building {what} failed: {' / '.join(tail)}")
    return work / "images"


def measure(runs: int, memory: int, machine: str, say, first_200) -> dict:
    """FIRST_200(guest, timeout, path) is bench.wait_first_200."""
    from .vm import Guest, GuestError
    with tempfile.TemporaryDirectory(prefix="microbeam-bench-cowboy-") as d:
        try:
            images = build(Path(d), say)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            return {"error": str(e).splitlines()[0]}
        sizes = json.loads((images / "size-report.json").read_text())
        out = {"sizes": {k: sizes.get(k) for k in ("kernel", "initramfs_compressed", "total")},
               "memory": memory, "runs": []}
        for i in range(runs):
            t0 = time.monotonic()
            try:
                g = Guest.start(images / "bzImage", images / "microbeam.cpio", append="panic=-1",
                                memory=memory, accel="tcg", machine=machine)
            except GuestError as e:
                out["runs"].append({"first_200_s": None, "error": str(e).splitlines()[0]})
                continue
            try:
                t200 = first_200(g, 300, "/")
                out["runs"].append({"first_200_s": None if t200 is None else t200 - t0})
            finally:
                g.kill()
            say(f"  cowboy_hello boot {i + 1}/{runs}: first GET / 200 after "
                f"{report._fmt(out['runs'][-1]['first_200_s'])} s")
        out["first_200_s"] = report.spread([r["first_200_s"] for r in out["runs"]])
        return out


def rows(result: dict) -> list:
    """The table's rows for the Cowboy image: (figure, it, "-", ratio to the demo's)."""
    cowboy = result.get("cowboy")
    if not cowboy or "sizes" not in cowboy:
        return [("examples/cowboy_hello", (cowboy or {}).get("error", "not measured"), "-", "-")]
    demo = result["systems"]["microbeam"]
    total, demo_total = cowboy["sizes"].get("total"), demo["sizes"].get("total")
    boot = cowboy.get("first_200_s")
    demo_boot = (demo["boot"].get("tcg") or {}).get("first_200_s")

    def r(a, b):
        x = report.ratio(a, b)
        return "-" if x is None else f"{x:.3f}"
    return [("cowboy_hello: image total, bytes (ratio: to the demo's)", report._fmt(total), "-",
             r(total, demo_total)),
            ("cowboy_hello: boot to first GET / 200, tcg (ratio: to the demo's)", report._spread_text(boot),
             "-", r((boot or {}).get("median"), (demo_boot or {}).get("median")))]
