"""A release's own C NIF: examples/nif_hello (a function and a resource type) through
`microbeam build --release --nif nif_hello=examples/nif_hello/c_src`, booted under TCG.

The release carries the NIF as a glibc shared object in priv/, as rebar3 or mix would
build it; the image leaves it out, and the release's own /init (the main build's link
plus the NIF compiled for musl) has the NIF linked in, which nif_hello's on_load finds.

Environment: MICROBEAM_OUT (default <repo>/out), MICROBEAM_TEST_ACCEL (tcg by default),
MICROBEAM_BOOT_TIMEOUT (seconds, default 120).
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.release.helpers import (ACCEL, BOOT_TIMEOUT, MICROBEAM, OUT, REPO, assert_hard_lines,
                                   build_example, build_image, cpio_listing)

from microbeam_cli import nif, qemucmd  # noqa: E402
from microbeam_cli.vm import Guest  # noqa: E402

C_SRC = REPO / "examples" / "nif_hello" / "c_src"


class NifOptions(unittest.TestCase):
    """The pure parts: --nif parsing and the relink command (no build needed)."""

    def test_parse(self):
        [n] = nif.parse([f"nif_hello={C_SRC}"], slots=4)
        self.assertEqual((n.app, n.src), ("nif_hello", C_SRC))
        for bad, what in (("nif_hello", "expected APP=DIR"), ("=x", "expected APP=DIR"),
                          ("Bad=x", "expected APP=DIR"), ("a=/nonexistent", "holds no .c file")):
            with self.assertRaisesRegex(nif.NifError, what):
                nif.parse([bad], slots=4)
        with self.assertRaisesRegex(nif.NifError, "given twice"):
            nif.parse([f"a={C_SRC}", f"a={C_SRC}"], slots=4)
        with self.assertRaisesRegex(nif.NifError, "room for 1"):
            nif.parse([f"a={C_SRC}", f"b={C_SRC}"], slots=1)

    def test_relink_replaces_the_output_and_adds_objects(self):
        link = ["musl-c++", "-static", "a.o", "-o", "supervisor/microbeam-init", "libx.a"]
        self.assertEqual(nif.relink_argv(link, "microbeam-init", Path("/w/init"), [Path("/w/n.o")]),
                         ["musl-c++", "-static", "a.o", "-o", "/w/init", "libx.a", "/w/n.o"])

    def test_compile_names_the_slot(self):
        argv = nif.compile_argv("cc", Path("/e/include"), 2, Path("s.c"), Path("s.o"))
        self.assertIn("-DSTATIC_ERLANG_NIF_LIBNAME=microbeam_nif_2", argv)
        self.assertIn("/e/include/nif", argv)


class NifRelease:
    """examples/nif_hello built with an OTP major's toolchain (VIA), then `build --release
    --nif`: its /init is that major's link (INIT) plus the NIF, against that ERTS's
    erl_nif.h. Mixed into one TestCase per major below."""
    VIA: tuple = ()
    INIT = ""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-nif-"))
        build_example("nif_hello", cls.tmp / "rel", via=cls.VIA)
        cls.images = cls.tmp / "images"
        cls.build_log = build_image(cls.tmp / "rel", cls.images, "--nif", f"nif_hello={C_SRC}")

    def test_image_has_its_own_init_and_no_so(self):
        self.assertIn("NIF of nif_hello: 1 C file(s)", self.build_log)
        init = f"{self.INIT}-nif"
        self.assertTrue((self.images / init).is_file())
        assert_hard_lines(self, self.images, self.images / "microbeam.cpio", init)
        listing = cpio_listing(self.images / "microbeam.cpio")
        self.assertIn("release/lib/nif_hello-0.1.0/ebin/nif_hello.beam", listing)
        self.assertNotIn("nif_hello.so", listing)
        syms = subprocess.run(["nm", str(self.images / f"{init}.debug")],
                              capture_output=True, text=True, check=True).stdout
        self.assertRegex(syms, r"(?m) T microbeam_nif_0_nif_init$")

    def test_nif_function_and_resource_in_the_guest(self):
        append = "panic=-1 " + qemucmd.eval_kernel_param("nif_hello:check()")
        with Guest.start(self.images / "bzImage", self.images / "microbeam.cpio", append=append,
                         memory=128, debug_exit=True, accel=ACCEL) as g:
            status = g.wait_exit(BOOT_TIMEOUT)
            console = g.console_text()
        self.assertEqual(status, 0, console[-3000:])
        self.assertIn("nif_hello: hello from a static NIF; counters 42 and 1", console)


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init-otp25").is_file(),
                     "main build missing (cmd/microbeam build)")
class NifReleaseInTheGuest(NifRelease, unittest.TestCase):
    """Built with the host's OTP 25 (Debian's): microbeam-init-otp25 plus the NIF."""
    INIT = "microbeam-init-otp25"

    def test_bad_nif_option_is_one_line(self):
        p = subprocess.run(MICROBEAM + ["build", "--release", str(self.tmp / "rel"), "--out",
                                        str(self.tmp / "bad"), "--nif", "nif_hello"],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, MICROBEAM_OUT=str(OUT)))
        self.assertNotEqual(p.returncode, 0)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("--nif 'nif_hello': expected APP=DIR", lines[0])


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init").is_file(),
                     "main build missing (cmd/microbeam build)")
class NifReleaseOnOtp27(NifRelease, unittest.TestCase):
    """Built with `microbeam otp 27 --` (OTP 27.3.4.1's erl and erl_nif.h): microbeam-init
    (ERTS 27) plus the NIF."""
    VIA = tuple(MICROBEAM + ["otp", "27", "--"])
    INIT = "microbeam-init"


if __name__ == "__main__":
    unittest.main()
