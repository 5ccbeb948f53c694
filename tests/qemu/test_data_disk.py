"""The data disk in QEMU (TCG by default): `run --disk`'s virtio-blk image mounted at
/data by PID 1, the demo's /kv/KEY on it, and the faults of docs/persistent-data.md,
each a timed row of the fault matrix (tests/fault_matrix.py -> out/fault-matrix.json).

Boots are shared: one disk goes through a clean power-off during a write storm, a boot
that checks it and then loses its VMM to SIGKILL during another storm, and a boot that
checks the journal replay and then fills the disk. Environment: as tests/qemu/test_boot.py.
"""

import base64
import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from tests.fault_matrix import record
from tests.qemu.test_boot import (ACCEL, BASE_APPEND, BOOT_TIMEOUT, HALT_APPEND, HALT_TIMEOUT, INITRD, KERNEL,
                                  MISSING, OUT, REPO, SKIP_WHY, save_console, wait_ready)
from microbeam_cli import disk as disk_mod  # noqa: E402  (test_boot put cmd/ on the path)
from microbeam_cli import qemucmd  # noqa: E402
from microbeam_cli.vm import Guest, free_port  # noqa: E402

WHERE = f"qemu ({ACCEL})"
MOUNTED = re.compile(r"microbeam: /data: mounted (\S+) \(ext4")
RECOVERY = "recovery complete"          # ext4's line when it replays the journal at mount


def boot(disk, append="", machine="microvm", readonly=False, kernel=KERNEL, initrd=INITRD,
         debug_exit=False) -> Guest:
    return Guest.start(kernel, initrd, append=" ".join(filter(None, [BASE_APPEND, append])),
                       memory=128, accel=ACCEL, machine=machine, disk=disk, disk_readonly=readonly,
                       debug_exit=debug_exit)


def superblock(image) -> dict:
    """dumpe2fs -h as {field: value}."""
    out = subprocess.run(["dumpe2fs", "-h", str(image)], capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (l.partition(":") for l in out.splitlines()) if v}


def body_for(key: str) -> bytes:
    return (key + ";").encode() * 64          # ~1 KiB, tells keys apart


class Storm:
    """THREADS clients PUT /kv/PREFIX-T-I in a loop over keep-alive connections until
    stopped or the guest goes away; `acked` holds every key that got its 204."""

    def __init__(self, guest: Guest, prefix: str, threads: int = 4):
        self.guest, self.prefix = guest, prefix
        self.acked, self.errors = [], []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(t,), daemon=True) for t in range(threads)]

    def __enter__(self):
        self.started = time.monotonic()
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)

    def _run(self, t):
        conn = None
        i = 0
        while not self._stop.is_set():
            key = f"{self.prefix}-{t}-{i}"
            try:
                if conn is None:
                    conn = self.guest.connection(timeout=10)
                conn.request("PUT", f"/kv/{key}", body=body_for(key))
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException) as e:
                with self._lock:
                    self.errors.append(repr(e))
                if conn is not None:
                    conn.close()
                conn = None
                if not self.guest.running():
                    return
                time.sleep(0.05)
                continue
            if r.status != 204:
                with self._lock:
                    self.errors.append(f"{key}: {r.status}")
                return
            with self._lock:
                self.acked.append(key)
            i += 1

    def rate(self) -> str:
        return f"{len(self.acked) / max(0.001, time.monotonic() - self.started):.0f}/s"

    def wait_acks(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while len(self.acked) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.acked)} writes acknowledged in {timeout} s: {self.errors[-3:]}")
            time.sleep(0.1)


def missing_keys(guest: Guest, keys) -> list:
    """The keys whose GET does not return their body (one keep-alive connection)."""
    missing = []
    conn = guest.connection(timeout=30)
    try:
        for key in keys:
            conn.request("GET", f"/kv/{key}")
            r = conn.getresponse()
            if r.read() != body_for(key) or r.status != 200:
                missing.append(key)
    finally:
        conn.close()
    return missing


