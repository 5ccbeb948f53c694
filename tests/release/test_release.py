"""A user's release in: `microbeam build --release PATH` on the plain-Erlang example
(examples/hello_erlang, no Elixir), booted under TCG; and the checks on bad releases.

Environment: MICROBEAM_OUT (the main build's artifacts, default <repo>/out),
MICROBEAM_TEST_ACCEL (tcg by default), MICROBEAM_BOOT_TIMEOUT (seconds, default 120).
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from tests.release.helpers import (ACCEL, MICROBEAM, OUT, REPO, build_example, build_image, cpio_listing,
                                   wait_http)

from microbeam_cli import guest_env, main, release  # noqa: E402
from microbeam_cli.vm import Guest, GuestError, free_port  # noqa: E402


def etf(term) -> bytes:
    """Erlang's external term format for the few terms a fake boot script needs:
    tuples, lists, str (as strings), and atoms (given as bytes)."""
    def enc(t):
        if isinstance(t, tuple):
            return bytes([104, len(t)]) + b"".join(enc(x) for x in t)
        if isinstance(t, list):
            if not t:
                return bytes([106])
            return bytes([108]) + len(t).to_bytes(4, "big") + b"".join(enc(x) for x in t) + bytes([106])
        if isinstance(t, str):
            return bytes([107]) + len(t).to_bytes(2, "big") + t.encode()
        if isinstance(t, bytes):
            return bytes([119, len(t)]) + t
        raise TypeError(t)
    return bytes([131]) + enc(term)


def fake_release(root: Path, start_erl: str = None, name="app", rel_vsn="0.1.0", layout="start_erl",
                 erts="13.1.5") -> Path:
    """The files that say what a release is, in one of the layouts release tools leave."""
    vsn_dir = root / "releases" / rel_vsn
    vsn_dir.mkdir(parents=True)
    rel = f'{{release, {{"{name}", "{rel_vsn}"}}, {{erts, "{erts}"}}, []}}.\n'
    (vsn_dir / f"{name}.rel").write_text(rel)
    (vsn_dir / "start.boot").write_bytes(etf((b"script", (name, rel_vsn), [])))
    if layout == "start_erl":
        (root / "releases" / "start_erl.data").write_text(start_erl or f"{erts} {rel_vsn}\n")
    elif layout == "RELEASES":
        (root / "releases" / "RELEASES").write_text(
            f'[{{release,"{name}","{rel_vsn}","{erts}",[],permanent}}].\n')
    elif layout == "rel":
        (root / "releases" / f"{name}.rel").write_text(rel)
    return root


class ReadRelease(unittest.TestCase):
    """Every layout release tools leave, read through assemble.escript --describe."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="microbeam-rel-"))

    def test_reads_name_and_versions_in_every_layout(self):
        for layout, source in (("start_erl", "releases/start_erl.data"), ("RELEASES", "releases/RELEASES"),
                               ("rel", "releases/shop.rel"), ("vsn_rel", "releases/1.2.3/shop.rel")):
            with self.subTest(layout=layout):
                root = fake_release(self.tmp / layout, None, "shop", "1.2.3", layout=layout)
                info = release.read_release(root)
                self.assertEqual((info.name, info.erts_vsn, info.rel_vsn), ("shop", "13.1.5", "1.2.3"))
                self.assertEqual(info.source, root / source)
                release.check_erts(info)  # the static ERTS' own version passes

    def test_other_erts_is_one_line_naming_both_versions_and_the_fix(self):
        for layout, source in (("start_erl", "start_erl.data"), ("rel", "app.rel")):
            with self.subTest(layout=layout):
                info = release.read_release(fake_release(self.tmp / layout, None, layout=layout, erts="14.0.2"))
                with self.assertRaises(release.ReleaseError) as cm:
                    release.check_erts(info)
                msg = str(cm.exception)
                self.assertNotIn("\n", msg)
                for part in (source, "ERTS 14.0.2", "13.1.5", "OTP 25.2.3", "rebuild"):
                    self.assertIn(part, msg)

    def test_bad_inputs_name_the_file(self):
        with self.assertRaisesRegex(release.ReleaseError, "not a directory"):
            release.read_release(self.tmp / "missing")
        (self.tmp / "empty" / "releases").mkdir(parents=True)
        with self.assertRaisesRegex(release.ReleaseError, "releases: none of start_erl.data, RELEASES.*not an OTP"):
            release.read_release(self.tmp / "empty")
        with self.assertRaisesRegex(release.ReleaseError, 'start_erl.data: expected "ERTS_VSN REL_VSN"'):
            release.read_release(fake_release(self.tmp / "bad", "13.1.5"))
        r = fake_release(self.tmp / "noboot", "13.1.5 0.1.0")
        (r / "releases" / "0.1.0" / "start.boot").unlink()
        with self.assertRaisesRegex(release.ReleaseError, "missing boot file .*start.boot"):
            release.read_release(r)
        two = fake_release(self.tmp / "two", None, "a", layout="rel")
        (two / "releases" / "b.rel").write_text((two / "releases" / "a.rel").read_text())
        with self.assertRaisesRegex(release.ReleaseError, "2 release files .*keep one"):
            release.read_release(two)

    def test_cli_refuses_other_otp_before_building(self):
        r = fake_release(self.tmp / "r", "14.0.2 0.1.0")
        p = subprocess.run(MICROBEAM + ["build", "--release", str(r)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("ERTS 14.0.2 (OTP 26)", lines[0])
        self.assertIn("microbeam otp 27 -- mix release", lines[0])
        self.assertNotIn("Traceback", p.stderr)


class RefusedAtBuildTime(unittest.TestCase):
    """Releases that would break at boot are refused before anything is built, one line
    a file (staging runs before the main build, so these need no build)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-refused-"))
        build_example("hello_erlang", cls.tmp / "hello")

    def variant(self, name) -> Path:
        dest = self.tmp / name
        shutil.copytree(self.tmp / "hello", dest)
        return dest

    def refused(self, rel: Path, env_file=None) -> list:
        argv = MICROBEAM + ["build", "--release", str(rel), "--out", str(self.tmp / "out")]
        if env_file:
            argv += ["--env-file", str(env_file)]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        self.assertNotIn("[release 3/", p.stderr, "refused only after the main build started")
        return [ln for ln in p.stderr.splitlines() if ln.startswith("microbeam: error: ")]

    def rewrite_rel(self, rel: Path, extra_apps: str):
        """Adds applications to hello.rel and makes the boot script again (systools)."""
        vsn = rel / "releases" / "0.1.0"
        subprocess.run(["erl", "-noshell", "-noinput", "-eval", f"""
            {{ok, [{{release, N, E, Apps}}]}} = file:consult("hello.rel"),
            Extra = [begin ok = application:load(A), {{ok, V}} = application:get_key(A, vsn), {{A, V}} end
                     || A <- [{extra_apps}]],
            ok = file:write_file("hello.rel", io_lib:format("~p.~n", [{{release, N, E, Apps ++ Extra}}])),
            {{ok, _, _}} = systools:make_script("hello", [{{path, ["../../lib/*/ebin"]}}, silent, no_warn_sasl]),
            ok = file:rename("hello.boot", "start.boot"), halt()."""], cwd=vsn, check=True, timeout=120)

    def test_own_nif_so_is_refused_naming_file_app_and_fix(self):
        rel = self.variant("nif")
        priv = rel / "lib" / "hello-0.1.0" / "priv"
        priv.mkdir()
        so = next(Path("/usr/lib/erlang/lib").glob("asn1-*/priv/lib/asn1rt_nif.so"))
        shutil.copyfile(so, priv / "hello_nif.so")
        (priv / "data.txt").write_text("not an ELF\n")
        lines = self.refused(rel)
        self.assertEqual(len(lines), 1, lines)
        for part in ("lib/hello-0.1.0/priv/hello_nif.so", "application hello", "shared object",
                     "--nif hello=DIR", "drop hello from the release"):
            self.assertIn(part, lines[0])

    def test_crypto_and_asn1_so_files_are_linked_in_not_refused(self):
        rel = self.variant("crypto")
        self.rewrite_rel(rel, "crypto, asn1")
        priv = rel / "lib" / "hello-0.1.0" / "priv"
        priv.mkdir()
        so = next(Path("/usr/lib/erlang/lib").glob("asn1-*/priv/lib/asn1rt_nif.so"))
        shutil.copyfile(so, priv / "hello_nif.so")
        lines = self.refused(rel)
        self.assertEqual(len(lines), 1, lines)   # hello's own .so only: crypto's and asn1's are in /init
        self.assertIn("hello_nif.so", lines[0])

    def test_rel_naming_an_application_missing_from_lib(self):
        rel = self.variant("missing_app")
        relfile = rel / "releases" / "0.1.0" / "hello.rel"
        relfile.write_text(relfile.read_text().replace("{hello,", '{nowhere,"1.0"},{hello,'))
        lines = self.refused(rel)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(f"{relfile} names application nowhere-1.0", lines[0])

    def test_boot_script_naming_a_module_without_beam(self):
        rel = self.variant("missing_beam")
        (rel / "lib" / "hello-0.1.0" / "ebin" / "hello_sup.beam").unlink()
        lines = self.refused(rel)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("start.boot loads module hello_sup", lines[0])

    def test_missing_boot_file(self):
        rel = self.variant("missing_boot")
        (rel / "releases" / "0.1.0" / "start.boot").unlink()
        lines = self.refused(rel)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("missing boot file", lines[0])
        self.assertIn("releases/0.1.0/start.boot", lines[0])

    def test_node_named_in_vm_args_without_epmd_port(self):
        """rebar3's default vm.args names the node; the guest has no epmd."""
        rel = self.variant("sname")
        vm_args = rel / "releases" / "0.1.0" / "vm.args"
        vm_args.write_text(vm_args.read_text() + "-sname hello # as rebar3 writes it\n-setcookie hello\n")
        lines = self.refused(rel)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(f"{vm_args}: -sname names the node, and the guest runs no epmd", lines[0])
        self.assertIn("-erl_epmd_port PORT", lines[0])
        vm_args.write_text(vm_args.read_text() + "-erl_epmd_port 4370\n")
        p = subprocess.run(["escript", str(release.ASSEMBLE), str(rel), str(self.tmp / "st"),
                            str(self.tmp / "st.spec"), str(self.tmp / "st.json")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_bad_env_file_line(self):
        env = self.tmp / "bad.env"
        env.write_text("# ok\nGOOD=1\n1BAD=secret\n")
        lines = self.refused(self.tmp / "hello", env_file=env)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(f"--env-file {env}:3: not NAME=VALUE", lines[0])
        self.assertNotIn("secret", lines[0])


class EnvOption(unittest.TestCase):
    """`--env NAME=VALUE` for run and vmm-config: kernel parameters PID 1 reads."""

    def test_plain_quoted_and_base64_forms(self):
        self.assertEqual(guest_env.env_param("PORT=8081"), "microbeam.env=PORT=8081")
        self.assertEqual(guest_env.env_param("URL=ecto://u:p@db/x?a=b"), "microbeam.env=URL=ecto://u:p@db/x?a=b")
        self.assertEqual(guest_env.env_param("MSG=hello world"), '"microbeam.env=MSG=hello world"')
        quote = guest_env.env_param('Q=say "hi"')
        self.assertTrue(quote.startswith("microbeam.env_b64=Q="))
        self.assertEqual(base64.b64decode(quote.split("=", 2)[2]).decode(), 'say "hi"')
        self.assertTrue(guest_env.env_param("U=\u00e9t\u00e9").startswith("microbeam.env_b64=U="))
        for bad, why in (("NOEQUALS", "not NAME=VALUE"), ("1X=y", "not a variable name"),
                         ("A-B=y", "not a variable name")):
            with self.assertRaisesRegex(guest_env.EnvError, why):
                guest_env.env_param(bad)
        with self.assertRaisesRegex(guest_env.EnvError, "--env-file"):
            guest_env.with_env("", [f"V{i}={'x' * 100}" for i in range(20)])

    def test_run_and_vmm_config_pass_them(self):
        a = main.parser().parse_args(["run", "--append", "quiet", "--env", "A=1", "--env", "MSG=a b"])
        self.assertEqual(main.vm_config(a).append, 'quiet microbeam.env=A=1 "microbeam.env=MSG=a b"')
        with tempfile.TemporaryDirectory() as d:
            for f in ("vmlinux", "microbeam.cpio"):
                Path(d, f).write_bytes(b"x")
            out = Path(d, "fc.json")
            rc = main.main(["vmm-config", "firecracker", "--kernel", f"{d}/vmlinux", "--initrd",
                            f"{d}/microbeam.cpio", "--env", "MSG=a b", "--out", str(out)])
            self.assertEqual(rc, 0)
            self.assertIn('"microbeam.env=MSG=a b"', json.loads(out.read_text())["boot-source"]["boot_args"])
            p = subprocess.run(MICROBEAM + ["vmm-config", "cloud-hypervisor", "--kernel", f"{d}/vmlinux",
                                            "--initrd", f"{d}/microbeam.cpio", "--env", "1X=y"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn("not a variable name", p.stderr)


DEMO_MIX_RELEASE = REPO / "build" / "release" / "mix-release"


@unittest.skipUnless((OUT / "microbeam.cpio").is_file() and DEMO_MIX_RELEASE.is_dir(),
                     "main build missing (cmd/microbeam build)")
class DemoMixReleaseThroughReleaseOption(unittest.TestCase):
    """The demo's own `mix release` output through `build --release` gives the very
    initramfs the main build ships: one pipeline for our release and a user's."""

    def test_same_bytes_as_the_main_build(self):
        images = Path(tempfile.mkdtemp(prefix="microbeam-demo-rel-"))
        build_image(DEMO_MIX_RELEASE, images)
        self.assertTrue((images / "microbeam.cpio").read_bytes() == (OUT / "microbeam.cpio").read_bytes(),
                        "the demo through --release differs from out/microbeam.cpio")


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init").is_file(),
                     "main build missing (cmd/microbeam build)")
class ErlangExampleBootsFromItsOwnImage(unittest.TestCase):
    """examples/hello_erlang built with erlc + systools, turned into an image, booted."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-hello-"))
        build_example("hello_erlang", cls.tmp / "rel")
        cls.images = cls.tmp / "images"
        cls.build_log = build_image(cls.tmp / "rel", cls.images)

    def boot(self, append="", debug_exit=False) -> Guest:
        return Guest.start(self.images / "bzImage", self.images / "microbeam.cpio",
                           append=" ".join(filter(None, ["panic=-1", append])), memory=128,
                           debug_exit=debug_exit, accel=ACCEL)

    def test_artifacts_and_progress(self):
        for name in ("bzImage", "microbeam.cpio", "size-report.json"):
            self.assertTrue((self.images / name).is_file(), name)
        for step in ("[release 1/6]", "[release 3/6]", "[release 6/6] hard lines"):
            self.assertIn(step, self.build_log)
        # Built with the host's (Debian 12's) OTP 25: ERTS 25's /init, no same-major note.
        self.assertIn("(ERTS 13.1.5, /init of OTP 25.2.3)", self.build_log)
        self.assertIn("/init: microbeam-init-otp25;", self.build_log)
        self.assertNotIn("accepted, same major", self.build_log)

    def test_serves_with_sys_config_and_vm_args_honoured(self):
        with self.boot() as g:
            body = wait_http(self, g)
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
            body = wait_http(self, g)
        self.assertIn("hello from_cmdline", body)

    def test_image_is_reproducible(self):
        """The same release, built again from another directory, gives the same cpio
        byte for byte (no time stamps, owners, build paths or file order leak in)."""
        build_example("hello_erlang", self.tmp / "again" / "rel")
        images2 = self.tmp / "images2"
        build_image(self.tmp / "again" / "rel", images2)
        first = (self.images / "microbeam.cpio").read_bytes()
        second = (images2 / "microbeam.cpio").read_bytes()
        self.assertEqual(len(first), len(second))
        self.assertTrue(first == second, "microbeam.cpio differs between two builds")
        self.assertEqual((self.images / "bzImage").read_bytes(), (images2 / "bzImage").read_bytes())

    def test_halt_status_reaches_the_host(self):
        with self.boot(debug_exit=True) as g:
            wait_http(self, g)
            try:
                g.http_get("/halt/7", timeout=30, retry=False)
            except GuestError:
                pass  # the VM may be gone before the answer leaves it
            status = g.wait_exit(60)
        self.assertEqual(status, 7, g.console_tail(40))


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init").is_file(),
                     "main build missing (cmd/microbeam build)")
class SystoolsTarReleaseBoots(unittest.TestCase):
    """systools:make_tar's layout (no start_erl.data, no vm.args, releases/NAME.rel, the
    host's erts-13.1.5 inside) through build --release, booted under TCG."""

    def test_boots_and_serves_and_its_erts_is_not_used(self):
        tmp = Path(tempfile.mkdtemp(prefix="microbeam-tar-"))
        subprocess.run([str(REPO / "examples" / "hello_erlang" / "build_tar.sh"), str(tmp / "rel")],
                       check=True, capture_output=True, timeout=300)
        self.assertFalse((tmp / "rel" / "releases" / "start_erl.data").exists())
        env_file = tmp / "app.env"
        env_file.write_text("# the release's environment, in the image\nFROM_FILE=1\n")
        log = build_image(tmp / "rel", tmp / "images", "--env-file", str(env_file))
        self.assertIn("erts-13.1.5 in the release: not used", log)
        self.assertIn("/init: microbeam-init-otp25;", log)   # built with the host's OTP 25
        self.assertIn("[release 6/6] hard lines", log)
        listing = cpio_listing(tmp / "images" / "microbeam.cpio", verbose=True)
        self.assertRegex(listing, r"(?m)^-rw------- .* /?etc/microbeam.env$")
        report = json.loads((tmp / "images" / "size-report.json").read_text())
        self.assertEqual(report.get("release_erts_not_used"), ["erts-13.1.5"])
        with Guest.start(tmp / "images" / "bzImage", tmp / "images" / "microbeam.cpio", append="panic=-1",
                         memory=128, accel=ACCEL) as g:
            body = wait_http(self, g)
        self.assertIn("hello from_sys_config (config sys_config)", body)
        self.assertIn("os_pid=1", body)


SECRET = "s" * 64


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init").is_file(),
                     "main build missing (cmd/microbeam build)")
class MixRuntimeConfigRelease(unittest.TestCase):
    """examples/greeting_elixir: `mix release` with config/runtime.exs reading GREETING and
    PORT, reboot_system_after_config (the config provider restarts the VM inside the
    BEAM), an env file in the image (--env-file), microbeam.env on the command line."""

    def test_runtime_exs_reads_the_environment_from_the_command_line_and_the_image(self):
        tmp = Path(tempfile.mkdtemp(prefix="microbeam-greeting-"))
        build_example("greeting_elixir", tmp / "rel", timeout=600, env=dict(os.environ, HEX_OFFLINE="1"))
        log = build_image(tmp / "rel", tmp / "images")
        self.assertIn("erts-13.1.5 in the release: not used", log)
        # Secrets in a second initramfs in front of the image (docs/kernel-cmdline.md).
        secrets = tmp / "secrets"
        (secrets / "etc").mkdir(parents=True)
        (secrets / "etc" / "microbeam.env").write_text(
            f"# secrets stay off the kernel command line\nSECRET_KEY_BASE={SECRET}\nGREETING=from the env file\n")
        (secrets / "etc" / "microbeam.env").chmod(0o600)
        archive = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=secrets,
                                 input=b"etc\netc/microbeam.env\n", capture_output=True, check=True).stdout
        initrd = tmp / "boot.cpio"
        initrd.write_bytes(archive + (tmp / "images" / "microbeam.cpio").read_bytes())
        port = free_port()
        append = ('panic=-1 "microbeam.env=GREETING=hello from the kernel command line" '
                  "microbeam.env=PORT=8081 microbeam.env=1BAD=x")
        with Guest.start(tmp / "images" / "bzImage", initrd, append=append,
                         memory=128, accel=ACCEL, extra_forwards=[(port, 8081)]) as g:
            body = wait_http(self, g, port)
            try:  # the port came from the environment: nothing listens on the default
                g.http_get("/", timeout=2, retry=False)
                on_default = True
            except GuestError:
                on_default = False
            console = g.console_text()
        self.assertIn("hello from the kernel command line\n", body)   # the command line wins
        self.assertIn("port=8081", body)
        self.assertIn("secret_key_base_bytes=64", body)
        self.assertFalse(on_default, "something answered on the default port 8080")
        # The config provider wrote the runtime sys.config and restarted the VM: after the
        # restart it is booted, and PID 1 started ERTS once (no exit, no restart of /init).
        self.assertIn("config_provider_booted={:booted, nil}", body)
        self.assertIn("release=greeting-0.1.0 root=/release mode=interactive", body)
        self.assertIn("sys_config=/tmp/greeting-0.1.0.runtime tmp=/tmp node=greeting", body)
        self.assertIn("cookie_set=true os_pid=1", body)
        self.assertEqual(console.count("microbeam: starting ERTS"), 1, console[-3000:])
        self.assertIn('microbeam: microbeam.env: "1BAD" is not a variable name', console)
        self.assertNotIn("Kernel panic", console)
        self.assertNotIn(SECRET, console)

    def test_runtime_exs_without_the_restart(self):
        """Mix 1.14's default, reboot_system_after_config: false: the provider runs
        runtime.exs in place (it still reads RELEASE_SYS_CONFIG and RELEASE_ROOT)."""
        tmp = Path(tempfile.mkdtemp(prefix="microbeam-greeting-norestart-"))
        src = tmp / "src"
        shutil.copytree(REPO / "examples" / "greeting_elixir", src)
        mix = src / "mix.exs"
        mix.write_text(mix.read_text().replace("reboot_system_after_config: true",
                                               "reboot_system_after_config: false"))
        subprocess.run([str(src / "build.sh"), str(tmp / "rel")], check=True, capture_output=True, timeout=600)
        self.assertIn("RUNTIME_CONFIG=false", (tmp / "rel" / "releases" / "0.1.0" / "sys.config").read_text())
        build_image(tmp / "rel", tmp / "images")
        with Guest.start(tmp / "images" / "bzImage", tmp / "images" / "microbeam.cpio", accel=ACCEL, memory=128,
                         append='panic=-1 microbeam.env_b64=GREETING=c2F5ICJoaSI=') as g:
            body = wait_http(self, g)
        self.assertIn('say "hi"\nport=8080', body)
        self.assertIn("config_provider_booted=nil", body)
        self.assertIn("sys_config=/release/releases/0.1.0/sys ", body)


if __name__ == "__main__":
    unittest.main()
