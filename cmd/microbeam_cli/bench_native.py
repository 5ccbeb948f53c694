"""The bench's native start figure: where KVM cannot boot our kernel, the two parts of a
start that run at full speed here are the kernel's (not measurable without KVM) and
the BEAM's. This measures the second natively, in one run, alternating:

- ours: the image's /init as PID 1 of new PID, mount, UTS and IPC namespaces
  (`unshare --root` into the unpacked cpio, `container=x`, the host's loopback), as
  tests/pid1/nsguest.py runs it;
- the baseline: bench/baseline's `mix release` (Debian's ERTS, copied into the release
  by mix) started natively by `bin/demo start`.

Each start: from just before the launch to the first GET /health 200 on 127.0.0.1:8080,
then SIGKILL of the whole tree. Each runs in a network namespace of its own, so both
listen on the demo's default port as in a guest (a `-demo port P` argument is parsed as
an Erlang term at boot, which loads erl_scan and erl_parse, 230 KB of code a guest's
boot does not load); the poller is a thread that joined that namespace (setns). The
baseline's namespace gets its loopback up from `ip link` before `bin/demo start`.
Phases of ours come from PID 1's and the demo's timeline lines, on the host's
CLOCK_BOOTTIME/CLOCK_MONOTONIC (the namespaces share the host's clocks), plus the CPU
time all of /init's threads had used by the first 200 (/proc/PID/task/*/schedstat):
CPU time over the wall time says how much of the start ran in parallel. A few more
starts with `-init_debug` split `erl_start` to the release started into what init
timed itself (OTP 27 prints each boot script step's microseconds): the boot script's
primLoads, the applications' load and start; the rest is ERTS's own start, the
preloaded modules included, and modules loaded on first call.
"""

import ctypes
import fcntl
import glob
import http.client
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from . import bench_report as report

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


DONE_LINE = re.compile(r"^\{done_in_microseconds,(\d+)\}$")


def init_debug_phases(console: str) -> dict:
    """Seconds init spent on the boot script's steps, from `-init_debug` lines: a step
    line ({primLoad,...}, {apply,...}, {path,...}, {start,...}, an on_load handler) is
    closed by the next {done_in_microseconds,N} not taken by a step opened after it.
    Returns {"boot_script_loading", "application_load", "application_start"}; {} if the
    console has no timed step (OTP 25's init prints no times)."""
    totals = {"boot_script_loading": 0, "application_load": 0, "application_start": 0}
    open_steps, timed = [], False
    for line in console.splitlines():
        line = line.strip()
        done = DONE_LINE.match(line)
        if done:
            if open_steps:
                kind = open_steps.pop()
                if kind:
                    totals[kind] += int(done.group(1))
                    timed = True
            continue
        if line.startswith("{primLoad,"):
            open_steps.append("boot_script_loading")
        elif line.startswith("{apply,{application,load,"):
            open_steps.append("application_load")
        elif line.startswith("{apply,{application,start_boot,"):
            open_steps.append("application_start")
        elif line.startswith(("{apply,", "{path,", "{start,", "{running_on_load_handler,")):
            open_steps.append(None)
    return {k: v / 1e6 for k, v in totals.items()} if timed else {}


def _cpu_seconds(pid: int) -> float:
    """CPU time of all threads of PID 1 in the namespace (unshare's child PID)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    total = 0
    for kid in kids:
        for task in glob.glob(f"/proc/{kid}/task/*/schedstat"):
            try:
                total += int(Path(task).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9 if total else None


DEMO_PORT = 8080
CLONE_NEWNET = 0x40000000


SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def _loopback_up():
    """Sets lo up in the calling thread's network namespace (needs CAP_NET_ADMIN)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14s", b"lo", 0, b""))[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def _first_200_in_netns(p, timeout, loopback_up=False) -> float:
    """_first_200 on DEMO_PORT from a thread that joins P's network namespace (setns
    changes only the calling thread's), once `unshare --net` has made it; with
    LOOPBACK_UP it sets that namespace's lo up first."""
    result = {}

    def poll():
        deadline = time.monotonic() + timeout
        own = os.stat("/proc/self/ns/net").st_ino
        while True:
            try:
                if os.stat(f"/proc/{p.pid}/ns/net").st_ino != own:
                    break
            except OSError:
                return
            if time.monotonic() > deadline or p.poll() is not None:
                return
            time.sleep(0.0005)
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/proc/{p.pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                return
        finally:
            os.close(fd)
        if loopback_up:
            _loopback_up()
        result["t"] = _first_200(DEMO_PORT, p, max(0.0, deadline - time.monotonic()))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    poller.join(timeout + 5)
    return result.get("t")


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
    env = dict(os.environ, container="x")
    argv = ["unshare", "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", f"--root={root}", "/init"]
    if erl_flags:
        argv.append(f"microbeam.erl_flags={erl_flags}")
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                         start_new_session=True)
    t200 = _first_200_in_netns(p, timeout)
    cpu = _cpu_seconds(p.pid) if t200 is not None else None
    time.sleep(0.05)     # the demo prints its timeline line after the first answer
    out = _kill_tree(p)
    run = {"first_200_s": None if t200 is None else t200 - t0, "cpu_s": cpu}
    if "-init_debug" in erl_flags.split():
        run["init_debug_s"] = init_debug_phases(out)
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
    env = dict(os.environ, RELEASE_DISTRIBUTION="none", RELEASE_TMP=tempfile.gettempdir())
    t0 = time.monotonic()
    p = subprocess.Popen(["unshare", "--net", "--", str(release / "bin" / "demo"), "start"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    t200 = _first_200_in_netns(p, timeout, loopback_up=True)
    _kill_tree(p)
    return {"first_200_s": None if t200 is None else t200 - t0}


def measure(initrd: Path, baseline_release: Path, runs: int, say, debug_runs: int = 5) -> dict:
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
        # Separate starts: -init_debug's printing must not count in the figures above.
        runs_debug = [ours_once(root, erl_flags="-init_debug") for _ in range(debug_runs)]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    phases = {}
    for name in {k for r in runs_ours for k in r.get("phases_s", {})}:
        phases[name] = report.spread([r.get("phases_s", {}).get(name) for r in runs_ours])
    phases["cpu_time_all_threads_to_first_200"] = report.spread([r.get("cpu_s") for r in runs_ours])
    for name in {k for r in runs_debug for k in r.get("init_debug_s", {})}:
        phases[f"init_debug:{name}"] = report.spread([r["init_debug_s"].get(name) for r in runs_debug
                                                      if r.get("init_debug_s")])
    return {"microbeam": {"first_200_s": report.spread([r["first_200_s"] for r in runs_ours]),
                          "phases_s": phases, "runs": runs_ours},
            "baseline": {"first_200_s": report.spread([r["first_200_s"] for r in runs_base]),
                         "runs": runs_base} if runs_base else None}
