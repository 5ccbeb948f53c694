"""The fault matrix in QEMU (TCG by default): one test a fault, each booting
out/bzImage with out/microbeam.cpio (or a copy of it broken on purpose), checking what
PID 1 did, that the kernel never panicked, and recording how long it took
(tests/fault_matrix.py -> out/fault-matrix.json, quoted in docs/faults.md).

Faults come from outside, as they would: the demo's POST /halt/N (allowed by a kernel
parameter), an expression given to init (microbeam.eval, as `microbeam run --eval`
does), QMP (power button, Ctrl-Alt-Del), or a broken image.
Environment: as tests/qemu/test_boot.py.
"""

import base64
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from tests.fault_matrix import record
from tests.qemu.test_boot import (ACCEL, BASE_APPEND, BOOT_TIMEOUT, HALT_APPEND, HALT_TIMEOUT, INITRD,
                                  KERNEL, MISSING, SKIP_WHY, save_console, wait_ready)
from microbeam_cli.vm import Guest, GuestError  # noqa: E402  (test_boot put cmd/ on the path)

WHERE = f"qemu ({ACCEL})"
MARK = "fault-matrix: injecting"  # printed by the guest just before an injected fault


def boot(append="", initrd=INITRD, memory=128, debug_exit=False) -> Guest:
    return Guest.start(KERNEL, initrd, append=" ".join(filter(None, [BASE_APPEND, append])),
                       memory=memory, debug_exit=debug_exit, accel=ACCEL)


def raw_eval(expr: str) -> str:
    """microbeam.eval for an expression that does its own ending (no status wrapper):
    it prints MARK first, so the host can time from there."""
    code = f'io:format("{MARK}~n"), {expr}'
    return "microbeam.eval=" + base64.b64encode(code.encode()).decode()


def post_halt(guest: Guest, what: str) -> float:
    """POST /halt/WHAT once the app serves; returns the host's time of the request."""
    wait_ready(guest)
    t0 = time.monotonic()
    try:
        guest.http_post(f"/halt/{what}", timeout=30, retry=False)
    except GuestError:
        pass  # the VM may go down before the answer leaves it
    return t0


def broken_initrd(workdir: Path, breaks) -> Path:
    """out/microbeam.cpio unpacked, changed by BREAKS(root), packed again (newc, zstd)."""
    root = workdir / "root"
    root.mkdir()
    subprocess.run(f"zstd -dcq '{INITRD}' | cpio -idm --quiet", shell=True, cwd=root, check=True)
    breaks(root)
    out = workdir / "broken.cpio"
    subprocess.run(f"find . -mindepth 1 -printf '%P\\n' | LC_ALL=C sort | cpio -o -H newc --quiet "
                   f"| zstd -q -19 > '{out}'", shell=True, cwd=root, check=True)
    return out


class FaultTest(unittest.TestCase):
    def finish(self, guest: Guest, name: str) -> str:
        save_console(guest, f"fault_{name}")
        console = guest.console_text()
        self.assertNotIn("Kernel panic", console, console[-3000:])
        return console

    def wait_mark(self, guest: Guest) -> float:
        guest.wait_for_console(MARK, BOOT_TIMEOUT)
        return time.monotonic()


