"""`microbeam run`: QEMU in the foreground with the serial console on the terminal.

Before QEMU starts: the images exist, the memory is enough for this image and the host
ports are free (preflight.py), and the accelerator is chosen (accel.py). QEMU runs in its
own session, so the terminal's Ctrl-C reaches only us: SIGINT, SIGTERM or SIGHUP ask the
guest to power down (QMP system_powerdown); if it has not within --stop-timeout seconds
(or on a second signal) QMP `quit`, then SIGKILL. When the terminal is ours, keys are
forwarded to the console in cbreak mode (the guest echoes). The console passes through
us (to the terminal and --console-log), so that a kernel panic is seen.

Under a KVM verdict that was not forced, QEMU dying or a guest silent for
accel.PROBE_TIMEOUT before PID 1's first line means one line and a new boot under TCG.

The exit status is the BEAM's (qemucmd.outcome): PID 1 reports it on isa-debug-exit.
"""

import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import accel as accel_mod
from . import console, hosttsc, preflight, proc, qemucmd
from .qmp import QMP, QMPError
from .vm import Guest, spawn

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _pump(src_fd, dst, watch=None):
    """Copies bytes from SRC_FD to the file(s) in DST (and WATCH) until EOF (QEMU gone)."""
    while True:
        try:
            data = os.read(src_fd, 4096)
        except OSError:
            break
        if not data:
            break
        if watch is not None:
            watch.feed(data)
        for d in dst:
            try:
                d.write(data)
                d.flush()
            except (OSError, ValueError):
                pass
    if watch is not None:
        watch.finish()


def _pump_stdin(qemu_stdin, stop: threading.Event):
    fd = sys.stdin.fileno()
    while not stop.is_set():
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            data = os.read(fd, 1024)
            if not data:
                return
            qemu_stdin.write(data)
            qemu_stdin.flush()
        except (OSError, ValueError):
            return


class _Stderr:
    """QEMU's stderr: passed on to ours, or held back while a KVM start may still be
    retried under TCG (then only our one line is shown). Keeps all of it."""

    def __init__(self, hold: bool):
        self.hold = hold
        self.data = b""
        self._lock = threading.Lock()

    def pump(self, fd):
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.data += chunk
                if not self.hold:
                    _write(sys.stderr.buffer, chunk)

    def release(self):
        with self._lock:
            if self.hold:
                self.hold = False
                _write(sys.stderr.buffer, self.data)

    def text(self) -> str:
        with self._lock:
            return self.data.decode(errors="replace")


def _write(f, data):
    try:
        f.write(data)
        f.flush()
    except (OSError, ValueError):
        pass


def check_images(kernel: Path, initrd: Path) -> None:
    for what, p in (("kernel", kernel), ("initrd", initrd)):
        if not p.is_file():
            raise FileNotFoundError(f"{what} {p} not found (build it with `microbeam build`)")


@dataclass
class _Boot:
    outcome: Optional[qemucmd.Outcome] = None
    stranded: Optional[str] = None     # why a KVM start failed, if it may fall back


class _Session:
    """What lasts across boots of one `run`: the terminal, the stop requests, the log."""

    def __init__(self, console_log, stop_timeout):
        self.interactive = _foreground_tty()
        self.log = open(console_log, "ab") if console_log else None
        self.stop_timeout = stop_timeout
        self.requests = []             # signals received, in order
        self.wake = threading.Event()
        self._saved_tty = None
        self._old = {}

    def __enter__(self):
        def on_signal(signum, _frame):
            self.requests.append(signum)
            self.wake.set()
        self._old = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
        if self.interactive:
            self._saved_tty = termios.tcgetattr(sys.stdin.fileno())
            tty.setcbreak(sys.stdin.fileno())    # keys go through at once; ISIG stays on
        return self

    def __exit__(self, *exc):
        if self._saved_tty is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved_tty)
        for s, h in self._old.items():
            signal.signal(s, h)
        if self.log:
            self.log.close()
        return False


def run(cfg: qemucmd.VMConfig, requested_accel="auto", console_log=None,
        stop_timeout=20.0, qemu=None) -> int:
    qemu = qemu or qemucmd.qemu_binary()
    if not shutil.which(qemu):
        raise RuntimeError(f"{qemu} not found: run `microbeam setup` first")
    check_images(Path(cfg.kernel), Path(cfg.initrd))
    preflight.check(cfg)
    choice = accel_mod.choose(requested_accel, cfg.kernel, cfg.initrd, cfg.machine,
                              cfg.memory, cfg.smp, qemu, say=proc.say)
    with _Session(console_log, stop_timeout) as session:
        while True:
            cfg.accel = choice.accel
            cfg.tsc_khz = (hosttsc.tsc_khz()
                           if hosttsc.needs_hint(cfg.machine, cfg.accel, cfg.append) else None)
            boot = _boot(cfg, choice, session, qemu)
            if boot.stranded is None:
                break
            choice = accel_mod.demote(cfg.kernel, cfg.machine, boot.stranded, qemu)
            proc.say(f"{boot.stranded}: booting again under TCG")
    out = boot.outcome
    proc.say(f"{out.what}; exit status {out.status}")
    return out.status


def _banner(cfg) -> str:
    stop = "   (Ctrl-C powers the guest down)"
    if cfg.private_net:
        return f"guest {cfg.guest_ip} on {cfg.private_net}{stop}"
    fwds = ", ".join(
        f"guest :{g} -> http://{cfg.host_addr}:{h}/" if g == qemucmd.GUEST_HTTP_PORT
        else f"guest :{g} -> {cfg.host_addr}:{h}" for h, g in cfg.forwards)
    return (fwds or "no port forwarded") + stop


