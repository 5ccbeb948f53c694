"""Fast tests of the `microbeam` CLI's pure parts: nothing boots, no QEMU runs."""

import gzip
import io
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cmd"))

from microbeam_cli import (accel, build, console, disk, hosttsc, initrd, install,  # noqa: E402
                           main, preflight, qemucmd, size, soak)
from microbeam_cli import run as run_mod  # noqa: E402
from microbeam_cli.vm import Guest, free_port  # noqa: E402
from microbeam_cli.qmp import QMP, QMPError  # noqa: E402


def cfg(**kw):
    base = dict(kernel="/k/bzImage", initrd="/k/microbeam.cpio", forwards=[(18080, 8080)])
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
                         ["console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off panic=-1"])

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
                         "console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off panic=-1 "
                         'microbeam.erl_flags="-demo allow_halt true"')

    def test_panic_reboots_unless_append_says(self):
        # with -no-reboot, panic=-1 makes a kernel panic end QEMU at once
        self.assertIn("panic=-1", option(qemucmd.qemu_argv(cfg()), "-append")[0].split())
        line = option(qemucmd.qemu_argv(cfg(append="panic=5")), "-append")[0].split()
        self.assertEqual([w for w in line if w.startswith("panic=")], ["panic=5"])
        self.assertNotIn("panic=", option(qemucmd.qemu_argv(cfg(panic=None)), "-append")[0])

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

    def test_forwards(self):
        argv = qemucmd.qemu_argv(cfg(forwards=[(18080, 8080), (2222, 22)]))
        self.assertEqual(option(argv, "-netdev"),
                         ["user,id=n0,hostfwd=tcp:127.0.0.1:18080-:8080,"
                          "hostfwd=tcp:127.0.0.1:2222-:22"])
        self.assertEqual(option(qemucmd.qemu_argv(cfg(forwards=[])), "-netdev"), ["user,id=n0"])

    def test_parse_forward(self):
        self.assertEqual(qemucmd.parse_forward("4000:4001"), (4000, 4001))
        for bad in ("4000", "a:b", "0:80", "80:65536", "1:2:3", ""):
            with self.subTest(bad=bad), self.assertRaisesRegex(ValueError, "^--forward: "):
                qemucmd.parse_forward(bad)

    def test_invalid_configs(self):
        for bad in (dict(machine="pc"), dict(accel="auto"), dict(forwards=[(0, 8080)]),
                    dict(forwards=[(70000, 8080)]), dict(forwards=[(1, 8080), (1, 22)]),
                    dict(memory=8), dict(smp=0)):
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
                         "console=ttyS0 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off panic=-1 "
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
        self.assertEqual((a.memory, a.smp, a.machine, a.accel, a.append),
                         (128, 2, "microvm", "auto", ""))
        self.assertIsNone(a.console_log)
        c = main.vm_config(a)
        self.assertEqual(c.forwards, [(8080, 8080)])
        self.assertTrue(c.debug_exit)       # the BEAM's status is run's, with no flag
        self.assertEqual(c.panic, "-1")
        self.assertTrue(c.no_reboot)

    def test_image_dir(self):
        c = main.vm_config(self.parse("run", "--image", "out/release-hello"))
        self.assertEqual((c.kernel, c.initrd),
                         ("out/release-hello/bzImage", "out/release-hello/microbeam.cpio"))
        c = main.vm_config(self.parse("run", "--image", "d", "--initrd", "x.cpio"))
        self.assertEqual((c.kernel, c.initrd), ("d/bzImage", "x.cpio"))   # --initrd wins

    def test_forwards(self):
        c = main.vm_config(self.parse("run", "--forward", "4000:4000", "--forward", "2222:22"))
        self.assertEqual(c.forwards, [(4000, 4000), (2222, 22)])   # no 8080 unless asked
        c = main.vm_config(self.parse("run", "--port", "9000", "--forward", "4000:4000"))
        self.assertEqual(c.forwards, [(9000, 8080), (4000, 4000)])
        self.assertEqual(main.vm_config(self.parse("run", "--port", "9000")).forwards,
                         [(9000, 8080)])

    def test_status_reported_unless_the_policy_keeps_the_guest_up(self):
        for append, want in (("", True), ("microbeam.exit=poweroff", True),
                             ("microbeam.exit=restart", False), ("microbeam.exit=shell", False),
                             ("microbeam.exit=reboot quiet", False),
                             ("microbeam.exit=shell microbeam.exit=poweroff", True)):
            with self.subTest(append=append):
                self.assertEqual(main.vm_config(self.parse("run", "--append", append)).debug_exit,
                                 want)
        a = self.parse("run", "--append", "microbeam.exit=restart", "--debug-exit")
        self.assertTrue(main.vm_config(a).debug_exit)

    def test_run_options(self):
        a = self.parse("run", "--kernel", "k", "--initrd", "i", "--port", "9000",
                       "--memory", "256", "--smp", "1", "--machine", "q35",
                       "--append", "quiet loglevel=3", "--accel", "tcg",
                       "--console-log", "c.log", "--debug-exit")
        c = main.vm_config(a)
        self.assertEqual((c.kernel, c.initrd, c.forwards, c.memory, c.smp, c.machine),
                         ("k", "i", [(9000, 8080)], 256, 1, "q35"))
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


