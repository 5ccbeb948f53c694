"""Warm snapshots under TCG (ctest group `snapshot`): one `microbeam snapshot` of the
demo, two copies restored from it at once, each on its own host port. Each copy must be
a correct guest: its wall clock right at once (PID 1 stepped it), 16 bytes of its
kernel pool different from the other's, TCP initial sequence numbers keyed by a secret
of its own (not only by its clock), Erlang's monotonic time past the snapshot's. A
restore onto another image is refused in one line.

Environment: MICROBEAM_OUT (artifacts, default <repo>/out).
"""

import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from tests.qemu.artifacts import INITRD, KERNEL, MICROBEAM, MISSING

from microbeam_cli import snapshot  # noqa: E402
AGE = 3.0          # seconds between the save and the restores: the clock PID 1 must fix


def syn_acks(pcap: Path, port=8080):
    """{client port: sequence number} of the guest's SYN-ACKs from PORT in a
    filter-dump pcap."""
    return {dport: seq for dport, seq in _syn_acks(pcap, port)}


def centred(x: int) -> int:
    """X mod 2^32 as a signed distance, in [-2^31, 2^31)."""
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def get_from(source_port: int, port: int) -> int:
    """GET /health from 127.0.0.1:SOURCE_PORT to the forwarded PORT; the host's wall
    clock (ns) just before the connect. QEMU's user network keeps the client's port,
    so every copy sees the same 4-tuple (10.0.2.2:SOURCE_PORT -> 10.0.2.15:8080)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(30)
        s.bind(("127.0.0.1", source_port))
        sent = time.time_ns()
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while s.recv(4096):
            pass
    return sent


def _syn_acks(pcap: Path, port):
    """(client port, sequence number) of each SYN-ACK from PORT in a filter-dump pcap."""
    data = pcap.read_bytes()
    found, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ip_len = (frame[14] & 15) * 4
        tcp = frame[14 + ip_len:]
        if len(tcp) < 14:
            continue
        sport, dport, seq = struct.unpack_from(">HHI", tcp)
        if sport == port and tcp[13] & 0x12 == 0x12:
            found.append((dport, seq))
    return found


@unittest.skipIf(MISSING, f"boot artifacts missing: {', '.join(MISSING)}")
class Snapshot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.d = Path(cls.tmp.name)
        cls.state = cls.d / "demo.snap"
        cls.meta = snapshot.take(KERNEL, INITRD, cls.state, accel="tcg", say=lambda m: None)
        cls.saved_at = time.time()
        time.sleep(AGE)
        cls.copies = []
        cls.first = []
        try:
            for name in ("a", "b"):
                dump = cls.d / f"{name}.pcap"
                g = snapshot.RestoredGuest(
                    cls.state, extra_args=["-object", f"filter-dump,id=dump0,netdev=n0,file={dump}"])
                g.launch()
                g.dump = dump
                cls.copies.append(g)
            # Each copy's first answer, right after its restore.
            for g in cls.copies:
                sent = time.time_ns()
                r = g.http_get("/instance", timeout=30)
                cls.first.append((sent, time.time_ns(), r.json()))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for g in cls.copies:
            g.kill()
        cls.tmp.cleanup()

    def test_description_names_the_image(self):
        self.assertEqual(self.meta["kernel"]["sha256"], snapshot.sha256(KERNEL))
        self.assertEqual(self.meta["initrd"]["sha256"], snapshot.sha256(INITRD))
        self.assertIn("-incoming", self.copies[0].argv)
        self.assertGreater(self.meta["state"]["bytes"], 1 << 20)

    def test_each_copy_serves_on_its_own_port(self):
        a, b = self.copies
        self.assertNotEqual(a.port, b.port)
        for g in self.copies:
            self.assertEqual(g.http_get("/health", timeout=30).status, 200)
            self.assertEqual(g.restore["restores"], 1)   # PID 1's answer on hvc0

    def test_wall_clock_right_at_once(self):
        for (sent, got, inst), g in zip(self.first, self.copies):
            # Without the step the guest would be behind by the snapshot's age at least.
            self.assertGreater(g.restore["clock_step_ns"], AGE * 1e9 * 0.9)
            self.assertGreaterEqual(inst["os_time_ns"], sent - 500_000_000)
            self.assertLessEqual(inst["os_time_ns"], got + 500_000_000)
            self.assertEqual(inst["restores"], 1)    # the BEAM heard it (Demo.Restore)

    def test_kernel_random_pool_differs(self):
        (_, _, a), (_, _, b) = self.first
        self.assertEqual(len(a["urandom"]), 32)
        self.assertNotEqual(a["urandom"], b["urandom"])
        again = [g.http_get("/instance").json()["urandom"] for g in self.copies]
        self.assertNotEqual(again[0], again[1])

    def test_tcp_secrets_differ_for_one_4_tuple(self):
        """A SYN-ACK's sequence number is siphash(net_secret, 4-tuple) + the wall clock
        (ns) / 64. The copies' clocks are the host's (stepped), so for one 4-tuple, with
        the secret they were saved with, their sequence numbers would differ only by
        the clock term (measured before kernel/patches/0003-*: remainders of ~440,000,
        28 ms). Each copy's own secret (PID 1's reseed after the restore re-keys it)
        makes the remainder random: at least one of three 4-tuples shows that."""
        from microbeam_cli.vm import free_port
        ports = [free_port() for _ in range(3)]
        sent = {(i, p): get_from(p, g.port) for p in ports for i, g in enumerate(self.copies)}
        time.sleep(0.5)   # the dump is written as frames pass; let the last one land
        a, b = (syn_acks(g.dump) for g in self.copies)
        rest = []
        for p in ports:
            self.assertIn(p, a, "no SYN-ACK to the fixed client port in copy a's dump")
            self.assertIn(p, b, "no SYN-ACK to the fixed client port in copy b's dump")
            rest.append(centred(a[p] - b[p] - ((sent[(0, p)] - sent[(1, p)]) >> 6)))
        # Shared secret: |remainder| within the copies' clock error (< 1 s = 2^24 units of
        # 64 ns); a random one falls there with probability 2^-7 a tuple.
        self.assertTrue(any(abs(r) >= 1 << 24 for r in rest),
                        f"the copies' ISNs differ only by their clocks: remainders {rest}")

    def test_monotonic_time_stays_monotonic(self):
        for g in self.copies:
            m = [g.http_get("/instance").json()["monotonic_ns"] for _ in range(3)]
            self.assertEqual(m, sorted(m))
            self.assertLess(m[0], m[1])

    def test_other_image_is_refused_in_one_line(self):
        other = self.d / "other.cpio"
        shutil.copyfile(INITRD, other)
        with open(other, "ab") as f:
            f.write(b"\0" * 512)
        with self.assertRaisesRegex(snapshot.SnapshotError, r"restores only onto its own image"):
            snapshot.RestoredGuest(self.state, initrd=other)
        p = subprocess.run([MICROBEAM, "run", "--restore", str(self.state), "--initrd", str(other)],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn("restores only onto its own image", lines[0])

    def test_missing_or_truncated_snapshot_is_one_line(self):
        with self.assertRaisesRegex(snapshot.SnapshotError, "no such snapshot"):
            snapshot.load(self.d / "nothing.snap")
        cut = self.d / "cut.snap"
        with open(self.state, "rb") as src, open(cut, "wb") as dst:
            dst.write(src.read(4096))
        shutil.copyfile(snapshot.meta_path(self.state), snapshot.meta_path(cut))
        with self.assertRaisesRegex(snapshot.SnapshotError, "truncated"):
            snapshot.load(cut)


class Pure(unittest.TestCase):
    def test_restore_message_and_ack(self):
        line = snapshot.restore_message(5, bytes(range(32)))
        self.assertEqual(line, b"microbeam-restore 5 " + bytes(range(32)).hex().encode() + b"\n")
        self.assertEqual(snapshot.parse_ack("microbeam-restored 2 -15\n"), (2, -15))
        with self.assertRaises(ValueError):
            snapshot.parse_ack("hello")

    def test_ram_in_a_file_is_mapped_privately_and_loaded_deferred(self):
        ram = "memory-backend-file,id=mbram,size=128M,mem-path=/s/x.ram,share=on"
        self.assertTrue(snapshot.ram_in_file(["-object", ram]))
        self.assertFalse(snapshot.ram_in_file(["-object", ram.replace("share=on", "share=off")]))
        meta = {"argv": ["-object", ram, "-machine", "memory-backend=mbram"], "ram_in_file": True}
        argv = snapshot.restore_argv(meta, Path("/s/x.snap"), "qemu", Path("/k"), Path("/i"),
                                     [(6000, 8080)], "/q", "/c")
        self.assertIn(ram.replace("share=on", "share=off"), argv)
        self.assertEqual(argv[-2:], ["-incoming", "defer"])
        calls = []
        snapshot.start_incoming(lambda *a: calls.append(a), meta, Path("/s/x.snap"))
        self.assertEqual(calls, [("migrate-set-capabilities",
                                  {"capabilities": [{"capability": "x-ignore-shared", "state": True}]}),
                                 ("migrate-incoming", {"uri": "exec:cat /s/x.snap"})])

    def test_restore_argv_replaces_what_belongs_to_the_copy(self):
        meta = {"argv": ["-M", "microvm", "-nodefaults", "-serial", "stdio",
                         "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:5555-:8080",
                         "-qmp", "unix:/old/qmp.sock,server=on,wait=off",
                         "-chardev", "null,id=mbrestore", "-device", "virtconsole,chardev=mbrestore",
                         "-kernel", "/old/bzImage", "-initrd", "/old/cpio", "-append", "x y"]}
        argv = snapshot.restore_argv(meta, Path("/s/my snap"), "qemu", Path("/k"), Path("/i"),
                                     [(6000, 8080)], "/new/q", "/new/c", extra=["-foo"])
        self.assertEqual(argv, [
            "qemu", "-M", "microvm", "-nodefaults", "-serial", "stdio",
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:6000-:8080",
            "-qmp", "unix:/new/q,server=on,wait=off",
            "-chardev", "socket,path=/new/c,server=on,wait=off,id=mbrestore",
            "-device", "virtconsole,chardev=mbrestore", "-kernel", "/k", "-initrd", "/i", "-append", "x y",
            "-foo", "-incoming", "exec:cat '/s/my snap'"])


if __name__ == "__main__":
    unittest.main()
