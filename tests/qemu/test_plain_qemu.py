"""Plain QEMU, as a user would start it: out/bzImage + out/microbeam.cpio with QEMU's
defaults (its default NIC, no ip=), only the port forward, the serial console and no
display added. PID 1's DHCP client must give the guest its address (the demo answers
from the host) on `pc` and on `q35`; a guest without a NIC must reach its release no
later than one given ip=.

    qemu-system-x86_64 -accel tcg -kernel out/bzImage -initrd out/microbeam.cpio \\
        -nic user,hostfwd=tcp:127.0.0.1:PORT-:8080 -display none -serial file:LOG \\
        -append console=ttyS0

Environment: MICROBEAM_OUT, MICROBEAM_KERNEL, MICROBEAM_INITRD, MICROBEAM_BOOT_TIMEOUT
(as tests/qemu/test_boot.py).
"""

import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli.vm import free_port, spawn  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
KERNEL = Path(os.environ.get("MICROBEAM_KERNEL") or OUT / "bzImage")
INITRD = Path(os.environ.get("MICROBEAM_INITRD") or OUT / "microbeam.cpio")
BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "120"))
MISSING = [str(p) for p in (KERNEL, INITRD) if not p.is_file()]
SKIP_WHY = f"boot artifacts missing: {', '.join(MISSING)} (build them first: cmd/microbeam build)"

# What the kernel gets instead of DHCP in the comparison: QEMU's user network, static.
STATIC_IP = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"
LEASE_LINE = re.compile(r"microbeam: eth0: 10\.0\.2\.15/24 by DHCP from 10\.0\.2\.2, gateway 10\.0\.2\.2, "
                        r"DNS 10\.0\.2\.3, lease 86400 s")
ASKING_LINE = re.compile(r"microbeam: eth0 \([0-9a-f:]{17}\): no ip= on the kernel command line; "
                         r"asking DHCP in the background")
LISTENING = re.compile(r"demo: listening on port 8080")
PID1_TIMELINE = re.compile(r"microbeam: boot timeline: init_entered=([0-9.]+)ms .*erl_start=([0-9.]+)ms")
# PID 1's own path, /init to erl_start, is ~0.07 s under TCG; waiting for the link or a
# lease would take seconds.
PID1_PATH_MAX_S = 0.5
# A boot slower than the ip= boot by this much counts as waiting for something.
SLACK_S = 1.0


class PlainQemu:
    """One QEMU started with the plain command line above (plus `extra` arguments)."""

    def __init__(self, extra=(), append="console=ttyS0", nic=True):
        self.workdir = Path(tempfile.mkdtemp(prefix="microbeam-plain-"))
        self.log = self.workdir / "console.log"
        self.port = free_port()
        net = ["-nic", f"user,hostfwd=tcp:127.0.0.1:{self.port}-:8080"] if nic else ["-nic", "none"]
        self.argv = ["qemu-system-x86_64", "-accel", "tcg", *extra, "-kernel", str(KERNEL),
                     "-initrd", str(INITRD), *net, "-display", "none",
                     "-serial", f"file:{self.log}", "-append", append]
        self.t0 = time.monotonic()
        self.proc = spawn(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=open(self.workdir / "stderr", "wb"))

    def console(self) -> str:
        try:
            return self.log.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def tail(self) -> str:
        stderr = (self.workdir / "stderr").read_text(errors="replace")
        return ("\nconsole tail:\n" + "\n".join(self.console().splitlines()[-30:])
                + ("\nQEMU stderr:\n" + stderr if stderr else ""))

    def wait_console(self, pattern) -> float:
        """Seconds from launch until PATTERN is on the console."""
        deadline = self.t0 + BOOT_TIMEOUT
        while True:
            if pattern.search(self.console()):
                return time.monotonic() - self.t0
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{pattern.pattern!r} not on the console" + self.tail())
            time.sleep(0.05)

    def wait_health(self) -> float:
        """Seconds from launch until GET /health answers 200 through the forward."""
        deadline = self.t0 + BOOT_TIMEOUT
        while True:
            # A short timeout a try: until the guest has its address, QEMU's user network
            # accepts on the host and holds the connection while it retries the guest.
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=0.5)
            try:
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return time.monotonic() - self.t0
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("/health did not answer 200" + self.tail())
            time.sleep(0.05)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def pid1_path(text) -> float:
    """Seconds from /init entered to erl_start, from PID 1's boot timeline line."""
    m = PID1_TIMELINE.search(text)
    if not m:
        raise AssertionError("no boot timeline line from PID 1 on the console")
    return (float(m.group(2)) - float(m.group(1))) / 1000


def report(what, seconds):
    print(f"plain_qemu: {what}: {seconds:.2f} s", file=sys.stderr, flush=True)


@unittest.skipIf(MISSING, SKIP_WHY)
class DefaultNicGetsDhcp(unittest.TestCase):
    """QEMU's default NIC (e1000 on pc, e1000e on q35), no ip=: the demo answers."""

    def boot_and_serve(self, name, extra):
        vm = PlainQemu(extra)
        try:
            ready = vm.wait_health()
            report(f"{name}: launch to first 200 (DHCP)", ready)
            text = vm.console()
            self.assertRegex(text, ASKING_LINE)
            self.assertRegex(text, LEASE_LINE)
            self.assertEqual(len(LEASE_LINE.findall(text)), 1, "one line when configured" + vm.tail())
            self.assertNotIn("Kernel panic", text)
            self.assertLess(pid1_path(text), PID1_PATH_MAX_S, "PID 1 waited for the network" + vm.tail())
        finally:
            vm.kill()

    def test_pc(self):
        self.boot_and_serve("pc", [])

    def test_q35(self):
        self.boot_and_serve("q35", ["-M", "q35"])


@unittest.skipIf(MISSING, SKIP_WHY)
class NoNicDoesNotWait(unittest.TestCase):
    """`-nic none`, no ip=: PID 1 finds no Ethernet interface and starts no client, so
    the release starts no later than in a guest given ip= (the kernel's own
    configuration, which the DHCP client stays out of), and PID 1's own path to
    erl_start is as short. (On `pc`, ip= itself waits ~2 s for the e1000's link.)"""

    def test_release_starts_as_soon_as_with_ip(self):
        vm = PlainQemu(append=f"console=ttyS0 {STATIC_IP}")
        try:
            with_ip = vm.wait_console(LISTENING)
            vm.wait_health()  # ip= alone serves
            self.assertNotRegex(vm.console(), ASKING_LINE)  # ip=: the kernel's business
            with_ip_pid1 = pid1_path(vm.console())
        finally:
            vm.kill()
        vm = PlainQemu(nic=False)
        try:
            no_nic = vm.wait_console(LISTENING)
            text = vm.console()
            self.assertNotIn("DHCP", text)
            no_nic_pid1 = pid1_path(text)
        finally:
            vm.kill()
        report("pc: PID 1 /init to erl_start, ip= given", with_ip_pid1)
        report("pc: PID 1 /init to erl_start, no NIC", no_nic_pid1)
        self.assertLess(no_nic_pid1, with_ip_pid1 + 0.2)
        report("pc: launch to 'listening', ip= given", with_ip)
        report("pc: launch to 'listening', no NIC", no_nic)
        self.assertLess(no_nic, with_ip + SLACK_S,
                        f"no NIC: release started after {no_nic:.2f} s, with ip= after {with_ip:.2f} s")


if __name__ == "__main__":
    unittest.main()
