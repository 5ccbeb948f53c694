"""PID 1 on the host: the image's real /init as PID 1 of new namespaces (see nsguest.py).
Fast (no emulation) and exact: the host sees the namespace's processes, PID 1's
/proc status, and how PID 1 ended (reboot() in a PID namespace ends it with SIGINT for
power off and SIGHUP for reboot).

Needs root (CI runs as root) and util-linux's unshare/nsenter.

Environment:
  MICROBEAM_OUT      artifact directory (default <repo>/out)
  MICROBEAM_INITRD   initramfs instead of $MICROBEAM_OUT/microbeam.cpio
"""

import ctypes
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nsguest import BUSYBOX, POWEROFF, REBOOT, NsGuest  # noqa: E402
from tests.fault_matrix import record  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
INITRD = Path(os.environ.get("MICROBEAM_INITRD") or OUT / "microbeam.cpio")

SKIP = (not INITRD.is_file() and f"{INITRD} missing (build it first: cmd/microbeam build)"
        or os.geteuid() != 0 and "needs root (namespaces, mounts)"
        or "")
READY = r"^demo: listening on port 8080"
HALTED_0 = "the BEAM halted (status 0)"

# Capability numbers (linux/capability.h) for the CapBnd masks.
CAP_NET_BIND_SERVICE, CAP_SYS_BOOT = 10, 22
KEPT = (1 << CAP_SYS_BOOT) | (1 << CAP_NET_BIND_SERVICE)
APP_UID = 1000  # microbeam.user's default


def caps(status: dict) -> dict:
    """The five capability sets of a /proc status, as integers."""
    return {k: int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def app_credentials(kept=KEPT) -> dict:
    """What every thread of PID 1 holds once the app runs (non-root user)."""
    return {"CapInh": kept, "CapPrm": kept, "CapEff": kept, "CapBnd": kept, "CapAmb": kept}


def erl_eval(code: str) -> str:
    """A PID 1 argument that makes the BEAM evaluate `code` once booted (no ' in it)."""
    assert "'" not in code
    return f"microbeam.erl_flags=-eval '{code}'"


def guest(*args, **kw) -> NsGuest:
    return NsGuest(INITRD, args, **kw)


def signal_when(args, ready: str, sig) -> tuple:
    """Boots with ARGS, sends SIG once READY shows: (return code, output, seconds from
    the signal to the end)."""
    with guest(*args) as g:
        g.wait_for(ready)
        t0 = time.monotonic()
        g.kill(sig)
        rc = g.wait_exit(40)
        return rc, g.output(), time.monotonic() - t0


@unittest.skipIf(SKIP, SKIP)
class Boot(unittest.TestCase):
    def test_serves_as_pid_1_with_the_default_bounding_set(self):
        with guest() as g:
            status, body = g.wait_http("/metrics")
            proc = g.status()
            hosts = (g.root / "etc" / "hosts").read_text()
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["os_pid"], "1")
        self.assertEqual(caps(proc), app_credentials())
        self.assertEqual(proc["NoNewPrivs"], "1")
        # The stop signals are PID 1's (its watcher's signalfd), in every thread of it.
        blocked = int(proc["SigBlk"], 16)
        for sig in (signal.SIGINT, signal.SIGPWR, signal.SIGUSR1, signal.SIGUSR2):
            self.assertTrue(blocked & (1 << (sig - 1)), sig.name)
        self.assertIn("localhost microbeam", hosts)

    def test_caps_key_sets_the_bounding_set(self):
        with guest("microbeam.caps=sys_boot") as g:
            g.wait_for(READY)
            self.assertEqual(caps(g.status()), app_credentials(1 << CAP_SYS_BOOT))

    def test_caps_without_sys_boot_keep_it_and_say_so(self):
        with guest("microbeam.caps=net_bind_service") as g:
            g.wait_for(READY)
            self.assertEqual(caps(g.status()), app_credentials())
            out = g.output()
        self.assertIn("microbeam: microbeam.caps=net_bind_service: PID 1 needs cap_sys_boot to power off; "
                      "using cap_net_bind_service,cap_sys_boot", out)

    def test_root_is_the_operators_choice(self):
        with guest("microbeam.user=root", "microbeam.caps=sys_boot") as g:
            g.wait_for(READY)
            proc = g.status()
        self.assertEqual(proc["Uid"].split(), ["0"] * 4)
        kept = 1 << CAP_SYS_BOOT
        self.assertEqual(caps(proc), {"CapInh": 0, "CapPrm": kept, "CapEff": kept, "CapBnd": kept, "CapAmb": 0})

    def test_closed_stdio_becomes_dev_null(self):
        """Under a VMM with no console PID 1 starts with fds 0-2 closed: they must not be
        taken by the signalfd or an input device and become the BEAM's stdio."""
        with guest(stdio_closed=True) as g:
            status, _ = g.wait_http("/health")
            fds = {fd: os.readlink(f"/proc/{g.pid}/fd/{fd}") for fd in (0, 1, 2)}
        self.assertEqual(status, 200)
        self.assertEqual({fd: path.endswith("/dev/null") for fd, path in fds.items()}, {0: True, 1: True, 2: True}, fds)

    def test_bad_values_are_named_in_one_line_and_boot_goes_on(self):
        bad = ["microbeam.exit=explode", "microbeam.shutdown_timeout=soon", "microbeam.hostname=-x",
               "microbeam.caps=cap_bogus", "microbeam.restart_limit=many", "microbeam.frobnicate=1"]
        with guest(*bad) as g:
            status, _ = g.wait_http("/health")
            out = g.output()
        self.assertEqual(status, 200)
        for arg in bad:
            key, value = arg.split("=", 1)
            self.assertRegex(out, rf"(?m)^microbeam: .*{re.escape(key)}\b.*{re.escape(value)}", arg)
        self.assertRegex(out, r"(?m)^microbeam: microbeam\.exit=explode: .*; using poweroff$")


