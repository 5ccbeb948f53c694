"""`Guest`: one QEMU process running a MicroBEAM image, for tests and scripts.

    with Guest.start(kernel, initrd, append="microbeam.x=1") as g:
        g.wait_for_console(r"listening", timeout=60)
        r = g.http_get("/metrics", timeout=60)
        print(r.status, r.json())
        g.http_post("/halt/3")
        status = g.wait_exit(30)

The console (serial ttyS0) goes to a file (`console_path`, `console_text()`), its input
comes from `send_console()`. QEMU always dies with the Guest: on `kill()`, on leaving
the `with` block, at interpreter exit, and (PR_SET_PDEATHSIG) if this process dies.
"""

import atexit
import ctypes
import http.client
import json
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from . import accel as accel_mod
from . import console, hosttsc, qemucmd
from .qmp import QMP, QMPError

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:   # best effort: the other cleanups still apply
        pass


def spawn(argv, *, stdin=None, stdout=None, stderr=None, new_session=False):
    """Starts QEMU so that it cannot outlive this process."""
    return subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                            preexec_fn=_die_with_parent, start_new_session=new_session)


def free_port(host="127.0.0.1") -> int:
    """A TCP port on HOST that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class GuestError(RuntimeError):
    pass


class GuestExited(GuestError):
    """QEMU ended while we were waiting for something else."""


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # lower-case names
        self.body = body

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.reason} {len(self.body)} bytes>"


def _read_response(conn, method, path, body, headers) -> Response:
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return Response(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, data)


_live = set()


@atexit.register
def _kill_all():
    for g in list(_live):
        g.kill()


class Guest:
    HOSTFWD_BUSY = "Could not set up host forwarding rule"

    def __init__(self, kernel, initrd, append="", memory=128, smp=2, machine="microvm",
                 port=None, debug_exit=False, accel="auto", no_reboot=True,
                 qemu=None, keep_workdir=False, machine_opts="", extra_args=(),
                 private_net=None, guest_ip=None, forwards=(), say=None,
                 extra_forwards=(), accel_opts="", disk=None, disk_readonly=False):
        self.kernel, self.initrd = str(kernel), str(initrd)
        self.append, self.memory, self.smp, self.machine = append, memory, smp, machine
        self.requested_port = port
        self.port = port
        self.debug_exit = debug_exit
        # more (host, guest) ports besides 8080 (extra_forwards: the older name)
        self.forwards = list(forwards) + list(extra_forwards)
        self.say = say
        # The one rule (accel.py): a KVM verdict that fails at start falls back to TCG.
        self.choice = accel_mod.choose(accel, kernel, initrd, machine, memory, smp, qemu)
        self.accel = self.choice.accel
        self.no_reboot = no_reboot
        self.qemu = qemu or qemucmd.qemu_binary()
        self.keep_workdir = keep_workdir
        self.machine_opts = machine_opts
        self.accel_opts = accel_opts
        self.extra_args = list(extra_args)
        self.private_net, self.guest_ip = private_net, guest_ip
        # a data disk (disk.py): attached as /dev/vda; the caller says microbeam.data=
        self.disk, self.disk_readonly = (str(disk) if disk else None), disk_readonly
        self.tsc_khz = (hosttsc.tsc_khz()
                        if hosttsc.needs_hint(machine, self.accel, append) else None)
        self.workdir = None
        self.proc = None
        self.argv = None
        self._qmp = None
        self._started = False
        self._stderr_file = None
        self._console_file = None

    # ---- life cycle -------------------------------------------------------------------

    @classmethod
    def start(cls, kernel, initrd, append="", memory=128, port=None, debug_exit=False,
              **kw) -> "Guest":
        g = cls(kernel, initrd, append=append, memory=memory, port=port,
                debug_exit=debug_exit, **kw)
        g.launch()
        return g

    def config(self) -> qemucmd.VMConfig:
        return qemucmd.VMConfig(
            kernel=self.kernel, initrd=self.initrd,
            forwards=[(self.port, qemucmd.GUEST_HTTP_PORT), *self.forwards],
            memory=self.memory, smp=self.smp, machine=self.machine, append=self.append,
            accel=self.accel, debug_exit=self.debug_exit, no_reboot=self.no_reboot,
            qmp_socket=str(self.workdir / "qmp.sock"), serial="stdio",
            machine_opts=self.machine_opts, accel_opts=self.accel_opts, extra_args=self.extra_args,
            tsc_khz=self.tsc_khz, private_net=self.private_net, guest_ip=self.guest_ip,
            disk=self.disk, disk_readonly=self.disk_readonly)

    def launch(self, attempts=3) -> None:
        for name in (self.kernel, self.initrd):
            if not Path(name).is_file():
                raise FileNotFoundError(name)
        self.workdir = Path(tempfile.mkdtemp(prefix="microbeam-guest-"))
        _live.add(self)
        while True:
            why = self._launch(attempts)
            if why is None:
                return
            # Started under a KVM verdict, and QEMU died or the guest stayed silent.
            self._end_qemu()
            self.choice = accel_mod.demote(self.kernel, self.machine, why, self.qemu)
            self.accel = self.choice.accel
            if hosttsc.needs_hint(self.machine, self.accel, self.append):
                self.tsc_khz = hosttsc.tsc_khz()
            if self.say:
                self.say(f"{why}: booting again under TCG")

    def _end_qemu(self) -> None:
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()
            if self.proc.stdin:
                self.proc.stdin.close()
        self._close_files()
        self._started = False

    def _launch(self, attempts):
        """Starts QEMU; returns None once the guest runs, or why a KVM start that may
        fall back failed."""
        for attempt in range(attempts):
            if self.requested_port is None:
                self.port = free_port()
            self.argv = qemucmd.qemu_argv(self.config(), self.qemu)
            failed = self._spawn_qemu("wb")
            if failed is None:
                return self._watch_start() if self.choice.may_fall_back else None
            err = self.qemu_stderr()
            if self._lost_port_race(err, attempt, attempts):
                continue    # pick another port
            if self.choice.may_fall_back:
                return (f"QEMU {qemucmd.describe_exit(self.proc.returncode)} under KVM: "
                        f"{accel_mod.first_line(err.encode())}")
            self._did_not_start(failed, err)
        raise AssertionError("unreachable")

    def _spawn_qemu(self, console_mode: str):
        """Runs self.argv, the console (file mode CONSOLE_MODE) and stderr to files, and
        connects to its QMP socket (workdir/qmp.sock). None once it answers; else the
        QMPError, QEMU ended and reaped."""
        self._console_file = open(self.console_path, console_mode)
        self._stderr_file = open(self.workdir / "qemu.stderr", "wb")
        self.proc = spawn(self.argv, stdin=subprocess.PIPE, stdout=self._console_file,
                          stderr=self._stderr_file)
        try:
            self._qmp = QMP(str(self.workdir / "qmp.sock")).connect(
                timeout=15, alive=lambda: self.proc.poll() is None)
        except QMPError as e:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self._close_files()
            return e
        self._started = True
        return None

    def _lost_port_race(self, err: str, attempt: int, attempts: int) -> bool:
        """QEMU could not bind the free port it was given (another process took it first),
        and another attempt with another port is allowed."""
        return self.HOSTFWD_BUSY in err and self.requested_port is None and attempt + 1 < attempts

    def _did_not_start(self, failed, err: str):
        self.kill()
        raise GuestError(f"QEMU did not start ({failed}); stderr:\n{err}") from None

    def _watch_start(self):
        """Under a KVM verdict: None once PID 1 has spoken on the console, else why not
        (QEMU died, or silence for accel.PROBE_TIMEOUT)."""
        if console.quiet(self.append):
            return None         # PID 1's lines do not reach the console: nothing to watch
        deadline = time.monotonic() + accel_mod.PROBE_TIMEOUT
        text = b""
        while time.monotonic() < deadline:
            text = self.console_path.read_bytes()
            if console.PID1_LINE.search(text):
                return None
            if not self.running():
                return (f"QEMU {qemucmd.describe_exit(self.returncode)} under KVM before PID 1: "
                        f"{accel_mod.first_line(self.qemu_stderr().encode())}")
            time.sleep(0.05)
        what = ("kernel printed nothing" if not console.KERNEL_LINE.search(text)
                else "guest printed no PID 1 line")
        return f"under KVM the {what} in {accel_mod.PROBE_TIMEOUT:g} s"

    @property
    def console_path(self) -> Path:
        return self.workdir / "console.log"

    def qemu_stderr(self) -> str:
        try:
            return (self.workdir / "qemu.stderr").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self):
        return None if self.proc is None else self.proc.poll()

    def exit_status(self):
        """QEMU's exit status, mapped back to the guest's with debug_exit."""
        rc = self.returncode
        if rc is None:
            return None
        return qemucmd.map_exit_status(rc, self.debug_exit, self._started)

    def wait_exit(self, timeout: float) -> int:
        """Waits for QEMU to end by itself; returns exit_status(). TimeoutError if not."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"guest still running after {timeout:g} s; console tail:\n"
                               + self.console_tail()) from None
        self._close_files()
        return self.exit_status()

    def stop(self, timeout: float = 20.0) -> int:
        """Asks the guest to power down (ACPI); `quit` if it has not within TIMEOUT."""
        if self.running():
            try:
                self.qmp("system_powerdown")
                self.proc.wait(timeout=timeout)
            except (QMPError, OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        return self.exit_status()

    def kill(self) -> None:
        """Ends QEMU now (QMP quit, then SIGKILL) and removes the work directory."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                if self._qmp is not None:
                    self._qmp.command("quit", timeout=2)
                self.proc.wait(timeout=3)
            except (QMPError, OSError, subprocess.TimeoutExpired, ValueError):
                pass
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        self._close_files()
        if self.proc is not None and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        _live.discard(self)
        if self.workdir is not None and not self.keep_workdir:
            self._saved_console = self.console_text()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _close_files(self):
        for f in (self._console_file, self._stderr_file):
            if f is not None:
                f.close()
        self._console_file = self._stderr_file = None

    def __enter__(self):
        if self.proc is None:
            self.launch()
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    # ---- console ----------------------------------------------------------------------

    def console_text(self) -> str:
        if self.workdir is None or not self.console_path.exists():
            return getattr(self, "_saved_console", "")
        return self.console_path.read_bytes().decode("utf-8", errors="replace")

    def console_tail(self, lines: int = 40) -> str:
        return "\n".join(self.console_text().splitlines()[-lines:])

    def wait_for_console(self, regex, timeout: float, start: int = 0):
        """Waits until REGEX (str or compiled) matches the console output from offset
        START; returns the match. GuestExited if QEMU ends first, TimeoutError after
        TIMEOUT seconds (both with the console's tail)."""
        pattern = re.compile(regex, re.M) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        while True:
            alive = self.running()
            m = pattern.search(self.console_text(), start)
            if m:
                return m
            if not alive:
                raise GuestExited(f"QEMU exited ({qemucmd.describe_exit(self.returncode)}) "
                                  f"before {pattern.pattern!r} appeared; console tail:\n"
                                  + self.console_tail())
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{pattern.pattern!r} not on the console after "
                                   f"{timeout:g} s; console tail:\n" + self.console_tail())
            time.sleep(0.1)

    def send_console(self, text) -> None:
        """Types TEXT (str or bytes) on the serial console."""
        data = text.encode() if isinstance(text, str) else text
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    # ---- QMP --------------------------------------------------------------------------

    def qmp(self, cmd: str, args: dict = None, **kwargs):
        if self._qmp is None:
            raise QMPError("QMP not connected")
        return self._qmp.command(cmd, args, **kwargs)

    def send_key(self, *keys, hold_time=None):
        """Presses KEYS together (QEMU qcodes, e.g. 'ctrl', 'alt', 'delete') through QMP
        send-key; needs a keyboard the guest sees (i8042 on q35)."""
        args = {"keys": [{"type": "qcode", "data": k} for k in keys]}
        if hold_time is not None:
            args["hold-time"] = hold_time
        return self.qmp("send-key", args)

    # ---- HTTP through the forwarded port ------------------------------------------------

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        """A fresh HTTP connection to the guest's port 8080 (e.g. for keep-alive tests)."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def http_request(self, method, path, body=None, headers=None, timeout: float = 30.0,
                     retry: bool = True) -> Response:
        """One request; with RETRY, connection failures (the guest not listening yet:
        QEMU's user network accepts, then resets) are retried until TIMEOUT."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            remaining = deadline - time.monotonic()
            conn = self.connection(timeout=max(0.5, min(10.0, remaining)))
            try:
                return _read_response(conn, method, path, body, headers)
            except (OSError, http.client.HTTPException) as e:
                last = e
            finally:
                conn.close()
            if not retry:
                raise GuestError(f"{method} {path}: {last!r}")
            if not self.running():
                raise GuestExited(f"QEMU exited during {method} {path} ({last!r}); "
                                  "console tail:\n" + self.console_tail())
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{method} {path}: no answer in {timeout:g} s "
                                   f"({last!r}); console tail:\n" + self.console_tail())
            time.sleep(0.25)

    def http_get(self, path, timeout: float = 30.0, headers=None, retry=True) -> Response:
        return self.http_request("GET", path, None, headers, timeout, retry)

    def http_post(self, path, body=b"", timeout: float = 30.0, headers=None,
                  retry=True) -> Response:
        return self.http_request("POST", path, body, headers, timeout, retry)