def _boot(cfg, choice, session: _Session, qemu) -> _Boot:
    tmp = tempfile.mkdtemp(prefix="microbeam-run-")
    cfg.qmp_socket = os.path.join(tmp, "qmp.sock")
    cfg.serial = "stdio"
    argv = qemucmd.qemu_argv(cfg, qemu)
    proc.say("$ " + " ".join(shlex.quote(a) for a in argv))
    proc.say(_banner(cfg))

    watch = console.Watch()
    err = _Stderr(hold=choice.may_fall_back)
    stop_pumps = threading.Event()
    threads = []
    p = qmp = None
    started = False
    forced_by = stranded = None
    try:
        p = spawn(argv, stdin=subprocess.PIPE if session.interactive else None,
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, new_session=True)
        out = [sys.stdout.buffer] + ([session.log] if session.log else [])
        for target, args in ((_pump, (p.stdout.fileno(), out, watch)),
                             (err.pump, (p.stderr.fileno(),))):
            t = threading.Thread(target=target, args=args, daemon=True)
            t.start()
            threads.append(t)
        if session.interactive:
            threading.Thread(target=_pump_stdin, args=(p.stdin, stop_pumps), daemon=True).start()
        try:
            qmp = QMP(cfg.qmp_socket).connect(timeout=15, alive=lambda: p.poll() is None)
            started = True
        except QMPError as e:
            if p.poll() is None:
                proc.say(f"no QMP ({e}); Ctrl-C will kill QEMU")

        if choice.may_fall_back and not session.requests:
            stranded = _watch_start(p, watch, err, cfg, session)
            if stranded is not None:
                return _Boot(stranded=stranded)
        err.release()
        forced_by = _serve(p, qmp, session)
        rc = p.wait()
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
        stop_pumps.set()
        for t in threads:
            t.join(timeout=2)
        for f in (p.stdin, p.stdout, p.stderr) if p is not None else ():
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        if stranded is None:
            err.release()          # QEMU's own words, unless our one line replaces them
        reason = _shutdown_reason(qmp)
        if qmp is not None:
            qmp.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if Guest.HOSTFWD_BUSY in err.text():
        proc.say("a forwarded host port was taken after the check: pick another with "
                 "--port or --forward")
    return _Boot(outcome=qemucmd.outcome(rc, cfg.debug_exit, started, reason, watch.panic,
                                         forced_by))


def _watch_start(p, watch, err, cfg, session) -> Optional[str]:
    """Under a KVM verdict: None once PID 1 has spoken (or a stop was asked for), else
    why this start failed. With a quiet console only QEMU's death can be seen."""
    deadline = time.monotonic() + accel_mod.PROBE_TIMEOUT
    see_pid1 = not console.quiet(cfg.append)
    while time.monotonic() < deadline and not session.requests:
        if see_pid1 and watch.pid1.is_set():
            return None
        rc = p.poll()
        if rc is not None:
            if watch.pid1.is_set() or (cfg.debug_exit and rc > 0 and rc & 1):
                return None       # it ran: the BEAM reported a status
            time.sleep(0.2)       # let the stderr pump catch up
            return (f"QEMU {qemucmd.describe_exit(rc)} under KVM: "
                    f"{accel_mod.first_line(err.text().encode())}")
        watch.pid1.wait(0.05)
    if session.requests or not see_pid1:
        return None
    what = "kernel printed nothing" if not watch.kernel.is_set() else "guest printed no PID 1 line"
    return f"under KVM the {what} in {accel_mod.PROBE_TIMEOUT:g} s"


def _serve(p, qmp, session: _Session) -> Optional[int]:
    """Waits for QEMU to end, turning signals into a power-down, then force; returns
    the signal after which QEMU had to be forced, if it had to."""
    handled = 0
    deadline = None
    stage = "running"
    forced_by = None
    first = lambda: session.requests[0]  # noqa: E731
    while p.poll() is None:
        session.wake.wait(0.2)
        session.wake.clear()
        if len(session.requests) > handled:
            handled = len(session.requests)
            if stage == "running" and qmp is not None:
                proc.say(f"{signal.Signals(session.requests[-1]).name}: asking the guest to "
                         f"power down (up to {session.stop_timeout:g} s; again to force)")
                stage, deadline = "powerdown", time.monotonic() + session.stop_timeout
                _try(qmp, "system_powerdown")
            elif stage in ("running", "powerdown"):
                stage, deadline, forced_by = "quit", time.monotonic() + 5, first()
                proc.say("forcing QEMU to quit")
                if not _try(qmp, "quit"):
                    p.kill()
            else:
                p.kill()
        if deadline is not None and time.monotonic() >= deadline:
            forced_by = first()
            if stage == "powerdown":
                proc.say(f"guest still up after {session.stop_timeout:g} s: QMP quit")
                stage, deadline = "quit", time.monotonic() + 5
                if not _try(qmp, "quit"):
                    p.kill()
            else:
                proc.say("QEMU did not quit: killing it")
                p.kill()
                deadline = None
    return forced_by


def _shutdown_reason(qmp) -> Optional[str]:
    """The reason of the SHUTDOWN event QEMU sent before it ended, if any."""
    if qmp is None:
        return None
    for e in reversed(qmp.drain_events(timeout=0.5)):
        if e.get("event") == "SHUTDOWN":
            return (e.get("data") or {}).get("reason")
    return None


def _foreground_tty() -> bool:
    """stdin is a terminal and we are its foreground job (not `run &`)."""
    try:
        fd = sys.stdin.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError):
        return False


def _try(qmp, cmd) -> bool:
    if qmp is None:
        return False
    try:
        qmp.command(cmd, timeout=3)
        return True
    except (QMPError, OSError):
        return False