@unittest.skipIf(MISSING, SKIP_WHY)
class DataDisk(unittest.TestCase):
    """One 16 MiB disk through three boots (tests run in name order, each on the state
    the one before left)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="microbeam-disk-"))
        cls.image = cls.dir / "data.img"
        cls.acked = {}
        disk_mod.prepare(disk_mod.DiskSpec(str(cls.image), 16 << 20), say=lambda _: None)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def guest(self, name, append=""):
        g = boot(self.image, " ".join(filter(None, [disk_mod.DATA_PARAM, append])))
        self.addCleanup(g.kill)
        self.addCleanup(save_console, g, f"data_disk_{name}")
        return g

    def test_1_power_button_during_a_write_storm(self):
        g = self.guest("power_button", "microbeam.mount=tmpfs:/scratch:tmpfs:size=1m,noexec")
        wait_ready(g)
        console = g.console_text()
        self.assertRegex(console, MOUNTED)
        self.assertIn("microbeam: mounted tmpfs on /scratch (tmpfs)", console)
        # PID 1's records (docs/records.md) on a new disk: nothing to report, a seed made.
        self.assertIn("microbeam: last exit: none recorded yet (a new data disk)", console)
        self.assertIn("microbeam: random seed: none on /data yet", console)
        self.assertEqual(g.http_request("PUT", "/kv/a..b", b"x").status, 400)
        self.assertEqual(g.http_get("/kv/never-written").status, 404)
        with Storm(g, "clean") as storm:
            storm.wait_acks(150)
            rate = storm.rate()
            t0 = time.monotonic()
            g.qmp("system_powerdown")
            status = g.wait_exit(HALT_TIMEOUT)
            took = time.monotonic() - t0
        console = g.console_text()
        self.assertNotIn("Kernel panic", console)
        self.assertEqual(status, 0, console[-3000:])
        self.assertIn("microbeam: /data: synced and unmounted", console, console[-3000:])
        sb = superblock(self.image)
        self.assertEqual(sb["Filesystem state"], "clean", sb)
        self.assertNotIn("needs_recovery", sb["Filesystem features"])
        type(self).acked["clean"] = list(storm.acked)
        record("data disk: write storm, then the power button", f"init:stop(), sync, /data unmounted, power off; "
               f"{len(storm.acked)} acknowledged writes ({rate}, 4 clients, 1 KiB each) kept, no journal "
               f"recovery at the next mount",
               took, WHERE, "request to QEMU's exit")

    def test_2_vmm_killed_during_a_write_storm(self):
        acked_before = type(self).acked.get("clean")
        if acked_before is None:
            self.skipTest("needs test_1's disk")
        g = self.guest("sigkill")
        wait_ready(g)
        console = g.console_text()
        self.assertNotIn(RECOVERY, console)              # test_1 left a clean journal
        self.assertEqual(missing_keys(g, acked_before), [])
        # test_1's clean end left its report and a creditable seed; the demo serves the report.
        self.assertRegex(console, r"microbeam: last exit: the BEAM .*stop request: power button")
        self.assertRegex(console, r"microbeam: random seed: \d+ bytes from \S+ fed to the kernel's pool, "
                                  r"credited \(saved at a clean shutdown\)")
        last = json.loads(g.http_get("/boot").body)["last_exit"]
        self.assertEqual(last["stop_request"], "power button", last)
        with Storm(g, "cut") as storm:
            storm.wait_acks(150)
            g.proc.kill()                                # SIGKILL: a power cut for the guest
            g.proc.wait()
        self.assertIn("needs_recovery", superblock(self.image)["Filesystem features"])
        type(self).acked["cut"] = list(storm.acked)

    def test_3_journal_replayed_then_disk_full(self):
        acked_cut = type(self).acked.get("cut")
        if acked_cut is None:
            self.skipTest("needs test_2's disk")
        t0 = time.monotonic()
        g = self.guest("replay_full")
        wait_ready(g)
        took = time.monotonic() - t0
        console = g.console_text()
        self.assertIn(RECOVERY, console)
        # The SIGKILL left no report and a seed not to be credited.
        self.assertIn("microbeam: last exit: no record: the run before this one did not shut down", console)
        self.assertRegex(console, r"random seed: .* not credited \(not saved by a clean shutdown\)")
        missing = missing_keys(g, acked_cut)
        self.assertEqual(missing, [], f"acknowledged {len(acked_cut)}, missing {len(missing)}")
        record("data disk: write storm, then SIGKILL of the VMM",
               f"journal replayed at the next mount; acknowledged {len(acked_cut)}, "
               f"found {len(acked_cut) - len(missing)}", took, WHERE, "next boot's start to /health 200")

        big = os.urandom(1 << 20)
        t0 = time.monotonic()
        statuses = []
        for i in range(40):
            r = g.http_request("PUT", f"/kv/fill-{i}", big, timeout=60)
            statuses.append(r.status)
            if r.status == 507:
                break
        took = time.monotonic() - t0
        self.assertEqual(statuses[-1], 507, statuses)
        self.assertTrue(all(s == 204 for s in statuses[:-1]), statuses)
        self.assertEqual(missing_keys(g, acked_cut[:20]), [])     # reads go on
        self.assertEqual(g.http_get("/health").status, 200)
        self.assertEqual(g.http_request("PUT", "/kv/small", b"x").status in (204, 507), True)
        record("data disk: full", f"the app gets enospc: 507 to writes, reads served "
               f"({len(statuses) - 1} MiB written first)", took, WHERE, "first PUT to the 507")
        g.qmp("system_powerdown")
        self.assertEqual(g.wait_exit(HALT_TIMEOUT), 0)
        self.assertEqual(superblock(self.image)["Filesystem state"], "clean")


@unittest.skipIf(MISSING, SKIP_WHY)
class DiskFaults(unittest.TestCase):
    """A configured disk that is missing, corrupt or read-only: one line, then policy."""

    def test_corrupt_superblock_boots_on_without_data(self):
        with tempfile.TemporaryDirectory() as d:
            image = Path(d) / "bad.img"
            disk_mod.prepare(disk_mod.DiskSpec(str(image), 8 << 20), say=lambda _: None)
            with open(image, "r+b") as f:             # the primary superblock: bytes 1024..2047
                f.seek(1024)
                f.write(b"\0" * 1024)
            t0 = time.monotonic()
            with boot(image, disk_mod.DATA_PARAM, machine="q35") as g:
                wait_ready(g)
                took = time.monotonic() - t0
                r = g.http_get("/kv/x")
                console = g.console_text()
                save_console(g, "data_disk_corrupt")
        lines = [l for l in console.splitlines() if "microbeam: /data:" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("/data: /dev/vda: cannot mount (ext4): ", lines[0])
        self.assertIn("booting without /data", lines[0])
        self.assertEqual(r.status, 503)
        record("data disk: superblock zeroed", "one line, boot goes on without /data (q35)",
               took, WHERE, "QEMU's start to /health 200")

    def test_missing_disk_required_opens_the_rescue_shell(self):
        t0 = time.monotonic()
        with boot(None, "microbeam.data=/dev/vda microbeam.data_required=1") as g:
            first = g.wait_for_console(r"microbeam-rescue# ", BOOT_TIMEOUT)
            took = time.monotonic() - t0
            console = g.console_text()
            g.send_console("boot\r")                   # leaving the shell tries again
            g.wait_for_console(r"mounting /data again", 30, start=first.end())
            g.wait_for_console(r"microbeam-rescue# ", 30, start=first.end())
            self.assertNotIn("demo: listening", g.console_text())
            save_console(g, "data_disk_missing")
        lines = [l for l in console.splitlines() if "microbeam: /data:" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("/dev/vda", lines[0])
        self.assertIn("microbeam.data_required=1", lines[0])
        self.assertNotIn("demo: listening", console)
        record("data disk: missing, `microbeam.data_required=1`", "one line, rescue shell", took, WHERE,
               "QEMU's start to the shell")

    def test_read_only_disk_is_mounted_read_only(self):
        with tempfile.TemporaryDirectory() as d:
            image = Path(d) / "ro.img"
            disk_mod.prepare(disk_mod.DiskSpec(str(image), 8 << 20), say=lambda _: None)
            with boot(image, disk_mod.DATA_PARAM, readonly=True, machine="q35") as g:  # virtio-blk-pci
                wait_ready(g)
                put = g.http_request("PUT", "/kv/x", b"x")
                get = g.http_get("/kv/x")
                console = g.console_text()
                save_console(g, "data_disk_ro")
        self.assertIn("microbeam: /data: /dev/vda is read-only; mounted read-only", console)
        self.assertEqual((put.status, get.status), (503, 404), put.text())



@unittest.skipIf(MISSING, SKIP_WHY)
class ExitPaths(unittest.TestCase):
    """The restart policy keeps /data mounted across the re-exec (the restarted PID 1, the
    app's user, could not mount it) and the keeper it inherits unmounts it at the final
    power off; `microbeam run --disk` makes the image and the guest's write is in it."""

    def test_restart_keeps_the_volume_then_poweroff_unmounts(self):
        with tempfile.TemporaryDirectory() as d:
            image = Path(d) / "data.img"
            disk_mod.prepare(disk_mod.DiskSpec(str(image), 8 << 20), say=lambda _: None)
            with boot(image, f"{disk_mod.DATA_PARAM} {HALT_APPEND} microbeam.exit=restart",
                      debug_exit=True) as g:
                wait_ready(g)
                self.assertEqual(g.http_request("PUT", "/kv/before", b"1").status, 204)
                try:
                    g.http_post("/halt/abort", timeout=30, retry=False)
                except Exception:
                    pass
                g.wait_for_console(r"microbeam: /data: still mounted \(kept across the restart\)", 60)
                wait_ready(g)
                self.assertEqual(g.http_get("/kv/before").text(), "1")
                self.assertEqual(g.http_request("PUT", "/kv/after", b"2").status, 204)
                g.qmp("system_powerdown")
                status = g.wait_exit(HALT_TIMEOUT)
                console = g.console_text()
                save_console(g, "data_disk_restart")
            self.assertEqual(status, 0, console[-3000:])
            self.assertEqual(console.count("microbeam: /data: synced and unmounted"), 1, console[-3000:])
            self.assertNotIn("volume keeper did not finish", console)
            self.assertEqual(superblock(image)["Filesystem state"], "clean")
            got = subprocess.run(["debugfs", "-R", "cat /kv/after", str(image)], capture_output=True, text=True)
            self.assertEqual(got.stdout, "2")

    def test_run_disk_makes_the_image_and_the_write_lands(self):
        with tempfile.TemporaryDirectory() as d:
            image = Path(d) / "new.img"
            expr = 'ok = file:write_file("/data/hello", <<"from the guest">>), {ok, _} = file:read_file_info("/data")'
            p = subprocess.run([str(REPO / "cmd" / "microbeam"), "run", "--kernel", str(KERNEL), "--initrd",
                                str(INITRD), "--accel", ACCEL, "--port", str(free_port()),
                                "--disk", f"{image},size=8M", "--eval", expr],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr[-2000:])
            self.assertIn(f"--disk: created {image} (8 MiB, ext4)", p.stderr)
            self.assertIn("microbeam: /data: synced and unmounted", p.stdout)
            got = subprocess.run(["debugfs", "-R", "cat /hello", str(image)], capture_output=True, text=True)
            self.assertEqual(got.stdout, "from the guest")
            self.assertEqual(superblock(image)["Filesystem state"], "clean")


@unittest.skipIf(MISSING or not (OUT / "microbeam-init").is_file(), SKIP_WHY)
class MnesiaOnData(unittest.TestCase):
    """A test release (tests/qemu/mnesia_release: kernel, stdlib, mnesia loaded) whose
    vm.args puts Mnesia's directory on /data: a disc_copies table written in one
    transaction, a clean reboot (init:stop, /data unmounted, the reboot policy), and at
    the next boot the row is there."""

    COMMIT = ("try ok = mnesia:create_schema([node()]), ok = mnesia:start(), "
              "{atomic, ok} = mnesia:create_table(kv, [{disc_copies, [node()]}]), "
              "{atomic, ok} = mnesia:transaction(fun() -> mnesia:write({kv, answer, 42}) end), "
              "io:format(\"mnesia test: committed in ~s~n\", [mnesia:system_info(directory)]), init:stop() "
              "catch C:E:S -> io:format(\"mnesia test: ~p:~p ~p~n\", [C, E, S]), erlang:halt(2) end")
    READ = ("ok = mnesia:start(), ok = mnesia:wait_for_tables([kv], 30000), "
            "[{kv, answer, 42}] = mnesia:dirty_read(kv, answer), "
            "\"/data/mnesia\" = mnesia:system_info(directory), ok")

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-mnesia-"))
        subprocess.run([str(REPO / "tests" / "qemu" / "mnesia_release" / "build.sh"), str(cls.tmp / "rel")],
                       check=True, capture_output=True, timeout=300)
        cls.images = cls.tmp / "images"
        p = subprocess.run([str(REPO / "cmd" / "microbeam"), "build", "--release", str(cls.tmp / "rel"),
                            "--out", str(cls.images), "--no-cacerts"],
                           capture_output=True, text=True, timeout=1800, env=dict(os.environ, MICROBEAM_OUT=str(OUT)))
        if p.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError(f"microbeam build --release failed ({p.returncode}):\n{p.stderr[-4000:]}")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def boot(self, image, eval_param):
        return boot(image, f"{disk_mod.DATA_PARAM} {eval_param}", kernel=self.images / "bzImage",
                    initrd=self.images / "microbeam.cpio", debug_exit=True)

    def test_disc_copies_table_survives_a_clean_reboot(self):
        image = self.tmp / "data.img"
        disk_mod.prepare(disk_mod.DiskSpec(str(image), 16 << 20), say=lambda _: None)
        # The reboot policy: the first VM ends in a reboot (QEMU's -no-reboot ends it there).
        commit = "microbeam.exit=reboot microbeam.eval=" + base64.b64encode(self.COMMIT.encode()).decode()
        with self.boot(image, commit) as g:
            status = g.wait_exit(BOOT_TIMEOUT)
            first = g.console_text()
            save_console(g, "data_disk_mnesia_commit")
        self.assertIn("mnesia test: committed in /data/mnesia", first, first[-3000:])
        self.assertIn("exit policy: reboot", first)
        self.assertEqual(status, 0, first[-3000:])
        self.assertIn("microbeam: /data: synced and unmounted", first)
        t0 = time.monotonic()
        with self.boot(image, qemucmd.eval_kernel_param(self.READ)) as g:
            status = g.wait_exit(BOOT_TIMEOUT)
            took = time.monotonic() - t0
            second = g.console_text()
            save_console(g, "data_disk_mnesia_read")
        self.assertEqual(status, 0, second[-3000:])
        self.assertNotIn(RECOVERY, second)
        record("data disk: Mnesia disc_copies table in /data/mnesia", "committed, init:stop(), /data unmounted, "
               "reboot; the row read back at the next boot", took, WHERE, "second boot's start to its status")


if __name__ == "__main__":
    unittest.main()
