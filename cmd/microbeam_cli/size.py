"""`microbeam size [DIR]`: an image's size-report.json (initramfs/size_report.py) as a table.

What a VMM loads is the kernel and the compressed initramfs: those two make the total
image, measured against the target (TARGET_BYTES), and each gets a share of it. Inside,
the initramfs unpacks to files that stay in the guest's RAM: /init and each application
are listed with those unpacked sizes (no share of the image: they are compressed
together). DIR is an image directory (out/, out/release-NAME/) or a report file.
"""

import json
from pathlib import Path

from .bench_report import TARGETS

TARGET_BYTES = TARGETS["total_bytes_max"]
MiB = 1024 * 1024
REPORT = "size-report.json"


def report_path(arg, out_dir: Path) -> Path:
    """The report for `size [DIR]`: DIR/size-report.json, DIR itself if it is a file,
    out/size-report.json without DIR."""
    if arg is None:
        return Path(out_dir) / REPORT
    arg = Path(arg)
    return arg / REPORT if arg.is_dir() else arg


def image_rows(report: dict) -> list:
    """[(label, bytes, share of the total image)] for what the VMM loads."""
    total = report["total"]
    how = report.get("initramfs_compression")
    return [("kernel (bzImage)", report["kernel"], report["kernel"] / total),
            (f"initramfs, compressed{f' with {how}' if how else ''}",
             report["initramfs_compressed"], report["initramfs_compressed"] / total)]


def unpacked_rows(report: dict) -> list:
    """[(label, bytes)]: the files the initramfs unpacks to."""
    rows = [("/init", report["init"])]
    rows += [(f"app {name}", size) for name, size in sorted(report["apps"].items())]
    files = report.get("initramfs_files")
    if files is not None:
        other = files - sum(size for _, size in rows)
        if other > 0:
            rows.append(("other (boot script, config, ...)", other))
    return rows


def target_line(total: int) -> str:
    if total <= TARGET_BYTES:
        verdict = f"met, {(TARGET_BYTES - total) / MiB:.2f} MiB to spare"
    else:
        verdict = f"MISSED by {(total - TARGET_BYTES) / MiB:.2f} MiB"
    return f"target: total image at most {TARGET_BYTES / MiB:g} MiB: {verdict}"


def table(report: dict) -> str:
    image = image_rows(report)
    unpacked = unpacked_rows(report)
    labels = [r[0] for r in image] + ["  " + r[0] for r in unpacked] + [
        "total image (what a VMM loads)", "  total unpacked"]
    width = max(len(s) for s in labels)

    def line(name, size, share=None):
        pct = f"{100.0 * share:5.1f}%" if share is not None else ""
        return f"{name:<{width}}  {size:>12,}  {size / MiB:>8.2f}  {pct:>6}".rstrip()

    rule = f"{'-' * width}  {'-' * 12}  {'-' * 8}  {'-' * 6}"
    total = report["total"]
    out = [f"{'image':<{width}}  {'bytes':>12}  {'MiB':>8}  {'share':>6}", rule]
    out += [line(*r) for r in image]
    out += [rule, line("total image (what a VMM loads)", total, 1.0), target_line(total), ""]
    out += [f"{'initramfs unpacked: files in the guest RAM':<{width}}", rule]
    out += [line("  " + name, size) for name, size in unpacked]
    files = report.get("initramfs_files")
    if files is not None:
        out += [rule, line("  total unpacked", files)]
    if report.get("minimum_memory_mib"):
        out.append(f"guest memory: at least {report['minimum_memory_mib']} MiB "
                   "(run --memory; the files above stay in RAM)")
    if report.get("release_erts_not_used"):
        out.append(f"not used: {', '.join(report['release_erts_not_used'])} from the release "
                   "(the ERTS is inside /init)")
    return "\n".join(out)


def show(path) -> int:
    try:
        with open(path) as f:
            report = json.load(f)
        text = table(report)
    except FileNotFoundError:
        print(f"microbeam: {path} not found (build the image: `microbeam build`, or "
              "`microbeam build --release PATH` for out/release-NAME/)")
        return 1
    except IsADirectoryError:
        print(f"microbeam: {path} is a directory without {REPORT}")
        return 1
    except json.JSONDecodeError as e:
        print(f"microbeam: {path} is not valid JSON: {e}")
        return 1
    except (KeyError, TypeError, ZeroDivisionError, AttributeError) as e:
        print(f"microbeam: {path} lacks a field or has a bad one: {e}")
        return 1
    print(text)
    return 0
