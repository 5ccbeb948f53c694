"""The benchmark's pure parts: statistics, parsing what the guests and wrk print, the
memory-floor bisection, and the reports (terminal table, SVG chart). No QEMU here, so
the tests call all of it directly."""

import re
import statistics
from html import escape

# What the benchmark must show (issue: total <= 8 MiB, boot <= 1/3 of the baseline's,
# memory floor <= 48 MiB).
TARGETS = {"total_bytes_max": 8 * 1024 * 1024, "boot_ratio_max": 1 / 3, "memory_floor_mib_max": 48}

TIMELINE_LINE = re.compile(r"demo: boot timeline: (.*)")
KERNEL_TO_INIT = re.compile(r"\[\s*(\d+\.\d+)\] Run /init as init process")


def spread(values) -> dict:
    """median, min, max and n of the numbers in VALUES (None entries are failures and
    are counted, not averaged)."""
    ok = [v for v in values if v is not None]
    if not ok:
        return {"median": None, "min": None, "max": None, "n": 0, "failed": len(values)}
    return {"median": statistics.median(ok), "min": min(ok), "max": max(ok), "n": len(ok),
            "failed": len(values) - len(ok)}


def ratio(ours, theirs):
    if ours is None or theirs in (None, 0):
        return None
    return ours / theirs


def parse_timeline(console: str) -> dict:
    """The demo's one-line boot timeline ("demo: boot timeline: a=1.0ms b=2.0ms") as
    {mark: seconds}; empty if the line is missing."""
    m = TIMELINE_LINE.search(console)
    if not m:
        return {}
    marks = {}
    for item in m.group(1).split():
        name, _, value = item.partition("=")
        if value.endswith("ms"):
            try:
                marks[name] = float(value[:-2]) / 1000.0
            except ValueError:
                pass
    return marks


def parse_kernel_to_init(console: str):
    """Seconds from kernel start to running /init, from the kernel's printk time."""
    m = KERNEL_TO_INIT.search(console)
    return float(m.group(1)) if m else None


def parse_wrk(text: str) -> dict:
    """Requests/sec, total requests and errors from wrk's report."""
    def num(pattern, cast=float):
        m = re.search(pattern, text)
        return cast(m.group(1)) if m else None
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(g) for g in m.groups())
    non2xx = num(r"Non-2xx or 3xx responses: (\d+)", int) or 0
    return {"requests_per_s": num(r"Requests/sec:\s+([\d.]+)"),
            "requests": num(r"(\d+) requests in", int),
            "errors": errors + non2xx}


def bisect_floor(trial, lo: int, hi: int, resolution: int):
    """The smallest MiB in (lo, hi] for which trial(MiB) is true, to within RESOLUTION,
    assuming more memory never hurts. Returns (floor or None, [(MiB, ok)...]); None when
    even HI fails."""
    tried = []

    def run(mib):
        ok = bool(trial(mib))
        tried.append((mib, ok))
        return ok

    if not run(hi):
        return None, tried
    good, bad = hi, lo
    while good - bad > resolution:
        mid = (good + bad) // 2
        if run(mid):
            good = mid
        else:
            bad = mid
    return good, tried


def size_rows(sizes: dict) -> list:
    """[(component, bytes)] of one system's initramfs contents, largest first."""
    rows = [(name, size) for name, size in sizes.get("components", {}).items()]
    return sorted(rows, key=lambda r: -r[1])


def _fmt(value, unit="", digits=2):
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}{unit}"
    return f"{value:.{digits}f}{unit}"


def _spread_text(s: dict, unit="s"):
    if not s or s.get("median") is None:
        return "-"
    text = f"{s['median']:.2f}{unit}"
    if s["n"] > 1:
        text += f" ({s['min']:.2f}-{s['max']:.2f})"
    if s.get("failed"):
        text += f" [{s['failed']} failed]"
    return text


