"""crypto, public_key and ssl in the guest: examples/tls_hello through
`microbeam build --release`, booted once under TCG on each OTP major: built with the
host's OTP 25 (the -otp25 /init), and with `microbeam otp 27 --` (OTP 27's /init), that
one's ERTS version rewritten to another patch of 27 (15.2), which `build --release`
accepts with one line naming both versions.

The test makes its own CA (and a second one the guest must refuse) with the `openssl`
CLI, runs a TLS server on the host (Python's ssl module, 127.0.0.1, which the guest
reaches as 10.0.2.2 on QEMU's user network), and passes the CA, the guest's own server
certificate and the host server's address through the release's sys.config. In the one
boot, `--eval tls_hello:checks()` runs crypto:hash/2, crypto:mac/4,
crypto:strong_rand_bytes/1, public_key certificate decoding and path validation,
ssl:connect/3 with verify_peer over TLS 1.2 and TLS 1.3, the refusal of a server signed
by another CA, public_key:cacerts_get/0 over the image's CA bundle, while the host connects to the guest's ssl:listen/2 through the
forwarded port with TLS 1.2 and 1.3, verifying it against the same CA. The guest's clock,
sent in each line to the host's server, must be within 2 s of the host's.

Environment: MICROBEAM_OUT (the main build's artifacts, default <repo>/out),
MICROBEAM_TEST_ACCEL (tcg by default), MICROBEAM_BOOT_TIMEOUT (seconds, default 240).
"""

import json
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from tests.release.helpers import (ACCEL, MICROBEAM, OUT, assert_hard_lines, build_example,
                                   build_image, cpio_listing)

from microbeam_cli import otp, qemucmd, release  # noqa: E402
from microbeam_cli.vm import Guest  # noqa: E402

BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "240"))
GUEST_SERVER_NAME = "tls-hello.test"
IMAGE_BUDGET = 11 * 1024 * 1024      # an image with TLS: bzImage + initramfs


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def read_line(s) -> bytes:
    """Bytes from S up to a newline (included) or the end of the stream."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = s.recv(256)
        if not chunk:
            break
        line += chunk
    return line


def make_pki(d: Path) -> None:
    """ca.pem/ca.key, other-ca.pem, host.pem+host.key (IP 10.0.2.2), guest.pem (cert + key,
    DNS tls-hello.test): EC P-256, valid from now for two days."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for name, cn in (("ca", "MicroBEAM test CA"), ("other-ca", "Some other CA")):
        openssl("req", "-x509", *ec, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
                "-subj", f"/CN={cn}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name, san in (("host", "IP:10.0.2.2"), ("guest", f"DNS:{GUEST_SERVER_NAME}")):
        openssl("req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n"
                                       "basicConstraints=CA:FALSE\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=d)


def erl_binary(text: str) -> str:
    assert '"' not in text and "\\" not in text
    return '<<"' + text + '">>'


class HostTLSServer:
    """Answers each line with "<version> <line>" (version as OTP names it, e.g. tlsv1.3)
    and records (line, host time in ms, version)."""

    def __init__(self, cert: Path, key: Path):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        self.errors = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        conn.settimeout(60)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as s:
                line = read_line(s)
                now = time.time() * 1000
                version = s.version().lower()
                self.seen.append((line.decode(), now, version))
                s.sendall(version.encode() + b" " + line)
        except (OSError, ssl.SSLError) as e:
            self.errors.append(repr(e))   # the wrong-CA check ends this way, by design

    def close(self):
        self.sock.close()


class InitVariant(unittest.TestCase):
    """Which /init a release gets, read from its .rel (pure; no build needed)."""

    def rel(self, text: str) -> "release.ReleaseInfo":
        root = Path(tempfile.mkdtemp(prefix="microbeam-rel-"))
        (root / "releases" / "1.0").mkdir(parents=True)
        (root / "releases" / "1.0" / "shop.rel").write_text(text)
        return release.ReleaseInfo(root, "shop", "13.1.5", "1.0")

    def test_crypto_or_asn1_picks_the_crypto_init(self):
        info = self.rel('%% a comment naming {crypto, "x"}\n{release, {"shop", "1.0"}, {erts, "13.1.5"},\n'
                        ' [{kernel, "8.5.3"}, {stdlib, "4.2"}, {\'asn1\', "5.0.21", load}, {shop, "1.0"}]}.\n')
        self.assertEqual(release.rel_apps(info), ["kernel", "stdlib", "asn1", "shop"])
        self.assertEqual(release.init_name(release.rel_apps(info)), "microbeam-init-crypto")
        self.assertEqual(release.init_name(["kernel", "crypto"]), "microbeam-init-crypto")
        self.assertEqual(release.init_name(["kernel", "crypto"], otp.SUPPORTED[25]),
                         "microbeam-init-crypto-otp25")
        self.assertEqual(release.init_name(["kernel"], otp.SUPPORTED[25]), "microbeam-init-otp25")

    def test_no_crypto_keeps_the_small_init(self):
        info = self.rel('{release, {"shop", "1.0"}, {erts, "13.1.5"}, [{kernel, "8.5.3"}, {stdlib, "4.2"}]}.')
        self.assertEqual(release.init_name(release.rel_apps(info)), "microbeam-init")

    def test_base_spec_takes_the_variant(self):
        d = Path(tempfile.mkdtemp(prefix="microbeam-spec-"))
        (d / "base.spec").write_text("# head\nfile /init /o/microbeam-init 0755 0 0\ndir /dev 0755 0 0\n")
        release.write_base_spec(d / "base.spec", Path("/o/microbeam-init-crypto"), d / "out.spec")
        self.assertEqual((d / "out.spec").read_text(),
                         "# head\nfile /init /o/microbeam-init-crypto 0755 0 0\ndir /dev 0755 0 0\n")


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init-crypto-otp25").is_file(),
                     "main build missing (cmd/microbeam build)")
class TLSReleaseInTheGuest(unittest.TestCase):
    """Built with the host's OTP 25."""
    MAJOR = 25
    INIT = "microbeam-init-crypto-otp25"
    ERTS_CLAIMED = None    # the release's ERTS version as built

    @classmethod
    def build_example(cls, sys_config: Path) -> None:
        build_example("tls_hello", cls.tmp / "rel", sys_config, via=MICROBEAM + ["otp", str(cls.MAJOR), "--"],
                      env=dict(os.environ, MICROBEAM_OUT=str(OUT)))

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-tls-"))
        pki = cls.tmp / "pki"
        pki.mkdir()
        make_pki(pki)
        cls.server = HostTLSServer(pki / "host.pem", pki / "host.key")
        text = lambda name: (pki / name).read_text()  # noqa: E731
        sys_config = cls.tmp / "sys.config"
        sys_config.write_text(
            "[{tls_hello, [{port, 8080},\n"
            f"  {{host_server, {{{{10,0,2,2}}, {cls.server.port}}}}},\n"
            f"  {{ca_pem, {erl_binary(text('ca.pem'))}}},\n"
            f"  {{other_ca_pem, {erl_binary(text('other-ca.pem'))}}},\n"
            f"  {{server_pem, {erl_binary(text('guest.pem') + text('guest.key'))}}}]}}].\n")
        cls.build_example(sys_config)
        rel_file = cls.tmp / "rel" / "releases" / "0.1.0" / "tls_hello.rel"
        if cls.ERTS_CLAIMED:   # as if built by another patch release of the same major
            start = cls.tmp / "rel" / "releases" / "start_erl.data"
            built = start.read_text().split()[0]
            start.write_text(start.read_text().replace(built, cls.ERTS_CLAIMED))
            rel_file.write_text(rel_file.read_text().replace(f'"{built}"', f'"{cls.ERTS_CLAIMED}"'))
        cls.images = cls.tmp / "images"
        cls.build_log = build_image(cls.tmp / "rel", cls.images)

    @classmethod
    def tearDownClass(cls):
        cls.server.close()

    def test_image_has_the_crypto_init_and_no_nif_files(self):
        self.assertIn(f"/init: {self.INIT};", self.build_log)
        assert_hard_lines(self, OUT, self.images / "microbeam.cpio", self.INIT)
        listing = cpio_listing(self.images / "microbeam.cpio")
        ssl_vsn = {25: "10.8.7", 27: "11.2.12.1"}[self.MAJOR]
        self.assertIn(f"release/lib/ssl-{ssl_vsn}/ebin/ssl.beam", listing)
        for so in ("crypto.so", "crypto_callback.so", "otp_test_engine.so", "asn1rt_nif.so"):
            self.assertNotIn(so, listing)
        report = json.loads((self.images / "size-report.json").read_text())
        self.assertEqual(report["init"], (OUT / self.INIT).stat().st_size)
        self.assertEqual(report["init_name"], self.INIT)
        self.assertLessEqual(report["total"], IMAGE_BUDGET, report)

    def test_the_majors_erts_runs_it(self):
        erts = otp.SUPPORTED[self.MAJOR].erts_vsn
        note = [ln for ln in self.build_log.splitlines() if "accepted, same major" in ln]
        if self.ERTS_CLAIMED:
            self.assertEqual(len(note), 1, self.build_log)
            self.assertIn(f"ERTS {self.ERTS_CLAIMED} (OTP {self.MAJOR})", note[0])
            self.assertIn(f"/init has ERTS {erts} (OTP {otp.SUPPORTED[self.MAJOR].otp_version})", note[0])
        else:
            self.assertEqual(note, [], self.build_log)

    def test_trust_store_in_the_image_unless_no_cacerts(self):
        if self.ERTS_CLAIMED:
            self.skipTest("the same build path as on OTP 25: tested there")
        with_bundle = cpio_listing(self.images / "microbeam.cpio", verbose=True)
        self.assertRegex(with_bundle, r"(?m)^-rw-r--r-- .* etc/ssl/certs/ca-certificates.crt$")
        size = (OUT / "ca-certificates.crt").stat().st_size
        self.assertGreater(size, 100_000)
        bare = self.tmp / "images-no-cacerts"
        self.assertIn("CA bundle: none", build_image(self.tmp / "rel", bare, "--no-cacerts"))
        self.assertNotIn("ca-certificates.crt", cpio_listing(bare / "microbeam.cpio", verbose=True))

    def test_crypto_public_key_and_tls_both_ways(self):
        append = "panic=-1 " + qemucmd.eval_kernel_param("tls_hello:checks()")
        with Guest.start(self.images / "bzImage", self.images / "microbeam.cpio", append=append,
                         memory=256, debug_exit=True, accel=ACCEL) as g:
            ctx = ssl.create_default_context(cafile=str(self.tmp / "pki" / "ca.pem"))
            answers = {}
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                ctx.minimum_version = ctx.maximum_version = version
                deadline = time.monotonic() + BOOT_TIMEOUT
                while True:
                    try:
                        with socket.create_connection(("127.0.0.1", g.port), timeout=30) as raw, \
                                ctx.wrap_socket(raw, server_hostname=GUEST_SERVER_NAME) as s:
                            s.sendall(b"from the host\n")
                            answers[version.name] = read_line(s).decode()
                            break
                    except (OSError, ssl.SSLError) as e:
                        if isinstance(e, ssl.SSLCertVerificationError):
                            raise
                        if time.monotonic() > deadline or not g.running():
                            self.fail(f"the guest's TLS listener did not answer ({e}):\n" + g.console_tail(60))
                        time.sleep(0.5)
            status = g.wait_exit(BOOT_TIMEOUT)
            console = g.console_text()
        self.assertEqual(answers, {"TLSv1_2": "tlsv1.2 from the host\n", "TLSv1_3": "tlsv1.3 from the host\n"})
        self.assertEqual(status, 0, console[-4000:])
        o = otp.SUPPORTED[self.MAJOR]   # the major's /init ran it, whatever the release claimed
        self.assertRegex(console, rf"microbeam: starting ERTS {o.erts_vsn} \(OTP {o.otp_version}\), release 0\.1\.0 "
                                  rf"at /release{f' [(]built for ERTS {self.ERTS_CLAIMED}[)]' if self.ERTS_CLAIMED else ''}\r?\n")
        for check in ("hash", "strong_rand_bytes", "certificate", "cacerts_get", "'tlsv1.2'", "'tlsv1.3'",
                      "wrong_ca_refused", "listener"):
            self.assertIn(f"tls_hello check {check}: ok", console)
        clocks = [(int(line.split()[1]), host) for line, host, _ in self.server.seen
                  if line.startswith("clock ")]
        self.assertEqual(len(clocks), 2, self.server.seen)
        for guest_ms, host_ms in clocks:
            self.assertLess(abs(host_ms - guest_ms), 2000, "guest clock off by more than 2 s")


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init-crypto").is_file()
                     and (OUT / "otp-27.env").is_file(), "main build missing (cmd/microbeam build)")
class TLSReleaseOnOtp27(TLSReleaseInTheGuest):
    """Built with `microbeam otp 27 --`, then claimed for ERTS 15.2 (OTP 27.2)."""
    MAJOR = 27
    INIT = "microbeam-init-crypto"
    ERTS_CLAIMED = "15.2"


if __name__ == "__main__":
    unittest.main()