def jit_debug_entries(pid: int, descriptor: int) -> int:
    """How many entries the process's gdb JIT interface list holds: the descriptor's
    first_entry (after two uint32 and a pointer), then each entry's next_entry."""
    with open(f"/proc/{pid}/mem", "rb") as mem:
        mem.seek(descriptor + 16)
        entry, n = struct.unpack("<Q", mem.read(8))[0], 0
        while entry and n < 100_000:
            mem.seek(entry)
            entry, n = struct.unpack("<Q", mem.read(8))[0], n + 1
    return n


@unittest.skipIf(SKIP, SKIP)
class StartCost(unittest.TestCase):
    """What a native start spends (docs/benchmarks.md). ERTS's JIT registered every module it loaded with gdb's JIT interface, formatting a
    name per function and a file name per line: a quarter of a native start and 3.5 MB
    of RAM (docs/benchmarks.md). erts-static/patches/otp-*/0001 builds that metadata only
    for +JPperf or when MICROBEAM_JIT_GDB is set."""

    def descriptor(self, g) -> int:
        debug, stripped = OUT / "microbeam-init.debug", OUT / "microbeam-init"
        if not debug.is_file() or (g.root / "init").read_bytes() != stripped.read_bytes():
            self.skipTest(f"the image's /init is not {stripped} (its symbols are in {debug})")
        nm = subprocess.run(["nm", str(debug)], capture_output=True, text=True, check=True).stdout
        return next(int(line.split()[0], 16) for line in nm.splitlines()
                    if line.endswith(" __jit_debug_descriptor"))

    def test_modules_reach_gdb_only_when_asked(self):
        counts = {}
        for name, args in (("default", ()), ("asked", ("microbeam.env=MICROBEAM_JIT_GDB=1",))):
            with guest(*args) as g:
                g.wait_for(READY)
                counts[name] = jit_debug_entries(g.pid, self.descriptor(g))
        # The emulator's own entries only; asked, one per loaded module (over 100).
        self.assertLessEqual(counts["default"], 2, counts)
        self.assertGreater(counts["asked"], 100, counts)

    def test_beams_read_at_boot_are_stored_plain(self):
        """initramfs/release/preload_boot.escript: the profiled modules' beams are plain
        (no inflating at boot), the others stay gzipped (less RAM)."""
        with guest() as g:
            g.wait_for(READY)
            beams = {f.stem: f.read_bytes()[:4] for f in (g.root / "release").glob("**/*.beam")}
        for module in ("lists", "gen_server", "Elixir.Enum", "Elixir.Demo.Application"):
            self.assertEqual(beams.get(module), b"FOR1", module)
        for module in ("compile", "beam_ssa", "Elixir.Code.Formatter"):  # never loaded to serve
            self.assertEqual(beams.get(module, b"")[:2], b"\x1f\x8b", module)
        self.assertEqual({b[:4] if b[:4] == b"FOR1" else b[:2] for b in beams.values()}, {b"FOR1", b"\x1f\x8b"})

    def test_perf_map_still_written_for_jpperf(self):
        with guest("microbeam.erl_flags=+JPperf map") as g:
            g.wait_for(READY)
            perf_map = Path(f"/proc/{g.pid}/root/tmp/perf-1.map").read_text()
        # One line a function: ADDRESS SIZE $MODULE:FUNCTION/ARITY.
        self.assertTrue(re.search(r"(?m)^0x[0-9a-f]+ [0-9a-f]+ \$'Elixir\.Demo\.Application':start/2$", perf_map),
                        perf_map[:200])


