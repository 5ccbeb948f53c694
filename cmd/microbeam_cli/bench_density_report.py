"""The density figure's pure parts: reading a QEMU's memory from /proc (smaps_rollup,
smaps), the per-guest summary, the terminal table and the SVG chart (drawn with the
bench chart's own panel, bench_report._bar_panel). No QEMU here: tests call it directly."""


from . import bench_report as report

# Issue 18: host memory per idle guest at most 1/3 of the baseline's.
TARGET_RATIO = 1 / 3


def parse_smaps_rollup(text: str) -> dict:
    """{"Rss": kB, "Pss": kB, ...} from /proc/PID/smaps_rollup (or one smaps entry)."""
    out = {}
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        words = rest.split()
        if sep and len(words) == 2 and words[1] == "kB" and words[0].isdigit():
            out[name.strip()] = int(words[0])
    return out


def guest_ram(smaps: str, memory_mib: int) -> dict:
    """Rss and Pss (kB) of the guest's RAM inside QEMU: the writable mapping of
    MEMORY_MIB (QEMU maps -m as one block: anonymous, or a memory-backend-file's file),
    from /proc/PID/smaps. Empty if there is none of that size."""
    want = memory_mib * 1024
    found, entry, size, ram = {}, {}, None, False

    def close():
        if size is not None and ram and want <= size <= want + 4096:
            for k in ("Rss", "Pss"):
                found[k] = found.get(k, 0) + entry.get(k, 0)

    for line in smaps.splitlines():
        head = line.split()
        # a mapping's first line: "start-end perms offset dev inode [path]"
        if head and "-" in head[0] and len(head) >= 5 and ":" in head[3]:
            close()
            entry, size = {}, None
            ram = head[1].startswith("rw") and (len(head) == 5 or not head[5].startswith("["))
            continue
        fields = parse_smaps_rollup(line)
        if "Size" in fields:
            size = fields["Size"]
        entry.update(fields)
    close()
    return found


def summarise(samples: list) -> dict:
    """One fleet's samples ([{"pss_kib", "ram_pss_kib", "serving", ...}]) as spreads."""
    def sp(key):
        return report.spread([s.get(key) for s in samples])
    other = [None if s.get("pss_kib") is None or s.get("ram_pss_kib") is None
             else s["pss_kib"] - s["ram_pss_kib"] for s in samples]
    return {"guests": len(samples), "serving": sum(1 for s in samples if s.get("serving")),
            "pss_kib": sp("pss_kib"), "rss_kib": sp("rss_kib"), "ram_pss_kib": sp("ram_pss_kib"),
            "other_pss_kib": report.spread(other), "first_200_s": sp("first_200_s"),
            "total_pss_kib": sum(s["pss_kib"] for s in samples if s.get("pss_kib") is not None)}


def median(variant: dict, key="pss_kib"):
    return ((variant or {}).get(key) or {}).get("median")


def ratios(variants: dict) -> dict:
    """Each of our variants against the baseline under the same conditions (the same
    free page reporting, TCG code cache, page size, vCPUs and KSM settings): median PSS
    per guest, ours / theirs."""
    out = {}
    for name, v in variants.items():
        if v.get("system") != "microbeam":
            continue
        base = next((b for b in variants.values()
                     if b.get("system") == "baseline" and b.get("reporting") == v.get("reporting")
                     and b.get("tb_size_mib", 0) == v.get("tb_size_mib", 0)
                     and b.get("small_pages", False) == v.get("small_pages", False)
                     and b.get("smp") == v.get("smp")
                     and b.get("ksm", "") == v.get("ksm", "") and not b.get("restored")),
                    None)
        out[name] = report.ratio(median(v), median(base))
    return out


def _mib(kib):
    return "-" if kib is None else f"{kib / 1024:.1f}"


def ksm_note(name: str, v: dict) -> str:
    """One line on a KSM row: what ksmd did, or why there was no KSM."""
    if v.get("unavailable"):
        return f"{name}: not measured: {v['unavailable']}"
    k = v.get("ksm_counters") or {}
    before = (k.get("before") or {}).get("pss_total_kib")
    after = v.get("total_pss_kib")
    drop = "" if before is None or after is None else f"; fleet PSS {before / 1024:.0f} -> {after / 1024:.0f} MiB"
    return (f"{name}: ksmd {k.get('passes', '?')} passes in {k.get('wait_s', '?')} s "
            f"(pages_to_scan {k.get('pages_to_scan', '?')}, {k.get('ksmd_cpu_s', '?')} s CPU"
            f"{', not settled' if k.get('timed_out') else ''}): pages_sharing {k.get('pages_sharing', '?')}, "
            f"pages_shared {k.get('pages_shared', '?')}{drop}")


def table(density: dict) -> str:
    rows = [("idle guests (median per guest)", "guests serving", "PSS MiB", "guest RAM MiB",
             "QEMU+TCG MiB", "first 200 s", "vs baseline")]
    r = density.get("ratios", {})
    for name, v in density.get("variants", {}).items():
        ratio = r.get(name)
        rows.append((name, f"{v.get('serving', 0)}/{v.get('guests', 0)}", _mib(median(v)),
                     _mib(median(v, "ram_pss_kib")), _mib(median(v, "other_pss_kib")),
                     report._fmt(median(v, "first_200_s")),
                     "-" if ratio is None else f"{ratio:.3f}"))
    lines = report.columns(rows)
    notes = [ksm_note(name, v) for name, v in density.get("variants", {}).items() if v.get("ksm")]
    if notes:
        lines.append("")
        lines += notes
    fit = density.get("fit")
    if fit:
        lines.append("")
        lines.append(f"host MemAvailable {fit['available_kib'] / 1048576:.1f} GiB at the start: room for "
                     + ", ".join(f"{n:,} x {name}" for name, n in fit["guests"].items()))
    best = min((x for x in r.values() if x is not None), default=None)
    if best is not None:
        lines.append(f"target: PSS per idle guest <= 1/3 of the baseline's: "
                     f"{'met' if best <= TARGET_RATIO else 'NOT met'} (best ratio {best:.3f})")
    return "\n".join(lines)


def svg(density: dict, result_meta: dict = None) -> str:
    """The density chart: one bar per variant, the median PSS of one idle guest split
    into the guest's RAM and the rest of QEMU (TCG's code cache, QEMU's heap, its share
    of the libraries)."""
    width = 900
    mb = 1024
    bars = []
    for name, v in density.get("variants", {}).items():
        ram, other = median(v, "ram_pss_kib"), median(v, "other_pss_kib")
        segs = [("guest RAM", (ram or 0) / mb), ("QEMU and TCG (code cache, heap, libraries)", (other or 0) / mb)]
        bars.append((name, segs))
    scale = max((sum(x for _, x in segs) for _, segs in bars), default=1) * 1.15 or 1
    parts, y = [], 30
    title = (f"Host memory per idle guest: QEMU's PSS, median of "
             f"{density.get('settings', {}).get('guests', '?')} guests at once (MiB)")
    # a label column wide enough for the variants' names, one decimal
    panel, y = report._bar_panel(title, "MiB", bars, 20, y, width - 40, scale, label_w=250, right=60, digits=1)
    parts += panel
    return report.svg_page(parts, y, width, result_meta or {})