class DataDisk(unittest.TestCase):
    """`run --disk FILE[,size=SIZE][,ro]` (cmd/microbeam_cli/disk.py)."""

    def test_specs_and_sizes(self):
        self.assertEqual(disk.parse_spec("d.img"), disk.DiskSpec("d.img"))
        self.assertEqual(disk.parse_spec("d.img,size=64M"), disk.DiskSpec("d.img", 64 << 20))
        self.assertEqual(disk.parse_spec("/x/d.img,size=1G,ro"),
                         disk.DiskSpec("/x/d.img", 1 << 30, True))
        for text, n in (("4M", 4 << 20), ("4MiB", 4 << 20), ("8m", 8 << 20),
                        ("16777216", 16 << 20), ("2g", 2 << 30), ("1T", 1 << 40)):
            self.assertEqual(disk.parse_size(text), n, text)

    def test_bad_values_are_one_line_naming_the_option(self):
        for text in ("", ",size=8M", "d.img,size=", "d.img,size=8Q", "d.img,size=-1",
                     "d.img,size=1M", "d.img,size=17T", "d.img,sz=8M", "d.img,", "d.img,size=8M,rw",
                     "d.img,size=iB"):
            with self.subTest(text=text), self.assertRaises(ValueError) as cm:
                disk.parse_spec(text)
            self.assertTrue(str(cm.exception).startswith("--disk: "), cm.exception)
            self.assertNotIn("\n", str(cm.exception))
        with mock.patch("sys.stderr") as err, self.assertRaises(SystemExit) as cm:
            main.parser().parse_args(["run", "--disk", "d.img,size=lots"])
        self.assertEqual(cm.exception.code, 2)
        said = "".join(c.args[0] for c in err.write.call_args_list)
        self.assertEqual(said.count("\n"), 1, said)
        self.assertIn("size='lots'", said)

    def test_virtio_blk_per_machine_and_read_only(self):
        for machine, dev in (("microvm", "virtio-blk-device"), ("q35", "virtio-blk-pci")):
            argv = qemucmd.qemu_argv(cfg(machine=machine, disk="/d/data.img"))
            self.assertEqual(option(argv, "-drive"),
                             ["file=/d/data.img,format=raw,if=none,id=data0,cache=writeback"])
            self.assertIn(f"{dev},drive=data0", option(argv, "-device"))
        argv = qemucmd.qemu_argv(cfg(disk="/d/data.img", disk_readonly=True))
        self.assertTrue(option(argv, "-drive")[0].endswith(",readonly=on"))
        self.assertEqual(option(qemucmd.qemu_argv(cfg()), "-drive"), [])

    def test_the_guest_is_told_to_mount_it(self):
        self.assertEqual(disk.with_data_param(""), "microbeam.data=/dev/vda")
        self.assertEqual(disk.with_data_param("quiet"), "quiet microbeam.data=/dev/vda")
        self.assertEqual(disk.with_data_param("microbeam.data=/dev/vdb"), "microbeam.data=/dev/vdb")

    @unittest.skipUnless(disk.mkfs_program(), "mkfs.ext4 (e2fsprogs) not installed")
    def test_missing_file_is_made_ext4_sparse_and_kept_after(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "data.img"
            said = []
            got = disk.prepare(disk.DiskSpec(str(path), 16 << 20), say=said.append)
            self.assertEqual((got.path, got.readonly, got.created), (str(path), False, True))
            self.assertEqual(path.stat().st_size, 16 << 20)
            self.assertLess(path.stat().st_blocks * 512, 8 << 20)   # sparse
            info = subprocess.run(["dumpe2fs", "-h", str(path)], capture_output=True, text=True).stdout
            self.assertIn("has_journal", info)
            self.assertRegex(info, r"Filesystem state:\s+clean")
            self.assertIn("microbeam-data", info)
            again = disk.prepare(disk.DiskSpec(str(path), 32 << 20), say=said.append)
            self.assertFalse(again.created)
            self.assertEqual(path.stat().st_size, 16 << 20)          # an existing FILE is kept
            self.assertIn("only for a new FILE", said[-1])
            self.assertTrue(disk.prepare(disk.DiskSpec(str(path), readonly=True)).readonly)

    def test_files_that_cannot_be_disks(self):
        with tempfile.TemporaryDirectory() as d:
            for spec, words in ((f"{d}/no/such/dir/x.img", "is not a directory"),
                                (d, "not a regular file")):
                with self.subTest(spec=spec), self.assertRaises(ValueError) as cm:
                    disk.prepare(disk.DiskSpec(spec))
                self.assertIn(words, str(cm.exception))
            with mock.patch("sys.stderr") as err:
                rc = main.main(["run", "--disk", f"{d}/no/x.img", "--kernel", f"{d}/k",
                                "--initrd", f"{d}/i"])
            self.assertEqual(rc, 1)
            said = "".join(c.args[0] for c in err.write.call_args_list)
            self.assertEqual(said.count("\n"), 1, said)


    def test_missing_images_leave_no_new_disk_behind(self):
        # The images are checked before FILE is made: a run that cannot boot creates nothing.
        with tempfile.TemporaryDirectory() as d:
            Path(d, "k").write_bytes(b"kernel")
            for kernel, initrd, missing in ((f"{d}/nope", f"{d}/k", "nope"), (f"{d}/k", f"{d}/nope2", "nope2")):
                with self.subTest(missing=missing), mock.patch("sys.stderr") as err:
                    rc = main.main(["run", "--disk", f"{d}/new.img,size=8M", "--kernel", kernel,
                                    "--initrd", initrd, "--accel", "tcg"])
                    self.assertEqual(rc, 1)
                    said = "".join(c.args[0] for c in err.write.call_args_list)
                    self.assertTrue(missing in said and "not found" in said, said)
                    self.assertFalse(Path(d, "new.img").exists())


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
              "release_uncompressed": 768, "initramfs_compressed": 2048,
              "initramfs_compression": "lz4 (legacy)", "initramfs_uncompressed": 4096,
              "initramfs_files": 3000, "minimum_memory_mib": 42, "total": 4096}

    def test_image_rows_share_what_the_vmm_loads_labelled_compressed(self):
        self.assertEqual(size.image_rows(self.REPORT), [
            ("kernel (bzImage)", 2048, 0.5), ("initramfs, compressed with lz4 (legacy)", 2048, 0.5)])

    def test_crypto_init_is_named(self):
        rows = size.unpacked_rows(dict(self.REPORT, init_name="microbeam-init-crypto"))
        self.assertEqual(rows[0], ("/init (microbeam-init-crypto)", 1024))

    def test_unpacked_rows_are_the_files_with_the_rest_as_other(self):
        self.assertEqual(size.unpacked_rows(self.REPORT), [
            ("/init", 1024), ("app kernel", 256), ("app stdlib", 512),
            ("other (boot script, config, ...)", 1208)])

    def test_table_labels_and_target(self):
        t = size.table(self.REPORT)
        self.assertRegex(t, r"(?m)^total image \(what a VMM loads\)\s+4,096\s+0\.00\s+100\.0%$")
        self.assertIn("target: total image at most 8 MiB: met, 8.00 MiB to spare", t)
        self.assertIn("initramfs unpacked: files in the guest RAM", t)
        self.assertRegex(t, r"(?m)^  total unpacked\s+3,000")
        self.assertIn("guest memory: at least 42 MiB", t)
        # the unpacked contents are never called the compressed image
        self.assertNotRegex(t, r"compressed.*\n.*/init.*%")
        big = dict(self.REPORT, total=9 * 1024 * 1024)
        self.assertIn("MISSED by 1.00 MiB", size.table(big))

    def test_old_report_without_unpacked_fields(self):
        old = {k: v for k, v in self.REPORT.items() if not k.startswith("initramfs_")
               or k == "initramfs_compressed"}
        del old["minimum_memory_mib"]
        t = size.table(old)
        self.assertIn("initramfs, compressed ", t)
        self.assertNotIn("total unpacked", t)

    def test_report_path(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(size.report_path(None, Path(d)), Path(d) / "size-report.json")
            self.assertEqual(size.report_path(d, Path("/x")), Path(d) / "size-report.json")
            f = Path(d) / "r.json"
            f.write_text("{}")
            self.assertEqual(size.report_path(str(f), Path("/x")), f)

    def test_size_takes_a_release_directory(self):
        with tempfile.TemporaryDirectory() as d:
            rel = Path(d) / "release-x"
            rel.mkdir()
            (rel / "size-report.json").write_text(json.dumps(self.REPORT))
            out = io.StringIO()
            with mock.patch("sys.stdout", out):
                self.assertEqual(main.main(["size", str(rel)]), 0)
            self.assertIn("app stdlib", out.getvalue())
            with mock.patch("sys.stdout", io.StringIO()) as out2:
                self.assertEqual(main.main(["size", d]), 1)
            self.assertIn("not found", out2.getvalue())

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


def newc(entries):
    """A newc archive of ENTRIES [(name, mode, data)], as the kernel reads it."""
    out = b""
    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        nm = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nm), 0]
        hdr = b"070701" + b"".join(b"%08X" % f for f in fields) + nm
        out += hdr + b"\0" * (-len(hdr) % 4) + data + b"\0" * (-len(data) % 4)
    return out + b"\0" * (-len(out) % 512)


