"""A user's release in: `microbeam build --release PATH` on the plain-Erlang example
(examples/hello_erlang, no Elixir), booted under TCG; and the checks on bad releases.

Environment: MICROBEAM_OUT (the main build's artifacts, default <repo>/out),
MICROBEAM_TEST_ACCEL (tcg by default), MICROBEAM_BOOT_TIMEOUT (seconds, default 120).
"""

import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli import release  # noqa: E402
from microbeam_cli.vm import Guest, GuestError  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
ACCEL = os.environ.get("MICROBEAM_TEST_ACCEL", "tcg")
BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "120"))
MICROBEAM = [sys.executable, str(REPO / "cmd" / "microbeam")]


def fake_release(root: Path, start_erl: str, name="app", rel_vsn="0.1.0") -> Path:
    (root / "releases" / rel_vsn).mkdir(parents=True)
    (root / "releases" / "start_erl.data").write_text(start_erl)
    (root / "releases" / rel_vsn / f"{name}.rel").write_text("")
    (root / "releases" / rel_vsn / "start.boot").write_bytes(b"")
    return root


class ReadRelease(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="microbeam-rel-"))

    def test_reads_name_and_versions(self):
        info = release.read_release(fake_release(self.tmp / "r", "13.1.5 1.2.3\n", "shop", "1.2.3"))
        self.assertEqual((info.name, info.erts_vsn, info.rel_vsn), ("shop", "13.1.5", "1.2.3"))
        release.check_erts(info)  # the static ERTS' own version passes

    def test_other_erts_is_one_line_naming_both_versions_and_the_fix(self):
        info = release.read_release(fake_release(self.tmp / "r", "14.0.2 0.1.0"))
        with self.assertRaises(release.ReleaseError) as cm:
            release.check_erts(info)
        msg = str(cm.exception)
        self.assertNotIn("\n", msg)
        for part in ("start_erl.data", "ERTS 14.0.2", "13.1.5", "OTP 25.2.3", "rebuild"):
            self.assertIn(part, msg)

    def test_bad_inputs_name_the_file(self):
        with self.assertRaisesRegex(release.ReleaseError, "not a directory"):
            release.read_release(self.tmp / "missing")
        (self.tmp / "empty").mkdir()
        with self.assertRaisesRegex(release.ReleaseError, "start_erl.data: cannot read"):
            release.read_release(self.tmp / "empty")
        with self.assertRaisesRegex(release.ReleaseError, 'start_erl.data: expected "ERTS_VSN REL_VSN"'):
            release.read_release(fake_release(self.tmp / "bad", "13.1.5"))
        r = fake_release(self.tmp / "noboot", "13.1.5 0.1.0")
        (r / "releases" / "0.1.0" / "start.boot").unlink()
        with self.assertRaisesRegex(release.ReleaseError, "start.boot: missing boot file"):
            release.read_release(r)

    def test_cli_refuses_other_otp_before_building(self):
        r = fake_release(self.tmp / "r", "14.0.2 0.1.0")
        p = subprocess.run(MICROBEAM + ["build", "--release", str(r)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("ERTS 14.0.2", lines[0])
        self.assertNotIn("Traceback", p.stderr)


DEMO_MIX_RELEASE = REPO / "build" / "release" / "mix-release"


@unittest.skipUnless((OUT / "microbeam.cpio").is_file() and DEMO_MIX_RELEASE.is_dir(),
                     "main build missing (cmd/microbeam build)")
class DemoMixReleaseThroughReleaseOption(unittest.TestCase):
    """The demo's own `mix release` output through `build --release` gives the very
    initramfs the main build ships: one pipeline for our release and a user's."""

    def test_same_bytes_as_the_main_build(self):
        images = Path(tempfile.mkdtemp(prefix="microbeam-demo-rel-"))
        p = subprocess.run(MICROBEAM + ["build", "--release", str(DEMO_MIX_RELEASE), "--out", str(images)],
                           capture_output=True, text=True, timeout=1800,
                           env=dict(os.environ, MICROBEAM_OUT=str(OUT)))
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        self.assertTrue((images / "microbeam.cpio").read_bytes() == (OUT / "microbeam.cpio").read_bytes(),
                        "the demo through --release differs from out/microbeam.cpio")


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init").is_file(),
                     "main build missing (cmd/microbeam build)")
class ErlangExampleBootsFromItsOwnImage(unittest.TestCase):
    """examples/hello_erlang built with erlc + systools, turned into an image, booted."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-hello-"))
        subprocess.run([str(REPO / "examples" / "hello_erlang" / "build.sh"), str(cls.tmp / "rel")],
                       check=True, capture_output=True, timeout=300)
        cls.images = cls.tmp / "images"
        p = subprocess.run(MICROBEAM + ["build", "--release", str(cls.tmp / "rel"), "--out", str(cls.images)],
                           capture_output=True, text=True, timeout=1800,
                           env=dict(os.environ, MICROBEAM_OUT=str(OUT)))
        if p.returncode != 0:
            raise AssertionError(f"microbeam build --release failed ({p.returncode}):\n{p.stderr[-4000:]}")
        cls.build_log = p.stderr

    def boot(self, append="", debug_exit=False) -> Guest:
        return Guest.start(self.images / "bzImage", self.images / "microbeam.cpio",
                           append=" ".join(filter(None, ["panic=-1", append])), memory=128,
                           debug_exit=debug_exit, accel=ACCEL)

    def wait_root(self, g: Guest) -> str:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:
            try:
                r = g.http_get("/", timeout=max(1.0, deadline - time.monotonic()))
                if r.status == 200:
                    return r.text()
            except GuestError:
                pass
            if time.monotonic() > deadline or not g.running():
                self.fail("no answer from the example:\n" + g.console_tail(60))
            time.sleep(0.2)

    def test_artifacts_and_progress(self):
        for name in ("bzImage", "microbeam.cpio", "size-report.json"):
            self.assertTrue((self.images / name).is_file(), name)
        for step in ("[release 1/5]", "[release 3/5]", "[release 5/5]"):
            self.assertIn(step, self.build_log)

    def test_serves_with_sys_config_and_vm_args_honoured(self):
        with self.boot() as g:
            body = self.wait_root(g)
            console = g.console_text()
        # sys.config sets greeting and source; vm.args' -hello greeting overrides the one,
        # vm.args' +S 1:1 gives one scheduler, and PID 1 is the BEAM.
        self.assertIn("hello from_vm_args (config sys_config)", body)
        self.assertIn("schedulers=1 ", body)
        self.assertIn("os_pid=1", body)
        self.assertIn("otp=25", body)
        self.assertIn("hello: listening on port 8080", console)
        self.assertNotIn("Kernel panic", console)

    def test_command_line_wins_over_vm_args(self):
        with self.boot('microbeam.erl_flags="-hello greeting from_cmdline"') as g:
            body = self.wait_root(g)
        self.assertIn("hello from_cmdline", body)

    def test_image_is_reproducible(self):
        """The same release, built again from another directory, gives the same cpio
        byte for byte (no time stamps, owners, build paths or file order leak in)."""
        subprocess.run([str(REPO / "examples" / "hello_erlang" / "build.sh"), str(self.tmp / "again" / "rel")],
                       check=True, capture_output=True, timeout=300)
        images2 = self.tmp / "images2"
        p = subprocess.run(MICROBEAM + ["build", "--release", str(self.tmp / "again" / "rel"),
                                        "--out", str(images2)],
                           capture_output=True, text=True, timeout=1800,
                           env=dict(os.environ, MICROBEAM_OUT=str(OUT)))
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        first = (self.images / "microbeam.cpio").read_bytes()
        second = (images2 / "microbeam.cpio").read_bytes()
        self.assertEqual(len(first), len(second))
        self.assertTrue(first == second, "microbeam.cpio differs between two builds")
        self.assertEqual((self.images / "bzImage").read_bytes(), (images2 / "bzImage").read_bytes())

    def test_halt_status_reaches_the_host(self):
        with self.boot(debug_exit=True) as g:
            self.wait_root(g)
            try:
                g.http_get("/halt/7", timeout=30, retry=False)
            except GuestError:
                pass  # the VM may be gone before the answer leaves it
            status = g.wait_exit(60)
        self.assertEqual(status, 7, g.console_tail(40))


if __name__ == "__main__":
    unittest.main()