def columns(rows) -> list:
    """ROWS (tuples of strings, the first the heading) as text lines: the first column
    left-aligned, the others right-aligned, a rule under the heading."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        lines.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def svg_page(parts, y: int, width: int, meta: dict) -> str:
    """A chart's SVG: PARTS, then at Y the run's date and host (META's "date" and
    "host"), on a white page WIDTH wide."""
    line = f"{meta.get('date', '')} · {meta.get('host', {}).get('cpu', '')} · {meta.get('host', {}).get('cpus', '')} CPUs"
    parts = [*parts, f'<text x="20" y="{y}" font-size="11" fill="#555">{escape(line)}</text>']
    height = y + 14
    return "\n".join([f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                      f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
                      f'<rect width="{width}" height="{height}" fill="white"/>', *parts, "</svg>", ""])


def table(result: dict) -> str:
    """The terminal table: one row per figure, MicroBEAM, baseline, ratio."""
    ours, base = result["systems"]["microbeam"], result["systems"]["baseline"]
    rows = [("figure", "MicroBEAM", "baseline", "ratio")]

    def add(name, a, b, r, fmt=_fmt):
        rows.append((name, fmt(a), fmt(b), "-" if r is None else f"{r:.3f}"))

    for key in ("kernel", "initramfs_compressed", "total"):
        a, b = ours["sizes"].get(key), base["sizes"].get(key)
        add(f"size: {key} (bytes)", a, b, ratio(a, b))
    for accel in result["accels"]:
        a, b = ours["boot"].get(accel, {}), base["boot"].get(accel, {})
        add(f"boot to first HTTP 200, {accel}", a.get("first_200_s"), b.get("first_200_s"),
            ratio((a.get("first_200_s") or {}).get("median"), (b.get("first_200_s") or {}).get("median")),
            fmt=_spread_text)
        add(f"kernel to /init, {accel}", a.get("kernel_to_init_s"), b.get("kernel_to_init_s"),
            ratio((a.get("kernel_to_init_s") or {}).get("median"),
                  (b.get("kernel_to_init_s") or {}).get("median")),
            fmt=_spread_text)
    if "restore" in ours and "tcg" in ours["boot"]:
        a, b = ours["restore"].get("first_200_s"), ours["boot"]["tcg"].get("first_200_s")
        r = ratio((a or {}).get("median"), (b or {}).get("median"))
        # The ratio is to our own cold boot (the row above), not to the baseline.
        rows.append(("snapshot restore to first 200, tcg (ratio: to our boot)", _spread_text(a),
                     "-", "-" if r is None else f"{r:.3f}"))
    if "cowboy" in result:
        from .bench_cowboy import rows as cowboy_rows     # (it imports this module)
        rows += cowboy_rows(result)
    native = result.get("native") or {}
    if native:
        a = (native.get("microbeam") or {}).get("first_200_s")
        b = (native.get("baseline") or {}).get("first_200_s")
        add("native start to first 200 (namespaces / bin/demo start)", a, b,
            ratio((a or {}).get("median"), (b or {}).get("median")), fmt=_spread_text)
        for name, sp in sorted(((native.get("microbeam") or {}).get("phases_s") or {}).items()):
            add(f"  native phase: {name}", sp, None, None,
                fmt=lambda v: "-" if v is None else f"{v['median'] * 1000:.1f} ms")
    add("memory floor (MiB)", ours.get("memory_floor_mib"), base.get("memory_floor_mib"),
        ratio(ours.get("memory_floor_mib"), base.get("memory_floor_mib")))
    a, b = ours.get("steady", {}), base.get("steady", {})
    add("guest memory used after boot (KiB)", a.get("mem_used_kib"), b.get("mem_used_kib"),
        ratio(a.get("mem_used_kib"), b.get("mem_used_kib")))
    add("requests/s (wrk, loopback fwd)", a.get("requests_per_s"), b.get("requests_per_s"),
        ratio(a.get("requests_per_s"), b.get("requests_per_s")), fmt=lambda v: _fmt(v, digits=0))
    lines = columns(rows)
    verdicts = result.get("targets", {}).get("met", {})
    if verdicts:
        lines.append("")
        lines.append("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in verdicts.items()))
    return "\n".join(lines)


def otp_comparison(result: dict, ours: str, other: str, accel: str) -> dict:
    """MicroBEAM on OTP 27 (OURS, the default image) next to OTHER (the demo on OTP 25):
    each figure for both and the ratio 27/25."""
    a, b = result["systems"][ours], result["systems"][other]

    def first(s):
        return ((s["boot"].get(accel) or {}).get("first_200_s") or {}).get("median")

    def mark(s, name):
        return ((s["boot"].get(accel) or {}).get("marks_median_s") or {}).get(name)

    figures = {
        "total_bytes": (a["sizes"].get("total"), b["sizes"].get("total")),
        "init_bytes": (a["sizes"]["components"].get("/init"), b["sizes"]["components"].get("/init")),
        f"first_200_{accel}_s": (first(a), first(b)),
        f"erl_start_to_release_started_{accel}_s": (
            None if mark(a, "release_started") is None or mark(a, "erl_start") is None
            else mark(a, "release_started") - mark(a, "erl_start"),
            None if mark(b, "release_started") is None or mark(b, "erl_start") is None
            else mark(b, "release_started") - mark(b, "erl_start")),
        "memory_floor_mib": (a.get("memory_floor_mib"), b.get("memory_floor_mib")),
        "mem_used_kib": ((a.get("steady") or {}).get("mem_used_kib"), (b.get("steady") or {}).get("mem_used_kib")),
        "requests_per_s": ((a.get("steady") or {}).get("requests_per_s"),
                           (b.get("steady") or {}).get("requests_per_s")),
    }
    return {"systems": {"27": ours, "25": other}, "accel": accel,
            "figures": {k: {"otp27": x, "otp25": y, "ratio": ratio(x, y)} for k, (x, y) in figures.items()}}


def otp_table(result: dict) -> str:
    """The OTP 27 / OTP 25 rows (both MicroBEAM), or "" when the run had only one."""
    cmp = result.get("otp_majors")
    if not cmp:
        return ""
    rows = [("MicroBEAM by OTP major", "OTP 27", "OTP 25", "27/25")]
    for name, f in cmp["figures"].items():
        digits = 0 if name in ("requests_per_s",) else 2
        rows.append((name, _fmt(f["otp27"], digits=digits), _fmt(f["otp25"], digits=digits),
                     "-" if f["ratio"] is None else f"{f['ratio']:.3f}"))
    lines = columns(rows)
    return "\n".join(lines)


def verdicts(result: dict) -> dict:
    """Each target of TARGETS: met (True), missed (False) or not measured (None)."""
    ours, base = result["systems"]["microbeam"], result["systems"]["baseline"]
    total = ours["sizes"].get("total")
    tcg_ours = (ours["boot"].get("tcg", {}).get("first_200_s") or {}).get("median")
    tcg_base = (base["boot"].get("tcg", {}).get("first_200_s") or {}).get("median")
    boot_ratio = ratio(tcg_ours, tcg_base)
    floor = ours.get("memory_floor_mib")
    return {
        "total_size": None if total is None else total <= TARGETS["total_bytes_max"],
        "boot_ratio_tcg": None if boot_ratio is None else boot_ratio <= TARGETS["boot_ratio_max"],
        "memory_floor": None if floor is None else floor <= TARGETS["memory_floor_mib_max"],
    }


# ---- SVG ---------------------------------------------------------------------------------

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
           "#c5b0d5", "#c49c94"]   # 16: the baseline's initramfs has 13 parts


LEGEND_ROW_H = 16      # one legend row: 10 px swatch, 11 px text
LEGEND_SWATCH_W = 18   # swatch and the space before the name
LEGEND_CHAR_W = 7      # generous for 11 px sans-serif, so names never run into the next
PANEL_GAP = 26         # from the last legend row to the next title's baseline


def _bar_panel(title, unit, bars, x0, y0, width, scale_max, label_w=110, right=10, digits=2):
    """One panel of horizontal stacked bars: bars = [(label, [(segment, value)])]; LABEL_W
    for the labels' column, RIGHT left after the longest bar for its total."""
    out = [f'<text x="{x0}" y="{y0}" font-size="15" font-weight="bold">{escape(title)}</text>']
    colors = {}
    y = y0 + 14
    plot_w = width - label_w - right
    for label, segments in bars:
        x = x0 + label_w
        out.append(f'<text x="{x0}" y="{y + 16}" font-size="13">{escape(label)}</text>')
        total = 0.0
        for name, value in segments:
            if not value or value <= 0:
                continue
            color = colors.setdefault(name, PALETTE[len(colors) % len(PALETTE)])
            w = plot_w * value / scale_max if scale_max else 0
            out.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 0.5):.1f}" height="22" fill="{color}">'
                       f'<title>{escape(name)}: {value:.{digits}f} {escape(unit)}</title></rect>')
            x += w
            total += value
        out.append(f'<text x="{x + 4:.1f}" y="{y + 16}" font-size="12">{total:.{digits}f} {escape(unit)}</text>')
        y += 30
    # legend: an item goes to the next row when it would not fit on this one
    lx = x0 + label_w
    for name, color in colors.items():
        item_w = LEGEND_SWATCH_W + LEGEND_CHAR_W * len(name)
        if lx > x0 + label_w and lx + item_w > x0 + width:
            lx = x0 + label_w
            y += LEGEND_ROW_H
        out.append(f'<rect x="{lx}" y="{y + 2}" width="10" height="10" fill="{color}"/>')
        out.append(f'<text x="{lx + 14}" y="{y + 11}" font-size="11">{escape(name)}</text>')
        lx += item_w
    # the next panel's title (15 px, drawn above its baseline) starts below the last row
    return out, y + LEGEND_ROW_H + PANEL_GAP


