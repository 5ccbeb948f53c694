"""Fast tests of `microbeam vmm-config`: the Firecracker JSON and the cloud-hypervisor
command line. Nothing boots; the kernel and initramfs are empty files in a temp dir."""

import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli import main, qemucmd, vmm_config  # noqa: E402


def option(argv, flag):
    """Every value following FLAG in argv."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


class WithImages(unittest.TestCase):
    """A temp dir with an (empty) vmlinux and microbeam.cpio, as MICROBEAM_OUT."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.out = os.path.realpath(self._tmp.name)
        self.kernel = os.path.join(self.out, "vmlinux")
        self.initrd = os.path.join(self.out, "microbeam.cpio")
        for p in (self.kernel, self.initrd):
            Path(p).write_bytes(b"")
        env = mock.patch.dict(os.environ, {"MICROBEAM_OUT": self.out})
        env.start()
        self.addCleanup(env.stop)
        self.addCleanup(self._tmp.cleanup)

    def cli(self, *argv):
        """(exit status, stdout, stderr) of `microbeam vmm-config ARGV`."""
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            rc = main.main(["vmm-config", *argv])
        return rc, out.getvalue(), err.getvalue()

    def assertOneLineError(self, argv, *words):
        rc, out, err = self.cli(*argv)
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, "")
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith("microbeam: error: "), err)
        for w in words:
            self.assertIn(w, err)
        self.assertNotIn("Traceback", err)


class Firecracker(WithImages):
    def config(self, *argv):
        rc, out, err = self.cli("firecracker", *argv)
        self.assertEqual(rc, 0, err)
        return json.loads(out), out

    def test_defaults(self):
        cfg, text = self.config()
        self.assertEqual(list(cfg), ["boot-source", "drives", "machine-config",
                                     "network-interfaces", "entropy"])
        self.assertEqual(cfg["entropy"], {})   # virtio-rng, default rate
        boot = cfg["boot-source"]
        self.assertEqual(list(boot), ["kernel_image_path", "initrd_path", "boot_args"])
        self.assertEqual(boot["kernel_image_path"], self.kernel)
        self.assertEqual(boot["initrd_path"], self.initrd)
        self.assertEqual(cfg["drives"], [])
        self.assertEqual(cfg["machine-config"],
                         {"vcpu_count": 2, "mem_size_mib": 128, "smt": False})
        self.assertEqual(cfg["network-interfaces"],
                         [{"iface_id": "eth0", "guest_mac": "06:00:AC:10:00:02",
                           "host_dev_name": "tap0"}])
        self.assertTrue(text.startswith('{\n  "boot-source": {\n    "kernel_image_path"'), text)
        self.assertTrue(text.endswith("}\n"))

    def test_boot_args(self):
        args = self.config()[0]["boot-source"]["boot_args"].split()
        self.assertEqual(args[0], "console=ttyS0")
        for conv in ("reboot=k", "panic=1", "pci=off", "i8042.dumbkbd"):
            self.assertIn(conv, args)
        self.assertNotIn("i8042.nopnp", args)   # the keyboard is only in the DSDT
        self.assertIn("ip=172.16.0.2::172.16.0.1:255.255.255.0::eth0:off", args)
        self.assertIn("microbeam.poweroff=reboot", args)   # a power off would not end Firecracker
        self.assertFalse([a for a in args if a.startswith("microbeam.exit=")])   # the user's choice

    def test_options(self):
        cfg, _ = self.config("--memory", "256", "--smp", "1", "--tap", "fc-tap7",
                             "--guest-ip", "10.1.2.3", "--gateway", "10.1.0.1",
                             "--netmask", "255.255.0.0",
                             "--append", 'microbeam.erl_flags="+S 1" quiet')
        self.assertEqual(cfg["machine-config"]["vcpu_count"], 1)
        self.assertEqual(cfg["machine-config"]["mem_size_mib"], 256)
        nic = cfg["network-interfaces"][0]
        self.assertEqual((nic["host_dev_name"], nic["guest_mac"]), ("fc-tap7", "06:00:0A:01:02:03"))
        args = cfg["boot-source"]["boot_args"]
        self.assertIn(" ip=10.1.2.3::10.1.0.1:255.255.0.0::eth0:off ", args)
        self.assertTrue(args.endswith(' microbeam.erl_flags="+S 1" quiet'), args)

    def test_explicit_poweroff_wins(self):
        args = self.config("--append", "microbeam.poweroff=acpi")[0]["boot-source"]["boot_args"]
        self.assertNotIn("microbeam.poweroff=reboot", args)
        self.assertTrue(args.endswith("microbeam.poweroff=acpi"))

    def test_relative_paths_become_absolute(self):
        with mock.patch("os.getcwd", return_value=self.out):
            cfg, _ = self.config("--kernel", "vmlinux", "--initrd", "microbeam.cpio")
        boot = cfg["boot-source"]
        self.assertTrue(os.path.isabs(boot["kernel_image_path"]))
        self.assertEqual(boot["initrd_path"], self.initrd)

    def test_out_file(self):
        dest = os.path.join(self.out, "vm.json")
        rc, out, err = self.cli("firecracker", "--out", dest)
        self.assertEqual((rc, out), (0, ""), err)
        self.assertEqual(json.loads(Path(dest).read_text())["drives"], [])

    def test_same_input_same_bytes(self):
        self.assertEqual(self.config()[1], self.config()[1])

    def test_too_many_vcpus(self):
        self.assertOneLineError(["firecracker", "--smp", "33"], "--smp", "32")


