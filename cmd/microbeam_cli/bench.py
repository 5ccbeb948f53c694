"""`microbeam bench`: MicroBEAM next to the conventional way (Debian's cloud kernel,
busybox init, Debian's dynamic Erlang, the same demo release; bench/baseline/), in one
run, alternating, several runs each. Prints a table, writes out/bench.json and
out/bench.svg. The same run boots MicroBEAM on both OTP majors: the default image (the
demo on OTP 27) and the demo built with Debian's OTP 25 through `build --release` (the
-otp25 /init), side by side (size, boot to first 200, memory floor, requests/s).

Boot time is measured on the host from just before QEMU starts to the first HTTP 200
through the forwarded port; the guest's own marks come from its console. The memory
floor is the smallest -m with which the VM boots and answers REQUESTS requests without
an error, found by bisection. Steady state: guest memory used after boot (the demo's
/metrics reads /proc/meminfo, in both systems) and requests/s from wrk over loopback.
"""

import dataclasses
import datetime
import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import accel as accel_mod
from . import bench_report as report
from . import bench_cowboy, bench_native, bench_snapshot
from . import paths, proc
from .vm import Guest, GuestError


@dataclass
class System:
    name: str
    kernel: Path
    initrd: Path
    machine: str
    memory: int            # MiB for the boot and steady-state runs
    floor_hi: int          # bisection starts here (must boot)
    sizes: dict = field(default_factory=dict)


@dataclass
class Settings:
    runs: int = 5
    requests: int = 1000          # served without error for the memory floor
    wrk_seconds: int = 10
    floor_resolution: int = 1     # MiB
    boot_timeout: float = 300.0
    accels: tuple = ("tcg",)
    cowboy: bool = True           # examples/cowboy_hello's row (bench_cowboy.py)


QUICK = Settings(runs=1, requests=50, wrk_seconds=2, floor_resolution=64, boot_timeout=300.0,
                 cowboy=False)


def microbeam_system(name="microbeam", image: Path = None) -> System:
    """The default image (out/), or IMAGE (a `build --release` output directory)."""
    report_file = image / "size-report.json" if image else paths.size_report()
    sizes = json.loads(report_file.read_text())
    components = {"/init": sizes["init"], **{f"app {k}": v for k, v in sizes["apps"].items()}}
    other = sizes.get("release_uncompressed", 0) + sizes["init"] - sum(components.values())
    if other > 0:
        components["other"] = other
    kernel = image / "bzImage" if image else paths.default_kernel()
    initrd = image / "microbeam.cpio" if image else paths.default_initrd()
    return System(name, kernel, initrd, "microvm",
                  memory=128, floor_hi=128,
                  sizes={"kernel": sizes["kernel"], "initramfs_compressed": sizes["initramfs_compressed"],
                         "total": sizes["total"], "components": components})


def baseline_system(outdir: Path) -> System:
    sizes = json.loads((outdir / "sizes.json").read_text())
    comp = dict(sizes.get("components", {}))
    apps = comp.pop("apps", {})
    components = {k: v for k, v in comp.items() if isinstance(v, int)}
    components.update({f"app {k}": v for k, v in apps.items()})
    # Same machine as MicroBEAM, so that the ratio is about the image, not the VMM
    # model (the cloud kernel finds microvm's virtio-mmio devices through ACPI).
    return System("baseline", outdir / "vmlinuz", outdir / "initrd.img", "microvm",
                  memory=512, floor_hi=512,
                  sizes={"kernel": sizes["kernel"], "initramfs_compressed": sizes["initramfs_compressed"],
                         "total": sizes["total"], "components": components})


def build_baseline(outdir: Path) -> None:
    script = paths.repo_root() / "bench" / "baseline" / "build.sh"
    proc.run([str(script), str(outdir)])


OTP25_NAME = "microbeam-otp25"


def build_otp25_demo(workdir: Path) -> Path:
    """The demo built with the host's OTP 25 (Debian's erlang and elixir), through
    `build --release` into WORKDIR/image (the -otp25 /init); returns that directory."""
    from . import release
    env = dict(os.environ, MICROBEAM_TOOLCHAIN_PATH="/usr/lib/erlang/bin")
    proc.run([str(paths.repo_root() / "initramfs" / "release" / "build-demo.sh"), str(workdir)], env=env)
    release.build_release(workdir / "mix-release", workdir / "image")
    return workdir / "image"


# ---- one boot ----------------------------------------------------------------------------

