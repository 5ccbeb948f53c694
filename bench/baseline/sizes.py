#!/usr/bin/env python3
"""sizes.py CPIO INITRD KERNEL OUT_JSON [NAME=VALUE...]: the baseline's size report.

Reads the uncompressed newc archive itself, so that every byte of it is counted once:
a component is the file data of its paths; "other" is the rest (other files, symlinks,
cpio headers, names and padding), so components + apps + other == initramfs_uncompressed.
NAME=VALUE pairs go under "inputs" (package versions, for the report).
"""

import json
import os
import re
import sys

HEADER = 110  # newc: "070701" + 13 eight-digit hex fields


def entries(data):
    """(path, mode, data_size) for each archive member, up to the trailer."""
    pos = 0
    while True:
        if data[pos:pos + 6] != b"070701":
            sys.exit(f"sizes.py: bad newc header at offset {pos}")
        field = lambda i: int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16)
        mode, filesize, namesize = field(1), field(6), field(11)
        name = data[pos + HEADER:pos + HEADER + namesize - 1].decode()
        pos = (pos + HEADER + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return
        yield name.removeprefix("./"), mode, filesize
        pos = (pos + filesize + 3) & ~3


def component(path):
    """(bucket, app) for a path in the image."""
    if path == "bin/busybox":
        return "busybox", None
    if path.startswith("lib/modules/"):
        return "kernel_modules", None
    if path.startswith(("lib/x86_64-linux-gnu/", "lib64/")):
        return "shared_libs", None
    if re.match(r"release/erts-[^/]+/", path):
        return "erts", None
    m = re.match(r"release/lib/([^/]+)-[^/-]+/", path)
    if m:
        return "apps", m.group(1)
    return "other", None


def main():
    cpio, initrd, kernel, out, *pairs = sys.argv[1:]
    data = open(cpio, "rb").read()
    comp = {"busybox": 0, "kernel_modules": 0, "shared_libs": 0, "erts": 0}
    apps = {}
    for path, mode, size in entries(data):
        if mode & 0o170000 != 0o100000:  # only regular files' data is a component's
            continue
        bucket, app = component(path)
        if bucket == "apps":
            apps[app] = apps.get(app, 0) + size
        elif bucket != "other":
            comp[bucket] += size
    comp["apps"] = dict(sorted(apps.items()))
    comp["other"] = len(data) - sum(v for k, v in comp.items() if k != "apps") - sum(apps.values())
    sizes = {"kernel": os.path.getsize(kernel),
             "initramfs_compressed": os.path.getsize(initrd),
             "initramfs_uncompressed": len(data)}
    sizes["total"] = sizes["kernel"] + sizes["initramfs_compressed"]
    sizes["components"] = comp
    sizes["inputs"] = dict(p.split("=", 1) for p in pairs)
    with open(out, "w") as f:
        json.dump(sizes, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