@unittest.skipIf(MISSING, SKIP_WHY)
class Halts(FaultTest):
    """The BEAM halts: PID 1 carries out the exit policy (poweroff) and QEMU ends by
    itself; with microbeam.debug_exit, isa-debug-exit hands the BEAM's status to the
    host (QEMU then ends at that write, before the kernel's last console lines)."""

    def halt(self, status: int, debug_exit: bool):
        with boot(HALT_APPEND, debug_exit=debug_exit) as g:
            t0 = post_halt(g, str(status))
            got = g.wait_exit(HALT_TIMEOUT)
            took = time.monotonic() - t0
            console = self.finish(g, f"halt_{status}")
        return got, took, console

    def test_halt_0_powers_off(self):
        got, took, console = self.halt(0, debug_exit=False)
        self.assertIn("the BEAM halted (status 0); exit policy: poweroff", console, console[-3000:])
        self.assertIn("reboot: Power down", console)
        self.assertEqual(got, 0, console[-3000:])
        record("BEAM `halt(0)`", "power off", took, WHERE, "POST /halt/0 to QEMU's exit")

    def test_halt_3_status_reaches_the_host(self):
        got, took, console = self.halt(3, debug_exit=True)
        self.assertEqual(got, 3, console[-3000:])
        record("BEAM `halt(3)`", "status 3 to the host (isa-debug-exit), power off", took, WHERE,
               "POST /halt/3 to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class AbortRestarts(FaultTest):
    """halt(abort) under microbeam.exit=restart: ERTS aborts inside PID 1 (SIGABRT's
    path), PID 1 re-execs itself (as the app's user, with the caps it kept) for a fresh
    ERTS, which serves again as PID 1; then the power button stops it, and its status
    reaches the host through isa-debug-exit, whose port access the re-exec kept (the app's
    user may not call ioperm). Under `restart` any end of the BEAM restarts it, so the
    port is written only when the VM ends: QEMU's own exit code is then (0 << 1) | 1."""

    def test_abort_then_serves_again_then_status_through_debug_exit(self):
        with boot(HALT_APPEND + " microbeam.exit=restart", debug_exit=True) as g:
            t0 = post_halt(g, "abort")
            first = g.wait_for_console(r"the BEAM aborted \(status 134\); exit policy: restart", 60)
            wait_ready(g)
            took = time.monotonic() - t0
            r = g.http_get("/metrics", timeout=60)
            t1 = time.monotonic()
            g.qmp("system_powerdown")
            g.wait_exit(HALT_TIMEOUT)
            took_stop = time.monotonic() - t1
            console = self.finish(g, "abort_restart")
        self.assertEqual(r.status, 200, console[-3000:])
        self.assertEqual(r.json().get("os_pid"), "1")
        self.assertIn("demo: listening", console[first.end():])
        self.assertNotRegex(console, r"Operation not permitted|Permission denied|status stays in the guest",
                            "the restarted PID 1 redid privileged setup")
        self.assertNotIn("fatal signal", console, console[-3000:])
        self.assertEqual(g.returncode, 1, "isa-debug-exit written (status 0): " + console[-3000:])
        record("`halt(abort)`", "restart (re-exec of /init), serving again", took, WHERE,
               "POST /halt/abort to the next HTTP 200")
        record("power button after a restart, `debug_exit` on", "status to the host through isa-debug-exit (port "
               "access kept across the re-exec), power off", took_stop, WHERE, "request to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class CrashDump(FaultTest):
    """erlang:halt("reason"): ERTS writes /erl_crash.dump in the RAM-backed root, which a
    power-off loses, so PID 1 puts its header on the console first."""

    def test_header_on_the_console_before_poweroff(self):
        # loglevel=1: the console shows KERN_EMERG only; PID 1's end-of-life lines must
        # still be there, all of them (/dev/kmsg's rate limit cut the header at 10 lines).
        with boot(raw_eval('erlang:halt("fault matrix: crash dump")') + " loglevel=1") as g:
            t0 = self.wait_mark(g)
            got = g.wait_exit(HALT_TIMEOUT)
            took = time.monotonic() - t0
            console = self.finish(g, "crash_dump")
        self.assertRegex(console, r"the BEAM wrote a crash dump to /crash/erl_crash.dump \(\d+ bytes\)")
        self.assertIn("microbeam: | Calling Thread: ", console, "the header's last line")
        self.assertIn("microbeam: | Slogan: fault matrix: crash dump", console, console[-3000:])
        self.assertIn("microbeam: | System version: Erlang/OTP 27", console)
        self.assertIn("the BEAM halted (status 1); exit policy: poweroff", console)
        self.assertEqual(got, 0, "power off" + console[-3000:])
        record('`erlang:halt("reason")`', "crash dump header on the console (all of it, at loglevel=1), power off",
               took, WHERE,
               "halt to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class OutOfMemory(FaultTest):
    """A BEAM that allocates without bound in a 128 MiB guest: the memory guard makes
    ERTS's own allocation fail, so PID 1 powers off with ERTS's status; without the
    guard the kernel found nothing to kill (PID 1 is exempt) and panicked."""

    def test_runaway_allocation_ends_the_beam_not_the_kernel(self):
        with boot(raw_eval("L = lists:seq(1, 200000000), length(L)")) as g:
            t0 = self.wait_mark(g)
            got = g.wait_exit(HALT_TIMEOUT * 2)
            took = time.monotonic() - t0
            console = self.finish(g, "out_of_memory")
        self.assertIn("memory guard: the BEAM may grow", console)
        self.assertIn("Cannot allocate", console, console[-3000:])
        self.assertIn("the BEAM halted (status 1); exit policy: poweroff", console, console[-3000:])
        self.assertEqual(got, 0, "power off" + console[-3000:])
        record("BEAM allocating without bound (128 MiB guest)",
               'memory guard: ERTS "Cannot allocate", status 1, power off', took, WHERE,
               "start of the allocation to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class CrashLoop(FaultTest):
    """Every start aborts (the expression runs at each boot) under microbeam.exit=restart:
    after restart_limit restarts within the window, PID 1 opens the rescue shell."""

    def test_goes_to_the_rescue_shell(self):
        with boot(raw_eval("erlang:halt(abort)") + " microbeam.exit=restart microbeam.restart_limit=2") as g:
            t0 = self.wait_mark(g)
            g.wait_for_console(r"crash loop \(restart limit reached within the window\)", BOOT_TIMEOUT * 3)
            g.wait_for_console(r"microbeam-rescue# ", 30)
            took = time.monotonic() - t0
            console = self.finish(g, "crash_loop")
        self.assertEqual(console.count(MARK), 3, "two restarts, then the shell")
        record("crash loop under `restart` (limit 2)", "two restarts, then the rescue shell", took, WHERE,
               "first abort to the shell's prompt")


@unittest.skipIf(MISSING, SKIP_WHY)
class BrokenImage(FaultTest):
    """A release broken in the image: PID 1 names what is wrong in one line and the
    policy follows; nothing hangs and nothing panics."""

    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="microbeam-fault-"))

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def test_missing_boot_file_opens_the_rescue_shell(self):
        initrd = broken_initrd(self.work, lambda root: [p.unlink() for p in root.glob("release/releases/*/start.boot")])
        t0 = time.monotonic()
        with boot(initrd=initrd) as g:
            g.wait_for_console(r"microbeam-rescue# ", BOOT_TIMEOUT)
            took = time.monotonic() - t0
            console = self.finish(g, "missing_boot_file")
        self.assertRegex(console, r"the BEAM cannot start: /release/releases/[^/]+/start.boot: missing boot file")
        record("release with a missing boot file", "one line naming the file, then the rescue shell", took,
               WHERE, "QEMU's start to the shell's prompt")

    def test_corrupt_beam_is_named_and_powers_off(self):
        def corrupt(root: Path):
            beam = next(root.glob("release/lib/demo-*/ebin/Elixir.Demo.Application.beam"))
            beam.write_bytes(b"FOR1\x00\x00\x00\x0cBEAMnot a module")
        initrd = broken_initrd(self.work, corrupt)
        t0 = time.monotonic()
        with boot(initrd=initrd) as g:
            got = g.wait_exit(BOOT_TIMEOUT)
            took = time.monotonic() - t0
            console = self.finish(g, "corrupt_beam")
        self.assertIn("Elixir.Demo.Application", console, console[-3000:])
        self.assertIn("microbeam: | Slogan: ", console, console[-3000:])
        self.assertIn("the BEAM halted (status 1); exit policy: poweroff", console)
        self.assertEqual(got, 0, "power off" + console[-3000:])
        record("corrupt `.beam` in the release", "init names the module, ERTS halts 1 with a crash dump, "
               "its header on the console, power off", took, WHERE, "QEMU's start to its exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class FullTmp(FaultTest):
    """/tmp filled until ENOSPC: it is a tmpfs of microbeam.tmp_size (25% of RAM), so the
    writer gets ENOSPC and the BEAM keeps the rest: the app serves on, nothing restarts."""

    FILL = ('F = fun Fill(N) -> case file:write_file("/tmp/fill-" ++ integer_to_list(N), '
            'binary:copy(<<0>>, 1048576)) of ok -> Fill(N + 1); {error, E} -> {E, N} end end, '
            '{Why, MiB} = F(0), io:format("fault-matrix: /tmp full: ~p after ~p MiB~n", [Why, MiB])')

    def test_app_serves_on(self):
        with boot(raw_eval(self.FILL)) as g:
            t0 = self.wait_mark(g)
            full = g.wait_for_console(r"fault-matrix: /tmp full: (\w+) after (\d+) MiB", 120)
            statuses = [g.http_get("/health", timeout=30).status for _ in range(50)]
            took = time.monotonic() - t0
            metrics = g.http_get("/metrics", timeout=30).json()
            console = self.finish(g, "full_tmp")
        self.assertEqual(full.group(1), "enospc")
        self.assertLess(int(full.group(2)), 128 * 0.25 + 1, "/tmp must stop at its size")
        self.assertEqual(set(statuses), {200}, console[-3000:])
        self.assertEqual(console.count("demo: listening"), 1, "the BEAM must not have restarted")
        self.assertEqual(metrics.get("os_pid"), "1")
        record("full `/tmp`", f"writer gets ENOSPC at {full.group(2)} MiB (25% of RAM); the app serves on",
               took, WHERE, "start of the filling to 50 answers after it")


@unittest.skipIf(MISSING, SKIP_WHY)
class StopRequests(FaultTest):
    """A VMM's stop requests: the power button (QMP system_powerdown, `microbeam run`'s
    Ctrl-C) and Ctrl-Alt-Del (QMP send-key; Firecracker's SendCtrlAltDel does the same on
    its i8042): PID 1 hears them, the BEAM stops through init:stop(), power off."""

    CAD = [{"type": "qcode", "data": k} for k in ("ctrl", "alt", "delete")]

    def stop(self, name, request, after_boot=True, delay=0.0):
        with boot("microbeam.shutdown_timeout=20") as g:
            if after_boot:
                wait_ready(g)
            else:  # PID 1's last line before erl_start, then DELAY s into ERTS's start
                g.wait_for_console(r"microbeam: boot timeline: ", BOOT_TIMEOUT)
                time.sleep(delay)
            t0 = time.monotonic()
            request(g)
            got = g.wait_exit(HALT_TIMEOUT)
            took = time.monotonic() - t0
            console = self.finish(g, name)
        self.assertEqual(got, 0, console[-3000:])
        self.assertIn("exit policy: poweroff", console, console[-3000:])
        self.assertLess(took, 20 + 10, "must power off within the timeout (plus the poweroff itself)")
        return console, took

    def test_power_button(self):
        console, took = self.stop("power_button", lambda g: g.qmp("system_powerdown"))
        self.assertIn("microbeam: power button: stopping the BEAM (init:stop), then poweroff", console)
        self.assertIn("the BEAM halted (status 0)", console)
        record("power button (ACPI)", "init:stop(), power off", took, WHERE, "request to QEMU's exit")

    def test_ctrl_alt_del(self):
        console, took = self.stop("ctrl_alt_del", lambda g: g.qmp("send-key", keys=self.CAD))
        self.assertIn("microbeam: Ctrl-Alt-Del: stopping the BEAM (init:stop), then poweroff", console)
        self.assertIn("the BEAM halted (status 0)", console)
        record("Ctrl-Alt-Del", "init:stop(), power off", took, WHERE, "keys to QEMU's exit")

    def test_ctrl_alt_del_as_erts_starts(self):
        console, took = self.stop("ctrl_alt_del_erl_start", lambda g: g.qmp("send-key", keys=self.CAD),
                                  after_boot=False)
        after = console[console.index("microbeam: Ctrl-Alt-Del"):]
        self.assertNotIn("demo: listening", after, "the release must not come up after the request")
        if "the BEAM is not running" in after:  # before ERTS took SIGTERM: nothing to stop
            what = "ERTS could not take init:stop() yet: power off at once"
        else:
            what = "init:stop() during the boot, power off"
        record("Ctrl-Alt-Del as `erl_start` begins", what, took, WHERE, "keys to QEMU's exit")

    def test_ctrl_alt_del_while_the_release_starts(self):
        console, took = self.stop("ctrl_alt_del_boot", lambda g: g.qmp("send-key", keys=self.CAD),
                                  after_boot=False, delay=1.0)
        after = console[console.index("microbeam: Ctrl-Alt-Del"):]
        self.assertIn("stopping the BEAM (init:stop)", after)
        record("Ctrl-Alt-Del 1 s into ERTS's start", "init:stop() during the boot, power off", took, WHERE,
               "keys to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class LockedDown(FaultTest):
    """The app in the guest, as microbeam.user (1000) with cap_sys_boot and
    cap_net_bind_service only: what it may not touch, where it may write, the
    credentials of every thread of PID 1; then it halts with a status the host gets."""

    CODE = ('W = fun(F) -> case file:write_file(F, <<"x">>) of ok -> ok; {error, E} -> E end end, '
            'R = fun(F) -> case file:open(F, [read]) of {ok, _} -> ok; {error, E} -> E end end, '
            'L = [{write_init, W("/init")}, {write_release, W("/release/x")}, {write_root, W("/x")}, '
            '{open_dev_mem, R("/dev/mem")}, {write_kmsg, W("/dev/kmsg")}, {open_console, R("/dev/console")}, '
            '{write_hostname_sysctl, W("/proc/sys/kernel/hostname")}, {write_printk_sysctl, '
            'W("/proc/sys/kernel/printk")}, {write_vm_sysctl, W("/proc/sys/vm/watermark_boost_factor")}, '
            '{write_tmp, W("/tmp/x")}, {write_run, W("/run/microbeam/x")}, {write_crash, W("/crash/x")}], '
            '[io:format("lock ~s ~s~n", [K, V]) || {K, V} <- L], '
            'Keep = ["Name", "Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"], '
            '{ok, Tasks} = file:list_dir("/proc/1/task"), '
            '[begin {ok, S} = file:read_file("/proc/1/task/" ++ T ++ "/status"), '
            'Ls = [Ln || Ln <- string:split(binary_to_list(S), "\\n", all), '
            'lists:member(hd(string:split(Ln, ":")), Keep)], '
            'io:format("lock-task ~s ~s~n", [T, lists:join(" ", [string:replace(Ln, "\\t", "", all) || Ln <- Ls])]) '
            'end || T <- Tasks], erlang:halt(3)')

    def test_denied_allowed_and_halt_with_a_status(self):
        with boot(raw_eval(self.CODE), debug_exit=True) as g:
            t0 = self.wait_mark(g)
            got = g.wait_exit(HALT_TIMEOUT * 2)
            took = time.monotonic() - t0
            console = self.finish(g, "locked_down").replace("\r", "")
        results = dict(re.findall(r"(?m)^lock (\w+) (\S+)$", console))
        # No /dev/mem in this kernel (CONFIG_DEVMEM off), nor module loading (CONFIG_MODULES).
        self.assertIn(results.pop("open_dev_mem", None), ("eacces", "enoent"))
        self.assertEqual(results, {
            "write_init": "eacces", "write_release": "eacces", "write_root": "eacces",
            "write_kmsg": "eacces", "open_console": "eacces", "write_hostname_sysctl": "eacces",
            "write_printk_sysctl": "eacces", "write_vm_sysctl": "eacces",
            "write_tmp": "ok", "write_run": "ok", "write_crash": "ok"}, console[-3000:])
        kept = (1 << 22) | (1 << 10)
        tasks = re.findall(r"(?m)^lock-task (\d+) (.*)$", console)
        self.assertGreater(len(tasks), 3, console[-3000:])
        sets_of = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
        dhcp = {"CapInh": 0, "CapPrm": kept | (1 << 12), "CapEff": kept | (1 << 12), "CapBnd": kept, "CapAmb": 0}
        others = []
        for tid, line in tasks:
            fields = dict(f.split(":", 1) for f in line.split())
            sets = {k: int(fields[k], 16) for k in sets_of}
            if fields["Uid"] == "0" * 4:  # the DHCP client's thread (none with ip=): uid 0, + cap_net_admin
                self.assertEqual(sets, dhcp, line)
                others.append(tid)
                continue
            self.assertEqual(fields["Uid"], "1000" * 4, line)  # real, effective, saved, fs: tabs removed
            self.assertEqual(sets, {k: kept for k in sets_of}, f"task {line}")
        self.assertLessEqual(len(others), 1, tasks)
        self.assertEqual(got, 3, console[-3000:])
        record("the app tries /init, /release, /dev/mem, /dev/kmsg, sysctls (uid 1000)",
               "EACCES for each; /tmp, /run/microbeam, /crash writable; halt(3) reaches the host", took, WHERE,
               "start of the attempts to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class DhcpThreadCredentials(unittest.TestCase):
    """Without ip= PID 1's DHCP client runs in a thread started before the drop: it drops
    itself to uid 0 with the app's caps plus cap_net_admin (bounding set the app's, no
    ambient), and the lease still comes (QEMU's defaults: machine pc, e1000, user net)."""

    CODE = ('W = fun Wait(0) -> no_lease; Wait(N) -> case file:read_file("/etc/resolv.conf") of '
            '{ok, _} -> lease; _ -> timer:sleep(100), Wait(N - 1) end end, Lease = W(300), '
            '{ok, Tasks} = file:list_dir("/proc/1/task"), '
            '[begin {ok, S} = file:read_file("/proc/1/task/" ++ T ++ "/status"), '
            'Ls = [Ln || Ln <- string:split(binary_to_list(S), "\\n", all), '
            'lists:member(hd(string:split(Ln, ":")), ["Uid", "CapPrm", "CapEff", "CapBnd", "CapAmb"])], '
            'io:format("dhcp-task ~s~n", [lists:join(" ", [string:replace(Ln, "\\t", "", all) || Ln <- Ls])]) '
            'end || T <- Tasks], io:format("dhcp-done ~p~n", [Lease])')

    def test_dhcp_thread_holds_only_what_it_needs(self):
        from tests.qemu.test_plain_qemu import PlainQemu
        expr = base64.b64encode(self.CODE.encode()).decode()
        q = PlainQemu(append=f"console=ttyS0 microbeam.eval={expr}")
        try:
            q.wait_console(re.compile(r"dhcp-done (\w+)"))
            console = q.console().replace("\r", "")
        finally:
            q.kill()
        self.assertNotIn("Kernel panic", console)
        self.assertIn("dhcp-done lease", console, console[-3000:])
        kept, net_admin = (1 << 22) | (1 << 10), 1 << 12
        rows = [dict(f.split(":", 1) for f in line.split()) for line in re.findall(r"(?m)^dhcp-task (.*)$", console)]
        root = [r for r in rows if r["Uid"] == "0" * 4]
        self.assertEqual(len(root), 1, rows)
        self.assertEqual({k: int(root[0][k], 16) for k in ("CapPrm", "CapEff", "CapBnd", "CapAmb")},
                         {"CapPrm": kept | net_admin, "CapEff": kept | net_admin, "CapBnd": kept, "CapAmb": 0})
        for r in rows:
            if r is not root[0]:
                self.assertEqual(r["Uid"], "1000" * 4, r)
                self.assertEqual(int(r["CapEff"], 16), kept, r)


@unittest.skipIf(MISSING, SKIP_WHY)
class AfterTheBeam(FaultTest):
    """Once the BEAM has ended under the `shell` policy, the rescue shell runs in a fresh
    /init, whose stop watcher hears the VMM (before, SIGTERM went to an emulator that
    was gone, and the VM waited to be killed)."""

    def test_power_button_in_the_shell_powers_off(self):
        with boot(raw_eval("erlang:halt(0)") + " microbeam.exit=shell") as g:
            g.wait_for_console(r"microbeam-rescue# ", BOOT_TIMEOUT)
            t0 = time.monotonic()
            g.qmp("system_powerdown")
            got = g.wait_exit(HALT_TIMEOUT)
            took = time.monotonic() - t0
            console = self.finish(g, "shell_power_button")
        self.assertIn("power button: the BEAM is not running; poweroff", console, console[-3000:])
        self.assertEqual(got, 0, console[-3000:])
        record("power button in the rescue shell after the BEAM (`shell` policy)", "heard by the fresh /init: "
               "power off", took, WHERE, "request to QEMU's exit")


@unittest.skipIf(MISSING, SKIP_WHY)
class ConsoleBytes(FaultTest):
    """0x03 and 0x1c on the serial line: with ISIG on the console (PID 1's controlling
    tty) they were SIGINT (a stop request: power off) and SIGQUIT (ERTS halts at once).
    Outside the rescue shell they are bytes nobody reads."""

    def test_ctrl_c_and_ctrl_backslash_do_nothing(self):
        with boot() as g:
            wait_ready(g)
            t0 = time.monotonic()
            g.send_console(b"\x03\x1c\x03\x1c")
            time.sleep(2)
            statuses = [g.http_get("/health", timeout=30).status for _ in range(5)]
            took = time.monotonic() - t0
            running = g.running()
            g.qmp("system_powerdown")
            got = g.wait_exit(HALT_TIMEOUT)
            console = self.finish(g, "console_isig")
        self.assertTrue(running)
        self.assertEqual(set(statuses), {200}, console[-3000:])
        self.assertNotIn("SIGINT", console)
        self.assertEqual(console.count("exit policy:"), 1, console[-3000:])  # the power button's
        self.assertEqual(got, 0)
        record("Ctrl-C, Ctrl-\\ bytes on the serial console", "no signal (ISIG off): the app serves on", took,
               WHERE, "bytes sent to 5 answers after them")


if __name__ == "__main__":
    unittest.main()
