"""The bench's native start figure: where KVM cannot boot our kernel, the two parts of a
start that run at full speed here are the kernel's (not measurable without KVM) and
the BEAM's. This measures the second natively, in one run, alternating:

- ours: the image's /init as PID 1 of new PID, mount, UTS and IPC namespaces
  (`unshare --root` into the unpacked cpio, `container=x`, the host's loopback), as
  tests/pid1/nsguest.py runs it;
- the baseline: bench/baseline's `mix release` (Debian's ERTS, copied into the release
  by mix) started natively by `bin/demo start`.

Each start: from just before the launch to the first GET /health 200 on 127.0.0.1:PORT
(a free port, given to the demo as `-demo port P`), then SIGKILL of the whole tree.
Phases of ours come from PID 1's and the demo's timeline lines, on the host's
CLOCK_BOOTTIME/CLOCK_MONOTONIC (the namespaces share the host's clocks).
"""

import http.client
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from . import bench_report as report
from .vm import free_port

PID1_LINE = re.compile(r"microbeam: boot timeline: (.*)")


def _marks(line_re, text):
    m = line_re.search(text)
    out = {}
    for item in (m.group(1).split() if m else []):
        name, _, value = item.partition("=")
        if value.endswith("ms"):
            try:
                out[name] = float(value[:-2]) / 1000.0
            except ValueError:
                pass
    return out


def _first_200(port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return time.monotonic()
        except OSError:
            pass
        finally:
            c.close()
        time.sleep(0.002)
    return None


def _kill_tree(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        out, _ = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        out = b""
    return (out or b"").decode(errors="replace")


def unpack(initrd: Path) -> Path:
    root = Path(tempfile.mkdtemp(prefix="microbeam-native-"))
    r = subprocess.run(f"zstd -dcq '{Path(initrd).resolve()}' | cpio -idm --quiet", shell=True, cwd=root,
                       capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"{initrd}: cannot unpack: {r.stderr.strip()}")
    return root


def ours_once(root: Path, timeout=30.0, erl_flags="") -> dict:
    port = free_port()
    env = dict(os.environ, container="x")
    t0 = time.monotonic()
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc",
                          f"--root={root}", "/init", f"microbeam.erl_flags=-demo port {port} {erl_flags}".strip()],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    t200 = _first_200(port, p, timeout)
    time.sleep(0.05)     # the demo prints its timeline line after the first answer
    out = _kill_tree(p)
    run = {"first_200_s": None if t200 is None else t200 - t0}
    pid1 = _marks(PID1_LINE, out)
    demo = report.parse_timeline(out)
    if t200 is not None and pid1.get("init_entered") and demo.get("release_started"):
        # Both lines are on the host's clocks (CLOCK_BOOTTIME = CLOCK_MONOTONIC here).
        base = time.clock_gettime(time.CLOCK_BOOTTIME) - (time.monotonic() - t0)
        run["phases_s"] = {
            "launch_to_init": pid1["init_entered"] - base,
            "pid1_setup": pid1["erl_start"] - pid1["init_entered"],
            "erts_to_release_started": demo["release_started"] - pid1["erl_start"],
            "release_started_to_first_200": t200 - t0 - (demo["release_started"] - base),
        }
    return run


def baseline_once(release: Path, timeout=30.0) -> dict:
    port = free_port()
    env = dict(os.environ, RELEASE_DISTRIBUTION="none", ELIXIR_ERL_OPTIONS=f"-demo port {port}",
               RELEASE_TMP=tempfile.gettempdir())
    t0 = time.monotonic()
    p = subprocess.Popen([str(release / "bin" / "demo"), "start"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env, start_new_session=True)
    t200 = _first_200(port, p, timeout)
    _kill_tree(p)
    return {"first_200_s": None if t200 is None else t200 - t0}


def measure(initrd: Path, baseline_release: Path, runs: int, say) -> dict:
    root = unpack(initrd)
    try:
        runs_ours, runs_base = [], []
        for i in range(runs):
            runs_ours.append(ours_once(root))
            if baseline_release is not None:
                runs_base.append(baseline_once(baseline_release))
            say(f"  native {i + 1}/{runs}: ours {report._fmt(runs_ours[-1]['first_200_s'], digits=3)} s"
                + (f", baseline {report._fmt(runs_base[-1]['first_200_s'], digits=3)} s"
                   if runs_base else ""))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    phases = {}
    for name in {k for r in runs_ours for k in r.get("phases_s", {})}:
        phases[name] = report.spread([r.get("phases_s", {}).get(name) for r in runs_ours])
    return {"microbeam": {"first_200_s": report.spread([r["first_200_s"] for r in runs_ours]),
                          "phases_s": phases, "runs": runs_ours},
            "baseline": {"first_200_s": report.spread([r["first_200_s"] for r in runs_base]),
                         "runs": runs_base} if runs_base else None}
