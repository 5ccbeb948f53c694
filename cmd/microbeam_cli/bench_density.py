"""`microbeam bench --density`: how many idle demo guests this host holds, and what each
one really costs it.

For each variant, GUESTS guests are booted one after the other (16 TCG boots at once on 2
cores would time out), each waited for to its first GET /health 200 on its own forwarded
port. Once all of them run, they are left idle for SETTLE seconds, then for each QEMU:
its PSS (/proc/PID/smaps_rollup: private pages whole, shared ones divided among the
processes that map them, so QEMU's libraries count once across the fleet), and the part
of it that is the guest's RAM (the -m mapping in /proc/PID/smaps). Then every guest must
answer 200 again. Variants, all under the same conditions (machine, -m, -smp, TCG):

- MicroBEAM and the baseline (bench/baseline), each without a balloon device and with
  `virtio-balloon` and `free-page-reporting=on` (the guest hands the free pages it has
  touched back to the host: QEMU then drops them with MADV_DONTNEED);
- both with reporting and TCG's code cache capped (`-accel tcg,tb-size=N`): under TCG
  the translated code is most of what QEMU adds to the guest's RAM (QEMU 7.2 lets it
  grow to 1 GiB; KVM has none), and a cap costs a boot little as long as the boot's
  code fits;
- the smaller cap with one vCPU (`-smp 1`) instead of two: one vCPU thread, its TCG
  state and softmmu TLBs, and one BEAM scheduler (or kernel per-CPU area) less in the
  guest; an idle guest needs no second one, a boot takes a little longer;
- MicroBEAM restored from one snapshot (taken with and without reporting), GUESTS copies:
  QEMU loads the saved RAM into each copy's own memory, so they share nothing;
- and restored from a snapshot whose RAM is a file of its own (`memory-backend-file`,
  migration's `x-ignore-shared`): each copy maps the file privately (snapshot.py's
  restore_argv), so the pages no copy has written are the page cache's, one set for all.

The result goes under "density" in the bench's JSON (bench-density.json on its own).
"""

import copy
import dataclasses
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import bench_density_report as dreport
from . import host_ksm
from . import snapshot
from .vm import Guest, GuestError


@dataclass
class DensitySettings:
    guests: int = 16              # at once, per variant
    memory: int = 256             # MiB, for both systems (the baseline's floor is 166)
    settle_s: float = 15.0        # idle before sampling (page reporting waits 2 s, then works)
    smp: int = 2                  # vCPUs per guest, both systems
    one_vcpu: bool = True         # the rows with -smp 1 (the small cache, with and without KSM)
    tcg_cache_mib: int = 32       # the capped variants' tb-size
    small_cache_mib: int = 16     # the smaller cap's (8 made a boot 3.4 times as long)
    boot_timeout: float = 300.0
    baseline: bool = True
    restored: bool = True
    ksm: bool = True              # the KSM rows (root, and a kernel with KSM, or they say why not)
    ksm_min_passes: int = 3       # ksmd's full scans before the fleet is read (merging takes two)
    ksm_pass_s: float = 5.0       # pages_to_scan chosen for a pass over the fleet in about this
    ksm_sleep_ms: int = 20        # ksmd's sleep between batches (the kernel's default)
    ksm_timeout_s: float = 300.0


QUICK = DensitySettings(guests=2, settle_s=5.0)
ONE_VCPU = ", -smp 1"


@dataclass
class Variant:
    name: str
    system: str                   # "microbeam" | "baseline"
    reporting: bool
    restored: bool = False
    tb_size: int = 0              # TCG's code cache cap in MiB (0: QEMU's default)
    shared_ram: bool = False      # restored: the RAM from a file all copies map privately
    small_pages: bool = False     # guest RAM from a memfd: 4 KiB pages, not QEMU's THP
    ksm: str = ""                 # "ram": the host's KSM on (QEMU marks the guest's RAM mergeable)
    before: str = ""              # a KSM row: the row its fleet is, read before KSM is turned on
    smp: int = 2                  # vCPUs


