"""Records that outlive the VM, entropy across boots, and the process keys
(docs/records.md), with the image's real /init as PID 1 of new namespaces (nsguest.py).

The data disk is a tmpfs on the host, bind-mounted at /data of each guest's root: PID 1
finds a mount at /data as it would find the disk, and the files it leaves there are
read on the host between boots. Needs root, like tests/pid1/test_namespace.py.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nsguest import POWEROFF, NsGuest  # noqa: E402
from tests.pid1.test_namespace import APP_UID, INITRD, READY, SKIP, erl_eval, guest  # noqa: E402
from tests.fault_matrix import record  # noqa: E402

SEED_HEADER = 20  # "microbeam-seed-v1 C\n"
CRASH_LATER = 'spawn(fun() -> timer:sleep(1000), erlang:halt("boom from the test") end)'


class DataDisk:
    """A tmpfs standing in for the data disk across several boots."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="microbeam-data-"))
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs", str(self.dir)], check=True)

    def attach(self, root: Path):
        (root / "data").mkdir(exist_ok=True)
        subprocess.run(["mount", "--bind", str(self.dir), str(root / "data")], check=True)

    def path(self, *parts) -> Path:
        return self.dir.joinpath("microbeam", *parts)

    def seed(self) -> bytes:
        return self.path("random-seed").read_bytes()

    def close(self):
        subprocess.run(["umount", str(self.dir)], check=False)
        self.dir.rmdir()


@contextlib.contextmanager
def data_guest(disk: DataDisk, *args):
    """A guest whose /data is DISK; on the way out PID 1 is killed if still running and
    the disk unmounted from its root before the root is removed."""
    g = NsGuest(INITRD, args, prepare=disk.attach)
    try:
        yield g
    finally:
        if g.proc.poll() is None:
            os.kill(g.pid, signal.SIGKILL)
            g.proc.wait(10)
        subprocess.run(["umount", str(g.root / "data")], check=False)
        g.close()


