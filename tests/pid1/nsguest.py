"""The real /init of out/microbeam.cpio as PID 1 of a new PID, mount, UTS, network and
IPC namespace on the host: the image is unpacked into a temporary root, and
`unshare --root` runs /init in it with `container=` set (systemd's container interface),
so PID 1 logs to stderr and keeps the stdio it is given as its console.

What the guest's kernel would do to a VM is what the host kernel does to the namespace:
reboot(POWER_OFF) ends PID 1 with SIGINT, reboot(RESTART) with SIGHUP, and `unshare`
dies of the same signal, so the exit policy is visible in the return code.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

BUSYBOX = Path("/bin/busybox")
# PID 1's reboot() in a PID namespace ends it with these signals (reboot(2)).
POWEROFF = -signal.SIGINT
REBOOT = -signal.SIGHUP


class NsGuestError(Exception):
    pass


class NsGuest:
    def __init__(self, initrd: Path, args=(), shell=True, prepare=None, stdio_closed=False):
        self.root = Path(tempfile.mkdtemp(prefix="microbeam-ns-"))
        self.root.chmod(0o755)  # as the VM's root: the app's unprivileged user must get through it
        unpack = subprocess.run(f"zstd -dcq '{initrd}' | cpio -idm --quiet",
                                shell=True, cwd=self.root, capture_output=True, text=True)
        if unpack.returncode != 0:
            raise NsGuestError(f"{initrd}: cannot unpack: {unpack.stderr.strip()}")
        if shell and BUSYBOX.is_file():
            # Not in the image: a shell and port programs for the tests inside the BEAM.
            (self.root / "bin").mkdir(exist_ok=True)
            shutil.copy2(BUSYBOX, self.root / "bin" / "busybox")
            for applet in ("sh", "sleep", "seq", "kill", "echo", "true"):
                os.symlink("busybox", self.root / "bin" / applet)
        if prepare:
            prepare(self.root)  # e.g. break the release before boot
        env = dict(os.environ, container="microbeam-test")
        # STDIO_CLOSED: PID 1 starts with fds 0-2 closed, as under a VMM with no console.
        argv = ["unshare", "--pid", "--fork", "--mount", "--uts", "--net", "--ipc", f"--root={self.root}", "/init", *args]
        if stdio_closed:
            argv = ["sh", "-c", 'exec "$@" <&- >&- 2>&-', "sh", *argv]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self._out = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.pid = self._find_init()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                return
            with self._lock:
                self._out += chunk

    def _find_init(self) -> int:
        """The host PID of the namespace's PID 1: unshare's only child."""
        deadline = time.monotonic() + 10
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        while time.monotonic() < deadline:
            try:
                children = path.read_text().split()
            except OSError:
                children = []
            if children:
                return int(children[0])
            if self.proc.poll() is not None:
                raise NsGuestError(f"unshare ended at once ({self.proc.returncode}): {self.output()}")
            time.sleep(0.01)
        raise NsGuestError("no PID 1 in the namespace after 10 s")

    def output(self) -> str:
        with self._lock:
            return self._out.decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.output(), re.MULTILINE)
            if m:
                return m
            if time.monotonic() > deadline:
                raise NsGuestError(f"no /{pattern}/ within {timeout} s; output:\n{self.output()[-3000:]}")
            if self.proc.poll() is not None:
                self._reader.join(2)
                m = re.search(pattern, self.output(), re.MULTILINE)
                if m:
                    return m
                raise NsGuestError(f"ended ({self.proc.returncode}) without /{pattern}/:\n{self.output()[-3000:]}")
            time.sleep(0.02)

    def send_input(self, text: str):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def kill(self, sig: int):
        os.kill(self.pid, sig)

    def wait_exit(self, timeout: float = 30) -> int:
        """unshare's return code: POWEROFF, REBOOT, or something that is neither."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise NsGuestError(f"still running after {timeout} s; output:\n{self.output()[-3000:]}")
        self._reader.join(2)
        return rc

    def status(self, task=None) -> dict:
        """/proc/<PID 1>/status (or that of its thread TASK) as a dict."""
        fields = {}
        path = Path(f"/proc/{self.pid}/task/{task}/status" if task else f"/proc/{self.pid}/status")
        for line in path.read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        return fields

    def tasks(self) -> list:
        """The thread ids of PID 1 (host numbering)."""
        return sorted(int(t) for t in os.listdir(f"/proc/{self.pid}/task"))

    def processes(self) -> list:
        """(pid, ppid, state, comm) of every process in the namespace, from its own /proc."""
        proc = Path(f"/proc/{self.pid}/root/proc")
        found = []
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
            found.append((int(entry.name), int(ppid), state, comm))
        return sorted(found)

    def run_inside(self, argv, timeout: float = 30) -> subprocess.CompletedProcess:
        """Runs a host program in the namespace's PID and network namespaces (the host's
        files): its orphans are re-parented to the namespace's PID 1."""
        return subprocess.run(["nsenter", "-t", str(self.pid), "-p", "-n", "--", *argv],
                              capture_output=True, text=True, timeout=timeout)

    def http_get(self, path: str, timeout: float = 10) -> tuple:
        """(status, body) from the app on the namespace's loopback, port 8080."""
        code = ("import sys, urllib.request\n"
                f"r = urllib.request.urlopen('http://127.0.0.1:8080{path}', timeout={timeout})\n"
                "sys.stdout.write(str(r.status) + '\\n' + r.read().decode())\n")
        r = self.run_inside(["python3", "-c", code], timeout=timeout + 5)
        if r.returncode != 0:
            raise NsGuestError(f"GET {path}: {r.stderr.strip()[-500:]}")
        status, _, body = r.stdout.partition("\n")
        return int(status), body

    def wait_http(self, path: str = "/health", timeout: float = 30) -> tuple:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.http_get(path, timeout=2)
            except NsGuestError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)  # ends the whole namespace
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
