"""`microbeam run`: QEMU in the foreground with the serial console on the terminal.

QEMU runs in its own session, so the terminal's Ctrl-C reaches only us: SIGINT,
SIGTERM or SIGHUP ask the guest to power down (QMP system_powerdown); if it has not
within --stop-timeout seconds (or on a second signal) QMP `quit`, then SIGKILL. When
the terminal is ours, keys are forwarded to the console in cbreak mode (the guest
echoes). The exit status is QEMU's, or with --debug-exit the guest's.
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
from pathlib import Path

from . import accel as accel_mod
from . import hosttsc, proc, qemucmd
from .qmp import QMP, QMPError
from .vm import spawn


def _pump(src_fd, dst):
    """Copies bytes from SRC_FD to the file(s) in DST until EOF (QEMU gone)."""
    while True:
        try:
            data = os.read(src_fd, 4096)
        except OSError:
            return
        if not data:
            return
        for d in dst:
            try:
                d.write(data)
                d.flush()
            except (OSError, ValueError):
                return


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


def check_images(kernel: Path, initrd: Path) -> None:
    for what, p in (("kernel", kernel), ("initrd", initrd)):
        if not p.is_file():
            raise FileNotFoundError(f"{what} {p} not found (build it with `microbeam build`)")


def run(cfg: qemucmd.VMConfig, requested_accel="auto", console_log=None,
        stop_timeout=20.0) -> int:
    if not shutil.which(qemucmd.QEMU):
        raise RuntimeError(f"{qemucmd.QEMU} not found: run `microbeam setup` first")
    check_images(Path(cfg.kernel), Path(cfg.initrd))
    cfg.accel = accel_mod.resolve(requested_accel, verbose=proc.say)
    if hosttsc.needs_hint(cfg.machine, cfg.accel, cfg.append):
        cfg.tsc_khz = hosttsc.tsc_khz()
    tmp = tempfile.mkdtemp(prefix="microbeam-run-")
    cfg.qmp_socket = os.path.join(tmp, "qmp.sock")
    cfg.serial = "stdio"
    argv = qemucmd.qemu_argv(cfg)
    proc.say("$ " + " ".join(_quote(a) for a in argv))
    if cfg.private_net:
        proc.say(f"guest {cfg.guest_ip} on {cfg.private_net}   (Ctrl-C powers the guest down)")
    else:
        proc.say(f"guest :{qemucmd.GUEST_HTTP_PORT} -> http://{cfg.host_addr}:{cfg.host_port}/"
                 "   (Ctrl-C powers the guest down)")

    interactive = _foreground_tty()
    log = open(console_log, "ab") if console_log else None
    stop_pumps = threading.Event()
    threads = []
    saved_tty = None
    requests = []                      # signals received, in order
    wake = threading.Event()

    def on_signal(signum, _frame):
        requests.append(signum)
        wake.set()

    old_handlers = {s: signal.signal(s, on_signal)
                    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    qemu = None
    qmp = None
    started = False
    try:
        qemu = spawn(argv,
                     stdin=subprocess.PIPE if interactive else None,
                     stdout=subprocess.PIPE if log else None,
                     new_session=True)
        if log:
            out = [sys.stdout.buffer, log]
            t = threading.Thread(target=_pump, args=(qemu.stdout.fileno(), out), daemon=True)
            t.start()
            threads.append(t)
        if interactive:
            saved_tty = termios.tcgetattr(sys.stdin.fileno())
            tty.setcbreak(sys.stdin.fileno())    # keys go through at once; ISIG stays on
            t = threading.Thread(target=_pump_stdin, args=(qemu.stdin, stop_pumps),
                                 daemon=True)
            t.start()
        try:
            qmp = QMP(cfg.qmp_socket).connect(timeout=15, alive=lambda: qemu.poll() is None)
            started = True
        except QMPError as e:
            if qemu.poll() is None:
                proc.say(f"no QMP ({e}); Ctrl-C will kill QEMU")

        handled = 0
        deadline = None
        stage = "running"
        while qemu.poll() is None:
            wake.wait(0.2)
            wake.clear()
            if len(requests) > handled:
                handled = len(requests)
                if stage == "running" and qmp is not None:
                    proc.say(f"{signal.Signals(requests[-1]).name}: asking the guest to "
                             f"power down (up to {stop_timeout:g} s; again to force)")
                    stage, deadline = "powerdown", time.monotonic() + stop_timeout
                    _try(qmp, "system_powerdown")
                elif stage in ("running", "powerdown"):
                    stage, deadline = "quit", time.monotonic() + 5
                    proc.say("forcing QEMU to quit")
                    if qmp is None or not _try(qmp, "quit"):
                        qemu.kill()
                else:
                    qemu.kill()
            if deadline is not None and time.monotonic() >= deadline:
                if stage == "powerdown":
                    proc.say(f"guest still up after {stop_timeout:g} s: QMP quit")
                    stage, deadline = "quit", time.monotonic() + 5
                    if not _try(qmp, "quit"):
                        qemu.kill()
                else:
                    proc.say("QEMU did not quit: killing it")
                    qemu.kill()
                    deadline = None
        rc = qemu.wait()
    finally:
        if qemu is not None and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        stop_pumps.set()
        for t in threads:
            t.join(timeout=2)
        if saved_tty is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved_tty)
        if qmp is not None:
            qmp.close()
        if log:
            log.close()
        for s, h in old_handlers.items():
            signal.signal(s, h)
        shutil.rmtree(tmp, ignore_errors=True)
    status = qemucmd.map_exit_status(rc, cfg.debug_exit, started)
    extra = f", guest status {status}" if cfg.debug_exit and started and rc > 0 and rc & 1 else ""
    proc.say(f"QEMU ended: {qemucmd.describe_exit(rc)}{extra}")
    return status


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


def _quote(arg: str) -> str:
    return shlex.quote(arg)
