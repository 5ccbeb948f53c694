"""Warm snapshots: `microbeam snapshot` saves a guest that serves, `run --restore` resumes it.

The save is QEMU's migration to a file (RAM and device state) of a guest stopped right
after its app answered; next to it, FILE.json holds what a restore needs: QEMU's
arguments and version, the kernel's and initramfs's paths and SHA-256. A restore is a
new QEMU with the same arguments (a new host port, QMP socket and restore channel) plus
`-incoming`, then QMP `cont`, then one line on the guest's virtio console (hvc0), which
PID 1 hears (supervisor/src/lifecycle/restore_watcher.h): the host's wall clock and 32 random
bytes. PID 1 steps the clock, reseeds the kernel's pool, answers, and tells the BEAM.
See docs/snapshots.md.
"""

import hashlib
import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

from . import proc, qemucmd
from .qmp import QMP, QMPError
from .vm import Guest, GuestError, free_port, spawn

FORMAT = 1
CONTROL_ID = "mbrestore"           # the chardev behind the guest's hvc0
READY_PATH = "/health"
# OTP 25's default time warp mode (no_time_warp) slews erlang:system_time toward the
# stepped OS clock at ~1% (measured: 6.8 s of lag took 11 min); multi_time_warp (OTP
# 26's default) jumps at ERTS's next time check, within 60 s. Unless the caller chose.
TIME_WARP = 'microbeam.erl_flags="+C multi_time_warp"'


class SnapshotError(RuntimeError):
    """One line naming the snapshot file and what is wrong with it."""


def control_args(backend: str, machine: str = "microvm") -> List[str]:
    """The restore channel: a virtio console (the guest's hvc0; microvm has no second
    UART); BACKEND is QEMU's chardev (null while saving: the channel only has to exist
    in the saved machine)."""
    bus = "virtio-serial-device" if machine == "microvm" else "virtio-serial-pci"
    return ["-chardev", f"{backend},id={CONTROL_ID}", "-device", f"{bus},id=mbserial",
            "-device", f"virtconsole,chardev={CONTROL_ID},bus=mbserial.0"]


def meta_path(state: Path) -> Path:
    return Path(str(state) + ".json")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def qemu_version(qemu: str) -> str:
    out = subprocess.run([qemu, "--version"], capture_output=True, text=True, check=False)
    return (out.stdout.splitlines() or ["unknown"])[0].strip()


def restore_message(unix_ns: int, seed: bytes) -> bytes:
    """The line PID 1 parses (supervisor/src/lifecycle/restore_message.h)."""
    if len(seed) != 32:
        raise ValueError("seed must be 32 bytes")
    return f"microbeam-restore {unix_ns} {seed.hex()}\n".encode()


def parse_ack(line: str) -> Tuple[int, int]:
    """(restores, clock step in ns) from PID 1's `microbeam-restored N STEP_NS`."""
    words = line.strip().split(" ")
    if len(words) != 3 or words[0] != "microbeam-restored":
        raise ValueError(f"not a restore answer: {line.strip()!r}")
    return int(words[1]), int(words[2])


# ---- what a restore needs ---------------------------------------------------------------

def describe(argv: List[str], kernel: Path, initrd: Path, qemu: str, state: Path,
             accel: str) -> dict:
    return {
        "format": FORMAT,
        "qemu": qemu_version(qemu),
        "accel": accel,
        "argv": argv[1:],                     # QEMU's arguments as saved (without QEMU)
        "kernel": {"path": str(kernel), "sha256": sha256(kernel)},
        "initrd": {"path": str(initrd), "sha256": sha256(initrd)},
        "state": {"file": state.name, "bytes": state.stat().st_size},
        "taken_unix": time.time(),
    }