class CloudHypervisor(WithImages):
    def argv(self, *argv):
        rc, out, err = self.cli("cloud-hypervisor", *argv)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(out.splitlines()), 1, out)
        return shlex.split(out)

    def test_defaults(self):
        argv = self.argv()
        self.assertEqual(argv[0], "cloud-hypervisor")
        self.assertEqual(option(argv, "--kernel"), [self.kernel])
        self.assertEqual(option(argv, "--initramfs"), [self.initrd])
        self.assertEqual(option(argv, "--cmdline"),
                         ["console=ttyS0 ip=172.16.0.2::172.16.0.1:255.255.255.0::eth0:off"])
        self.assertEqual(option(argv, "--cpus"), ["boot=2"])
        self.assertEqual(option(argv, "--memory"), ["size=128M"])
        self.assertEqual(option(argv, "--net"),
                         ["tap=tap0,mac=06:00:AC:10:00:02,ip=172.16.0.1,mask=255.255.255.0"])
        self.assertEqual(option(argv, "--rng"), ["src=/dev/urandom"])
        self.assertEqual(option(argv, "--serial"), ["tty"])
        self.assertEqual(option(argv, "--console"), ["off"])

    def test_no_firecracker_conventions(self):
        line = option(self.argv(), "--cmdline")[0]
        self.assertNotIn("pci=off", line)          # its virtio devices are PCI
        self.assertNotIn("microbeam.exit", line)   # power off ends cloud-hypervisor

    def test_quoting_round_trips(self):
        extra = 'microbeam.erl_flags="-demo greeting \'hi there\'" microbeam.hostname=ch1'
        argv = self.argv("--append", extra, "--smp", "4", "--memory", "512")
        self.assertTrue(option(argv, "--cmdline")[0].endswith(" " + extra))
        self.assertEqual(option(argv, "--cpus"), ["boot=4"])
        self.assertEqual(option(argv, "--memory"), ["size=512M"])

    def test_matches_the_pure_function(self):
        spec = vmm_config.make_spec("cloud-hypervisor", self.kernel, self.initrd)
        self.assertEqual(self.argv(), vmm_config.cloud_hypervisor_argv(spec))