@unittest.skipIf(SKIP, SKIP)
class Records(unittest.TestCase):
    def setUp(self):
        self.disk = DataDisk()
        self.addCleanup(self.disk.close)

    def boot_json(self, g) -> dict:
        status, body = g.wait_http("/boot")
        self.assertEqual(status, 200)
        return json.loads(body)

    def test_report_dump_and_seed_across_a_crash_a_power_cut_and_a_stop(self):
        # 1. A new disk; the BEAM halts with a crash dump a second after boot.
        with data_guest(self.disk, erl_eval(CRASH_LATER)) as g:
            g.wait_for(READY)
            seed_at_boot = self.disk.seed()
            rc = g.wait_exit(30)
            out = g.output()
        self.assertIn("microbeam: last exit: none recorded yet (a new data disk)", out)
        self.assertIn("microbeam: random seed: none on /data yet; 32 fresh bytes saved to "
                      "/data/microbeam/random-seed", out)
        self.assertEqual(seed_at_boot[:SEED_HEADER], b"microbeam-seed-v1 N\n")
        self.assertEqual(len(seed_at_boot), SEED_HEADER + 32)
        self.assertEqual(rc, POWEROFF, out)
        self.assertIn("microbeam: records: shutdown report written to /data/microbeam/last-exit.json; "
                      "crash dump copied to /data/microbeam/crash/erl_crash.000001.dump; "
                      "a fresh random seed saved", out)
        report = json.loads(self.disk.path("last-exit.json").read_text())
        self.assertEqual(report["record"], "shutdown")
        self.assertEqual(report["how"], "halted")
        self.assertEqual(report["crash_slogan"], "boom from the test")
        self.assertEqual(report["crash_dump"], "/data/microbeam/crash/erl_crash.000001.dump")
        self.assertEqual(report["crash_dump_copied_bytes"], report["crash_dump_bytes"])
        self.assertEqual(report["policy"], "poweroff")
        self.assertIsNone(report["stop_request"])
        self.assertGreater(report["uptime_ms"], 0)
        self.assertLess(abs(report["time_unix"] - time.time()), 60)
        self.assertRegex(report["boot_id"], r"^[0-9a-f-]{36}$")
        dump = self.disk.path("crash", "erl_crash.000001.dump")
        self.assertTrue(dump.read_bytes().startswith(b"=erl_crash_dump:"))
        self.assertEqual(dump.stat().st_size, report["crash_dump_bytes"])
        records = self.disk.path().stat()
        self.assertEqual((records.st_uid, records.st_mode & 0o7777), (APP_UID, 0o700))
        seed = self.disk.path("random-seed").stat()
        self.assertEqual((seed.st_uid, seed.st_mode & 0o7777, seed.st_nlink), (0, 0o600, 1))
        seed_at_stop = self.disk.seed()
        self.assertEqual(seed_at_stop[:SEED_HEADER], b"microbeam-seed-v1 C\n")
        self.assertNotEqual(seed_at_stop[SEED_HEADER:], seed_at_boot[SEED_HEADER:])

        # 2. The next boot says how the last run ended and serves it; then a power cut.
        with data_guest(self.disk) as g:
            r = self.boot_json(g)
            seed_at_boot = self.disk.seed()
            out = g.output()
            os.kill(g.pid, signal.SIGKILL)
            g.wait_exit(10)
        self.assertRegex(out, r"(?m)^microbeam: last exit: the BEAM halted \(status \d+\) at \d{4}-\d\d-\d\dT"
                              r"\d\d:\d\d:\d\dZ after \d+\.\d s up; policy poweroff; slogan: boom from the test; "
                              r"crash dump: /data/microbeam/crash/erl_crash\.000001\.dump$")
        self.assertIn("microbeam: random seed: 32 bytes from /data/microbeam/random-seed fed to the kernel's pool, "
                      "creditable (saved at a clean shutdown), not credited: in a container the pool is the host's",
                      out)
        self.assertEqual(r["last_exit"], report)
        self.assertIsNone(r["last_exit_error"])
        self.assertFalse(self.disk.path("last-exit.json").exists())
        self.assertEqual(json.loads(self.disk.path("previous-exit.json").read_text()), report)
        self.assertEqual(seed_at_boot[:SEED_HEADER], b"microbeam-seed-v1 N\n")
        self.assertNotEqual(seed_at_boot[SEED_HEADER:], seed_at_stop[SEED_HEADER:])

        # 3. After the cut: no record, the seed not credited; a stop request is recorded.
        with data_guest(self.disk) as g:
            r = self.boot_json(g)
            t0 = time.monotonic()
            g.kill(signal.SIGPWR)
            rc = g.wait_exit(30)
            took = time.monotonic() - t0
            out = g.output()
        self.assertIn("microbeam: last exit: no record: the run before this one did not shut down "
                      "(a power cut, a kernel panic or a killed VMM)", out)
        self.assertIn("fed to the kernel's pool, not credited (not saved by a clean shutdown)", out)
        self.assertEqual(r["last_exit"]["record"], "missing")
        self.assertEqual(rc, POWEROFF, out)
        report = json.loads(self.disk.path("last-exit.json").read_text())
        self.assertEqual((report["how"], report["status"], report["stop_request"], report["crash_dump"]),
                         ("halted", 0, "SIGPWR", None))
        self.assertEqual(self.disk.seed()[:SEED_HEADER], b"microbeam-seed-v1 C\n")
        record("stop request with a data disk at /data", "report, crash dump copy and fresh seed written, "
               "fsync'd and renamed into place before power off", took, "namespace", "SIGPWR to PID 1's end")

    def test_crash_dump_copies_keep_the_newest_three(self):
        crash = self.disk.path("crash")
        crash.mkdir(parents=True)
        for seq in (3, 4, 5):
            (crash / f"erl_crash.{seq:06d}.dump").write_text(f"=erl_crash_dump:0.5\nold {seq}\n")
        (crash / "notes.txt").write_text("not ours: left alone\n")
        os.chown(self.disk.path(), APP_UID, APP_UID)
        os.chown(crash, APP_UID, APP_UID)
        with data_guest(self.disk, erl_eval(CRASH_LATER)) as g:
            rc = g.wait_exit(30)
        self.assertEqual(rc, POWEROFF, g.output())
        self.assertEqual(sorted(p.name for p in crash.iterdir()),
                         ["erl_crash.000004.dump", "erl_crash.000005.dump", "erl_crash.000006.dump", "notes.txt"])
        self.assertIn(b"Slogan: boom from the test", (crash / "erl_crash.000006.dump").read_bytes())

    def test_a_restart_records_its_exit_for_the_next_start(self):
        args = ("microbeam.exit=restart", "microbeam.restart_limit=1", erl_eval("erlang:halt(7)"))
        with data_guest(self.disk, *args) as g:
            g.wait_for(r"crash loop")
            g.wait_for(r"microbeam-rescue# ")
            g.send_input("poweroff\n")
            rc = g.wait_exit(30)
            out = g.output()
        self.assertEqual(rc, POWEROFF, out)
        self.assertRegex(out, r"(?m)^microbeam: last exit: the BEAM halted \(status 7\) at .* policy restart$")
        self.assertEqual(out.count("microbeam: random seed:"), 1, out)  # the first start only
        report = json.loads(self.disk.path("last-exit.json").read_text())
        self.assertEqual((report["status"], report["policy"]), (7, "shell"))  # the crash loop's


    def test_a_restart_adopts_its_keeper_by_pid_not_by_name(self):
        """A restarted PID 1 adopts the volume keeper the previous one named in
        MICROBEAM_VOLUME_KEEPER, not an orphan that took the keeper's name: after two
        re-execs (the restart, then the crash loop's shell), PID 1 still names the first."""
        impostor = Path(tempfile.mkdtemp(prefix="microbeam-impostor-")) / "microbeam-data"
        shutil.copy2(shutil.which("sleep"), impostor)
        args = ("microbeam.exit=restart", "microbeam.restart_limit=1", "microbeam.mount=tmpfs:/scratch:tmpfs",
                erl_eval("timer:sleep(1500), erlang:halt(7)"))
        with guest(*args) as g:  # the mount is what needs a keeper
            g.wait_for(READY)
            keepers = [pid for pid, ppid, _, comm in g.processes() if comm == "microbeam-data" and ppid == 1]
            g.run_inside(["sh", "-c", f"{impostor} 60 >/dev/null 2>&1 &"])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(
                    [p for p in g.processes() if p[3] == "microbeam-data" and p[1] == 1]) < 2:
                time.sleep(0.05)  # the orphan is PID 1's once its shell is gone
            g.wait_for(r"microbeam-rescue# ")
            environ = Path(f"/proc/{g.pid}/root/proc/1/environ").read_bytes().split(b"\0")
            g.send_input("poweroff\n")
            rc = g.wait_exit(30)
            out = g.output()
        self.assertEqual(len(keepers), 1, out)
        self.assertIn(f"MICROBEAM_VOLUME_KEEPER={keepers[0]}".encode(), environ)
        self.assertEqual(rc, POWEROFF, out)
        self.assertNotIn("volume keeper did not finish", out)