def wait_first_200(g: Guest, timeout: float, path: str = "/health"):
    """Polls PATH every 50 ms; the first 200's time, or None if the guest died or the
    timeout passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not g.running():
            return None
        try:
            if g.http_get(path, timeout=2, retry=False).status == 200:
                return time.monotonic()
        except (GuestError, OSError):
            pass
        time.sleep(0.05)
    return None


def serve(g: Guest, count: int) -> int:
    """COUNT GETs over keep-alive connections; returns how many failed."""
    failed = 0
    conn = None
    for _ in range(count):
        try:
            if conn is None:
                conn = g.connection(timeout=30)
            conn.request("GET", "/health")
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                failed += 1
            if r.getheader("connection", "").lower() == "close":
                conn.close()
                conn = None
        except OSError:
            failed += 1
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return failed


def start_guest(system: System, accel: str, memory: int):
    """The started Guest, or the first line of why QEMU did not start: a failed start
    is a failed run, not the end of the bench."""
    try:
        return Guest.start(system.kernel, system.initrd, append="panic=-1", memory=memory,
                           accel=accel, machine=system.machine)
    except GuestError as e:
        return str(e).splitlines()[0]


def boot_once(system: System, accel: str, memory: int, settings: Settings, requests: int = 0) -> dict:
    """One boot: time to first 200, the console's marks, and REQUESTS served."""
    t0 = time.monotonic()
    g = start_guest(system, accel, memory)
    if isinstance(g, str):
        return {"memory": memory, "first_200_s": None, "error": g,
                "kernel_to_init_s": None, "marks_s": {}, "panic": False}
    try:
        t200 = wait_first_200(g, settings.boot_timeout)
        run = {"memory": memory, "first_200_s": None if t200 is None else t200 - t0}
        if t200 is not None and requests:
            run["failed_requests"] = serve(g, requests)
        if t200 is not None:
            try:
                g.wait_for_console(r"demo: boot timeline:", 10)
            except (GuestError, TimeoutError):
                pass
        console = g.console_text()
        run["kernel_to_init_s"] = report.parse_kernel_to_init(console)
        run["marks_s"] = report.parse_timeline(console)
        run["panic"] = "Kernel panic" in console
        return run
    finally:
        g.kill()


def steady_state(system: System, accel: str, settings: Settings) -> dict:
    g = start_guest(system, accel, system.memory)
    if isinstance(g, str):
        return {"error": g}
    try:
        if wait_first_200(g, settings.boot_timeout) is None:
            return {"error": "did not boot"}
        time.sleep(1.0)  # let the boot settle
        mem = (g.http_get("/metrics", timeout=30).json() or {}).get("os_memory_kib") or {}
        wrk = subprocess.run(["wrk", "-t1", "-c4", f"-d{settings.wrk_seconds}s", "--timeout", "10s",
                              f"http://127.0.0.1:{g.port}/health"],
                             capture_output=True, text=True, timeout=settings.wrk_seconds + 60)
        parsed = report.parse_wrk(wrk.stdout)
        return {"mem_total_kib": mem.get("total"), "mem_used_kib": mem.get("used"),
                "memory": system.memory, **parsed}
    finally:
        g.kill()


def memory_floor(system: System, accel: str, settings: Settings, say) -> tuple:
    def trial(mib):
        run = boot_once(system, accel, mib, settings, requests=settings.requests)
        ok = run["first_200_s"] is not None and run.get("failed_requests", 1) == 0
        say(f"  {system.name}: -m {mib}: {'ok' if ok else 'failed'}")
        return ok
    return report.bisect_floor(trial, 8, system.floor_hi, settings.floor_resolution)


# ---- the whole run -----------------------------------------------------------------------

def host_info() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
            "qemu": shutil.which("qemu-system-x86_64")}


