"""A real third-party web stack in the guest: examples/cowboy_hello (Cowboy 2.8, Ranch 2.1,
Cowlib 2.9 compiled with erlc from Debian's rabbitmq-server source at test time) through
`microbeam build --release`, booted once under TCG: GET / answers 200, and a websocket
client on the host gets back the frames it sent on /ws. The handshake's
Sec-WebSocket-Accept (SHA-1, computed by Cowboy with crypto) is checked against the
host's own computation.

Environment: MICROBEAM_OUT (default <repo>/out), MICROBEAM_TEST_ACCEL (tcg by default),
MICROBEAM_BOOT_TIMEOUT (seconds, default 120).
"""

import base64
import hashlib
import json
import os
import socket
import struct
import tempfile
import unittest
from pathlib import Path

from tests.release.helpers import ACCEL, OUT, build_example, build_image, wait_http

from microbeam_cli.vm import Guest  # noqa: E402

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"   # RFC 6455, section 1.3


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: FIN, masked (RFC 6455 5.3), payload under 64 KiB."""
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def recv_exact(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def ws_read(s: socket.socket):
    """(opcode, payload) of one unmasked server frame."""
    b0, b1 = recv_exact(s, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(s, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(s, 8))[0]
    return b0 & 0x0F, recv_exact(s, n)


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam-init-crypto").is_file(),
                     "main build missing (cmd/microbeam build)")
class CowboyInTheGuest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="microbeam-cowboy-"))
        build_example("cowboy_hello", cls.tmp / "rel", timeout=600)
        cls.images = cls.tmp / "images"
        cls.build_log = build_image(cls.tmp / "rel", cls.images)

    def test_image(self):
        self.assertIn("/init: microbeam-init-crypto", self.build_log)
        report = json.loads((self.images / "size-report.json").read_text())
        for app in ("cowboy", "cowlib", "ranch", "ssl", "crypto"):
            self.assertIn(app, report["apps"])
        self.assertLessEqual(report["total"], 11 * 1024 * 1024, report)

    def test_get_root_and_websocket_echo(self):
        with Guest.start(self.images / "bzImage", self.images / "microbeam.cpio", append="panic=-1",
                         memory=256, accel=ACCEL) as g:
            self.assertRegex(wait_http(self, g), r"^hello from cowboy 2\.8\.0 on OTP 25, os pid 1\n$")

            key = base64.b64encode(os.urandom(16))
            with socket.create_connection(("127.0.0.1", g.port), timeout=30) as s:
                s.sendall(b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                          b"Sec-WebSocket-Key: " + key + b"\r\n\r\n")
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    head += recv_exact(s, 1)
                lines = head.decode().split("\r\n")
                self.assertEqual(lines[0], "HTTP/1.1 101 Switching Protocols", head)
                headers = {k.lower(): v for k, _, v in (l.partition(": ") for l in lines[1:] if l)}
                accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest()).decode()
                self.assertEqual(headers.get("sec-websocket-accept"), accept)
                for opcode, payload in ((1, "héllo, websocket".encode()), (2, os.urandom(300))):
                    s.sendall(ws_frame(opcode, payload))
                    self.assertEqual(ws_read(s), (opcode, payload))
                s.sendall(ws_frame(8, struct.pack("!H", 1000)))   # close, normal
                self.assertEqual(ws_read(s)[0], 8)


if __name__ == "__main__":
    unittest.main()
