"""`microbeam size`: out/size-report.json as a table (component, bytes, KiB, share).

The report is written by the build; this reader accepts the shapes it may take:
  {"kernel": 1834000, "init": 4500000, "apps": {"kernel": 1, ...}, "total": N}
  {"components": [{"name": "kernel", "bytes": N}, ...], "total": N}
  [{"component": "kernel", "bytes": N}, ...]
Nested groups are flattened as group/name. "total" is taken when present, else the sum.
"""

import json

_NAME_KEYS = ("component", "name", "path", "id")
_SIZE_KEYS = ("bytes", "size", "size_bytes")
_TOTAL_KEYS = ("total", "total_bytes")


def _size_of(d: dict):
    for k in _SIZE_KEYS:
        if isinstance(d.get(k), (int, float)) and not isinstance(d.get(k), bool):
            return int(d[k])
    return None


def flatten(report, prefix=""):
    """[(component, bytes)] from a report of any of the shapes above (total excluded)."""
    rows = []
    if isinstance(report, list):
        for item in report:
            if isinstance(item, dict):
                name = next((str(item[k]) for k in _NAME_KEYS if k in item), "?")
                size = _size_of(item)
                if size is not None:
                    rows.append((prefix + name, size))
                for sub in ("components", "children", "apps"):
                    if isinstance(item.get(sub), (list, dict)):
                        rows += flatten(item[sub], prefix + name + "/")
    elif isinstance(report, dict):
        if "components" in report and isinstance(report["components"], (list, dict)):
            return flatten(report["components"], prefix)
        for key, value in report.items():
            if key in _TOTAL_KEYS:
                continue
            if isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                rows.append((prefix + key, int(value)))
            elif isinstance(value, dict):
                size = _size_of(value)
                if size is not None:
                    rows.append((prefix + key, size))
                else:
                    rows += flatten(value, prefix + key + "/")
            elif isinstance(value, list):
                rows += flatten(value, prefix + key + "/")
    return rows


def total_of(report, rows) -> int:
    if isinstance(report, dict):
        for k in _TOTAL_KEYS:
            v = report.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return int(v)
            if isinstance(v, dict) and _size_of(v) is not None:
                return _size_of(v)
    return sum(b for _, b in rows)


def table(report) -> str:
    rows = flatten(report)
    total = total_of(report, rows)
    width = max([len("component"), len("total")] + [len(n) for n, _ in rows])
    lines = [f"{'component':<{width}}  {'bytes':>12}  {'KiB':>10}  {'share':>6}",
             f"{'-' * width}  {'-' * 12}  {'-' * 10}  {'-' * 6}"]
    for name, size in rows:
        share = f"{100.0 * size / total:5.1f}%" if total else "   n/a"
        lines.append(f"{name:<{width}}  {size:>12,}  {size / 1024:>10.1f}  {share:>6}")
    lines.append(f"{'-' * width}  {'-' * 12}  {'-' * 10}  {'-' * 6}")
    lines.append(f"{'total':<{width}}  {total:>12,}  {total / 1024:>10.1f}  {'100.0%':>6}")
    return "\n".join(lines)


def show(path) -> int:
    try:
        with open(path) as f:
            report = json.load(f)
    except FileNotFoundError:
        print(f"microbeam: {path} not found (run `microbeam build`)")
        return 1
    except json.JSONDecodeError as e:
        print(f"microbeam: {path} is not valid JSON: {e}")
        return 1
    print(table(report))
    return 0