@unittest.skipIf(SKIP, SKIP)
class StopSignals(unittest.TestCase):
    """Each stop signal reaches the right action, gracefully (init:stop, status 0)."""

    def stop_with(self, sig, *args):
        return signal_when(("microbeam.shutdown_timeout=30", *args), READY, sig)

    def test_sigterm_is_erts_init_stop_then_the_exit_policy(self):
        rc, out, _ = self.stop_with(signal.SIGTERM)
        self.assertIn("SIGTERM received - shutting down", out)  # ERTS's own handler
        self.assertIn(f"{HALTED_0}; exit policy: poweroff", out)
        self.assertEqual(rc, POWEROFF, out)

    def test_sigterm_with_reboot_policy_reboots(self):
        rc, out, _ = self.stop_with(signal.SIGTERM, "microbeam.exit=reboot")
        self.assertIn(f"{HALTED_0}; exit policy: reboot", out)
        self.assertEqual(rc, REBOOT, out)

    def test_poweroff_signals(self):
        for sig, name in ((signal.SIGINT, "SIGINT (Ctrl-Alt-Del)"), (signal.SIGPWR, "SIGPWR"),
                          (signal.SIGUSR2, "SIGUSR2")):
            with self.subTest(name):
                rc, out, took = self.stop_with(sig)
                self.assertIn(f"microbeam: {name}: stopping the BEAM (init:stop), then poweroff", out)
                self.assertIn(f"{HALTED_0}; exit policy: poweroff", out)
                self.assertEqual(rc, POWEROFF, out)
                self.assertLess(took, 30, "graceful stop must not wait for the timeout")

    def test_sigusr1_reboots_whatever_the_policy(self):
        rc, out, _ = self.stop_with(signal.SIGUSR1, "microbeam.exit=poweroff")
        self.assertIn("SIGUSR1: stopping the BEAM (init:stop), then reboot", out)
        self.assertIn(f"{HALTED_0}; exit policy: reboot", out)
        self.assertEqual(rc, REBOOT, out)

    # A BEAM that ignores SIGTERM: its signal server has no handler any more.
    DEAF = erl_eval("gen_event:delete_handler(erl_signal_server, erl_signal_handler, []), "
                    "io:format(\"deaf~n\")")

    def test_timeout_ends_a_beam_that_does_not_stop(self):
        rc, out, took = signal_when(("microbeam.shutdown_timeout=2", self.DEAF), r"^deaf", signal.SIGPWR)
        self.assertIn("the BEAM did not stop within microbeam.shutdown_timeout", out)
        self.assertEqual(rc, POWEROFF, out)
        record("BEAM deaf to SIGTERM at shutdown (timeout 2 s)", "ended at `microbeam.shutdown_timeout`, power off",
               took, "namespace", "SIGPWR to PID 1's end")

    def test_port_program_deaf_to_sigterm_is_killed(self):
        """A port program that ignores SIGTERM: at the end PID 1 sends every process
        SIGTERM, waits up to 2 s, then SIGKILL; the poweroff is not held up longer."""
        code = ('open_port({spawn_executable, "/bin/sh"}, [{args, ["-c", "trap \\"\\" TERM; '
                'echo deaf-port; while true; do sleep 1; done"]}]), io:format("port started~n")')
        with guest(erl_eval(code)) as g:
            g.wait_for(r"^port started")
            deadline = time.monotonic() + 10
            while not [p for p in g.processes() if p[3] == "sleep"] and time.monotonic() < deadline:
                time.sleep(0.1)
            t0 = time.monotonic()
            g.kill(signal.SIGPWR)
            rc = g.wait_exit(30)
            took = time.monotonic() - t0
            out = g.output()
        self.assertIn(HALTED_0, out)
        self.assertEqual(rc, POWEROFF, out)
        self.assertLess(took, 10, "SIGKILL after the 2 s grace, not a hang")
        record("port program deaf to SIGTERM at shutdown", "SIGTERM, 2 s grace, SIGKILL, power off", took,
               "namespace", "SIGPWR to PID 1's end")

    def test_second_request_acts_at_once(self):
        with guest("microbeam.shutdown_timeout=60", self.DEAF) as g:
            g.wait_for(r"^deaf")
            g.kill(signal.SIGUSR2)
            g.wait_for(r"stopping the BEAM")
            t0 = time.monotonic()
            g.kill(signal.SIGUSR1)
            rc = g.wait_exit(30)
            out = g.output()
        self.assertIn("SIGUSR1 again while stopping: reboot now", out)
        self.assertEqual(rc, REBOOT, out)
        self.assertLess(time.monotonic() - t0, 10)