def variants(settings: DensitySettings):
    """Each system with QEMU's defaults, then one setting more at a time (each row keeps
    the ones above it): free page reporting, TCG's code cache capped, guest RAM in 4 KiB
    pages; then, from the capped row (QEMU's own RAM again), the host's KSM, and a smaller
    code cache without and with KSM (a KSM row's fleet is read first without it: that is
    the row it names in `before`), the same with one vCPU; then our restored copies."""
    cap, small, smp = settings.tcg_cache_mib, settings.small_cache_mib, settings.smp
    out = []
    for label, system in (("MicroBEAM", "microbeam"), ("baseline", "baseline")):
        if system == "baseline" and not settings.baseline:
            continue
        out += [Variant(label, system, False, smp=smp),
                Variant(f"{label} + reporting", system, True, smp=smp),
                Variant(f"{label} + TCG cache {cap}M", system, True, tb_size=cap, smp=smp),
                Variant(f"{label} + 4 KiB pages", system, True, tb_size=cap, small_pages=True, smp=smp)]
        if settings.ksm:    # KSM merges private anonymous pages: QEMU's RAM, not the memfd's
            out += [Variant(f"{label} + KSM", system, True, tb_size=cap, ksm="ram", smp=smp,
                            before=f"{label} + TCG cache {cap}M")]
            for n in [smp] + ([1] if settings.one_vcpu and smp != 1 else []):
                small_row = Variant(f"{label} + TCG cache {small}M{'' if n == smp else ONE_VCPU}", system,
                                    True, tb_size=small, smp=n)
                out += [small_row, dataclasses.replace(small_row, name=f"{small_row.name}, KSM", ksm="ram",
                                                       before=small_row.name)]
    if settings.restored:
        out += [Variant("MicroBEAM restored", "microbeam", False, restored=True, smp=smp),
                Variant("MicroBEAM restored + reporting", "microbeam", True, restored=True, smp=smp),
                Variant("MicroBEAM restored, RAM file", "microbeam", True, restored=True,
                        shared_ram=True, smp=smp)]
    return out


def balloon_args(machine: str, reporting: bool) -> list:
    """QEMU's free page reporting device, or nothing (the default configuration)."""
    if not reporting:
        return []
    dev = "virtio-balloon-device" if machine == "microvm" else "virtio-balloon-pci"
    return ["-device", f"{dev},free-page-reporting=on"]


def small_pages_args(memory_mib: int) -> list:
    """The guest's RAM as a memfd (shmem) instead of QEMU's anonymous memory, which QEMU
    marks MADV_HUGEPAGE: with the host's THP, each 2 MiB the guest touches at all costs
    2 MiB; shmem follows shmem_enabled (Debian: never), so it costs what is touched."""
    return ["-object", f"memory-backend-memfd,id=mbram,size={memory_mib}M",
            "-machine", "memory-backend=mbram"]


def shared_ram_args(ram_file: Path, memory_mib: int) -> list:
    """The guest's RAM in RAM_FILE (mapped shared by the VM that is saved), left out of
    the migration stream: the file is the snapshot's RAM."""
    return ["-object", f"memory-backend-file,id=mbram,size={memory_mib}M,mem-path={ram_file},share=on",
            "-machine", "memory-backend=mbram"]


def read_memory(pid: int, memory_mib: int) -> dict:
    base = Path(f"/proc/{pid}")
    rollup = dreport.parse_smaps_rollup((base / "smaps_rollup").read_text())
    ram = dreport.guest_ram((base / "smaps").read_text(), memory_mib)
    return {"pss_kib": rollup.get("Pss"), "rss_kib": rollup.get("Rss"),
            "ram_pss_kib": ram.get("Pss"), "ram_rss_kib": ram.get("Rss"),
            "anon_huge_kib": rollup.get("AnonHugePages")}


def sample_all(guests, samples, memory_mib: int) -> None:
    """Each running guest's memory into its sample (SAMPLES: one per guest, in order)."""
    for g, s in zip(guests, samples):
        if g.running():
            try:
                s.update(read_memory(g.proc.pid, memory_mib))
            except OSError:
                pass


