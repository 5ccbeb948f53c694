"""`run --disk FILE[,size=SIZE][,ro]`: the guest's data disk (docs/persistent-data.md).

FILE is a raw disk image holding one ext4 file system on the whole of it. When FILE does
not exist, the host makes it: a sparse file of SIZE (default 256M) and `mkfs.ext4` from
Debian's e2fsprogs on it (a regular file needs no root and no loop device). The guest
sees it as /dev/vda (virtio-blk: virtio-mmio on microvm, PCI on q35) and PID 1 mounts it
at /data (microbeam.data=/dev/vda, which `run` adds). With `ro`, or a FILE this user may
read but not write, it is attached read-only, and the guest mounts it so.

Parsing is pure (parse_spec, parse_size); prepare() touches the file system.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import proc

DEFAULT_SIZE = 256 << 20
# mkfs.ext4 with a journal needs a few MiB; below that it refuses or leaves no room.
MIN_SIZE = 4 << 20
MAX_SIZE = 16 << 40
DATA_PARAM = "microbeam.data=/dev/vda"
LABEL = "microbeam-data"
DRIVE_ID = "data0"

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


@dataclass
class DiskSpec:
    path: str
    size: Optional[int] = None       # bytes, for a FILE that does not exist yet
    readonly: bool = False           # ,ro: attached read-only whoever may write FILE


@dataclass
class Disk:
    path: str                        # absolute
    readonly: bool = False
    created: bool = False


def parse_size(text: str) -> int:
    """Bytes from "SIZE": digits with an optional K, M, G or T (powers of 1024, an
    optional trailing B or iB); ValueError naming the key otherwise."""
    m = re.fullmatch(r"([0-9]{1,15})([KMGT]?)(i?B)?", text.strip(), re.I)
    if not m or (m.group(3) and not m.group(2) and m.group(3).lower() == "ib"):
        raise ValueError(f"--disk: size={text!r} is not a size (e.g. 64M, 1G)")
    n = int(m.group(1)) * _UNITS[m.group(2).upper()]
    if not MIN_SIZE <= n <= MAX_SIZE:
        raise ValueError(f"--disk: size={text!r} is out of range (4M..16T)")
    return n


def parse_spec(text: str) -> DiskSpec:
    """DiskSpec from "FILE[,size=SIZE][,ro]"; ValueError naming the option otherwise."""
    path, sep, rest = text.partition(",")
    if not path:
        raise ValueError(f"--disk: {text!r} has no FILE (--disk FILE[,size=SIZE][,ro])")
    spec = DiskSpec(path)
    for opt in rest.split(",") if sep else ():
        key, eq, value = opt.partition("=")
        if key == "size" and eq:
            spec.size = parse_size(value)
        elif opt == "ro":
            spec.readonly = True
        else:
            raise ValueError(f"--disk: unknown option {opt!r} in {text!r} (size=SIZE, ro)")
    return spec


def with_data_param(append: str) -> str:
    """APPEND with microbeam.data=/dev/vda, unless it names microbeam.data= itself."""
    if any(w.startswith("microbeam.data=") for w in (append or "").split()):
        return append
    return " ".join(filter(None, [append, DATA_PARAM]))


def qemu_args(disk: Disk, machine: str):
    """The drive and its virtio-blk device. cache=writeback (QEMU's default) passes the
    guest's flushes on as fdatasync() of FILE, so what the guest fsync'ed is on the
    host's disk; the image lock (QEMU's default) refuses a second VM on the same FILE."""
    drive = f"file={disk.path},format=raw,if=none,id={DRIVE_ID},cache=writeback"
    if disk.readonly:
        drive += ",readonly=on"
    dev = "virtio-blk-device" if machine == "microvm" else "virtio-blk-pci"
    return ["-drive", drive, "-device", f"{dev},drive={DRIVE_ID}"]


def mkfs_argv(path: str):
    """mkfs.ext4 on a regular file. Inode tables and the journal are written now
    (lazy_*_init=0), so that the guest's kernel does not zero them in the background
    after the first mount; root_owner gives /data to the app's default user (PID 1
    chowns it to microbeam.user anyway)."""
    return ["mkfs.ext4", "-q", "-F", "-L", LABEL,
            "-E", "lazy_itable_init=0,lazy_journal_init=0,root_owner=1000:1000", path]


def mkfs_program() -> Optional[str]:
    return shutil.which("mkfs.ext4") or next(
        (p for p in ("/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4") if os.path.exists(p)), None)


def prepare(spec: DiskSpec, say=proc.say) -> Disk:
    """The Disk for SPEC: FILE checked, or made with mkfs.ext4. One-line errors
    (ValueError) naming FILE."""
    path = Path(spec.path).expanduser().absolute()
    if path.exists():
        if not path.is_file() and not path.is_block_device():
            raise ValueError(f"--disk: {path} is not a regular file or a block device")
        if not os.access(path, os.R_OK):
            raise ValueError(f"--disk: {path} is not readable by this user")
        readonly = spec.readonly or not os.access(path, os.W_OK)
        if readonly and not spec.readonly:
            say(f"--disk: {path} is not writable by this user: attached read-only")
        if spec.size is not None and path.is_file() and path.stat().st_size != spec.size:
            say(f"--disk: {path} exists ({path.stat().st_size} bytes): size= is only "
                f"for a new FILE, kept as it is")
        return Disk(str(path), readonly=readonly)
    if not path.parent.is_dir():
        raise ValueError(f"--disk: {path.parent} is not a directory (cannot create {path.name})")
    mkfs = mkfs_program()
    if mkfs is None:
        raise ValueError("--disk: mkfs.ext4 not found (Debian's e2fsprogs; `microbeam setup` "
                         "installs it)")
    size = spec.size or DEFAULT_SIZE
    try:
        with open(path, "xb") as f:
            f.truncate(size)          # sparse: blocks are taken as the guest writes
    except OSError as e:
        raise ValueError(f"--disk: cannot create {path}: {e.strerror}") from None
    argv = mkfs_argv(str(path))
    argv[0] = mkfs
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        path.unlink(missing_ok=True)
        first = (r.stdout.strip().splitlines() or ["no output"])[-1]
        raise ValueError(f"--disk: mkfs.ext4 {path} failed: {first}")
    say(f"--disk: created {path} ({size >> 20} MiB, ext4)")
    return Disk(str(path), readonly=spec.readonly, created=True)
