#!/usr/bin/env python3
"""Writes out/size-report.json: bytes per component of the image.

Components: the kernel (bzImage), /init (stripped), each OTP/Elixir application of the
release as staged (uncompressed), the initramfs as shipped (compressed), and the total
(kernel + initramfs), which is what a VMM loads.
"""
import argparse
import json
import os
import sys


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
    except (OSError, KeyError, ValueError) as e:
        print(f"size_report: {e}", file=sys.stderr)
        return 1
    report = {
        "kernel": sizes["kernel"],
        "init": sizes["init"],
        # which /init: microbeam-init, or microbeam-init-crypto (crypto/asn1 linked in)
        "init_name": os.path.basename(a.init),
        "apps": dict(sorted(apps.items())),
        "release_uncompressed": sum(apps.values()),
        "initramfs_compressed": sizes["initramfs"],
        "total": sizes["kernel"] + sizes["initramfs"],
    }
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