def ksm_pass(guests, samples, settings, say) -> dict:
    """KSM on for the idle fleet (SAMPLES: its memory as read without it), until ksmd
    has merged what it will; then the fleet is read again. The host's KSM settings are
    back as they were when this returns or raises (KSM off again: every page unmerged)."""
    before = {"pss_total_kib": sum(s.get("pss_kib") or 0 for s in samples),
              "anon_huge_total_kib": sum(s.get("anon_huge_kib") or 0 for s in samples),
              "pss_median_kib": dreport.median(dreport.summarise(samples))}
    rss_pages = sum(s.get("rss_kib") or 0 for s in samples) // 4
    rate = host_ksm.scan_rate(rss_pages, settings.ksm_pass_s, settings.ksm_sleep_ms)
    cpu0 = host_ksm.ksmd_cpu_s()
    with host_ksm.Session() as ksm:
        ksm.enable(rate, settings.ksm_sleep_ms)
        out = ksm.wait_settled(settings.ksm_min_passes, settings.ksm_timeout_s, say=say)
        sample_all(guests, samples, settings.memory)
        out["available_kib"] = host_available_kib()   # before the restore unmerges
        for g, s in zip(guests, samples):
            if g.running():
                s["ksm_stat"] = host_ksm.process_stat(g.proc.pid)
    cpu1 = host_ksm.ksmd_cpu_s()
    out.update({"pages_to_scan": rate, "sleep_millisecs": settings.ksm_sleep_ms, "before": before,
                "restored": ksm.saved,
                "ksmd_cpu_s": None if cpu0 is None or cpu1 is None else round(cpu1 - cpu0, 1)})
    return out


def host_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def _serving(g) -> bool:
    try:
        return g.http_get("/health", timeout=30).status == 200
    except (GuestError, OSError, TimeoutError):
        return False


def fleet(variant: Variant, system, settings: DensitySettings, say, first_200, state=None) -> dict:
    """Boots (or restores) settings.guests guests, one after the other, samples each
    QEMU's memory once all are idle, checks each still serves; kills them all."""
    guests, samples, ksm, before = [], [], {}, None
    available_before = host_available_kib()
    try:
        for i in range(settings.guests):
            t0 = time.monotonic()
            try:
                if variant.restored:
                    g = snapshot.RestoredGuest(state)
                else:
                    g = Guest(system.kernel, system.initrd, append="panic=-1", memory=settings.memory,
                              smp=variant.smp, accel="tcg", machine=system.machine,
                              accel_opts=f"tb-size={variant.tb_size}" if variant.tb_size else "",
                              extra_args=balloon_args(system.machine, variant.reporting)
                              + (small_pages_args(settings.memory) if variant.small_pages else []))
                g.launch()
            except (GuestError, snapshot.SnapshotError, OSError) as e:
                samples.append({"error": str(e).splitlines()[0]})
                say(f"  {variant.name} {i + 1}/{settings.guests}: did not start: {samples[-1]['error']}")
                continue
            guests.append(g)
            t200 = first_200(g, settings.boot_timeout)
            samples.append({"first_200_s": None if t200 is None else t200 - t0, "port": g.port})
            say(f"  {variant.name} {i + 1}/{settings.guests}: first 200 after "
                f"{'-' if t200 is None else f'{t200 - t0:.2f}'} s on port {g.port}")
        say(f"  {variant.name}: {len(guests)} running; idle {settings.settle_s:g} s")
        time.sleep(settings.settle_s)
        live = [s for s in samples if "port" in s]
        sample_all(guests, live, settings.memory)
        available_after = host_available_kib()
        if variant.ksm:
            before = copy.deepcopy(samples), available_before - available_after
            why = host_ksm.unavailable()
            ksm = {"unavailable": why} if why else ksm_pass(guests, live, settings, say)
            available_after = ksm.get("available_kib") or host_available_kib()
        for g, s in zip(guests, live):
            s["serving"] = g.running() and _serving(g)
    finally:
        for g in guests:
            g.kill()

    def row(samples, drop, **more):
        out = dreport.summarise(samples)
        out.update({"system": variant.system, "reporting": variant.reporting, "restored": variant.restored,
                    "tb_size_mib": variant.tb_size, "small_pages": variant.small_pages, "smp": variant.smp,
                    "memory_mib": settings.memory, "host_available_drop_kib": drop, "samples": samples, **more})
        return out

    if not variant.ksm:
        out = row(samples, available_before - available_after)
    else:
        # the fleet before KSM is the `before` row (serving: as checked at the end)
        for b, s in zip(before[0], samples):
            b["serving"] = s.get("serving", False)
        out = {"before": row(before[0], before[1])}
        if ksm.get("unavailable"):
            out.update({"system": variant.system, "reporting": variant.reporting, "restored": False,
                        "tb_size_mib": variant.tb_size, "smp": variant.smp, "ksm": variant.ksm,
                        "unavailable": ksm["unavailable"]})
        else:
            out.update(row(samples, available_before - available_after, ksm=variant.ksm, ksm_counters=ksm))
    say(f"  {variant.name}: {out.get('serving', 0)}/{settings.guests} serving; PSS per guest "
        f"{dreport._mib(dreport.median(out))} MiB (guest RAM {dreport._mib(dreport.median(out, 'ram_pss_kib'))})"
        + (f"; before KSM {dreport._mib(dreport.median(out['before']))} MiB" if "before" in out else ""))
    return out


