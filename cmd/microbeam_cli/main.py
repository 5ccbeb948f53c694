"""Argument parsing and dispatch for `microbeam`."""

import argparse
import sys
from pathlib import Path

from . import disk, guest_env, paths, proc, qemucmd
from .release import ReleaseError


def _port(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    if not 0 < n < 65536:
        raise argparse.ArgumentTypeError(f"port {n} out of range 1..65535")
    return n


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}")
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def _forward(text: str):
    try:
        return qemucmd.parse_forward(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).partition(": ")[2]) from None


def _disk(text: str):
    try:
        return disk.parse_spec(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).partition(": ")[2]) from None


class Parser(argparse.ArgumentParser):
    """Option errors in one line with a pointer to --help, not the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image", type=Path, default=None, metavar="DIR",
                   help="DIR/bzImage and DIR/microbeam.cpio, e.g. out/release-NAME (what "
                        "`build --release` writes); --kernel/--initrd still win")
    p.add_argument("--kernel", type=Path, default=None, metavar="FILE",
                   help="kernel image (default: out/bzImage)")
    p.add_argument("--initrd", type=Path, default=None, metavar="FILE",
                   help="initramfs (default: out/microbeam.cpio)")
    p.add_argument("--port", type=_port, default=None, metavar="P",
                   help="short for --forward P:8080")
    p.add_argument("--forward", type=_forward, action="append", default=[],
                   metavar="HOST:GUEST",
                   help="forward 127.0.0.1:HOST to the guest's TCP port GUEST; repeatable "
                        "(default, when neither this nor --port is given: 8080:8080)")
    p.add_argument("--memory", type=_positive, default=128, metavar="MiB",
                   help="guest memory (default 128; below what the image needs is refused "
                        "with the minimum)")
    p.add_argument("--smp", type=_positive, default=2, metavar="N", help="guest CPUs (default 2)")
    p.add_argument("--machine", choices=qemucmd.MACHINES, default="microvm",
                   metavar="microvm|q35", help="QEMU machine (default microvm)")
    p.add_argument("--append", default="", metavar="EXTRA",
                   help="extra kernel command line parameters")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable for the release (repeatable; microbeam.env= "
                        "on the kernel command line, which the guest can read: no secrets)")
    p.add_argument("--net", default=None, metavar="mcast:GROUP:PORT",
                   help="put the guest on a private network shared by every guest started "
                        "with the same GROUP:PORT (QEMU socket networking) instead of QEMU's "
                        "user network; needs --guest-ip; the host port forward is then off")
    p.add_argument("--guest-ip", default=None, metavar="ADDR/PREFIX",
                   help="the guest's address on --net (the kernel's ip=), e.g. 192.168.100.2/24")
    p.add_argument("--disk", type=_disk, default=None, metavar="FILE[,size=SIZE][,ro]",
                   help="attach FILE (a raw ext4 image) as the guest's /dev/vda, mounted at "
                        "/data (microbeam.data=/dev/vda); a missing FILE is created with "
                        "mkfs.ext4, SIZE bytes (K/M/G suffixes; default 256M, sparse); ro: read-only")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   metavar="auto|kvm|tcg",
                   help="auto (default): KVM where this kernel, booted under it once, reaches "
                        "PID 1 (the verdict is remembered), else TCG; a KVM start that dies "
                        "or stays silent boots again under TCG. kvm/tcg (or "
                        "MICROBEAM_ACCEL=kvm|tcg): that one, no fallback")
    p.add_argument("--console-log", metavar="FILE", default=None,
                   help="also write the serial console to FILE (appended)")
    p.add_argument("--debug-exit", action="store_true",
                   help="have the guest report the BEAM's status on isa-debug-exit even "
                        "with an exit policy other than poweroff (with poweroff, the "
                        "default, it always does)")
    p.add_argument("--allow-reboot", action="store_true",
                   help="let a guest reboot restart it (default: QEMU ends, -no-reboot)")
    p.add_argument("--stop-timeout", type=float, default=20.0, metavar="SECONDS",
                   help="after Ctrl-C/SIGTERM, wait this long for the guest to power "
                        "down before QMP quit (default 20)")


def parser() -> argparse.ArgumentParser:
    ap = Parser(
        prog="microbeam",
        description="Build and run MicroBEAM microVM images (out/bzImage + "
                    "out/microbeam.cpio).")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    sub.add_parser("setup", help="install the Debian packages the build needs (root)")
    b = sub.add_parser("build", help="configure (once) and build with CMake/Ninja")
    b.add_argument("--jobs", "-j", type=_positive, default=None)
    b.add_argument("--release", type=Path, default=None, metavar="PATH",
                   help="also build an image for this OTP release (mix release, rebar3, "
                        "reltool, systools make_script/make_tar layouts; built with OTP "
                        "27 or 25, the /init of the release's major is used; docs/otp.md)")
    b.add_argument("--env-file", type=Path, default=None, metavar="FILE",
                   help="with --release: NAME=VALUE lines put into the image as "
                        "/etc/microbeam.env (mode 0600), the release's environment kept off "
                        "the kernel command line")
    b.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="with --release: where bzImage, microbeam.cpio and size-report.json "
                        "go (default out/release-NAME)")
    b.add_argument("--nif", action="append", default=[], metavar="APP=DIR",
                   help="with --release: compile DIR/*.c (APP's NIF) with the musl toolchain "
                        "as a static NIF and link this release's /init with it (repeatable)")
    b.add_argument("--no-cacerts", action="store_true",
                   help="with --release: leave the CA bundle (/etc/ssl/certs/ca-certificates.crt) "
                        "out of the image of a release that includes ssl")
    o = sub.add_parser("otp", help="run a command with an OTP major's erl/erlc/escript (and "
                                    "for 27, Elixir 1.18's mix/elixir/iex) first on PATH",
                       description="Run CMD with the toolchain of OTP MAJOR first on PATH: 27 is "
                                   "OTP 27.3.4.1 + Elixir 1.18.3 built from Debian 13's sources "
                                   "(the main build makes it), 25 Debian 12's own OTP. E.g. "
                                   "`microbeam otp 27 -- mix release`. docs/otp.md.")
    o.add_argument("major", type=int, metavar="MAJOR", help="25 or 27")
    o.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    t = sub.add_parser("test", help="setup + build + ctest")
    t.add_argument("--jobs", "-j", type=_positive, default=None)
    t.add_argument("ctest_args", nargs=argparse.REMAINDER,
                   help="after --: more ctest arguments (e.g. -- -R boot)")
    r = sub.add_parser(
        "run", help="boot the image in QEMU, console on the terminal",
        description="Boot out/bzImage + out/microbeam.cpio (or --kernel/--initrd) in QEMU "
                    "with the serial console on the terminal. Ctrl-C powers the guest down. "
                    "Exits with the BEAM's status: 0 for halt(0) or a clean stop, N for "
                    f"halt(N), {qemucmd.PANIC_STATUS} for a kernel panic. See cmd/README.md.")
    _add_run_options(r)
    r.add_argument("--eval", metavar="EXPR", default=None,
                   help="after the release has started, evaluate the Erlang expression EXPR "
                        "in the guest and exit with its status: 0 for ok/true/{ok, _}, 1 for "
                        "another value, 2 for an exception (or EXPR's own erlang:halt(N)); "
                        "e.g. 'my_tests:run()'")
    r.add_argument("--restore", metavar="FILE", type=Path, default=None,
                   help="resume a guest saved by `microbeam snapshot` instead of booting "
                        "(its own --port/--forward; run it again for more copies)")
    sub.add_parser("tsc-hint", help="print the kernel parameters a microvm guest needs under "
                   "TCG (tsc_early_khz=, lpj=, tsc=reliable) for this host",
                   description="Print `tsc_early_khz=N lpj=L tsc=reliable` for this host's TSC: "
                               "what `-M microvm` needs on the kernel command line under TCG "
                               "(docs/kernel-cmdline.md, \"Plain QEMU\").")
    _add_snapshot(sub)
    sz = sub.add_parser("size", help="the image's sizes: kernel, initramfs compressed and "
                                     "unpacked, against the 8 MiB target")
    sz.add_argument("image", nargs="?", type=Path, default=None, metavar="DIR",
                    help="an image directory holding size-report.json, e.g. "
                         "out/release-NAME (default: out/)")
    be = sub.add_parser("bench", help="setup + build + benchmark against the Debian baseline "
                                      "(table, out/bench.json, out/bench.svg)")
    be.add_argument("--quick", action="store_true",
                    help="one run each, few requests, coarse memory floor (what the tests run)")
    be.add_argument("--runs", type=_positive, default=None, help="boots per system (default 5)")
    be.add_argument("--out", type=Path, default=None, help="where bench.json/.svg go (default out/)")
    be.add_argument("--jobs", "-j", type=_positive, default=None)
    be.add_argument("--no-build", action="store_true",
                    help="use the artifacts as they are (the CMake `bench` target)")
    be.add_argument("--density", action="store_true",
                    help="only the density figure: N idle guests of each kind at once, the host "
                         "memory (PSS) each costs, with and without free page reporting, TCG's "
                         "code cache capped, the host's KSM (as root; put back afterwards) "
                         "(out/bench-density.json, .svg)")
    be.add_argument("--guests", type=_positive, default=None,
                    help="with --density: guests at once per kind (default 16)")
    so = sub.add_parser("soak", help="bounded load from the host (wrk) against one guest: no "
                                     "failed request, memory flat, no restart (out/soak.json)")
    so.add_argument("--seconds", type=_positive, default=600, help="how long (default 600)")
    so.add_argument("--out", type=Path, default=None, help="where soak.json goes (default out/)")
    d = sub.add_parser("demo", help="setup + build + run")
    d.add_argument("--jobs", "-j", type=_positive, default=None)
    _add_run_options(d)
    _add_vmm_config(sub)
    return ap


def _add_snapshot(sub) -> None:
    """`snapshot`: boot, wait for the app, save the VM (snapshot.py, docs/snapshots.md)."""
    s = sub.add_parser("snapshot", help="boot the image, wait until the app answers, save "
                                        "the running VM to a file for `run --restore`")
    s.add_argument("--out", type=Path, default=None, metavar="FILE",
                   help="the saved VM (default out/demo.snap); FILE.json describes it")
    s.add_argument("--kernel", type=Path, default=None, metavar="FILE")
    s.add_argument("--initrd", type=Path, default=None, metavar="FILE")
    s.add_argument("--memory", type=_positive, default=128, metavar="MiB")
    s.add_argument("--smp", type=_positive, default=2, metavar="N")
    s.add_argument("--machine", choices=qemucmd.MACHINES, default="microvm")
    s.add_argument("--append", default="", metavar="EXTRA")
    s.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    s.add_argument("--ready", default="/health", metavar="PATH",
                   help="the guest's port 8080 path that must answer 200 first (default /health)")


def _add_vmm_config(sub) -> None:
    """`vmm-config`: the guest for Firecracker or cloud-hypervisor (vmm_config.py)."""
    from . import vmm_config as vc
    v = sub.add_parser(
        "vmm-config", help="print a Firecracker config (JSON) or a cloud-hypervisor command line",
        description="Print a Firecracker configuration file (for `firecracker --no-api "
                    "--config-file FILE`) or a cloud-hypervisor command line that boots "
                    "out/vmlinux + out/microbeam.cpio with the kernel's ip= on a tap device. "
                    "See docs/kernel-cmdline.md.")
    v.add_argument("vmm", choices=vc.VMMS)
    v.add_argument("--kernel", default=None, metavar="FILE",
                   help="kernel (default: out/vmlinux, the uncompressed kernel ELF with a "
                        "PVH entry that the build copies there; Firecracker boots ELF only)")
    v.add_argument("--initrd", default=None, metavar="FILE",
                   help="initramfs (default: out/microbeam.cpio)")
    v.add_argument("--memory", default=str(vc.DEFAULT_MEMORY), metavar="MiB",
                   help=f"guest MiB, at least {vc.MIN_MEMORY} (default {vc.DEFAULT_MEMORY})")
    v.add_argument("--smp", default=str(vc.DEFAULT_SMP), metavar="N",
                   help=f"guest CPUs (default {vc.DEFAULT_SMP})")
    v.add_argument("--tap", default=vc.DEFAULT_TAP, metavar="NAME",
                   help=f"host tap device (default {vc.DEFAULT_TAP})")
    v.add_argument("--guest-ip", default=vc.DEFAULT_GUEST_IP, metavar="IP",
                   help=f"guest eth0 address (default {vc.DEFAULT_GUEST_IP})")
    v.add_argument("--gateway", default=vc.DEFAULT_GATEWAY, metavar="IP",
                   help=f"the host's end of the tap (default {vc.DEFAULT_GATEWAY})")
    v.add_argument("--netmask", default=vc.DEFAULT_NETMASK, metavar="MASK",
                   help=f"(default {vc.DEFAULT_NETMASK})")
    v.add_argument("--append", default="", metavar="EXTRA",
                   help="extra kernel command line parameters (last)")
    v.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable for the release (repeatable; see `run --env`)")
    v.add_argument("--disk", default=None, metavar="FILE",
                   help="the data disk (/dev/vda, mounted at /data); a missing FILE is made "
                        "with mkfs.ext4 (256 MiB, sparse), as `run --disk` does")
    v.add_argument("--out", default=None, metavar="FILE", help="write here (default: stdout)")


def forwards(args) -> list:
    """(host, guest) ports: --port P (P:8080) and each --forward; 8080:8080 if none."""
    fwds = ([(args.port, qemucmd.GUEST_HTTP_PORT)] if args.port is not None else [])
    fwds += args.forward
    return fwds or [(8080, qemucmd.GUEST_HTTP_PORT)]


def vm_config(args) -> qemucmd.VMConfig:
    """The VMConfig a `run`/`demo` invocation asks for (accelerator still unresolved).
    The guest reports the BEAM's status unless its exit policy keeps it up."""
    image = getattr(args, "image", None)
    kernel = args.kernel or (image / "bzImage" if image else paths.default_kernel())
    initrd = args.initrd or (image / "microbeam.cpio" if image else paths.default_initrd())
    return qemucmd.VMConfig(
        kernel=str(kernel), initrd=str(initrd), forwards=forwards(args), memory=args.memory,
        smp=args.smp, machine=args.machine, accel="tcg",
        append=guest_env.with_env(args.append, args.env),
        debug_exit=args.debug_exit or qemucmd.status_by_default(args.append),
        no_reboot=not args.allow_reboot, private_net=args.net, guest_ip=args.guest_ip)