@unittest.skipIf(SKIP, SKIP)
class ExitPaths(unittest.TestCase):
    def test_halt_and_abort_are_reported_then_poweroff(self):
        for code, how in (("erlang:halt(3)", "halted (status 3)"), ("erlang:halt(abort)", "aborted (status 134)")):
            with self.subTest(code), guest(erl_eval(code)) as g:
                rc = g.wait_exit(30)
                out = g.output()
                self.assertIn(f"the BEAM {how}; exit policy: poweroff", out)
                self.assertEqual(rc, POWEROFF, out)

    def test_fatal_signal_in_pid_1(self):
        rc, out, took = signal_when((), READY, signal.SIGSEGV)
        self.assertIn("the BEAM got fatal signal SIGSEGV in PID 1 (status 139)", out)
        self.assertEqual(rc, POWEROFF, out)
        record("fatal signal (SIGSEGV) in PID 1", "crash handler runs the exit policy (power off)", took,
               "namespace", "SIGSEGV to PID 1's end")

    def crash_loop_into_the_shell(self, code, restart_limit, shell_input=(), wait_for=None):
        """Boots with the restart policy and CODE halting the BEAM each time, until the
        crash loop opens the rescue shell; sends SHELL_INPUT (waiting for WAIT_FOR after
        it, if given), then poweroff. Returns (exit status, output)."""
        args = ("microbeam.exit=restart", f"microbeam.restart_limit={restart_limit}",
                "microbeam.restart_window=60", erl_eval(code))
        with guest(*args) as g:
            g.wait_for(r"crash loop")
            g.wait_for(r"microbeam-rescue# ")
            for line in shell_input:
                g.send_input(line)
            if wait_for:
                g.wait_for(wait_for)
            g.send_input("poweroff\n")
            return g.wait_exit(30), g.output()

    def test_restart_then_crash_loop_goes_to_the_rescue_shell(self):
        """Each restart re-execs /init as the app's user: it keeps exactly the caps it had
        (ambient carries them across the exec), redoes nothing privileged, powers off."""
        rc, out = self.crash_loop_into_the_shell("erlang:halt(5)", 2, ["cat /proc/1/status\n"], r"CapAmb:\s*\w+")
        fields = dict(re.findall(r"(?m)^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb):\s*(.*?)\r?$", out))
        self.assertEqual(fields["Uid"].split(), [str(APP_UID)] * 4, out)
        self.assertEqual(caps(fields), app_credentials(), out)
        self.assertNotRegex(out, r"Operation not permitted|Permission denied", out)
        self.assertEqual(out.count("microbeam: starting ERTS"), 3, out)  # first start + 2 restarts
        self.assertEqual(out.count("exit policy: restart"), 2, out)
        self.assertNotIn("Crash dump", out)  # ERTS's helper did not die under the old BEAM
        self.assertEqual(rc, POWEROFF, out)

    def test_crash_dump_is_reported_after_a_restart(self):
        """erlang:halt("reason") writes ERTS's crash dump into the RAM-backed root; the
        PID 1 that the restart policy re-execs finds it, says its slogan, keeps it aside."""
        rc, out = self.crash_loop_into_the_shell('erlang:halt("boom from the test")', 1,
                                                 ["ls /crash\n"], r"erl_crash.dump.previous")
        self.assertIn("Crash dump is being written to: /crash/erl_crash.dump", out)
        self.assertRegex(out, r"microbeam: the BEAM before this start left a crash dump \(\d+ bytes, "
                              r"Slogan: boom from the test\), now at /crash/erl_crash.dump.previous")
        self.assertEqual(rc, POWEROFF, out)

    def test_shell_policy_runs_the_rescue_shell_after_the_beam(self):
        with guest("microbeam.exit=shell", "microbeam.caps=cap_sys_boot", erl_eval("erlang:halt(0)")) as g:
            g.wait_for(r"microbeam-rescue# ")
            g.send_input("cat /proc/1/status\n")
            m = g.wait_for(r"CapBnd:\s*(\w+)")
            g.send_input("reboot\n")
            rc = g.wait_exit(30)
        self.assertEqual(int(m.group(1), 16), 1 << CAP_SYS_BOOT)
        self.assertEqual(rc, REBOOT, g.output())

    def test_missing_boot_file_says_why_and_a_closed_console_powers_off(self):
        def break_release(root):
            for boot in root.glob("release/releases/*/start.boot"):
                boot.unlink()
        with guest(prepare=break_release) as g:
            g.wait_for(r"microbeam: the BEAM cannot start: .*start\.boot: missing boot file")
            g.wait_for(r"microbeam-rescue# ")
            g.proc.stdin.close()  # the console goes away: no hang
            rc = g.wait_exit(30)
        self.assertEqual(rc, POWEROFF, g.output())

    def test_emergency_shell_then_boot(self):
        with guest("--emergency-shell") as g:
            g.wait_for(r"microbeam-rescue# ")
            g.send_input("ls /release\n")
            g.wait_for(r"(?m) releases\r?$")
            g.send_input("boot\n")
            status, _ = g.wait_http("/health")
        self.assertEqual(status, 200)


