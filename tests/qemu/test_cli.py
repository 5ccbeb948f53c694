"""Fast tests of the `microbeam` CLI's pure parts: nothing boots, no QEMU runs."""

import json
import os
import socket
import sys
import tempfile
import threading
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cmd"))

from microbeam_cli import accel, build, hosttsc, install, main, qemucmd, size, soak  # noqa: E402
from microbeam_cli.qmp import QMP, QMPError  # noqa: E402


def cfg(**kw):
    base = dict(kernel="/k/bzImage", initrd="/k/microbeam.cpio", host_port=18080)
    base.update(kw)
    return qemucmd.VMConfig(**base)


def option(argv, flag):
    """Every value following FLAG in argv."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


class QemuCommandLine(unittest.TestCase):
    def test_microvm_defaults(self):
        argv = qemucmd.qemu_argv(cfg(qmp_socket="/tmp/x/qmp.sock"))
        self.assertEqual(argv[0], "qemu-system-x86_64")
        self.assertEqual(option(argv, "-M"), ["microvm"])
        self.assertEqual(option(argv, "-accel"), ["tcg"])
        self.assertEqual(option(argv, "-m"), ["128"])
        self.assertEqual(option(argv, "-smp"), ["2"])
        for flag in ("-nodefaults", "-no-user-config", "-nographic", "-no-reboot"):
            self.assertIn(flag, argv)
        self.assertEqual(option(argv, "-serial"), ["stdio"])
        # i8042: the PS/2 controller Ctrl-Alt-Del (QMP send-key) arrives through
        self.assertEqual(option(argv, "-device"), ["virtio-net-device,netdev=n0", "i8042", "virtio-rng-device"])
        self.assertEqual(option(argv, "-netdev"),
                         ["user,id=n0,hostfwd=tcp:127.0.0.1:18080-:8080"])
        self.assertEqual(option(argv, "-qmp"), ["unix:/tmp/x/qmp.sock,server=on,wait=off"])
        self.assertEqual(option(argv, "-kernel"), ["/k/bzImage"])
        self.assertEqual(option(argv, "-initrd"), ["/k/microbeam.cpio"])
        self.assertEqual(option(argv, "-append"),
                         ["console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"])

    def test_q35_uses_pci_nic(self):
        argv = qemucmd.qemu_argv(cfg(machine="q35"))
        self.assertEqual(option(argv, "-M"), ["q35"])
        self.assertEqual(option(argv, "-device"), ["virtio-net-pci,netdev=n0", "virtio-rng-pci"])

    def test_kvm_uses_host_cpu_tcg_max(self):
        self.assertEqual(option(qemucmd.qemu_argv(cfg(accel="kvm")), "-cpu"), ["host"])
        self.assertEqual(option(qemucmd.qemu_argv(cfg(accel="tcg")), "-cpu"), ["max"])

    def test_extra_append_comes_last(self):
        argv = qemucmd.qemu_argv(cfg(append='microbeam.erl_flags="-demo allow_halt true"'))
        self.assertEqual(option(argv, "-append")[0],
                         "console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off "
                         'microbeam.erl_flags="-demo allow_halt true"')

    def test_debug_exit_device_and_cmdline(self):
        argv = qemucmd.qemu_argv(cfg(debug_exit=True))
        self.assertIn("isa-debug-exit,iobase=0xf4,iosize=0x04", option(argv, "-device"))
        self.assertIn("microbeam.debug_exit=1", option(argv, "-append")[0].split())

    def test_debug_exit_respects_explicit_setting(self):
        line = qemucmd.kernel_cmdline("microbeam.debug_exit=0", debug_exit=True)
        self.assertNotIn("microbeam.debug_exit=1", line)
        self.assertTrue(line.endswith("microbeam.debug_exit=0"))

    def test_no_debug_exit_by_default(self):
        argv = qemucmd.qemu_argv(cfg())
        self.assertFalse(any("isa-debug-exit" in a for a in argv))
        self.assertNotIn("debug_exit", option(argv, "-append")[0])

    def test_allow_reboot_drops_no_reboot(self):
        self.assertNotIn("-no-reboot", qemucmd.qemu_argv(cfg(no_reboot=False)))

    def test_extra_forwards(self):
        argv = qemucmd.qemu_argv(cfg(extra_forwards=[(2222, 22)]))
        self.assertEqual(option(argv, "-netdev"),
                         ["user,id=n0,hostfwd=tcp:127.0.0.1:18080-:8080,"
                          "hostfwd=tcp:127.0.0.1:2222-:22"])

    def test_invalid_configs(self):
        for bad in (dict(machine="pc"), dict(accel="auto"), dict(host_port=0),
                    dict(host_port=70000), dict(memory=8), dict(smp=0)):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                qemucmd.qemu_argv(cfg(**bad))


class PrivateNetwork(unittest.TestCase):
    def cfg(self, **kw):
        return qemucmd.VMConfig(kernel="k", initrd="i", private_net="mcast:230.0.0.1:4321",
                                guest_ip="192.168.100.2/24", **kw)

    def test_socket_netdev_mac_from_address_and_static_ip(self):
        argv = qemucmd.qemu_argv(self.cfg())
        self.assertIn("socket,id=n0,mcast=230.0.0.1:4321", argv)
        self.assertIn("virtio-net-device,netdev=n0,mac=52:54:c0:a8:64:02", argv)
        self.assertFalse(any("hostfwd" in a for a in argv))
        cmdline = argv[argv.index("-append") + 1]
        self.assertIn("ip=192.168.100.2:::255.255.255.0::eth0:off", cmdline.split())
        self.assertNotIn(qemucmd.GUEST_IP, cmdline)

    def test_bad_values_name_the_option(self):
        for net, ip, msg in (("mcast:10.0.0.1:5", "192.168.1.2", "--net"),
                             ("mcast:230.0.0.1:0", "192.168.1.2", "--net"),
                             ("tap:x", "192.168.1.2", "--net"),
                             ("mcast:230.0.0.1:4321", "300.1.1.1", "--guest-ip"),
                             ("mcast:230.0.0.1:4321", "192.168.1.0/24", "--guest-ip"),
                             ("mcast:230.0.0.1:4321", None, "--guest-ip")):
            cfg = qemucmd.VMConfig(kernel="k", initrd="i", private_net=net, guest_ip=ip)
            with self.assertRaisesRegex(ValueError, msg):
                qemucmd.qemu_argv(cfg)
        with self.assertRaisesRegex(ValueError, "--guest-ip is for --net"):
            qemucmd.qemu_argv(qemucmd.VMConfig(kernel="k", initrd="i", guest_ip="10.0.2.16/24"))


class SoakVerdict(unittest.TestCase):
    def rounds(self, *spec):
        return [soak.Round(10, req, err, 100.0, mem, up) for req, err, mem, up in spec]

    def test_passes_when_clean_flat_and_uptime_grows(self):
        self.assertEqual(soak.verdict(30000, self.rounds((900, 0, 30500, 12000), (950, 0, 31000, 22000))), [])

    def test_names_each_problem(self):
        problems = soak.verdict(30000, self.rounds((900, 3, 30500, 12000), (0, 0, 40000, 500)))
        self.assertEqual(len(problems), 4, problems)
        self.assertIn("3 failed requests", problems[0])
        self.assertIn("served no request", problems[1])
        self.assertIn("restarted", problems[2])
        self.assertIn("grew 10000 KiB", problems[3])


class EvalParameter(unittest.TestCase):
    def test_base64_of_a_wrapper_that_maps_the_value_to_a_status(self):
        import base64
        param = qemucmd.eval_kernel_param('io:format("a, b~n"), ok.')
        key, _, value = param.partition("=")
        self.assertEqual(key, "microbeam.eval")
        self.assertRegex(value, r"^[A-Za-z0-9+/=]+$")   # nothing the kernel would split
        expr = base64.b64decode(value).decode()
        self.assertIn('begin io:format("a, b~n"), ok\n end of ok -> 0; true -> 0', expr)
        self.assertTrue(expr.endswith("erlang:halt(MicrobeamEvalStatus__)."))

    def test_empty_and_too_long_are_one_line_errors(self):
        with self.assertRaisesRegex(ValueError, "^--eval: empty expression$"):
            qemucmd.eval_kernel_param("  ")
        with self.assertRaisesRegex(ValueError, "^--eval: expression too long"):
            qemucmd.eval_kernel_param("ok, " * 400 + "ok")


class TscHint(unittest.TestCase):
    def test_cmdline_carries_the_frequency_before_extra(self):
        argv = qemucmd.qemu_argv(cfg(tsc_khz=2095000, append="quiet"))
        self.assertEqual(option(argv, "-append")[0],
                         "console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off "
                         "tsc_early_khz=2095000 lpj=8380000 tsc=reliable quiet")

    def test_only_microvm_under_tcg_without_own_setting(self):
        self.assertTrue(hosttsc.needs_hint("microvm", "tcg", ""))
        self.assertFalse(hosttsc.needs_hint("microvm", "kvm", ""))
        self.assertFalse(hosttsc.needs_hint("q35", "tcg", ""))
        for own in ("tsc_early_khz=1000", "tsc=reliable", "lpj=4000"):
            self.assertFalse(hosttsc.needs_hint("microvm", "tcg", f"quiet {own}"))

    def test_measurement_is_plausible(self):
        khz = hosttsc.measure_khz(interval=0.005, rounds=3)
        if khz is None:
            self.skipTest("TSC not measurable on this host")
        self.assertTrue(100_000 < khz < 10_000_000, khz)


class ExitStatusMapping(unittest.TestCase):
    def test_round_trip(self):
        for s in range(128):
            self.assertEqual(qemucmd.map_exit_status(qemucmd.debug_exit_code(s), True), s)

    def test_known_codes(self):
        self.assertEqual(qemucmd.debug_exit_code(3), 7)
        self.assertEqual(qemucmd.map_exit_status(7, True), 3)
        self.assertEqual(qemucmd.map_exit_status(1, True), 0)

    def test_plain_poweroff_is_zero(self):
        self.assertEqual(qemucmd.map_exit_status(0, True), 0)
        self.assertEqual(qemucmd.map_exit_status(0, False), 0)

    def test_without_debug_exit_code_is_qemus(self):
        self.assertEqual(qemucmd.map_exit_status(7, False), 7)

    def test_qemu_that_never_started_keeps_its_code(self):
        self.assertEqual(qemucmd.map_exit_status(1, True, started=False), 1)

    def test_signals(self):
        self.assertEqual(qemucmd.map_exit_status(-9, True), 137)
        self.assertEqual(qemucmd.map_exit_status(-15, False), 143)
        self.assertIn("SIGKILL", qemucmd.describe_exit(-9))
        self.assertEqual(qemucmd.describe_exit(3), "exit status 3")


class Arguments(unittest.TestCase):
    def parse(self, *argv):
        return main.parser().parse_args(list(argv))

    def quiet_fail(self, *argv):
        with mock.patch("sys.stderr"), self.assertRaises(SystemExit) as cm:
            self.parse(*argv)
        self.assertEqual(cm.exception.code, 2)

    def test_run_defaults(self):
        a = self.parse("run")
        self.assertEqual((a.port, a.memory, a.smp, a.machine, a.accel, a.append),
                         (8080, 128, 2, "microvm", "auto", ""))
        self.assertFalse(a.debug_exit)
        self.assertIsNone(a.console_log)

    def test_run_options(self):
        a = self.parse("run", "--kernel", "k", "--initrd", "i", "--port", "9000",
                       "--memory", "256", "--smp", "1", "--machine", "q35",
                       "--append", "quiet loglevel=3", "--accel", "tcg",
                       "--console-log", "c.log", "--debug-exit")
        c = main.vm_config(a)
        self.assertEqual((c.kernel, c.initrd, c.host_port, c.memory, c.smp, c.machine),
                         ("k", "i", 9000, 256, 1, "q35"))
        self.assertEqual(c.append, "quiet loglevel=3")
        self.assertTrue(c.debug_exit)
        self.assertEqual(a.console_log, "c.log")

    def test_default_images_follow_microbeam_out(self):
        with mock.patch.dict(os.environ, {"MICROBEAM_OUT": "/some/out"}):
            c = main.vm_config(self.parse("run"))
        self.assertEqual(c.kernel, "/some/out/bzImage")
        self.assertEqual(c.initrd, "/some/out/microbeam.cpio")

    def test_rejects(self):
        self.quiet_fail()
        self.quiet_fail("frobnicate")
        self.quiet_fail("run", "--port", "0")
        self.quiet_fail("run", "--port", "65536")
        self.quiet_fail("run", "--port", "http")
        self.quiet_fail("run", "--machine", "pc")
        self.quiet_fail("run", "--accel", "hvf")
        self.quiet_fail("run", "--memory", "0")
        self.quiet_fail("build", "--jobs", "0")

    def test_build_jobs_and_test_passthrough(self):
        self.assertEqual(self.parse("build", "--jobs", "3").jobs, 3)
        self.assertEqual(main._ctest_extra(self.parse("test", "--", "-R", "boot")),
                         ["-R", "boot"])
        self.assertEqual(main._ctest_extra(self.parse("test")), [])

    def test_demo_takes_run_options(self):
        a = self.parse("demo", "--port", "8181", "--jobs", "2")
        self.assertEqual((a.port, a.jobs), (8181, 2))

    def test_missing_images_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as d, mock.patch("sys.stderr") as err:
            rc = main.main(["run", "--kernel", f"{d}/nope", "--initrd", f"{d}/nope2",
                            "--accel", "tcg"])
        self.assertEqual(rc, 1)
        said = "".join(c.args[0] for c in err.write.call_args_list)
        self.assertTrue("nope" in said and "not found" in said, said)


class BuildCommands(unittest.TestCase):
    def test_argv(self):
        b = Path("/r/build")
        self.assertEqual(build.configure_argv(Path("/r"), b),
                         ["cmake", "-S", "/r", "-B", "/r/build", "-G", "Ninja"])
        self.assertEqual(build.build_argv(b), ["cmake", "--build", "/r/build"])
        self.assertEqual(build.build_argv(b, 4), ["cmake", "--build", "/r/build",
                                                  "--parallel", "4"])
        self.assertEqual(build.ctest_argv(b, ["-R", "x"]),
                         ["ctest", "--test-dir", "/r/build", "--output-on-failure", "-R", "x"])


class Setup(unittest.TestCase):
    DEB822 = ("Types: deb\n"
              "URIs: http://deb.debian.org/debian\n"
              "Suites: bookworm bookworm-updates\n"
              "Components: main\n"
              "\n"
              "Types: deb deb-src\n"
              "URIs: http://deb.debian.org/debian-security\n")

    def test_deb822_adds_deb_src_once(self):
        fixed = install.enable_deb_src_deb822(self.DEB822)
        self.assertEqual(fixed.count("Types: deb deb-src\n"), 2)
        self.assertEqual(install.enable_deb_src_deb822(fixed), fixed)
        self.assertEqual(fixed.splitlines()[1:], self.DEB822.splitlines()[1:])

    def test_deb822_leaves_deb_src_only_alone(self):
        text = "Types: deb-src\nURIs: x\n"
        self.assertEqual(install.enable_deb_src_deb822(text), text)

    def test_one_line_sources(self):
        text = "deb http://x/debian bookworm main\n# deb http://y bookworm main\n"
        fixed = install.enable_deb_src_one_line(text)
        self.assertTrue(fixed.endswith("deb-src http://x/debian bookworm main\n"))
        self.assertNotIn("deb-src http://y", fixed)
        self.assertEqual(install.enable_deb_src_one_line(fixed), fixed)

    def test_parse_dpkg_query(self):
        out = ("cmake ii 3.25.1-1\nclang-14 ii 1:14.0.6-12\nwrk un \n"
               "qemu-system-x86 rc 1:7.2\nlibfoo:amd64 ii 2.0\n")
        self.assertEqual(install.parse_dpkg_query(out),
                         {"cmake": "3.25.1-1", "clang-14": "1:14.0.6-12", "libfoo": "2.0"})

    def test_pins_install_the_pinned_version(self):
        with mock.patch.object(install.shutil, "which", return_value="/usr/bin/dpkg-query"), \
             mock.patch.object(install.proc, "capture") as capture:
            capture.return_value.stdout = "musl-dev ii 1.2.2-1\ncmake ii 3.25.1-1\n"
            missing = install.missing_packages(["musl-dev", "cmake", "wrk"],
                                               {"musl-dev": "1.2.3-1"})
        self.assertEqual(missing, ["musl-dev=1.2.3-1", "wrk"])

    def test_package_list(self):
        for p in ("clang-14", "lld-14", "linux-source-6.1", "qemu-system-x86", "gcc", "lz4",
                  "erlang-dev", "elixir", "wrk", "dpkg-dev", "libclang-rt-14-dev"):
            self.assertIn(p, install.PACKAGES)


class SizeReport(unittest.TestCase):
    REPORT = {"kernel": 2048, "init": 1024, "apps": {"stdlib": 512, "kernel": 256},
              "release_uncompressed": 768, "initramfs_compressed": 2048, "total": 4096}

    def test_rows_share_only_what_the_vmm_loads(self):
        self.assertEqual(size.rows(self.REPORT), [
            ("kernel (bzImage)", 2048, 0.5), ("initramfs (compressed)", 2048, 0.5),
            ("  /init", 1024, None), ("  app kernel", 256, None), ("  app stdlib", 512, None)])

    def test_crypto_init_is_named(self):
        rows = size.rows(dict(self.REPORT, init_name="microbeam-init-crypto"))
        self.assertEqual(rows[2], ("  /init (microbeam-init-crypto)", 1024, None))

    def test_table(self):
        t = size.table(self.REPORT)
        self.assertIn(" 50.0%", t)
        self.assertIn("  app stdlib", t)
        self.assertRegex(t.splitlines()[-1], r"^total\s+4,096\s+4\.0\s+100\.0%$")

    def test_show_missing_file(self):
        with mock.patch("sys.stdout"):
            self.assertEqual(size.show("/nonexistent/size-report.json"), 1)

    def test_show_bad_report_names_the_problem(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"kernel": 1, "total": 1}, f)
            f.flush()
            with mock.patch("builtins.print") as p:
                self.assertEqual(size.show(f.name), 1)
        self.assertIn("lacks a field", p.call_args[0][0])

    def test_show_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(self.REPORT, f)
            f.flush()
            with mock.patch("builtins.print") as p:
                self.assertEqual(size.show(f.name), 0)
        self.assertIn("kernel (bzImage)", p.call_args[0][0])


class Accelerator(unittest.TestCase):
    def setUp(self):
        accel.reset_cache()

    tearDown = setUp

    def test_probe_rom_reset_vector(self):
        rom = accel.probe_rom()
        self.assertEqual(len(rom), 64 * 1024)
        # mov al, 0x2a ; out 0xf4, al ; hlt
        self.assertEqual(rom[-16:-11], bytes([0xB0, 0x2A, 0xE6, 0xF4, 0xF4]))

    def test_probe_argv(self):
        argv = accel.probe_argv("/t/probe.rom")
        self.assertEqual(option(argv, "-accel"), ["kvm"])
        self.assertEqual(option(argv, "-bios"), ["/t/probe.rom"])
        self.assertIn("isa-debug-exit,iobase=0xf4,iosize=0x04", option(argv, "-device"))

    def test_explicit_choice_skips_probe(self):
        with mock.patch.object(accel, "probe", side_effect=AssertionError("probed")):
            self.assertEqual(accel.resolve("tcg"), "tcg")
            self.assertEqual(accel.resolve("kvm"), "kvm")
            with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL": "tcg"}):
                self.assertEqual(accel.resolve("auto"), "tcg")

    def test_auto_probes_once(self):
        with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL": ""}), \
                mock.patch.object(accel, "probe", return_value=(False, "hung")) as p:
            self.assertEqual(accel.resolve("auto"), "tcg")
            self.assertEqual(accel.resolve("auto"), "tcg")
            self.assertEqual(p.call_count, 1)
        accel.reset_cache()
        with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL": ""}), \
                mock.patch.object(accel, "probe", return_value=(True, "ran")):
            self.assertEqual(accel.resolve("auto"), "kvm")

    def test_no_kvm_device(self):
        with mock.patch("os.access", return_value=False):
            ok, why = accel.probe("kvm")
        self.assertFalse(ok)
        self.assertIn("/dev/kvm", why)

    def test_unknown(self):
        with self.assertRaises(ValueError):
            accel.resolve("hvf")


class FakeQMPServer:
    """A QMP peer on a unix socket: greeting, then scripted replies."""

    def __init__(self, path, replies):
        self.path, self.replies, self.received = path, replies, []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.srv.accept()
        with conn, conn.makefile("rwb") as f:
            f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
            f.flush()
            for reply in self.replies:
                line = f.readline()
                if not line:
                    return
                self.received.append(json.loads(line))
                for msg in reply:
                    f.write(json.dumps(msg).encode() + b"\n")
                f.flush()
            f.readline()

    def close(self):
        self.srv.close()


class QMPClient(unittest.TestCase):
    def test_handshake_command_event_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "qmp.sock")
            srv = FakeQMPServer(path, [
                [{"return": {}}],
                [{"event": "POWERDOWN", "data": {}}, {"return": {}}],
                [{"return": {"enabled": False, "present": True}}],
                [{"error": {"class": "GenericError", "desc": "nope"}}],
            ])
            q = QMP(path).connect(timeout=5)
            self.assertIsNone(q.command("system_powerdown") or None)
            self.assertEqual(q.events[0]["event"], "POWERDOWN")
            self.assertEqual(q.command("query-kvm"), {"enabled": False, "present": True})
            with self.assertRaisesRegex(QMPError, "GenericError: nope"):
                q.command("send-key", {"keys": []}, hold_time=50)
            q.close()
            srv.thread.join(5)
            srv.close()
        self.assertEqual([m["execute"] for m in srv.received],
                         ["qmp_capabilities", "system_powerdown", "query-kvm", "send-key"])
        self.assertEqual(srv.received[3]["arguments"], {"keys": [], "hold-time": 50})

    def test_connect_gives_up(self):
        with tempfile.TemporaryDirectory() as d, self.assertRaises(QMPError):
            QMP(os.path.join(d, "none.sock")).connect(timeout=0.3)


if __name__ == "__main__":
    unittest.main()