class Initramfs(unittest.TestCase):
    ENTRIES = [("init", 0o100755, b"x" * 5000), ("release", 0o40755, b""),
               ("release/a.beam", 0o100644, b"\x1f\x8b" + b"y" * 8), ("dev/console", 0o20600, b"")]

    def test_contents_of_a_plain_archive(self):
        c = initrd.parse_newc(newc(self.ENTRIES))
        self.assertEqual((c.file_bytes, c.entries, c.beam_bytes), (5010, 4, 10))
        self.assertEqual(c.ram_bytes, 3 * 4096 + 4 * initrd.INODE_COST)

    def test_plain_beams_count_at_their_gzipped_size(self):
        # CODE_FACTOR is per gzipped byte; the beams a boot reads are stored plain.
        plain = bytes(range(256)) * 4 + b"z" * 3000
        c = initrd.parse_newc(newc([("release/b.beam", 0o100644, plain)]))
        self.assertEqual(c.beam_bytes, len(zlib.compress(plain, 6)))
        self.assertLess(c.beam_bytes, len(plain))

    def test_compressed_and_concatenated(self):
        raw = newc(self.ENTRIES)
        with tempfile.TemporaryDirectory() as d:
            for name, data in (("gz", gzip.compress(raw)), ("two", raw + newc(self.ENTRIES[:1]))):
                p = Path(d) / name
                p.write_bytes(data)
                with self.subTest(name):
                    c = initrd.contents(p)
                    self.assertEqual(c.file_bytes, 5010 if name == "gz" else 10010)
            if shutil.which("lz4"):
                src = Path(d) / "raw.cpio"
                src.write_bytes(raw)
                subprocess.run(["lz4", "-l", "-q", "-f", str(src), str(Path(d) / "lz4")], check=True)
                self.assertEqual(initrd.compression((Path(d) / "lz4").read_bytes()), "lz4 (legacy)")
                self.assertEqual(initrd.contents(Path(d) / "lz4").file_bytes, 5010)

    def test_bad_input_names_the_file(self):
        with tempfile.TemporaryDirectory() as d:
            for name, data, msg in (("junk", b"hello world", "neither a newc"),
                                    ("cut", newc(self.ENTRIES)[:300], "runs past the end"),
                                    ("gz", b"\x1f\x8b\x08junk", "gzip data is corrupt")):
                p = Path(d) / name
                p.write_bytes(data)
                with self.subTest(name), self.assertRaisesRegex(initrd.InitrdError,
                                                                f"^{p}: .*{msg}"):
                    initrd.contents(p)
            with self.assertRaisesRegex(initrd.InitrdError, "No such file"):
                initrd.contents(Path(d) / "missing")

    def test_minimum_memory_gives_the_measured_floors(self):
        # (files in RAM, .beam files, measured floor) of the three images in initrd.py
        for ram, beams, floor in ((9.80, 3.089, 48), (7.10, 1.492, 41), (7.94, 2.098, 43)):
            c = initrd.Contents(0, 0, 0, ram_bytes=int(ram * initrd.MiB),
                                beam_bytes=int(beams * initrd.MiB))
            self.assertEqual(initrd.minimum_memory_mib(c), floor, (ram, beams))
        c = initrd.Contents(0, 0, 0, ram_bytes=20 * initrd.MiB, beam_bytes=2 * initrd.MiB)
        self.assertEqual(initrd.minimum_memory_mib(c), math.ceil(20 + 5 + initrd.BASE_MIB))
        self.assertEqual(initrd.need_line(c), "20.0 MiB of files that stay in RAM + 5.0 MiB for "
                         f"its 2.0 MiB of .beam code + {initrd.BASE_MIB:g} MiB for the kernel and ERTS")