def run_bench(systems, settings: Settings, say) -> dict:
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "host": host_info(), "accels": list(settings.accels),
              "settings": settings.__dict__ | {"accels": list(settings.accels)},
              "systems": {s.name: {"machine": s.machine, "memory": s.memory, "sizes": s.sizes,
                                   "boot": {}, "kernel": str(s.kernel), "initrd": str(s.initrd)}
                          for s in systems}}
    steps = len(settings.accels) * settings.runs * len(systems) + 2 * len(systems)
    step = 0
    for accel in settings.accels:
        runs = {s.name: [] for s in systems}
        for i in range(settings.runs):
            for s in systems:  # alternating, so that load on the host hits both alike
                step += 1
                say(f"[bench {step}/{steps}] boot {s.name} ({accel}, run {i + 1}/{settings.runs})")
                run = boot_once(s, accel, s.memory, settings)
                say(f"  first 200 after {report._fmt(run['first_200_s'])} s")
                runs[s.name].append(run)
        for s in systems:
            rs = runs[s.name]
            marks = {}
            for name in {k for r in rs for k in r["marks_s"]}:
                marks[name] = report.spread([r["marks_s"].get(name) for r in rs])["median"]
            result["systems"][s.name]["boot"][accel] = {
                "runs": rs,
                "first_200_s": report.spread([r["first_200_s"] for r in rs]),
                "kernel_to_init_s": report.spread([r["kernel_to_init_s"] for r in rs]),
                "marks_median_s": marks,
                "panics": sum(1 for r in rs if r["panic"]),
            }
    say(f"[bench] warm start: snapshot of microbeam, {settings.runs} restores (tcg)")
    ours = result["systems"]["microbeam"]
    ours["restore"] = bench_snapshot.measure(systems[0].kernel, systems[0].initrd,
                                             settings.runs, say, wait_first_200)
    native_runs = 20 if settings.runs > 1 else 3
    say(f"[bench] native start: /init in namespaces and the baseline's bin/demo start, {native_runs} each")
    release = paths.build_dir() / "baseline" / "build" / "root" / "release"
    result["native"] = bench_native.measure(systems[0].initrd, release if release.is_dir() else None,
                                            native_runs, say, debug_runs=5 if settings.runs > 1 else 1)
    if settings.cowboy:
        say(f"[bench] examples/cowboy_hello next to the demo: its image, {settings.runs} boots (tcg)")
        result["cowboy"] = bench_cowboy.measure(settings.runs, systems[0].memory, systems[0].machine,
                                                say, wait_first_200)
    accel = settings.accels[0]
    for s in systems:
        step += 1
        say(f"[bench {step}/{steps}] memory floor of {s.name} ({accel}, {settings.requests} requests, "
            f"{settings.floor_resolution} MiB resolution)")
        floor, tried = memory_floor(s, accel, settings, say)
        result["systems"][s.name]["memory_floor_mib"] = floor
        result["systems"][s.name]["memory_floor_trials"] = tried
    for s in systems:
        step += 1
        say(f"[bench {step}/{steps}] steady state of {s.name} ({accel}, wrk {settings.wrk_seconds} s)")
        result["systems"][s.name]["steady"] = steady_state(s, accel, settings)
    ours, base = result["systems"]["microbeam"], result["systems"]["baseline"]
    result["ratios"] = {
        "total_size": report.ratio(ours["sizes"]["total"], base["sizes"]["total"]),
        "memory_floor": report.ratio(ours.get("memory_floor_mib"), base.get("memory_floor_mib")),
        "mem_used": report.ratio(ours["steady"].get("mem_used_kib"), base["steady"].get("mem_used_kib")),
        "requests_per_s": report.ratio(ours["steady"].get("requests_per_s"), base["steady"].get("requests_per_s")),
        **{f"first_200_{a}": report.ratio(ours["boot"][a]["first_200_s"]["median"],
                                          base["boot"][a]["first_200_s"]["median"])
           for a in settings.accels},
        "native_first_200": report.ratio(
            result["native"]["microbeam"]["first_200_s"]["median"],
            ((result["native"].get("baseline") or {}).get("first_200_s") or {}).get("median")),
        "restore_vs_cold_tcg": report.ratio(
            (ours.get("restore", {}).get("first_200_s") or {}).get("median"),
            ours["boot"]["tcg"]["first_200_s"]["median"]),
    }
    if OTP25_NAME in result["systems"]:
        result["otp_majors"] = report.otp_comparison(result, "microbeam", OTP25_NAME, settings.accels[0])
    result["targets"] = {"limits": report.TARGETS, "met": report.verdicts(result)}
    return result


def bench(quick: bool, outdir: Path, runs=None, skip_build=False) -> int:
    settings = dataclasses.replace(QUICK if quick else Settings())
    if runs:
        settings.runs = runs
    baseline_dir = paths.build_dir() / "baseline"
    otp25_dir = paths.build_dir() / "bench-otp25"
    if not skip_build:
        build_baseline(baseline_dir)
        build_otp25_demo(otp25_dir)
    systems = [microbeam_system(), baseline_system(baseline_dir)]
    if (otp25_dir / "image" / "size-report.json").is_file():
        systems.append(microbeam_system(OTP25_NAME, otp25_dir / "image"))
    else:
        proc.say(f"bench: {otp25_dir / 'image'} missing (run without --no-build): OTP 25 left out")
    for s in systems:
        for f in (s.kernel, s.initrd):
            if not Path(f).is_file():
                raise FileNotFoundError(f"{f}: missing (build it first: cmd/microbeam build)")
    # KVM too where the one rule (accel.py) says it boots our kernel here.
    if not quick and accel_mod.choose("auto", systems[0].kernel, systems[0].initrd,
                                      systems[0].machine, say=proc.say).accel == "kvm":
        settings.accels = ("tcg", "kvm")
    result = run_bench(systems, settings, proc.say)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    (outdir / "bench.svg").write_text(report.svg(result))
    print(report.table(result))
    if result.get("otp_majors"):
        print()
        print(report.otp_table(result))
    print(f"\nwrote {outdir / 'bench.json'} and {outdir / 'bench.svg'}")
    return 0