class BadInput(WithImages):
    def test_missing_default_kernel_names_option_and_file(self):
        os.unlink(self.kernel)
        self.assertOneLineError(["firecracker"], "--kernel", self.kernel, "build")

    def test_missing_given_initrd(self):
        nope = os.path.join(self.out, "nope.cpio")
        self.assertOneLineError(["cloud-hypervisor", "--initrd", nope], "--initrd", nope)

    def test_bad_ips(self):
        self.assertOneLineError(["firecracker", "--guest-ip", "172.16.0"], "--guest-ip", "172.16.0")
        self.assertOneLineError(["cloud-hypervisor", "--gateway", "gw"], "--gateway")
        self.assertOneLineError(["firecracker", "--netmask", "255.0.255.0"], "--netmask")
        self.assertOneLineError(["firecracker", "--gateway", "10.0.0.1"], "--gateway", "172.16.0.0/24")
        self.assertOneLineError(["firecracker", "--guest-ip", "172.16.0.1"], "--gateway", "own")
        self.assertOneLineError(["firecracker", "--guest-ip", "172.16.0.255"], "--guest-ip", "broadcast")

    def test_memory_and_smp(self):
        self.assertOneLineError(["firecracker", "--memory", "15"], "--memory", "16")
        self.assertOneLineError(["cloud-hypervisor", "--memory", "lots"], "--memory", "lots")
        self.assertOneLineError(["cloud-hypervisor", "--smp", "0"], "--smp")

    def test_tap_name(self):
        self.assertOneLineError(["cloud-hypervisor", "--tap", "tap0,ip=1.2.3.4"], "--tap")
        self.assertOneLineError(["firecracker", "--tap", "a-name-longer-than-15"], "--tap")

    def test_unwritable_out(self):
        dest = os.path.join(self.out, "no", "such", "dir", "vm.json")
        self.assertOneLineError(["firecracker", "--out", dest], "--out", dest)

    def test_through_the_real_command(self):
        """The script itself: exit status 2, one line on stderr, no traceback."""
        p = subprocess.run([sys.executable, str(REPO / "cmd" / "microbeam"), "vmm-config",
                            "firecracker", "--guest-ip", "300.1.1.1"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(p.stdout, "")
        self.assertEqual(p.stderr.strip().splitlines(),
                         ["microbeam: error: --guest-ip: not an IPv4 address: '300.1.1.1'"])


class PureParts(unittest.TestCase):
    def test_ip_param_matches_qemus_format(self):
        self.assertEqual(vmm_config.ip_param("10.0.2.15", "10.0.2.2", "255.255.255.0"),
                         qemucmd.GUEST_IP)

    def test_guest_mac(self):
        self.assertEqual(vmm_config.guest_mac("172.16.0.2"), "06:00:AC:10:00:02")
        first = int(vmm_config.guest_mac("192.168.1.1").split(":")[0], 16)
        self.assertEqual(first & 0b11, 0b10)   # locally administered, unicast

    def test_spec_wants_absolute_paths(self):
        with self.assertRaises(vmm_config.VmmConfigError) as cm:
            vmm_config.make_spec("firecracker", "out/vmlinux", "/x/microbeam.cpio")
        self.assertIn("--kernel", str(cm.exception))

    def test_unknown_vmm(self):
        with self.assertRaises(vmm_config.VmmConfigError):
            vmm_config.make_spec("qemu", "/k", "/i")

    def test_netmask_normalised(self):
        spec = vmm_config.make_spec("firecracker", "/k", "/i", netmask="24")
        self.assertEqual(spec.netmask, "255.255.255.0")

    def test_parser_rejects_unknown_vmm(self):
        with mock.patch("sys.stderr"), self.assertRaises(SystemExit) as cm:
            main.parser().parse_args(["vmm-config", "crosvm"])
        self.assertEqual(cm.exception.code, 2)


if __name__ == "__main__":
    unittest.main()
