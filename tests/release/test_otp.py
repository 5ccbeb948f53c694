"""The OTP majors: which /init a release's ERTS version gets (cmd/microbeam_cli/otp.py),
the one-line refusal of a major MicroBEAM does not build and the one-line note for
another version of one it does, and `microbeam otp MAJOR -- CMD` with the OTP 27 +
Elixir 1.18 toolchain the main build makes (no boot: a few seconds).

Environment: MICROBEAM_OUT (the main build's artifacts, default <repo>/out).
"""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.release.helpers import MICROBEAM, OUT, REPO

from microbeam_cli import otp  # noqa: E402


def _toolchain_built() -> bool:
    try:
        otp.toolchain_bins(27, out=OUT)
        return True
    except otp.OtpError:
        return False


# Built by the main build; the test never builds it (that would race a running build).
TOOLCHAIN_BUILT = _toolchain_built()


class ErtsMajor(unittest.TestCase):

    def test_erts_versions_map_to_otp_majors(self):
        for vsn, major in (("13.1.5", 25), ("13.2.2.5", 25), ("14.0.2", 26), ("15.2.7", 27),
                           ("15.2", 27), ("16.0", 28), ("17.0.1", 29), ("11.0", 23)):
            with self.subTest(vsn=vsn):
                self.assertEqual(otp.otp_major(vsn), major)
        for vsn in ("10.7", "", "x", "15.2-rc1", "15..2"):
            with self.subTest(vsn=vsn):
                self.assertIsNone(otp.otp_major(vsn))

    def test_our_own_versions_need_no_note(self):
        for major, o in otp.SUPPORTED.items():
            c = otp.choose(o.erts_vsn, "rel")
            self.assertEqual((c.otp.major, c.note), (major, ""))

    def test_same_major_other_version_is_one_line_naming_both(self):
        c = otp.choose("15.2", "releases/start_erl.data: release shop 1.0")
        self.assertEqual(c.otp.major, 27)
        self.assertNotIn("\n", c.note)
        for part in ("releases/start_erl.data", "ERTS 15.2 (OTP 27)", "ERTS 15.2.7 (OTP 27.3.4.1)",
                     "accepted"):
            self.assertIn(part, c.note)
        self.assertEqual(otp.choose("13.1.6", "rel").otp.major, 25)

    def test_unsupported_majors_are_one_line_naming_the_supported_ones_and_what_to_do(self):
        for vsn, named in (("14.0.2", "OTP 26"), ("16.0", "OTP 28"), ("17.1", "OTP 29"),
                           ("10.7", "older than 23"), ("garbage", "older than 23")):
            with self.subTest(vsn=vsn):
                with self.assertRaises(otp.OtpError) as cm:
                    otp.choose(vsn, "releases/start_erl.data: release shop 1.0")
                msg = str(cm.exception)
                self.assertNotIn("\n", msg)
                for part in (f"ERTS {vsn}", named, "OTP 25.2.3 (ERTS 13.1.5)",
                             "OTP 27.3.4.1 (ERTS 15.2.7)", "microbeam otp 27 -- mix release"):
                    self.assertIn(part, msg)

    def test_init_names(self):
        self.assertEqual(otp.init_name(otp.SUPPORTED[27], False), "microbeam-init")
        self.assertEqual(otp.init_name(otp.SUPPORTED[27], True), "microbeam-init-crypto")
        self.assertEqual(otp.init_name(otp.SUPPORTED[25], False), "microbeam-init-otp25")
        self.assertEqual(otp.init_name(otp.SUPPORTED[25], True), "microbeam-init-crypto-otp25")


class ToolchainEnv(unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="microbeam-otp-"))

    def test_env_file_paths_go_first_on_path(self):
        for d in ("otp/bin", "elixir/bin"):
            (self.tmp / d).mkdir(parents=True)
            (self.tmp / d).parent.joinpath(".done").write_text("x")
        (self.tmp / "otp-27.env").write_text(f"OTP_BIN={self.tmp}/otp/bin\nELIXIR_BIN={self.tmp}/elixir/bin\n")
        env = otp.command_env(27, {"PATH": "/usr/bin"}, out=self.tmp)
        self.assertEqual(env["PATH"], f"{self.tmp}/elixir/bin:{self.tmp}/otp/bin:/usr/bin")
        self.assertEqual(env["HEX_OFFLINE"], "1")
        self.assertEqual(otp.command_env(27, {"PATH": "/b", "HEX_OFFLINE": "0"}, out=self.tmp)["HEX_OFFLINE"], "0")

    def test_missing_or_unbuilt_toolchain_says_run_build(self):
        with self.assertRaisesRegex(otp.OtpError, r"otp-27.env: missing: run `microbeam build`"):
            otp.toolchain_bins(27, out=self.tmp)
        (self.tmp / "otp-27.env").write_text(f"OTP_BIN={self.tmp}/nope/bin\nELIXIR_BIN={self.tmp}/nope/bin\n")
        with self.assertRaisesRegex(otp.OtpError, "is not built: run `microbeam build`"):
            otp.toolchain_bins(27, out=self.tmp)
        with self.assertRaisesRegex(otp.OtpError, "OTP 26: not supported"):
            otp.toolchain_bins(26, out=self.tmp)


class OtpCommand(unittest.TestCase):
    """`microbeam otp MAJOR -- CMD` as a user runs it."""

    def run_cli(self, *args, timeout=120):
        return subprocess.run(MICROBEAM + list(args), capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, MICROBEAM_OUT=str(OUT)))

    def test_unsupported_major_is_one_line(self):
        p = self.run_cli("otp", "28", "--", "erl")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("OTP 28: not supported", p.stderr)
        p = self.run_cli("otp", "27")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("no command given", p.stderr)

    @unittest.skipUnless(TOOLCHAIN_BUILT, "main build missing (cmd/microbeam build)")
    def test_otp27_erl_elixir_and_mix_offline(self):
        p = self.run_cli("otp", "27", "--", "erl", "-noshell", "-eval",
                         'io:format("~s ~s~n", [erlang:system_info(otp_release), erlang:system_info(version)]), '
                         '{ok, _} = application:ensure_all_started(ssl), halt().')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "27 15.2.7")
        p = self.run_cli("otp", "27", "--", "elixir", "-e", "IO.puts(System.version())")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "1.18.3")
        # A new project, compiled and released with no network and no Hex.
        proj = Path(tempfile.mkdtemp(prefix="microbeam-mix-"))
        env = dict(os.environ, MICROBEAM_OUT=str(OUT), MIX_HOME=str(proj / "mix-home"))
        run = lambda *a: subprocess.run(MICROBEAM + ["otp", "27", "--", *a], cwd=proj / "app",  # noqa: E731
                                        capture_output=True, text=True, timeout=300, env=env)
        p = subprocess.run(MICROBEAM + ["otp", "27", "--", "mix", "new", "app"], cwd=proj,
                           capture_output=True, text=True, timeout=300, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run("mix", "release", "--path", str(proj / "rel"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual((proj / "rel" / "releases" / "start_erl.data").read_text().split()[0], "15.2.7")


if __name__ == "__main__":
    unittest.main()