class Preflight(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = Path(self.tmp.name)
        (self.d / "bzImage").write_bytes(b"kernel")
        (self.d / "big.cpio").write_bytes(newc([("init", 0o100755, b"z" * (30 * 1024 * 1024))]))

    def tearDown(self):
        self.tmp.cleanup()

    def test_memory_below_the_image_minimum_is_one_line_with_the_minimum(self):
        c = cfg(initrd=str(self.d / "big.cpio"), memory=48)
        need = math.ceil(30 + 2 * initrd.INODE_COST / initrd.MiB + initrd.BASE_MIB)
        with self.assertRaisesRegex(ValueError, rf"^--memory 48: this image needs at least "
                                                rf"{need} MiB \(30\.0 MiB of files that stay in RAM "
                                                rf"\+ 0\.0 MiB for its 0\.0 MiB of \.beam code"):
            preflight.check_memory(c)
        preflight.check_memory(cfg(initrd=str(self.d / "big.cpio"), memory=need))

    def test_through_the_cli_before_qemu(self):
        err = io.StringIO()
        with mock.patch("sys.stderr", err), mock.patch.object(run_mod, "_boot") as boot:
            rc = main.main(["run", "--kernel", str(self.d / "bzImage"), "--initrd",
                            str(self.d / "big.cpio"), "--memory", "10", "--accel", "tcg"])
        self.assertEqual(rc, 1)
        boot.assert_not_called()
        lines = err.getvalue().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^microbeam: error: --memory 10: this image needs at least \d+ MiB")

    def test_port_in_use_is_named_before_qemu(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            self.assertTrue(preflight.port_in_use("127.0.0.1", port))
            c = cfg(forwards=[(port, 8080)])
            with self.assertRaisesRegex(ValueError, rf"^host port {port} \(127\.0\.0\.1:{port}, "
                                                    rf"for guest port 8080\) is in use: .*--port \d+$"):
                preflight.check_ports(c)
            c = cfg(forwards=[(free_port(), 8080), (port, 4000)])
            with self.assertRaisesRegex(ValueError, r"is in use: .*--forward \d+:4000$"):
                preflight.check_ports(c)
            preflight.check_ports(cfg(forwards=[(port, 8080)], private_net="mcast:230.0.0.1:4321",
                                      guest_ip="192.168.1.2/24"))   # no forward there
        self.assertFalse(preflight.port_in_use("127.0.0.1", port))


class Outcomes(unittest.TestCase):
    """What `run` exits with: the BEAM's status, non-zero for a panic or a crash."""

    def test_beam_status_through_debug_exit(self):
        for s in (0, 1, 3, 127):
            o = qemucmd.outcome(qemucmd.debug_exit_code(s), True, True)
            self.assertEqual(o.status, s)
            self.assertEqual(o.what, f"the BEAM ended with status {s}")

    def test_panic_wins(self):
        o = qemucmd.outcome(0, True, True, reason="guest-reset",
                            panic="Attempted to kill init! exitcode=0x00000100")
        self.assertEqual(o.status, qemucmd.PANIC_STATUS)
        self.assertIn("kernel panicked: Attempted to kill init!", o.what)

    def test_reset_without_status_is_a_failure(self):
        self.assertEqual(qemucmd.outcome(0, True, True, reason="guest-reset").status,
                         qemucmd.PANIC_STATUS)
        self.assertEqual(qemucmd.outcome(0, True, True, reason="guest-panic").status,
                         qemucmd.PANIC_STATUS)
        # with a reboot policy (no status asked for), a reboot is what was asked
        self.assertEqual(qemucmd.outcome(0, False, True, reason="guest-reset").status, 0)

    def test_forced_stop_and_signals(self):
        o = qemucmd.outcome(0, True, True, reason="host-qmp-quit", forced_by=signal.SIGINT)
        self.assertEqual(o.status, 130)
        self.assertIn("did not stop after SIGINT", o.what)
        self.assertEqual(qemucmd.outcome(-9, True, True).status, 137)
        self.assertEqual(qemucmd.outcome(0, True, True, reason="host-signal").status, 1)

    def test_qemu_that_never_started(self):
        o = qemucmd.outcome(1, True, False)
        self.assertEqual((o.status, o.what), (1, "QEMU did not start (exit status 1)"))
        self.assertEqual(qemucmd.outcome(-6, True, False).status, 134)

    def test_poweroff_without_status(self):
        self.assertEqual(qemucmd.outcome(0, True, True, reason="guest-shutdown").status, 0)


class ConsoleWatch(unittest.TestCase):
    def test_pid1_line_and_panic_across_chunks(self):
        w = console.Watch()
        w.feed(b"SeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n")
        self.assertTrue(w.output.is_set())
        self.assertFalse(w.kernel.is_set())
        w.feed(b"[    0.1] Linux version 6.1 (microbeam@microbeam)\n[    0.3] micro")
        self.assertTrue(w.kernel.is_set())
        self.assertFalse(w.pid1.is_set())
        w.feed(b"beam: unknown key microbeam.accel_probe\n")
        self.assertTrue(w.pid1.is_set())
        w.feed(b"[    1.0] Kernel panic - not syncing: Attempted to kill in")
        self.assertIsNone(w.panic)
        w.feed(b"it! exitcode=0x0000000b\r\n")
        self.assertEqual(w.panic, "Attempted to kill init! exitcode=0x0000000b")

    def test_kernel_lines_that_mention_microbeam_are_not_pid1(self):
        w = console.Watch()
        w.feed(b"[    0.0] Kernel command line: console=ttyS0 microbeam.accel_probe=1\n")
        w.feed(b"[    0.0] Linux version 6.1.0 (microbeam@microbeam) #1\n")
        self.assertFalse(w.pid1.is_set())

    def test_panic_at_the_very_end(self):
        w = console.Watch()
        w.feed(b"Kernel panic - not syncing: No working init found.")
        w.finish()
        self.assertEqual(w.panic, "No working init found.")

    def test_quiet(self):
        for append, want in (("", False), ("quiet", True), ("loglevel=4", True),
                             ("loglevel=7", False), ("a=quiet", False)):
            self.assertEqual(console.quiet(append), want, append)


FAKE_QEMU = str(Path(__file__).resolve().parent / "fake_qemu.py")


class FakeQemu:
    """Environment for fake_qemu.py in a temporary directory, with a verdict file of
    its own and a tiny valid image."""

    def __init__(self, d: Path, **env):
        self.d = d
        self.log = d / "argv.log"
        self.kernel, self.initrd = d / "bzImage", d / "microbeam.cpio"
        self.kernel.write_bytes(b"fake kernel")
        self.initrd.write_bytes(newc([("init", 0o100755, b"x" * 100)]))
        self.env = {"FAKE_QEMU_LOG": str(self.log), "MICROBEAM_ACCEL_CACHE": str(d / "verdicts.json"),
                    "MICROBEAM_ACCEL": "", **env}

    def runs(self):
        if not self.log.exists():
            return []
        return [json.loads(l) for l in self.log.read_text().splitlines()]

    def accels(self):
        return [option(a, "-accel")[0] for a in self.runs()]

    def believe_kvm(self):
        """A remembered KVM verdict for this image, as a probe that passed leaves."""
        accel.remember(accel.verdict_key(FAKE_QEMU, self.kernel, "microvm"), "kvm",
                       "the kernel reached PID 1 under KVM in 0.4 s")


class Accelerator(unittest.TestCase):
    """The one rule (accel.py) with a fake QEMU, so that it runs without KVM."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.fake = FakeQemu(Path(self.tmp.name))
        self.env = mock.patch.dict(os.environ, self.fake.env)
        self.env.start()

    def tearDown(self):
        self.env.stop()
        self.tmp.cleanup()

    def choose(self, requested="auto", kvm=True, **kw):
        with mock.patch.object(accel, "kvm_device_usable", return_value=kvm):
            return accel.choose(requested, self.fake.kernel, self.fake.initrd, qemu=FAKE_QEMU, **kw)

    def test_probe_boots_the_real_image_as_run_would(self):
        argv = qemucmd.qemu_argv(accel.probe_config("/k", "/i", "q35", 128, 2))
        self.assertEqual((option(argv, "-accel"), option(argv, "-cpu"), option(argv, "-M")),
                         (["kvm"], ["host"], ["q35"]))
        self.assertEqual((option(argv, "-kernel"), option(argv, "-initrd")), (["/k"], ["/i"]))
        self.assertEqual(option(argv, "-m"), [str(accel.PROBE_MEMORY)])
        self.assertEqual(option(argv, "-netdev"), ["user,id=n0"])   # no host port taken
        cmdline = option(argv, "-append")[0].split()
        self.assertIn("panic=-1", cmdline)
        self.assertIn(accel.PROBE_APPEND, cmdline)
        self.assertNotIn("--emergency-shell", cmdline)
        self.assertIn("-no-reboot", argv)

    def test_probe_verdicts(self):
        for mode, ok, certain, why in (
                ("abort", False, True, "QEMU killed by SIGABRT under KVM: error: failed to set MSR 0x10a"),
                ("silent", False, True, "under KVM the kernel printed nothing in 1 s"),
                ("boot", True, True, "the kernel reached PID 1 under KVM in")):
            with self.subTest(mode), mock.patch.dict(os.environ, {"FAKE_QEMU_KVM": mode}):
                t0 = time.monotonic()
                r = accel.probe(self.fake.kernel, self.fake.initrd, qemu=FAKE_QEMU, timeout=1)
                self.assertEqual((r.ok, r.certain), (ok, certain), r)
                self.assertIn(why, r.why)
                self.assertLess(time.monotonic() - t0, 4)

    def test_auto_probes_once_then_remembers(self):
        said = []
        with mock.patch.dict(os.environ, {"FAKE_QEMU_KVM": "abort"}):
            c = self.choose(say=said.append)
        self.assertEqual((c.accel, c.forced), ("tcg", False))
        self.assertEqual(len(said), 1)
        self.assertRegex(said[0], r"^accelerator: tcg \(KVM cannot boot this kernel here: QEMU "
                                  r"killed by SIGABRT under KVM: error: failed to set MSR 0x10a.*"
                                  r"remembered in .*verdicts\.json\)$")
        with mock.patch.object(accel, "probe", side_effect=AssertionError("probed again")):
            c = self.choose()
        self.assertEqual(c.accel, "tcg")
        self.assertIn("delete it to probe again", c.why)
        self.assertEqual(self.fake.accels(), ["kvm"])

    def test_verdict_is_per_kernel_and_machine(self):
        self.fake.believe_kvm()
        with mock.patch.object(accel, "probe", return_value=accel.ProbeResult(False, "x", True)):
            self.assertEqual(self.choose().accel, "kvm")
            self.assertEqual(self.choose(machine="q35").accel, "tcg")
            self.fake.kernel.write_bytes(b"another kernel")
            self.assertEqual(self.choose().accel, "tcg")

    def test_explicit_choice_skips_probe_and_never_falls_back(self):
        with mock.patch.object(accel, "probe", side_effect=AssertionError("probed")):
            self.assertEqual(self.choose("tcg"), accel.Choice("tcg", True, "--accel tcg"))
            c = self.choose("kvm", kvm=False)
            self.assertEqual((c.accel, c.may_fall_back), ("kvm", False))
            with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL": "kvm"}):
                c = self.choose()
            self.assertEqual((c.accel, c.forced, c.why), ("kvm", True, "MICROBEAM_ACCEL=kvm"))
            self.assertEqual(self.choose(kvm=False).accel, "tcg")
            with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL": "hvf"}), \
                    self.assertRaisesRegex(ValueError, "MICROBEAM_ACCEL='hvf'"):
                self.choose()
        with self.assertRaises(ValueError):
            self.choose("hvf")

    def test_verdict_file_location(self):
        with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL_CACHE": "", "XDG_CACHE_HOME": "/x/c"}):
            self.assertEqual(accel.verdict_file(), Path("/x/c/microbeam/accel-verdicts.json"))
        with mock.patch.dict(os.environ, {"MICROBEAM_ACCEL_CACHE": "", "XDG_CACHE_HOME": "",
                                          "MICROBEAM_CACHE": "/m"}):
            self.assertEqual(accel.verdict_file(), Path("/m/accel-verdicts.json"))


class KvmFallback(unittest.TestCase):
    """KVM picked by the rule, and QEMU dies at start (or stays silent): `run` says so
    in one line and boots again under TCG; so does Guest. With a fake QEMU: no KVM,
    no image needed."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.fake = FakeQemu(Path(self.tmp.name))
        self.env = mock.patch.dict(os.environ, self.fake.env)
        self.env.start()
        self.kvm = mock.patch.object(accel, "kvm_device_usable", return_value=True)
        self.kvm.start()
        self.fake.believe_kvm()

    def tearDown(self):
        self.kvm.stop()
        self.env.stop()
        self.tmp.cleanup()

    def run_cli(self, *args, **env):
        out, err = io.BytesIO(), io.BytesIO()
        stdout, stderr = io.TextIOWrapper(out), io.TextIOWrapper(err)
        with mock.patch.dict(os.environ, {"MICROBEAM_QEMU": FAKE_QEMU, **env}), \
                mock.patch("sys.stdout", stdout), mock.patch("sys.stderr", stderr):
            rc = main.main(["run", "--kernel", str(self.fake.kernel), "--initrd",
                            str(self.fake.initrd), "--port", str(free_port()), *args])
            stdout.flush()
            stderr.flush()
        return rc, out.getvalue().decode(), err.getvalue().decode()

    def test_qemu_dies_under_kvm_then_tcg_with_one_line(self):
        rc, out, err = self.run_cli(FAKE_QEMU_KVM="abort", FAKE_QEMU_STATUS="3")
        self.assertEqual(self.fake.accels(), ["kvm", "tcg"])
        self.assertEqual(rc, 3)                      # the BEAM's status, no flag needed
        lines = err.splitlines()
        fell = [l for l in lines if "booting again under TCG" in l]
        self.assertEqual(fell, ["microbeam: QEMU killed by SIGABRT under KVM: error: failed to "
                                "set MSR 0x10a to 0x2000000e1: booting again under TCG"])
        self.assertNotIn("Assertion", err)           # QEMU's own noise is replaced by that line
        self.assertEqual(lines[-1], "microbeam: the BEAM ended with status 3; exit status 3")
        self.assertIn("microbeam: unknown key", out)  # the console, passed through
        # the verdict is corrected: the next run goes straight to TCG
        rc, _, err = self.run_cli(FAKE_QEMU_KVM="abort")
        self.assertEqual((rc, self.fake.accels()), (0, ["kvm", "tcg", "tcg"]))
        self.assertIn("accelerator: tcg (KVM cannot boot this kernel here: QEMU killed by SIGABRT", err)

    def test_silent_guest_under_kvm_then_tcg(self):
        with mock.patch.object(accel, "PROBE_TIMEOUT", 1.0):
            rc, _, err = self.run_cli(FAKE_QEMU_KVM="silent")
        self.assertEqual((rc, self.fake.accels()), (0, ["kvm", "tcg"]))
        self.assertIn("microbeam: under KVM the kernel printed nothing in 1 s: booting again "
                      "under TCG", err)

    def test_forced_kvm_fails_loudly(self):
        rc, _, err = self.run_cli("--accel", "kvm", FAKE_QEMU_KVM="abort")
        self.assertEqual(self.fake.accels(), ["kvm"])
        self.assertEqual(rc, 134)
        self.assertIn("Assertion", err)             # QEMU's own words
        self.assertIn("QEMU did not start (killed by SIGABRT); exit status 134", err)

    def test_guest_helper_falls_back_too(self):
        said = []
        with mock.patch.dict(os.environ, {"FAKE_QEMU_KVM": "abort", "FAKE_QEMU_STATUS": "5"}):
            g = Guest.start(self.fake.kernel, self.fake.initrd, qemu=FAKE_QEMU, debug_exit=True,
                            say=said.append)
            try:
                self.assertEqual(g.accel, "tcg")
                self.assertEqual(g.wait_exit(10), 5)
            finally:
                g.kill()
        self.assertEqual(self.fake.accels(), ["kvm", "tcg"])
        self.assertEqual(len(said), 1)
        self.assertIn("SIGABRT under KVM", said[0])


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
