"""The fault matrix's figures (docs/faults.md): each fault test
records what PID 1 did and how long it took into $MICROBEAM_OUT/fault-matrix.json,
one row per fault, merged across the test groups that write it (QEMU, namespaces)."""

import datetime
import fcntl
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def matrix_path() -> Path:
    return Path(os.environ.get("MICROBEAM_OUT") or REPO / "out") / "fault-matrix.json"


def record(fault: str, outcome: str, seconds: float, where: str, measured: str) -> None:
    """FAULT: the row; OUTCOME: what PID 1 did; SECONDS: from MEASURED's start to its end
    (e.g. "POST /halt/3 to QEMU's exit"); WHERE: qemu (TCG) or namespace."""
    path = matrix_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            rows = json.loads(path.read_text()).get("rows", {})
        except (OSError, ValueError):
            rows = {}
        rows[fault] = {"outcome": outcome, "seconds": round(seconds, 2), "where": where,
                       "measured": measured,
                       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rows": rows}, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)
    print(f"fault matrix: {fault}: {outcome} ({measured}: {seconds:.2f} s, {where})", flush=True)


# The order: the BEAM's own ends, then PID 1, processes, the image, the VMM.
ORDER = ["halt(0)", "halt(3)", "halt(abort)", "after a restart", "halt(\"reason\")", "without bound", "crash loop",
         "(SIGSEGV)", "every thread", "during ERTS's start", "cleanup", "rescue shell after", "orphans",
         "port program", "BEAM deaf", "missing boot", "corrupt", "/tmp", "power button", "Ctrl-Alt-Del", "Ctrl-C",
         "tries", "data disk:"]


def rank(fault: str) -> int:
    return next((i for i, key in enumerate(ORDER) if key in fault), len(ORDER))


def markdown_table(rows: dict) -> str:
    """The table in docs/faults.md: one line a fault."""
    lines = ["| fault | what PID 1 did | took | timed from, to | where |", "|---|---|---|---|---|"]
    for fault, r in sorted(rows.items(), key=lambda kv: (rank(kv[0]), kv[0])):
        lines.append(f"| {fault} | {r['outcome']} | {r['seconds']:.2f} s | {r['measured']} | {r['where']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table(json.loads(matrix_path().read_text())["rows"]))
