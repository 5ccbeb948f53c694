"""Stand-ins under QEMU (TCG) for the VMMs that cannot be installed here.

- Firecracker: out/vmlinux through its PVH entry on `-M microvm,acpi=on` (hardware-reduced
  ACPI, where the i8042 keyboard is announced only in the DSDT, as under Firecracker),
  with exactly the `boot_args` that `microbeam vmm-config firecracker` prints, plus the
  TSC hint TCG needs on microvm (Firecracker runs on KVM, where the kernel calibrates
  itself). Ctrl-Alt-Del, Firecracker's `SendCtrlAltDel`, must stop the BEAM.
- cloud-hypervisor: its MADT lists CPUs as x2APIC entries (CONFIG_X86_X2APIC). QEMU's TCG
  has no x2APIC, so the stand-in is what that option is for: a q35 guest with 2 vCPUs,
  where the BEAM must see 2 schedulers online.
Environment: as tests/qemu/test_boot.py.
"""

import shlex
import unittest

from tests.qemu.test_boot import ACCEL, BOOT_TIMEOUT, INITRD, KERNEL, OUT, SKIP_WHY, MISSING
from tests.qemu.rawqemu import RawQemu
from microbeam_cli import hosttsc, qemucmd, vmm_config  # noqa: E402 (test_boot put cmd/ on the path)
from microbeam_cli.vm import Guest  # noqa: E402

VMLINUX = OUT / "vmlinux"
CAD = [{"type": "qcode", "data": k} for k in ("ctrl", "alt", "delete")]


@unittest.skipIf(MISSING or not VMLINUX.is_file(), SKIP_WHY)
class FirecrackerStandIn(unittest.TestCase):
    def firecracker_argv(self, boot_args: str):
        """QEMU as close to Firecracker as it gets: microvm with ACPI, PVH vmlinux, an
        i8042, one virtio-mmio NIC (Firecracker announces it on the command line; QEMU's
        microvm in its DSDT), no PCI."""
        append = boot_args
        if ACCEL == "tcg":
            append += " " + hosttsc.hint(hosttsc.tsc_khz())
        return [qemucmd.QEMU, "-M", "microvm,acpi=on,pcie=off", "-accel", ACCEL,
                "-cpu", "host" if ACCEL == "kvm" else "max", "-m", "128", "-smp", "2",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-device", "i8042",
                "-netdev", "user,id=n0", "-device", "virtio-net-device,netdev=n0",
                "-kernel", str(VMLINUX), "-initrd", str(INITRD), "-append", append]

    def test_send_ctrl_alt_del_stops_the_beam(self):
        spec = vmm_config.make_spec("firecracker", str(VMLINUX), str(INITRD))
        boot_args = vmm_config.firecracker_config(spec)["boot-source"]["boot_args"]
        with RawQemu(self.firecracker_argv(boot_args)) as vm:
            vm.wait_for_console(r"demo: listening on port 8080", BOOT_TIMEOUT)
            console = vm.console_text()
            self.assertNotRegex(console, r"i8042: .*(error|failed)|Can't read CTR", console)
            vm.qmp("send-key", keys=CAD)
            vm.wait_for_console(r"Ctrl-Alt-Del: stopping the BEAM", 30)
            rc = vm.wait_exit(60)
            console = vm.console_text()
        self.assertNotIn("Kernel panic", console)
        self.assertIn("microbeam.poweroff=reboot", boot_args)
        # Firecracker ends only at a reboot: the stop request must end in one, not in a
        # power off (which there halts the vCPUs and leaves the process running).
        self.assertIn("reboot: Restarting system", console)
        self.assertNotIn("reboot: Power down", console)
        self.assertEqual(rc, 0, console[-3000:])


@unittest.skipIf(MISSING, SKIP_WHY)
class CloudHypervisorStandIn(unittest.TestCase):
    def test_q35_two_vcpus_two_schedulers(self):
        expr = "2 = erlang:system_info(schedulers_online), ok"
        with Guest.start(KERNEL, INITRD, machine="q35", smp=2, accel=ACCEL, debug_exit=True,
                         append="panic=-1 " + qemucmd.eval_kernel_param(expr)) as g:
            status = g.wait_exit(BOOT_TIMEOUT)
            console = g.console_text()
        self.assertEqual(status, 0, console[-3000:])
        self.assertIn("smp: Brought up 1 node, 2 CPUs", console)


class Argv(unittest.TestCase):
    def test_boot_args_are_used_verbatim(self):
        spec = vmm_config.make_spec("firecracker", "/k", "/i")
        boot_args = vmm_config.firecracker_config(spec)["boot-source"]["boot_args"]
        argv = FirecrackerStandIn().firecracker_argv(boot_args)
        self.assertTrue(argv[argv.index("-append") + 1].startswith(boot_args))
        self.assertNotIn("i8042.nopnp", shlex.split(boot_args))


if __name__ == "__main__":
    unittest.main()
