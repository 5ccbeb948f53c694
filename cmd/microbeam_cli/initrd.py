"""What an initramfs holds once the kernel has unpacked it, and what the guest's memory
must at least be for it.

The kernel unpacks the initramfs into its RAM-backed root file system and keeps every
file there for the life of the guest, so the files' bytes (whole pages) are RAM the
BEAM never gets. The rest was measured (see BASE_MIB): the kernel and ERTS, plus the
release's code once loaded, which grows with its .beam files.

Reads the newc format the kernel reads, uncompressed or compressed with what the
kernel decodes (gzip, xz, bzip2 with the standard library; lz4 and zstd with their
Debian tools, which the build installs).
"""

import bz2
import gzip
import lzma
import math
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

PAGE = 4096
MiB = 1024 * 1024
NEWC_MAGIC = b"070701"
HEADER = 110                       # "070701" + 13 fields of 8 hex digits
TRAILER = "TRAILER!!!"
# What an inode and its dentry cost in the kernel's root file system (shmem inode,
# dentry, the name), rounded up.
INODE_COST = 1024

# The memory floor (the smallest -m that boots and serves 1,000 requests under TCG;
# `microbeam bench`'s bisection at 1 MiB, on 2026-11-28) of three images with the same
# kernel and /init:
#
#   image                                   files in RAM   .beam files   floor (fails at)
#   the demo (Elixir: elixir, compiler)         9.80 MiB      3.09 MiB     48 MiB (47)
#   examples/hello_erlang (kernel, stdlib)      7.10 MiB      1.49 MiB     41 MiB (40)
#   the same with compiler and sasl             7.94 MiB      2.10 MiB     43 MiB (42)
#
# Floor less files: 38.2, 33.9, 35.1 MiB, growing with the code the BEAM loads. This
# line, BASE_MIB + CODE_FACTOR x .beam MiB, gives each of the three its floor exactly
# (rounded up): 47.2, 40.5, 42.9.
BASE_MIB = 29.7                  # the kernel and ERTS, before any code of the release
CODE_FACTOR = 2.5                # MiB of RAM per MiB of (gzipped) .beam files


class InitrdError(ValueError):
    pass


@dataclass
class Contents:
    archive_bytes: int             # the uncompressed cpio archive(s)
    file_bytes: int                # the regular files' data
    entries: int                   # files, directories, links, devices
    ram_bytes: int                 # what they take in the root file system
    beam_bytes: int = 0            # the .beam files among them, gzipped size

    @property
    def ram_mib(self) -> float:
        return self.ram_bytes / MiB

    @property
    def beam_mib(self) -> float:
        return self.beam_bytes / MiB


# (magic, name, how to decompress: a function of bytes, or a tool's argv)
_FORMATS = (
    (b"\x1f\x8b", "gzip", gzip.decompress),
    (b"\xfd7zXZ\x00", "xz", lzma.decompress),
    (b"\x5d\x00\x00", "lzma", lzma.decompress),
    (b"BZh", "bzip2", bz2.decompress),
    (b"\x02\x21\x4c\x18", "lz4 (legacy)", ["lz4", "-dc"]),
    (b"\x04\x22\x4d\x18", "lz4", ["lz4", "-dc"]),
    (b"\x28\xb5\x2f\xfd", "zstd", ["zstd", "-dcq"]),
)


def compression(data: bytes) -> str:
    """'none' for a newc archive, the compressor's name, or InitrdError."""
    if data.startswith(NEWC_MAGIC):
        return "none"
    for magic, name, _ in _FORMATS:
        if data.startswith(magic):
            return name
    raise InitrdError("neither a newc cpio archive nor compressed in a format the kernel reads")


def decompress(data: bytes) -> bytes:
    """The uncompressed archive(s) of DATA (newc as is)."""
    kind = compression(data)
    if kind == "none":
        return data
    how = next(h for m, n, h in _FORMATS if n == kind)
    if callable(how):
        try:
            return how(data)
        except (OSError, EOFError, lzma.LZMAError, ValueError) as e:
            raise InitrdError(f"{kind} data is corrupt: {e}") from None
    if not shutil.which(how[0]):
        raise InitrdError(f"compressed with {kind}, and `{how[0]}` is not installed")
    p = subprocess.run(how, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        why = p.stderr.decode(errors="replace").strip().splitlines()
        raise InitrdError(f"{kind} data is corrupt: {why[0] if why else p.returncode}")
    return p.stdout


def _align4(n: int) -> int:
    return (n + 3) & ~3


def parse_newc(raw: bytes) -> Contents:
    """Walks the newc archive(s) in RAW (the kernel accepts several back to back, with
    zero padding between): what they hold."""
    pos = files = entries = ram = beams = 0
    while pos < len(raw):
        if raw[pos] == 0:          # padding between archives
            pos += 1
            continue
        if raw[pos:pos + 6] != NEWC_MAGIC:
            raise InitrdError(f"no newc header at byte {pos}")
        if pos + HEADER > len(raw):
            raise InitrdError(f"truncated header at byte {pos}")
        try:
            fields = [int(raw[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        except ValueError:
            raise InitrdError(f"bad header at byte {pos}") from None
        mode, filesize, namesize = fields[1], fields[6], fields[11]
        name_end = pos + HEADER + namesize
        if name_end > len(raw) or namesize == 0:
            raise InitrdError(f"bad name at byte {pos}")
        name = raw[pos + HEADER:name_end - 1].decode(errors="replace")
        data = _align4(name_end)
        if data + filesize > len(raw):
            raise InitrdError(f"{name}: data runs past the end of the archive")
        pos = _align4(data + filesize)
        if name == TRAILER:
            continue
        entries += 1
        ram += INODE_COST
        if mode & 0o170000 == 0o100000:         # regular file
            files += filesize
            ram += -(-filesize // PAGE) * PAGE
            if name.endswith(".beam"):
                body = raw[data:data + filesize]
                # CODE_FACTOR was measured per gzipped byte; the beams a boot reads are
                # stored plain (initramfs/release/preload_boot.escript).
                beams += filesize if body[:2] == b"\x1f\x8b" else len(zlib.compress(body, 6))
    return Contents(archive_bytes=len(raw), file_bytes=files, entries=entries, ram_bytes=ram,
                    beam_bytes=beams)


def contents(path) -> Contents:
    """What the initramfs at PATH unpacks to; InitrdError (naming the file) if it
    cannot be read."""
    try:
        data = Path(path).read_bytes()
        return parse_newc(decompress(data))
    except OSError as e:
        raise InitrdError(f"{path}: {e.strerror}") from None
    except InitrdError as e:
        raise InitrdError(f"{path}: {e}") from None


def code_mib(c: Contents) -> float:
    """RAM the release's code takes once loaded (measured, see CODE_FACTOR)."""
    return CODE_FACTOR * c.beam_mib


def minimum_memory_mib(c: Contents) -> int:
    """The smallest guest memory (MiB) this initramfs can boot and serve in: its files,
    its code loaded, the kernel and ERTS (measured), rounded up."""
    return math.ceil(round(c.ram_mib + code_mib(c) + BASE_MIB, 3))


def need_line(c: Contents) -> str:
    """Why minimum_memory_mib(c), for one line."""
    return (f"{c.ram_mib:.1f} MiB of files that stay in RAM + {code_mib(c):.1f} MiB for "
            f"its {c.beam_mib:.1f} MiB of .beam code + {BASE_MIB:g} MiB for the kernel and ERTS")
