"""Boot tests: out/bzImage + out/microbeam.cpio under QEMU (TCG by default).

Environment:
  MICROBEAM_OUT          artifact directory (default <repo>/out)
  MICROBEAM_KERNEL       kernel to boot instead of $MICROBEAM_OUT/bzImage
  MICROBEAM_INITRD       initramfs instead of $MICROBEAM_OUT/microbeam.cpio
  MICROBEAM_TEST_ACCEL   tcg (default) | kvm | auto
  MICROBEAM_BOOT_TIMEOUT seconds until the app must answer (default 120)
  MICROBEAM_TEST_APPEND  extra kernel parameters for every boot
  MICROBEAM_HALT_APPEND  the parameters that let the demo halt (see HALT_APPEND)
  MICROBEAM_TEST_LOGDIR  if set, each boot's console is saved there as <test>.log
"""

import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli.vm import Guest, GuestError, free_port  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
KERNEL = Path(os.environ.get("MICROBEAM_KERNEL") or OUT / "bzImage")
INITRD = Path(os.environ.get("MICROBEAM_INITRD") or OUT / "microbeam.cpio")
ACCEL = os.environ.get("MICROBEAM_TEST_ACCEL", "tcg")
BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "120"))
HALT_TIMEOUT = 60.0
# panic=-1 with QEMU's -no-reboot: a kernel panic ends QEMU at once instead of hanging
# the test until its timeout; the console check below still tells a panic from a halt.
BASE_APPEND = " ".join(filter(None, ["panic=-1", os.environ.get("MICROBEAM_TEST_APPEND", "")]))
# The demo app accepts POST /halt/N only when told so on the kernel command line.
HALT_APPEND = os.environ.get("MICROBEAM_HALT_APPEND",
                             'microbeam.erl_flags="-demo allow_halt true"')

MISSING = [str(p) for p in (KERNEL, INITRD) if not p.is_file()]
SKIP_WHY = (f"boot artifacts missing: {', '.join(MISSING)} "
            "(build them first: cmd/microbeam build)")


def boot(append="", debug_exit=False) -> Guest:
    return Guest.start(KERNEL, INITRD, append=" ".join(filter(None, [BASE_APPEND, append])),
                       memory=128, debug_exit=debug_exit, accel=ACCEL)


def save_console(guest: Guest, name: str) -> None:
    logdir = os.environ.get("MICROBEAM_TEST_LOGDIR")
    if logdir:
        Path(logdir).mkdir(parents=True, exist_ok=True)
        (Path(logdir) / f"{name}.log").write_text(guest.console_text())


def wait_ready(guest: Guest):
    """Waits until /health answers 200; returns the seconds it took."""
    t0 = time.monotonic()
    deadline = t0 + BOOT_TIMEOUT
    while True:
        r = guest.http_get("/health", timeout=max(1.0, deadline - time.monotonic()))
        if r.status == 200:
            return time.monotonic() - t0
        if time.monotonic() >= deadline:
            raise AssertionError(f"/health answered {r.status} until the timeout")
        time.sleep(0.5)


@unittest.skipIf(MISSING, SKIP_WHY)
class ServesHttp(unittest.TestCase):
    """One boot: the demo's endpoints through the forwarded port."""

    @classmethod
    def setUpClass(cls):
        cls.guest = boot()
        try:
            cls.ready_after = wait_ready(cls.guest)
        except BaseException:
            cls.guest.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        save_console(cls.guest, "serves_http")
        cls.guest.kill()

    def tail(self):
        return "\nconsole tail:\n" + self.guest.console_tail()

    def test_metrics_pid1_jit(self):
        r = self.guest.http_get("/metrics", timeout=30)
        self.assertEqual(r.status, 200, r.text() + self.tail())
        m = r.json()
        self.assertEqual(m.get("os_pid"), "1", m)
        self.assertEqual(m.get("emu_flavor"), "jit", m)
        self.assertEqual(m.get("otp_release"), "27", m)   # the demo runs on ERTS 27

    def test_health(self):
        self.assertEqual(self.guest.http_get("/health", timeout=30).status, 200)

    def test_boot_timeline_line_and_endpoint(self):
        """Every mark, in order, on one console line after the first reply; /boot too."""
        m = self.guest.wait_for_console(r"demo: boot timeline: (.*)", 30)
        marks = dict(kv.split("=") for kv in m.group(1).split())
        names = ["init_entered", "mounts_done", "erl_start", "release_started", "first_request"]
        self.assertEqual(list(marks), names, m.group(0))
        ms = [float(marks[n].rstrip("ms")) for n in names]
        self.assertEqual(ms, sorted(ms), m.group(0))
        r = self.guest.http_get("/boot", timeout=30).json()
        self.assertEqual(set(r["pid1"]["marks_ms"]), set(names[:3]), r)
        self.assertIsNotNone(r["first_request_monotonic_ms"], r)

    def test_root(self):
        self.assertEqual(self.guest.http_get("/", timeout=30).status, 200)

    def test_keep_alive(self):
        conn = self.guest.connection(timeout=30)
        try:
            conn.request("GET", "/health")
            r1 = conn.getresponse()
            r1.read()
            self.assertEqual(r1.status, 200)
            self.assertIsNotNone(conn.sock, "server closed the connection after one request")
            first = conn.sock.getsockname()
            conn.request("GET", "/metrics")
            r2 = conn.getresponse()
            body = r2.read()
            self.assertEqual(r2.status, 200, body)
            self.assertIsNotNone(conn.sock)
            self.assertEqual(conn.sock.getsockname(), first,
                             "second request went over a new connection")
        finally:
            conn.close()

    def test_console_clean(self):
        self.assertNotIn("Kernel panic", self.guest.console_text())


