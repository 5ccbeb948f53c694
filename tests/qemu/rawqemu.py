"""A QEMU command line run as written: for tests that must boot exactly what a document
or another VMM's config says (microbeam_cli.vm.Guest builds its own command line).

    with RawQemu(argv) as vm:           # argv: a full qemu-system-x86_64 command line
        vm.wait_for_console(r"listening", 120)
        vm.qmp("send-key", keys=[...])
        status = vm.wait_exit(60)

The serial console goes to a file (`-serial file:...` is added unless argv has a
`-serial`), and a QMP socket is added so that tests can press keys. QEMU dies with the
test (PR_SET_PDEATHSIG through microbeam_cli.vm.spawn).
"""

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from microbeam_cli.qmp import QMP
from microbeam_cli.vm import spawn


class RawQemu:
    def __init__(self, argv):
        self.workdir = Path(tempfile.mkdtemp(prefix="microbeam-raw-"))
        self.console_path = self.workdir / "console.log"
        self.argv = list(argv)
        if "-serial" not in self.argv:
            self.argv += ["-serial", f"file:{self.console_path}"]
        self.argv += ["-qmp", f"unix:{self.workdir / 'qmp.sock'},server=on,wait=off"]
        self._stderr = open(self.workdir / "qemu.stderr", "wb")
        self.started_at = time.monotonic()
        self.proc = spawn(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=self._stderr)
        self._qmp = QMP(str(self.workdir / "qmp.sock")).connect(
            timeout=15, alive=lambda: self.proc.poll() is None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        return False

    def console_text(self) -> str:
        try:
            return self.console_path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def stderr_text(self) -> str:
        try:
            return (self.workdir / "qemu.stderr").read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines=40) -> str:
        return "\n".join(self.console_text().splitlines()[-lines:])

    def wait_for_console(self, regex, timeout: float):
        pattern = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = pattern.search(self.console_text())
            if m:
                return m
            if self.proc.poll() is not None:
                raise AssertionError(f"QEMU exited ({self.proc.returncode}) before {regex!r}; "
                                     f"stderr: {self.stderr_text()}\nconsole:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{regex!r} not on the console after {timeout:g} s:\n{self.tail()}")
            time.sleep(0.1)

    def qmp(self, cmd, **args):
        return self._qmp.command(cmd, args or None)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"QEMU still running after {timeout:g} s:\n{self.tail()}") from None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._qmp.close()
        self._stderr.close()
        self._saved = self.console_text()
        shutil.rmtree(self.workdir, ignore_errors=True)