def load(state: Path) -> dict:
    """FILE.json of the snapshot FILE, checked; SnapshotError in one line otherwise."""
    state = Path(state)
    if not state.is_file():
        raise SnapshotError(f"{state}: no such snapshot (take one with `microbeam snapshot`)")
    mp = meta_path(state)
    try:
        meta = json.loads(mp.read_text())
    except FileNotFoundError:
        raise SnapshotError(f"{mp}: missing (a snapshot is FILE and FILE.json together)") from None
    except (OSError, ValueError) as e:
        raise SnapshotError(f"{mp}: unreadable ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SnapshotError(f"{mp}: not a format {FORMAT} snapshot description")
    for key in ("qemu", "accel", "argv", "kernel", "initrd", "state"):
        if key not in meta:
            raise SnapshotError(f"{mp}: key {key!r} missing")
    size = state.stat().st_size
    if size != meta["state"].get("bytes"):
        raise SnapshotError(f"{state}: {size} bytes, but {meta['state'].get('bytes')} were "
                            "saved (truncated or replaced)")
    return meta


def check_image(meta: dict, state: Path, kernel: Path, initrd: Path, qemu: str) -> None:
    """Refuses (one line) a restore onto another image or another QEMU: the saved RAM
    holds the kernel and the unpacked initramfs it was taken of."""
    for what, path in (("kernel", kernel), ("initrd", initrd)):
        if not Path(path).is_file():
            raise SnapshotError(f"{what} {path} not found")
        want = meta[what]["sha256"]
        have = sha256(Path(path))
        if have != want:
            raise SnapshotError(
                f"{state} was taken of {what} {meta[what]['path']} (sha256 {want[:12]}), but "
                f"{path} is {have[:12]}: a snapshot restores only onto its own image "
                "(take a new one with `microbeam snapshot`)")
    version = qemu_version(qemu)
    if version != meta["qemu"]:
        raise SnapshotError(f"{state} was saved by {meta['qemu']!r}, this is {version!r}: "
                            "take a new snapshot")


def ram_in_file(argv) -> bool:
    """Whether the guest's RAM is a memory-backend-file mapped shared: the snapshot then
    leaves it out of the state (migration's x-ignore-shared) and the file is its RAM."""
    return any(a.startswith("memory-backend-file,") and "share=on" in a.split(",") for a in argv)


def incoming(meta: dict, state: Path) -> str:
    """The state's migration URI: QEMU reads it from `cat`."""
    return "exec:cat " + shlex.quote(str(state))


def start_incoming(qmp_call, meta: dict, state: Path) -> None:
    """For a snapshot whose RAM is in a file: the restore starts `-incoming defer`, since
    x-ignore-shared must be on before the state is read (QEMU 7.2 has no command line
    property for it)."""
    if meta.get("ram_in_file"):
        qmp_call("migrate-set-capabilities",
                 {"capabilities": [{"capability": "x-ignore-shared", "state": True}]})
        qmp_call("migrate-incoming", {"uri": incoming(meta, state)})


def restore_argv(meta: dict, state: Path, qemu: str, kernel: Path, initrd: Path,
                 forwards, qmp_socket: str, control_socket: str, host_addr="127.0.0.1",
                 extra=()) -> List[str]:
    """The saved arguments with what belongs to this copy replaced: the host ports, the
    QMP socket, the restore channel's socket, the image paths (checked equal); then
    EXTRA and `-incoming` from the state file."""
    saved = list(meta["argv"])
    out = [qemu]
    for i, a in enumerate(saved):
        flag = saved[i - 1] if i else ""
        if flag == "-netdev" and a.startswith("user,"):
            cfg = qemucmd.VMConfig(kernel="", initrd="", forwards=list(forwards),
                                   host_addr=host_addr)
            a = qemucmd.netdev_arg(cfg)
        elif flag == "-qmp":
            a = f"unix:{qmp_socket},server=on,wait=off"
        elif flag == "-chardev" and a.endswith(f"id={CONTROL_ID}"):
            a = f"socket,path={control_socket},server=on,wait=off,id={CONTROL_ID}"
        elif flag == "-object" and a.startswith("memory-backend-file,"):
            # RAM saved in a file of its own (x-ignore-shared): every copy maps it
            # privately, sharing its pages until it writes them, never writing it back.
            a = ",".join("share=off" if p == "share=on" else p for p in a.split(","))
        elif flag == "-kernel":
            a = str(kernel)
        elif flag == "-initrd":
            a = str(initrd)
        out.append(a)
    return out + list(extra) + ["-incoming", "defer" if meta.get("ram_in_file") else incoming(meta, state)]


def saved_forwards_guest_ports(meta: dict) -> List[int]:
    for i, a in enumerate(meta["argv"][:-1]):
        if a == "-netdev" and meta["argv"][i + 1].startswith("user,"):
            return [int(p.rpartition(":")[2]) for p in meta["argv"][i + 1].split(",")
                    if p.startswith("hostfwd=")]
    return []


# ---- taking one ---------------------------------------------------------------------------

def take(kernel: Path, initrd: Path, out: Path, memory=128, smp=2, machine="microvm",
         append="", accel="auto", ready_path=READY_PATH, timeout=180.0, say=proc.say,
         extra_args=(), settle_s=0.0) -> dict:
    """Boots the image, waits until GET READY_PATH answers 200 (then SETTLE_S more
    seconds: e.g. for free page reporting to hand the boot's freed pages back), stops
    the guest and saves it to OUT (and OUT.json). EXTRA_ARGS: more QEMU devices, saved
    with the machine. Returns the description, with timings."""
    out = Path(out)
    if out.parent and not out.parent.is_dir():
        raise SnapshotError(f"--out {out}: directory {out.parent} does not exist")
    t0 = time.monotonic()
    if "+C " not in append:
        append = " ".join(filter(None, [TIME_WARP, append]))
    debug_exit = qemucmd.status_by_default(append)
    g = Guest(kernel, initrd, append=append, memory=memory, smp=smp, machine=machine,
              accel=accel, debug_exit=debug_exit,
              extra_args=control_args("null", machine) + list(extra_args), say=say)
    tmp = out.with_name(out.name + ".part")
    try:
        g.launch()
        say(f"booting {kernel} + {initrd} ({g.accel}); waiting for GET {ready_path} = 200")
        while True:
            r = g.http_get(ready_path, timeout=max(1.0, timeout - (time.monotonic() - t0)))
            if r.status == 200:
                break
            if time.monotonic() - t0 > timeout:
                raise SnapshotError(f"GET {ready_path} answered {r.status}, not 200, "
                                    f"for {timeout:g} s")
            time.sleep(0.2)
        t_ready = time.monotonic()
        time.sleep(settle_s)
        t_stop = time.monotonic()
        g.qmp("stop")
        if ram_in_file(g.argv):
            g.qmp("migrate-set-capabilities",
                  {"capabilities": [{"capability": "x-ignore-shared", "state": True}]})
        g.qmp("migrate", {"uri": "exec:cat > " + shlex.quote(str(tmp))})
        _wait_migration(g, timeout=60)
        t_saved = time.monotonic()
        argv = g.argv
        chosen_accel = g.accel
    finally:
        g.kill()
    os.replace(tmp, out)
    meta = describe(argv, Path(kernel), Path(initrd), g.qemu, out, chosen_accel)
    if ram_in_file(argv):
        meta["ram_in_file"] = True
    meta["timings_s"] = {"boot_to_ready": round(t_ready - t0, 3),
                         "save": round(t_saved - t_stop, 3)}
    mp = meta_path(out)
    mp.write_text(json.dumps(meta, indent=1) + "\n")
    say(f"saved {out} ({meta['state']['bytes'] >> 20} MiB in {t_saved - t_stop:.2f} s; the "
        f"first 200 came {t_ready - t0:.2f} s after launch) and {mp}")
    return meta


def _wait_migration(g: Guest, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        st = g.qmp("query-migrate")
        status = st.get("status")
        if status == "completed":
            return
        if status in ("failed", "cancelled"):
            raise SnapshotError(f"QEMU's migration {status}: {st.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise SnapshotError(f"QEMU's migration still {status} after {timeout:g} s")
        time.sleep(0.02)


# ---- restoring ----------------------------------------------------------------------------

def resume(qmp_call, control_socket: str, timeout=30.0, alive=lambda: True) -> dict:
    """Waits for the incoming state, `cont`, then tells PID 1 the time and a seed;
    returns its answer and the timings (s)."""
    t0 = time.monotonic()
    while True:
        status = qmp_call("query-status").get("status")
        if status not in ("inmigrate", "prelaunch"):
            break
        if time.monotonic() - t0 > timeout or not alive():
            raise GuestError(f"the saved state did not load (QEMU {status})")
        time.sleep(0.005)
    t_loaded = time.monotonic()
    if status == "postmigrate" or status == "paused":
        qmp_call("cont")
    elif status != "running":
        raise GuestError(f"after loading the saved state QEMU is {status!r}, not paused")
    t_cont = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(max(1.0, timeout - (t_cont - t0)))
    try:
        s.connect(control_socket)
        s.sendall(restore_message(time.time_ns(), secrets.token_bytes(32)))
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(256)
            if not chunk:
                raise GuestError("the restore channel closed before PID 1 answered")
            buf += chunk
    except socket.timeout:
        raise GuestError(f"PID 1 did not answer on the restore channel in {timeout:g} s "
                         "(an image without supervisor/src/restore_watcher?)") from None
    finally:
        s.close()
    restores, step = parse_ack(buf.split(b"\n")[0].decode(errors="replace"))
    return {"restores": restores, "clock_step_ns": step,
            "load_s": t_loaded - t0, "ack_s": time.monotonic() - t_cont}


class RestoredGuest(Guest):
    """A Guest resumed from a snapshot (for tests, the bench and scripts): the same
    interface (http_get, console_text, qmp, kill), with `restore` holding PID 1's
    answer and the timings."""

    def __init__(self, state, kernel=None, initrd=None, port=None, forwards=(), extra_args=(),
                 qemu=None, say=None):
        self.state = Path(state)
        self.meta = load(self.state)
        kernel = Path(kernel or self.meta["kernel"]["path"])
        initrd = Path(initrd or self.meta["initrd"]["path"])
        qemu = qemu or qemucmd.qemu_binary()
        check_image(self.meta, self.state, kernel, initrd, qemu)
        super().__init__(kernel, initrd, port=port, accel=self.meta["accel"], qemu=qemu,
                         extra_args=extra_args, forwards=forwards, say=say)
        self.restore = None
        self.launched_at = None

    def _launch(self, attempts):
        for attempt in range(attempts):
            if self.requested_port is None:
                self.port = free_port()
            qmp_path = str(self.workdir / "qmp.sock")
            control = str(self.workdir / "restore.sock")
            fwds = [(self.port, qemucmd.GUEST_HTTP_PORT), *self.forwards]
            self.argv = restore_argv(self.meta, self.state, self.qemu, self.kernel, self.initrd,
                                     fwds, qmp_path, control, extra=self.extra_args)
            self.launched_at = time.monotonic()
            failed = self._spawn_qemu("ab")
            if failed is not None:
                err = self.qemu_stderr()
                if self._lost_port_race(err, attempt, attempts):
                    continue
                self._did_not_start(failed, err)
            start_incoming(self.qmp, self.meta, self.state)
            self.restore = resume(self.qmp, control, alive=self.running)
            return None
        raise AssertionError("unreachable")


def serve_restored(state: Path, kernel: Path, initrd: Path, fwds, console_log=None,
                   stop_timeout=20.0, host_addr="127.0.0.1") -> int:
    """`microbeam run --restore FILE`: one restored copy in the foreground, as `run` does
    for a boot (console on the terminal, Ctrl-C powers it down, the BEAM's status)."""
    from . import preflight
    from . import run as run_mod
    meta = load(state)
    qemu = qemucmd.qemu_binary()
    if not shutil.which(qemu):
        raise RuntimeError(f"{qemu} not found: run `microbeam setup` first")
    check_image(meta, state, kernel, initrd, qemu)
    cfg = qemucmd.VMConfig(kernel=str(kernel), initrd=str(initrd), forwards=list(fwds),
                           host_addr=host_addr)
    preflight.check_ports(cfg)
    debug_exit = any(a.startswith("isa-debug-exit") for a in meta["argv"])
    tmp = tempfile.mkdtemp(prefix="microbeam-restore-")
    qmp_path, control = os.path.join(tmp, "qmp.sock"), os.path.join(tmp, "restore.sock")
    argv = restore_argv(meta, state, qemu, kernel, initrd, fwds, qmp_path, control, host_addr)
    proc.say("$ " + " ".join(shlex.quote(a) for a in argv))
    proc.say(run_mod._banner(cfg))
    p = qmp = None
    started = False
    forced_by = None
    t0 = time.monotonic()
    with run_mod._Session(console_log, stop_timeout) as session:
        try:
            p = spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, new_session=True)
            out = [sys.stdout.buffer] + ([session.log] if session.log else [])
            err = run_mod._Stderr(hold=False)
            threads = [threading.Thread(target=run_mod._pump, args=(p.stdout.fileno(), out),
                                        daemon=True),
                       threading.Thread(target=err.pump, args=(p.stderr.fileno(),), daemon=True)]
            for t in threads:
                t.start()
            try:
                qmp = QMP(qmp_path).connect(timeout=15, alive=lambda: p.poll() is None)
                started = True
                start_incoming(qmp.command, meta, state)
                r = resume(qmp.command, control, alive=lambda: p.poll() is None)
                proc.say(f"restored from {state} in {time.monotonic() - t0:.2f} s (restore "
                         f"#{r['restores']} of this guest; clock stepped by "
                         f"{r['clock_step_ns'] / 1e9:+.3f} s)")
            except (QMPError, GuestError) as e:
                proc.say(f"restore failed: {e}")
                if p.poll() is None:
                    p.kill()
            forced_by = run_mod._serve(p, qmp, session)
            rc = p.wait()
        finally:
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
            reason = run_mod._shutdown_reason(qmp)
            if qmp is not None:
                qmp.close()
            shutil.rmtree(tmp, ignore_errors=True)
    o = qemucmd.outcome(rc, debug_exit, started, reason, None, forced_by)
    proc.say(f"{o.what}; exit status {o.status}")
    return o.status


def cli(args) -> int:
    """`microbeam snapshot ...` and `microbeam run --restore FILE ...`."""
    from . import main as main_mod, paths
    try:
        if args.command == "snapshot":
            if args.ready and not args.ready.startswith("/"):
                raise ValueError(f"--ready: {args.ready!r} is not a path (e.g. /health)")
            take(args.kernel or paths.default_kernel(), args.initrd or paths.default_initrd(),
                 args.out or paths.out_dir() / "demo.snap", memory=args.memory, smp=args.smp,
                 machine=args.machine, append=args.append, accel=args.accel,
                 ready_path=args.ready)
            return 0
        if args.eval is not None:
            raise ValueError("--eval boots a guest; a restored one has already booted")
        if getattr(args, "disk", None) is not None:
            # The snapshot holds the guest's page cache and mounted /data, not the disk:
            # a disk changed since would not match what the restored kernel believes.
            raise ValueError("--disk: not with --restore (a snapshot is taken without a data disk)")
        return serve_restored(args.restore, args.kernel or paths.default_kernel(),
                              args.initrd or paths.default_initrd(), main_mod.forwards(args),
                              args.console_log, args.stop_timeout)
    except (SnapshotError, GuestError) as e:
        proc.say(f"error: {e}")
        return 1