def svg(result: dict) -> str:
    """The chart in docs/benchmarks.md: image size, initramfs contents and the TCG boot timeline, each
    MicroBEAM next to the baseline."""
    width = 900
    systems = [("MicroBEAM", result["systems"]["microbeam"]), ("baseline", result["systems"]["baseline"])]
    if "microbeam-otp25" in result["systems"]:   # the same demo on OTP 25 (bench.py)
        systems.insert(1, ("MicroBEAM, OTP 25", result["systems"]["microbeam-otp25"]))
    mb = 1024 * 1024
    parts = []
    y = 30
    image_bars = [(label, [("kernel", s["sizes"].get("kernel", 0) / mb),
                           ("initramfs (compressed)", s["sizes"].get("initramfs_compressed", 0) / mb)])
                  for label, s in systems]
    scale = max(sum(v for _, v in segs) for _, segs in image_bars) * 1.15 or 1
    panel, y = _bar_panel("Image size (MiB): what the VMM loads", "MiB", image_bars, 20, y, width - 40, scale)
    parts += panel
    content_bars = [(label, [(name, size / mb) for name, size in size_rows(s["sizes"])]) for label, s in systems]
    scale = max((sum(v for _, v in segs) for _, segs in content_bars), default=1) * 1.15 or 1
    panel, y = _bar_panel("Initramfs contents (MiB, uncompressed)", "MiB", content_bars, 20, y, width - 40, scale)
    parts += panel
    boot_bars = []
    for label, s in systems:
        tcg = s["boot"].get("tcg", {})
        marks = tcg.get("marks_median_s", {})
        first = (tcg.get("first_200_s") or {}).get("median")
        k2i = (tcg.get("kernel_to_init_s") or {}).get("median")
        segs = []
        if first is not None:
            released = marks.get("release_started")
            t = 0.0
            # Guest-clock marks first; the last segment also holds what the guest clock
            # cannot see (QEMU and firmware before the kernel starts).
            steps = [("kernel start to /init", k2i),
                     ("/init to release started", released),
                     ("to first HTTP 200 (+ QEMU/firmware before the kernel)", first)]
            for name, at in steps:
                if at is not None and at > t:
                    segs.append((name, at - t))
                    t = at
        boot_bars.append((label, segs))
    scale = max((sum(v for _, v in segs) for _, segs in boot_bars), default=1) * 1.15 or 1
    panel, y = _bar_panel("Boot to first HTTP 200 under TCG (s, median)", "s", boot_bars, 20, y, width - 40, scale)
    parts += panel
    return svg_page(parts, y, width, result)
