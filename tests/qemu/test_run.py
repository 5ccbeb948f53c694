"""`microbeam run` end to end under TCG, as a user runs it (a subprocess, no flags beyond
what each case needs): the exit status is the BEAM's, a clean stop is 0, a kernel panic
ends QEMU with a failure, a KVM start that dies falls back to TCG, and what is wrong
before QEMU starts (too little memory, a host port in use) is one line.

Environment: MICROBEAM_OUT (artifacts, default <repo>/out).
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

from tests.qemu.artifacts import INITRD, KERNEL, MICROBEAM, MISSING

from microbeam_cli import initrd  # noqa: E402
from microbeam_cli.vm import free_port  # noqa: E402

FAKE_QEMU = str(Path(__file__).resolve().parent / "fake_qemu.py")
BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "120"))


def http(port, path, method="GET", timeout=BOOT_TIMEOUT):
    """The status of METHOD PATH on 127.0.0.1:PORT, retried until the guest answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                         data=b"" if method == "POST" else None)
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


@unittest.skipIf(MISSING, f"boot artifacts missing: {', '.join(MISSING)}")
class Run(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = Path(self.tmp.name)
        self.env = {**os.environ, "MICROBEAM_ACCEL": "tcg",
                    "MICROBEAM_ACCEL_CACHE": str(self.d / "verdicts.json")}

    def tearDown(self):
        self.tmp.cleanup()

    def start(self, *args, env=None):
        self.stdout = open(self.d / "stdout", "wb")
        self.stderr = open(self.d / "stderr", "wb")
        p = subprocess.Popen([MICROBEAM, "run", *args], stdin=subprocess.DEVNULL,
                             stdout=self.stdout, stderr=self.stderr, env={**self.env, **(env or {})})
        self.addCleanup(self._end, p)
        return p

    def _end(self, p):
        if p.poll() is None:
            p.kill()
            p.wait()
        self.stdout.close()
        self.stderr.close()

    def said(self) -> list:
        return (self.d / "stderr").read_text(errors="replace").splitlines()

    def console(self) -> str:
        return (self.d / "stdout").read_text(errors="replace")

    def finish(self, p, timeout=BOOT_TIMEOUT) -> int:
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"run still going after {timeout:g} s; said: {self.said()[-5:]}")

    def test_exit_status_is_the_beams_and_forwards_repeat(self):
        # two host ports for one guest port: either reaches the app
        a, b = free_port(), free_port()
        p = self.start("--forward", f"{a}:8080", "--forward", f"{b}:8080",
                       "--append", 'microbeam.erl_flags="-demo allow_halt true"')
        self.assertEqual(http(b, "/health"), 200)
        try:
            http(a, "/halt/3", method="POST", timeout=30)
        except OSError:
            pass     # the guest may go before it answers
        self.assertEqual(self.finish(p), 3, self.said()[-5:])
        self.assertIn("demo: halting with 3", self.console())
        self.assertEqual(self.said()[-1], "microbeam: the BEAM ended with status 3; exit status 3")

    def test_ctrl_c_is_a_clean_stop_with_status_0(self):
        port = free_port()
        p = self.start("--port", str(port))
        self.assertEqual(http(port, "/health"), 200)
        p.send_signal(signal.SIGINT)
        self.assertEqual(self.finish(p, 60), 0, self.said()[-5:])
        self.assertEqual(self.said()[-1], "microbeam: the BEAM ended with status 0; exit status 0")

    def test_kvm_dying_at_start_falls_back_and_a_panic_ends_qemu(self):
        # KVM as the rule would pick it (a remembered verdict), QEMU aborting under it as
        # nested KVM does here (fake_qemu.py; the real QEMU under TCG). The guest then
        # panics (no init): panic=-1 and -no-reboot end QEMU, and run fails.
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            self.skipTest("no /dev/kvm: the rule never picks KVM here (test_cli's "
                          "KvmFallback covers the fallback with a fake /dev/kvm)")
        from microbeam_cli import accel
        os.environ["MICROBEAM_ACCEL_CACHE"] = self.env["MICROBEAM_ACCEL_CACHE"]
        try:
            accel.remember(accel.verdict_key(FAKE_QEMU, KERNEL, "microvm"), "kvm", "probe passed")
        finally:
            del os.environ["MICROBEAM_ACCEL_CACHE"]
        p = self.start("--port", str(free_port()), "--append", "rdinit=/nonexistent",
                       env={"MICROBEAM_ACCEL": "", "MICROBEAM_QEMU": FAKE_QEMU,
                            "FAKE_QEMU_KVM": "abort", "FAKE_QEMU_TCG": "exec",
                            "FAKE_QEMU_LOG": str(self.d / "argv.log")})
        status = self.finish(p, 60)
        said = self.said()
        accels = [json.loads(l)[json.loads(l).index("-accel") + 1]
                  for l in (self.d / "argv.log").read_text().splitlines()]
        self.assertEqual(accels, ["kvm", "tcg"])
        self.assertEqual([l for l in said if "booting again under TCG" in l],
                         ["microbeam: QEMU killed by SIGABRT under KVM: error: failed to set "
                          "MSR 0x10a to 0x2000000e1: booting again under TCG"])
        self.assertEqual(status, 70, said[-3:])
        self.assertIn("Kernel panic - not syncing", self.console())
        self.assertRegex(said[-1], r"^microbeam: the guest's kernel panicked: .+; exit status 70$")

    def test_too_little_memory_is_one_line_with_the_minimum(self):
        contents = initrd.contents(INITRD)
        need = initrd.minimum_memory_mib(contents)
        p = self.start("--memory", str(need - 1))
        self.assertEqual(self.finish(p, 30), 1)
        self.assertEqual(self.said(), [
            f"microbeam: error: --memory {need - 1}: this image needs at least {need} MiB "
            f"({initrd.need_line(contents)})"])

    def test_host_port_in_use_is_one_line_before_qemu(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            p = self.start("--port", str(port))
            self.assertEqual(self.finish(p, 30), 1)
        said = self.said()
        self.assertEqual(len(said), 1, said)
        self.assertRegex(said[0], rf"^microbeam: error: host port {port} .* is in use: .*--port \d+$")


if __name__ == "__main__":
    unittest.main()