@unittest.skipIf(SKIP, SKIP)
class ProcessKeys(unittest.TestCase):
    def test_limits_cwd_and_core_pattern(self):
        with guest("microbeam.limits=nofile:1000:2000,core:unlimited:unlimited", "microbeam.cwd=/tmp",
                   "microbeam.core_pattern=/tmp/core.%e.%p") as g:
            status, _ = g.wait_http("/health")
            limits = Path(f"/proc/{g.pid}/limits").read_text()
            cwd = os.readlink(f"/proc/{g.pid}/cwd")
            out = g.output()
            root = g.root
        self.assertEqual(status, 200)
        self.assertRegex(limits, r"(?m)^Max open files\s+1000\s+2000\s")
        self.assertRegex(limits, r"(?m)^Max core file size\s+unlimited\s+unlimited\s")
        self.assertEqual(Path(cwd), root / "tmp")
        self.assertIn("microbeam: microbeam.core_pattern: not set in a container (its /proc/sys is the host's)", out)
        self.assertNotIn("last exit", out)  # no /data: no records

    def test_bad_values_are_one_line_each_and_boot_goes_on(self):
        with guest("microbeam.limits=nofile:9:1,files:1:2", "microbeam.cwd=/nonexistent",
                   "microbeam.core_pattern=") as g:
            status, _ = g.wait_http("/health")
            cwd = os.readlink(f"/proc/{g.pid}/cwd")
            out = g.output()
            root = g.root
        self.assertEqual(status, 200)
        self.assertEqual(Path(cwd), root)
        self.assertRegex(out, r'(?m)^microbeam: microbeam\.limits: "nofile:9:1": SOFT is above HARD; '
                              r'"files:1:2": unknown resource \(.*\); those limits are left as they are$')
        self.assertIn("microbeam: microbeam.cwd=/nonexistent: No such file or directory; staying in /", out)
        self.assertIn("microbeam: microbeam.core_pattern=: empty; using the kernel's", out)


if __name__ == "__main__":
    unittest.main()