def tgkill_all(pid: int, sig: int) -> int:
    """SIG to every thread of PID at once (tgkill): each one takes it itself."""
    libc = ctypes.CDLL(None, use_errno=True)
    tasks = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    return sum(libc.syscall(234, pid, t, int(sig)) == 0 for t in tasks)  # SYS_tgkill


@unittest.skipIf(SKIP, SKIP)
class Endings(unittest.TestCase):
    """The paths that used to hang or lose a request once the BEAM had ended: each
    with a watchdog (wait_exit's timeout) and the end state named."""

    def test_stop_request_in_the_shell_policys_shell_powers_off(self):
        with guest("microbeam.exit=shell", erl_eval("erlang:halt(0)")) as g:
            g.wait_for(r"microbeam-rescue# ")
            t0 = time.monotonic()
            g.kill(signal.SIGPWR)
            rc = g.wait_exit(15)
            took = time.monotonic() - t0
            out = g.output()
        self.assertIn("SIGPWR: the BEAM is not running; poweroff", out)
        self.assertEqual(rc, POWEROFF, out)
        record("stop request in the rescue shell after the BEAM (`shell` policy)",
               "the shell runs in a fresh /init, which hears it: power off", took, "namespace",
               "SIGPWR to PID 1's end")

    def test_stop_request_in_the_crash_loop_shell_reboots(self):
        args = ("microbeam.exit=restart", "microbeam.restart_limit=1", erl_eval("erlang:halt(5)"))
        with guest(*args) as g:
            g.wait_for(r"crash loop")
            g.wait_for(r"microbeam-rescue# ")
            g.kill(signal.SIGUSR1)
            rc = g.wait_exit(15)
            out = g.output()
        self.assertIn("SIGUSR1: the BEAM is not running; reboot", out)
        self.assertEqual(rc, REBOOT, out)

    def test_ctrl_d_in_the_shell_policys_shell_boots_the_release_again(self):
        code = ('case file:read_file("/tmp/once") of {ok, _} -> io:format("second life~n"); '
                '_ -> ok = file:write_file("/tmp/once", "x"), erlang:halt(0) end')
        with guest("microbeam.exit=shell", erl_eval(code)) as g:
            g.wait_for(r"microbeam-rescue# ")
            g.send_input("\x04")
            g.wait_for(r"^second life")
            status, _ = g.wait_http("/health")
            g.kill(signal.SIGPWR)
            rc = g.wait_exit(30)
        self.assertEqual(status, 200)
        self.assertEqual(rc, POWEROFF, g.output())

    # A BEAM that halts while a port program ignores SIGTERM: the restart's cleanup
    # then takes its 2 s grace, and a stop request comes in the middle of it.
    SLOW_END = ('open_port({spawn_executable, "/bin/sh"}, [{args, ["-c", "trap \\"\\" TERM; '
                'while true; do sleep 1; done"]}]), timer:sleep(300), erlang:halt(7)')

    def test_request_during_the_restarts_cleanup_wins(self):
        for sig, expected in ((signal.SIGPWR, POWEROFF), (signal.SIGUSR1, REBOOT)):
            with self.subTest(sig.name), guest("microbeam.exit=restart", erl_eval(self.SLOW_END)) as g:
                g.wait_for(r"exit policy: restart")
                t0 = time.monotonic()
                g.kill(sig)
                rc = g.wait_exit(20)
                took = time.monotonic() - t0
                out = g.output()
                self.assertIn(f"{sig.name} while the BEAM ends", out)
                self.assertEqual(out.count("microbeam: starting ERTS"), 1, "the app must not boot again:\n" + out)
                self.assertEqual(rc, expected, out)
        record("stop request during a restart's cleanup", "carried out instead of the restart (SIGUSR1: reboot)", took,
               "namespace", "SIGUSR1 to PID 1's end")

    def test_requests_around_the_restart_exec_are_not_lost(self):
        """SIGUSR2 every 20 ms from the halt on: whichever side of the exec each lands,
        one is carried out (power off), none reaches ERTS's handlers (which abort)."""
        with guest("microbeam.exit=restart", erl_eval(self.SLOW_END)) as g:
            g.wait_for(r"exit policy: restart")
            deadline = time.monotonic() + 20
            while g.proc.poll() is None and time.monotonic() < deadline:
                try:
                    g.kill(signal.SIGUSR2)
                except ProcessLookupError:
                    break
                time.sleep(0.02)
            rc = g.wait_exit(20)
            out = g.output()
        self.assertEqual(out.count("microbeam: starting ERTS"), 1, out)
        self.assertNotIn("aborted", out)
        self.assertEqual(rc, POWEROFF, out)

    def test_two_threads_ending_at_once(self):
        """SIGSEGV to every thread of PID 1 at the same moment: one of them carries out
        the exit policy, the others wait (an atomic hand-off, not a plain flag)."""
        with guest() as g:
            g.wait_for(READY)
            t0 = time.monotonic()
            hit = tgkill_all(g.pid, signal.SIGSEGV)
            rc = g.wait_exit(15)
            took = time.monotonic() - t0
            out = g.output()
        self.assertGreater(hit, 5)
        self.assertEqual(out.count("exit policy:"), 1, out)
        self.assertEqual(rc, POWEROFF, out)
        record("SIGSEGV in every thread of PID 1 at once", f"one of the {hit} carries out the exit policy, the "
               "rest wait: power off", took, "namespace", "signals to PID 1's end")

    def test_faults_while_modules_load_under_restart(self):
        """SIGSEGV and SIGABRT at varying moments of ERTS's start (modules loading, the
        allocators busy), under `restart`: every one must lead to a restart, nothing may
        hang in the crash path (it allocates nothing), and the last start serves."""
        delays = [0.05, 0.15, 0.3, 0.5, 0.8, 0.1, 0.25, 0.6]
        with guest("microbeam.exit=restart", "microbeam.restart_limit=100") as g:
            t0 = time.monotonic()
            for i, delay in enumerate(delays):
                g.wait_for(r"microbeam: starting ERTS" + r"[^\n]*\n(?:.*\n)*?.*starting ERTS" * i, 20)
                time.sleep(delay)
                g.kill(signal.SIGSEGV if i % 2 == 0 else signal.SIGABRT)
            status, _ = g.wait_http("/health", 30)
            took = time.monotonic() - t0
            g.kill(signal.SIGPWR)
            rc = g.wait_exit(30)
            out = g.output()
        self.assertEqual(status, 200)
        self.assertEqual(out.count("exit policy: restart"), len(delays), out)
        self.assertEqual(rc, POWEROFF, out)
        record(f"{len(delays)} SIGSEGV/SIGABRT during ERTS's start under `restart`",
               "a restart each (no allocation on the crash path), then serving", took, "namespace",
               "first start to the last start's HTTP 200")