@unittest.skipIf(MISSING, SKIP_WHY)
class EmergencyShell(unittest.TestCase):
    """--emergency-shell: PID 1's own rescue shell on the serial console, before the BEAM;
    `ls /` lists the image, `boot` goes on to serve the app."""

    def test_prompt_ls_and_boot(self):
        with boot("--emergency-shell") as g:
            prompt = g.wait_for_console(r"microbeam-rescue# ", BOOT_TIMEOUT)
            g.send_console("ls /\r")
            listing = g.wait_for_console(r"l0777 +\d+ init|-0755 +\d+ init", 60, prompt.end())
            g.wait_for_console(r"release", 10, prompt.end())
            g.wait_for_console(r"microbeam-rescue# ", 10, listing.end())
            g.send_console("boot\r")
            wait_ready(g)
            r = g.http_get("/metrics", timeout=30)
            save_console(g, "emergency_shell")
            console = g.console_text()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json().get("os_pid"), "1")
        self.assertIn("rescue shell (--emergency-shell on the command line)", console)
        self.assertIn("leaving the rescue shell; booting the release", console)


@unittest.skipIf(MISSING, SKIP_WHY)
class CapabilitiesInTheGuest(unittest.TestCase):
    """microbeam.caps=sys_boot: /proc/1/status shows that bounding set alone, read in the
    rescue shell that the shell policy opens after the BEAM halts."""

    def test_capbnd_is_the_configured_set(self):
        with boot(HALT_APPEND + " microbeam.exit=shell microbeam.caps=sys_boot") as g:
            wait_ready(g)
            try:
                g.http_post("/halt/0", timeout=30, retry=False)
            except GuestError:
                pass
            prompt = g.wait_for_console(r"microbeam-rescue# ", HALT_TIMEOUT)
            g.send_console("cat /proc/1/status\n")
            m = g.wait_for_console(r"CapBnd:\s*([0-9a-f]+)", 30, prompt.end())
            g.send_console("poweroff\n")
            status = g.wait_exit(HALT_TIMEOUT)
            save_console(g, "capbnd")
        self.assertEqual(int(m.group(1), 16), 1 << 22)  # CAP_SYS_BOOT alone
        self.assertEqual(status, 0)


VMLINUX = Path(os.environ.get("MICROBEAM_VMLINUX") or OUT / "vmlinux")


@unittest.skipUnless(VMLINUX.is_file() and INITRD.is_file(), f"{VMLINUX} missing")
class PvhVmlinux(unittest.TestCase):
    """out/vmlinux, the uncompressed ELF with the PVH entry note that Firecracker and
    cloud-hypervisor load, boots: QEMU takes the PVH entry for an ELF -kernel."""

    def test_boots_through_the_pvh_entry_and_serves(self):
        with Guest.start(VMLINUX, INITRD, append=BASE_APPEND, memory=128, accel=ACCEL) as g:
            wait_ready(g)
            m = g.http_get("/metrics").json()
            save_console(g, "pvh")
            console = g.console_text()
        self.assertEqual(m["os_pid"], "1")
        self.assertNotIn("Kernel panic", console)