def measure(systems: dict, settings: DensitySettings, say, first_200) -> dict:
    """SYSTEMS: {"microbeam": bench.System, "baseline": bench.System or None};
    FIRST_200(guest, timeout) is bench.wait_first_200 (passed in: no import cycle)."""
    settings = dataclasses.replace(settings, baseline=settings.baseline and systems.get("baseline") is not None)
    result = {"settings": dataclasses.asdict(settings), "variants": {},
              "host_available_kib": host_available_kib()}
    ours = systems["microbeam"]
    with tempfile.TemporaryDirectory(prefix="microbeam-density-") as d:
        states = {}
        rows = variants(settings)
        read_by_ksm = {v.before for v in rows if v.before}
        for v in rows:
            if v.name in read_by_ksm:
                continue    # read by the KSM row's fleet before KSM is on
            say(f"[bench density] {settings.guests} x {v.name} (-m {settings.memory} -smp {v.smp}, tcg)")
            state = None
            if v.restored:
                key = (v.reporting, v.shared_ram)
                state = states.get(key)
                if state is None:
                    name = f"density-{'reporting' if v.reporting else 'plain'}{'-shared' if v.shared_ram else ''}"
                    state = Path(d) / f"{name}.snap"
                    extra = balloon_args(ours.machine, v.reporting)
                    if v.shared_ram:
                        extra += shared_ram_args(Path(d) / f"{name}.ram", settings.memory)
                    try:
                        snapshot.take(ours.kernel, ours.initrd, state, memory=settings.memory,
                                      smp=v.smp, accel="tcg", machine=ours.machine, say=lambda m: None,
                                      extra_args=extra,
                                      settle_s=settings.settle_s if v.reporting else 0.0)
                    except (snapshot.SnapshotError, GuestError, OSError) as e:
                        result["variants"][v.name] = {"system": v.system, "reporting": v.reporting,
                                                      "restored": True, "error": str(e).splitlines()[0]}
                        continue
                    states[key] = state
            system = systems[v.system]
            out = result["variants"][v.name] = fleet(v, system, settings, say, first_200, state)
            if v.before:
                result["variants"][v.before] = out.pop("before")
            if state is not None:
                result["variants"][v.name]["state_bytes"] = state.stat().st_size
                ram = state.with_suffix(".ram")
                if ram.is_file():   # its size, and what of it is allocated on disk (not holes)
                    result["variants"][v.name]["ram_file"] = {
                        "bytes": ram.stat().st_size, "allocated_bytes": ram.stat().st_blocks * 512}
    result["variants"] = {v.name: result["variants"][v.name] for v in rows if v.name in result["variants"]}
    result["ratios"] = dreport.ratios(result["variants"])
    per_guest = {name: dreport.median(v) for name, v in result["variants"].items() if dreport.median(v)}
    result["fit"] = {"available_kib": result["host_available_kib"],
                     "guests": {name: int(result["host_available_kib"] // kib) for name, kib in per_guest.items()}}
    return result


def main(quick: bool, outdir: Path, guests=None, skip_build=False, say=None) -> int:
    """`microbeam bench --density [--quick] [--guests N]`: writes OUTDIR/bench-density.json
    and .svg, prints the table."""
    import json
    from . import bench, proc
    say = say or proc.say
    settings = dataclasses.replace(QUICK if quick else DensitySettings())
    if guests:
        settings.guests = guests
    baseline_dir = bench.paths.build_dir() / "baseline"
    if not skip_build:
        bench.build_baseline(baseline_dir)
    systems = {"microbeam": bench.microbeam_system(), "baseline": bench.baseline_system(baseline_dir)}
    for s in systems.values():
        for f in (s.kernel, s.initrd):
            if not Path(f).is_file():
                raise FileNotFoundError(f"{f}: missing (build it first: cmd/microbeam build)")
    meta = {"date": bench.datetime.datetime.now(bench.datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": bench.host_info()}
    density = measure(systems, settings, say, bench.wait_first_200)
    result = {**meta, "density": density}
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "bench-density.json").write_text(json.dumps(result, indent=2) + "\n")
    (outdir / "bench-density.svg").write_text(dreport.svg(density, meta))
    print(dreport.table(density))
    print(f"\nwrote {outdir / 'bench-density.json'} and {outdir / 'bench-density.svg'}")
    return 0