LOCKDOWN_SKIP = SKIP or (not BUSYBOX.is_file() and f"needs {BUSYBOX} (busybox-static) for port programs")


@unittest.skipIf(LOCKDOWN_SKIP, LOCKDOWN_SKIP)
class LockedDown(unittest.TestCase):
    """What the app can do once PID 1 has dropped its privileges: the BEAM's own file
    operations and its port programs (busybox, added to the test's root), each reported
    by the guest as `lock <what> <result>`."""

    CODE = ('W = fun(F) -> case file:write_file(F, <<"x">>) of ok -> ok; {error, E} -> E end end, '
            'R = fun(F) -> case file:open(F, [read]) of {ok, _} -> ok; {error, E} -> E end end, '
            'Sh = fun(C) -> string:trim(os:cmd("(" ++ C ++ ") >/dev/null 2>&1 && echo allowed || echo denied")) end, '
            'L = [{write_init, W("/init")}, {write_release, W("/release/x")}, {write_root, W("/x")}, '
            '{open_dev_mem, R("/dev/mem")}, {write_hostname_sysctl, W("/proc/sys/kernel/hostname")}, '
            '{write_net_sysctl, W("/proc/sys/net/ipv4/ip_forward")}, '
            '{write_tmp, W("/tmp/x")}, {write_run, W("/run/microbeam/x")}, {write_crash, W("/crash/x")}, '
            '{port_mount, Sh("busybox mkdir -p /tmp/mnt && busybox mount -t tmpfs none /tmp/mnt")}, {port_hostname, Sh("busybox hostname evil")}, '
            '{port_chown_root, Sh("busybox chown 0:0 /tmp/x")}, {port_write_init, Sh("echo x > /init")}], '
            '[io:format("lock ~s ~s~n", [K, V]) || {K, V} <- L], '
            'io:format("lock port_status~n~s~nlock end~n", [os:cmd("cat /proc/self/status")])')

    def test_the_app_cannot_and_can(self):
        with guest(erl_eval(self.CODE)) as g:
            g.wait_for(r"^lock end")
            status, _ = g.wait_http("/health")  # it can still serve
            out = g.output()
            threads = {t: caps(g.status(t)) for t in g.tasks()}
            uids = {t: g.status(t)["Uid"] for t in g.tasks()}
            t0 = time.monotonic()
            g.kill(signal.SIGPWR)  # it can be stopped from outside
            rc = g.wait_exit(30)
            took = time.monotonic() - t0
        got = dict(re.findall(r"(?m)^lock (\w+) (\S+)\r?$", out))
        # The guest's kernel has no /dev/mem (CONFIG_DEVMEM off); the host's may not either.
        self.assertIn(got.pop("open_dev_mem", None), ("eacces", "enoent"))
        expected = {"write_init": "eacces", "write_release": "eacces", "write_root": "eacces",
                    "write_hostname_sysctl": "eacces", "write_net_sysctl": "eacces",
                    "write_tmp": "ok", "write_run": "ok", "write_crash": "ok",
                    "port_mount": "denied", "port_hostname": "denied", "port_chown_root": "denied",
                    "port_write_init": "denied"}
        self.assertEqual(got, expected, out[-3000:])
        port = out.split("lock port_status", 1)[1].split("lock end", 1)[0]
        port_fields = dict(re.findall(r"(?m)^(Uid|CapInh|CapPrm|CapEff|CapBnd|CapAmb):\s*(.*?)\r?$", port))
        self.assertEqual(port_fields["Uid"].split(), [str(APP_UID)] * 4)
        self.assertEqual(caps(port_fields), {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": KEPT, "CapAmb": 0})
        # Every thread of PID 1, the stop watcher and ERTS's included, holds the same.
        self.assertGreater(len(threads), 5)
        for t, c in threads.items():
            self.assertEqual(c, app_credentials(), f"thread {t}")
            self.assertEqual(uids[t].split(), [str(APP_UID)] * 4, f"thread {t}")
        self.assertEqual(status, 200)
        self.assertEqual(rc, POWEROFF, out[-3000:])
        record("the app as uid 1000 tries /init, /release, /dev/mem, sysctls; its port programs mount, hostname, chown",
               "denied (EACCES/EPERM); /tmp, /run/microbeam, /crash writable; serves; SIGPWR powers off", took,
               "namespace", "SIGPWR to PID 1's end")


REAPING_SKIP = SKIP or (not BUSYBOX.is_file() and f"needs {BUSYBOX} (busybox-static) for ports and orphans")


@unittest.skipIf(REAPING_SKIP, REAPING_SKIP)
class Reaping(unittest.TestCase):
    def assert_no_zombies_or_orphans(self, g, within=20.0):
        deadline = time.monotonic() + within
        while True:
            procs = g.processes()
            left = [p for p in procs if p[3] not in ("init", "erl_child_setup", "inet_gethost")]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(left, [], f"left in the namespace: {procs}")

    def test_orphan_storm_from_outside_leaves_no_zombie(self):
        with guest() as g:
            g.wait_for(READY)
            r = g.run_inside(["sh", "-c", "for i in $(seq 150); do (sleep 6 >/dev/null 2>&1 &); done"])
            self.assertEqual(r.returncode, 0, r.stderr)
            orphans = [p for p in g.processes() if p[3] == "sleep"]
            self.assertTrue(orphans and all(p[1] == 1 for p in orphans),
                            f"orphans must be PID 1's: {orphans[:5]}")
            t0 = time.monotonic()
            self.assert_no_zombies_or_orphans(g)
            took = time.monotonic() - t0
            record("150 orphans re-parented to PID 1", "reaped as they end (6 s sleeps); none left", took,
                   "namespace", "storm started to none left")
            status, _ = g.http_get("/health")
            self.assertEqual(status, 200)

    def test_port_exit_codes_stay_right_in_an_orphan_storm(self):
        code = ('P = fun(Script) -> Port = open_port({spawn_executable, "/bin/sh"}, '
                '[{args, ["-c", Script]}, exit_status]), '
                'receive {Port, {exit_status, S}} -> S end end, '
                'R = [P("exit 0"), P("exit 7"), P("kill -9 $$"), '
                'P("for i in $(seq 200); do (sleep 0.3 &); done; exit 3"), P("exit 255")], '
                'io:format("ports ~w cmd ~s~n", [R, os:cmd("echo hi")])')
        with guest(erl_eval(code)) as g:
            m = g.wait_for(r"^ports (\[.*\]) cmd (\w+)")
            self.assertEqual(m.group(1), "[0,7,137,3,255]")
            self.assertEqual(m.group(2), "hi")
            self.assert_no_zombies_or_orphans(g)


if __name__ == "__main__":
    unittest.main()
