"""`microbeam size`: out/size-report.json (written by initramfs/size_report.py) as a table.

What a VMM loads is the kernel and the compressed initramfs: those two make the total and
get a share of it. Inside the initramfs, /init and each application are listed with their
uncompressed sizes (no share: they are compressed together).
"""

import json


def rows(report: dict) -> list:
    """[(component, bytes, share of total or None)]."""
    total = report["total"]
    init = report.get("init_name", "microbeam-init")   # the crypto variant is named
    out = [("kernel (bzImage)", report["kernel"], report["kernel"] / total),
           ("initramfs (compressed)", report["initramfs_compressed"],
            report["initramfs_compressed"] / total),
           ("  /init" if init == "microbeam-init" else f"  /init ({init})", report["init"], None)]
    out += [(f"  app {name}", size, None) for name, size in sorted(report["apps"].items())]
    return out


def table(report: dict) -> str:
    body = rows(report)
    width = max(len(name) for name, _, _ in body + [("total", 0, None)])
    rule = f"{'-' * width}  {'-' * 12}  {'-' * 10}  {'-' * 6}"
    lines = [f"{'component':<{width}}  {'bytes':>12}  {'KiB':>10}  {'share':>6}", rule]
    for name, size, share in body:
        pct = f"{100.0 * share:5.1f}%" if share is not None else ""
        lines.append(f"{name:<{width}}  {size:>12,}  {size / 1024:>10.1f}  {pct:>6}")
    lines.append(rule)
    total = report["total"]
    lines.append(f"{'total':<{width}}  {total:>12,}  {total / 1024:>10.1f}  {'100.0%':>6}")
    return "\n".join(lines)


def show(path) -> int:
    try:
        with open(path) as f:
            report = json.load(f)
        text = table(report)
    except FileNotFoundError:
        print(f"microbeam: {path} not found (run `microbeam build`)")
        return 1
    except json.JSONDecodeError as e:
        print(f"microbeam: {path} is not valid JSON: {e}")
        return 1
    except (KeyError, TypeError, ZeroDivisionError) as e:
        print(f"microbeam: {path} lacks a field or has a bad one: {e}")
        return 1
    print(text)
    return 0