def run_eval(expr, *extra) -> subprocess.CompletedProcess:
    """`microbeam run --eval EXPR` on the image, as a user would run it."""
    argv = [sys.executable, str(REPO / "cmd" / "microbeam"), "run", "--accel", ACCEL,
            "--port", str(free_port()), "--kernel", str(KERNEL), "--initrd", str(INITRD),
            "--append", BASE_APPEND, *extra, "--eval", expr]
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=BOOT_TIMEOUT + HALT_TIMEOUT)


@unittest.skipIf(MISSING, SKIP_WHY)
class RunEval(unittest.TestCase):
    """`microbeam run --eval EXPR`: boots the image, evaluates EXPR in the guest once the
    release has started, and exits with its status (through isa-debug-exit)."""

    def run_eval(self, expr, *extra) -> subprocess.CompletedProcess:
        return run_eval(expr, *extra)

    def test_true_exits_zero_and_runs_in_the_started_guest(self):
        p = self.run_eval('erlang:system_info(emu_flavor) =:= jit andalso os:getpid() =:= "1" '
                          'andalso lists:keymember(demo, 1, application:which_applications())')
        self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertNotIn("Kernel panic", p.stdout)

    def test_other_value_exits_one_and_is_printed(self):
        p = self.run_eval("{not_ok, 6 * 7}")
        self.assertEqual(p.returncode, 1, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertIn("microbeam eval: {not_ok,42}", p.stdout)

    def test_exception_exits_two(self):
        p = self.run_eval("list_to_integer(\"forty-two\")")
        self.assertEqual(p.returncode, 2, p.stdout[-3000:] + p.stderr[-2000:])
        self.assertIn("microbeam eval: error:badarg", p.stdout)


@unittest.skipIf(MISSING, SKIP_WHY)
class LockedDown(unittest.TestCase):
    """What an attacker who reaches the app's port finds, read inside the running guest
    by `--eval` (the release started, as it serves): PID 1's bounding set is the
    configured one and no_new_privs is set, the only listening TCP socket (v4 or v6) is
    the app's 8080, and Erlang distribution is off."""

    EXPR = ("{ok, S} = file:read_file(\"/proc/1/status\"), "
            "{ok, T4} = file:read_file(\"/proc/net/tcp\"), "
            "T6 = case file:read_file(\"/proc/net/tcp6\") of {ok, B} -> B; _ -> <<>> end, "
            "io:format(\"lockdown-status~n~s~nlockdown-tcp~n~s~s~nlockdown-alive ~p ~p~n\", "
            "[S, T4, T6, erlang:is_alive(), node()]), ok")

    @staticmethod
    def listening_ports(text):
        ports = set()
        for line in text.splitlines():
            f = line.split()
            if len(f) > 3 and ":" in f[1] and f[3] == "0A":      # st 0A = LISTEN
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
        return ports

    def test_caps_sockets_and_distribution(self):
        p = run_eval(self.EXPR)
        out = p.stdout.replace("\r", "")
        self.assertEqual(p.returncode, 0, out[-3000:] + p.stderr[-2000:])
        status = out.split("lockdown-status\n", 1)[1].split("lockdown-tcp\n", 1)[0]
        tcp = out.split("lockdown-tcp\n", 1)[1].split("lockdown-alive", 1)[0]
        fields = dict(l.split(":", 1) for l in status.splitlines() if ":" in l)
        # cap_sys_boot (22) and cap_net_bind_service (10): the default microbeam.caps.
        self.assertEqual(int(fields["CapBnd"].strip(), 16), (1 << 22) | (1 << 10), status)
        self.assertEqual(fields["NoNewPrivs"].strip(), "1", status)
        self.assertEqual(self.listening_ports(tcp), {8080}, tcp)
        self.assertIn("lockdown-alive false nonode@nohost", out)


@unittest.skipIf(MISSING, SKIP_WHY)
class ShortLoad(unittest.TestCase):
    """`microbeam soak` in short: 20 s of wrk from the host through the forwarded port."""

    def test_no_failed_request_no_restart_memory_flat(self):
        from microbeam_cli import soak
        result = soak.soak(20, round_seconds=10, accel=ACCEL, kernel=KERNEL, initrd=INITRD,
                           say=lambda _msg: None)
        self.assertTrue(result["passed"], result["problems"])
        self.assertGreater(result["requests"], 100)
        self.assertEqual(len(result["rounds"]), 2)


if __name__ == "__main__":
    unittest.main()
