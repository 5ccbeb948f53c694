#!/usr/bin/env python3
"""Writes out/size-report.json: bytes per component of the image.

Components: the kernel (bzImage), /init (stripped), each OTP/Elixir application of the
release as staged (files in the initramfs), the initramfs as shipped (compressed) and
unpacked (its files; read back from the cpio the way the kernel unpacks it), the total
(kernel + compressed initramfs), which is what a VMM loads, and the least guest memory
the image needs (cmd/microbeam_cli/initrd.py).
"""
import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cmd"))
from microbeam_cli import initrd  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--kernel", required=True)
    p.add_argument("--init", required=True)
    p.add_argument("--initramfs", required=True)
    p.add_argument("--release-sizes", required=True, help="sizes.json from the release assembly")
    a = p.parse_args()
    try:
        with open(a.release_sizes) as f:
            release = json.load(f)
        apps = {str(k): int(v) for k, v in release["apps"].items()}
        sizes = {name: os.path.getsize(path) for name, path in
                 (("kernel", a.kernel), ("init", a.init), ("initramfs", a.initramfs))}
        with open(a.initramfs, "rb") as f:
            how = initrd.compression(f.read(16))
        unpacked = initrd.contents(a.initramfs)
    except (OSError, KeyError, ValueError) as e:
        print(f"size_report: {e}", file=sys.stderr)
        return 1
    report = {
        "kernel": sizes["kernel"],
        "init": sizes["init"],
        "apps": dict(sorted(apps.items())),
        "release_uncompressed": sum(apps.values()),
        "initramfs_compressed": sizes["initramfs"],
        "initramfs_compression": how,
        "initramfs_uncompressed": unpacked.archive_bytes,
        "initramfs_files": unpacked.file_bytes,
        "initramfs_entries": unpacked.entries,
        "minimum_memory_mib": initrd.minimum_memory_mib(unpacked),
        "total": sizes["kernel"] + sizes["initramfs"],
    }
    # erts-* directories the release ships: not in the image (the ERTS is inside /init).
    if release.get("erts_not_used"):
        report["release_erts_not_used"] = [str(e) for e in release["erts_not_used"]]
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