def attach_disk(cfg: qemucmd.VMConfig, spec) -> None:
    """--disk: FILE checked or created (disk.prepare), /dev/vda mounted at /data. The
    kernel and initrd are checked first: a run that cannot boot makes no new FILE."""
    if spec is None:
        return
    from .run import check_images
    check_images(Path(cfg.kernel), Path(cfg.initrd))
    d = disk.prepare(spec)
    cfg.disk, cfg.disk_readonly = d.path, d.readonly
    cfg.append = disk.with_data_param(cfg.append)


def _ctest_extra(args):
    extra = list(args.ctest_args or [])
    if extra and extra[0] == "--":
        extra = extra[1:]
    return extra


def dispatch(args) -> int:
    from . import bench, build, install, run, size
    if args.command == "setup":
        return install.setup()
    if args.command == "build":
        if args.release is not None:
            from . import release
            return release.build_release(args.release, args.out, args.jobs, args.env_file,
                                         cacerts=not args.no_cacerts, nifs=args.nif)
        return build.build(args.jobs)
    if args.command == "otp":
        from . import otp
        cmd = list(args.cmd)
        if cmd and cmd[0] == "--":
            cmd = cmd[1:]
        try:
            return otp.run_with(args.major, cmd, lambda: build.build(targets=["elixir_host"]))
        except otp.OtpError as e:
            proc.say(f"error: {e}")
            return 1
    if args.command == "test":
        install.setup()
        build.build(args.jobs)
        return build.test(_ctest_extra(args))
    if args.command == "snapshot" or (args.command == "run" and args.restore is not None):
        from . import snapshot
        return snapshot.cli(args)
    if args.command == "run":
        cfg = vm_config(args)
        attach_disk(cfg, args.disk)
        if args.eval is not None:
            cfg.append = " ".join(filter(None, [cfg.append, qemucmd.eval_kernel_param(args.eval)]))
            cfg.debug_exit = True   # the guest's exit status becomes ours
        return run.run(cfg, args.accel, args.console_log, args.stop_timeout)
    if args.command == "bench":
        if args.guests and not args.density:
            raise ValueError("--guests is for --density")
        if not args.no_build:
            install.setup()
            build.build(args.jobs)
        if args.density:
            from . import bench_density
            return bench_density.main(args.quick, args.out or paths.out_dir(), guests=args.guests)
        return bench.bench(args.quick, args.out or paths.out_dir(), runs=args.runs)
    if args.command == "soak":
        from . import soak
        return soak.main(args.seconds, args.out or paths.out_dir())
    if args.command == "tsc-hint":
        from . import hosttsc
        khz = hosttsc.tsc_khz()
        if not khz:
            proc.say("tsc-hint: cannot measure this host's TSC frequency")
            return 1
        print(hosttsc.hint(khz))
        return 0
    if args.command == "size":
        return size.show(size.report_path(args.image, paths.out_dir()))
    if args.command == "vmm-config":
        from . import vmm_config
        return vmm_config.cli(args, paths.out_dir(), proc.say)
    if args.command == "demo":
        install.setup()
        build.build(args.jobs)
        cfg = vm_config(args)
        attach_disk(cfg, args.disk)
        return run.run(cfg, args.accel, args.console_log, args.stop_timeout)
    raise AssertionError(args.command)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return dispatch(args)
    except proc.CommandError as e:
        proc.say(str(e))
        return e.status if 0 < e.status < 256 else 1
    except ReleaseError as e:
        proc.say(f"error: {e}")
        return 1
    except (FileNotFoundError, RuntimeError, ValueError, PermissionError) as e:
        proc.say(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        proc.say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
