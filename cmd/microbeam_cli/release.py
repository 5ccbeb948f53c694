"""`microbeam build --release PATH`: a user's OTP release (mix release, rebar3, reltool,
systools) in, `bzImage` + `microbeam.cpio` for it out.

The kernel and /init are the ones the main build makes (cached); only the release part
of the initramfs differs: initramfs/release/assemble.escript stages it, the cpio writer
adds it to the base spec (/init, mount points, /dev/console), lz4 compresses it as the
main build does.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from . import paths, proc

# The static ERTS inside /init (erts-static/build.sh, from the pinned erlang source in
# cmake/debian-sources.txt). A release must have been built for exactly this ERTS: its
# .beam files and boot script are loaded by it, and OTP's applications are taken from
# the host's OTP of the same version when the release does not carry them.
STATIC_ERTS_VSN = "13.1.5"
STATIC_OTP_VERSION = "25.2.3"
DEBIAN_ERLANG = "1:25.2.3+dfsg-1+deb12u4"


class ReleaseError(Exception):
    """Bad input: the message is one line that names the file."""


@dataclass
class ReleaseInfo:
    path: Path
    name: str
    erts_vsn: str
    rel_vsn: str


def read_release(path: Path) -> ReleaseInfo:
    """The release at PATH: its name (from releases/REL_VSN/NAME.rel), ERTS and release
    versions (releases/start_erl.data)."""
    path = Path(path)
    if not path.is_dir():
        raise ReleaseError(f"{path}: not a directory (want an OTP release: lib/, releases/)")
    start_erl = path / "releases" / "start_erl.data"
    try:
        fields = start_erl.read_text().split()
    except OSError as e:
        raise ReleaseError(f"{start_erl}: cannot read ({e.strerror}); is {path} an OTP release?")
    if len(fields) != 2 or not all(re.fullmatch(r"[A-Za-z0-9._+-]+", f) for f in fields):
        raise ReleaseError(f"{start_erl}: expected \"ERTS_VSN REL_VSN\", found {' '.join(fields)!r}")
    erts_vsn, rel_vsn = fields
    rels = sorted((path / "releases" / rel_vsn).glob("*.rel"))
    if not rels:
        raise ReleaseError(f"{path / 'releases' / rel_vsn}: no NAME.rel file")
    if not (path / "releases" / rel_vsn / "start.boot").is_file():
        raise ReleaseError(f"{path / 'releases' / rel_vsn / 'start.boot'}: missing boot file")
    return ReleaseInfo(path, rels[0].stem, erts_vsn, rel_vsn)


def check_erts(info: ReleaseInfo) -> None:
    """A clear error unless the release was built for the static ERTS."""
    if info.erts_vsn != STATIC_ERTS_VSN:
        raise ReleaseError(
            f"{info.path / 'releases' / 'start_erl.data'}: release {info.name} {info.rel_vsn} was "
            f"built for ERTS {info.erts_vsn}, but MicroBEAM's static ERTS is {STATIC_ERTS_VSN} "
            f"(OTP {STATIC_OTP_VERSION}): rebuild the release with Erlang/OTP {STATIC_OTP_VERSION} "
            f"(Debian erlang {DEBIAN_ERLANG}, which `microbeam setup` installs)")


def default_out(info: ReleaseInfo) -> Path:
    return paths.out_dir() / f"release-{info.name}"


def assemble_argv(info: ReleaseInfo, work: Path) -> list:
    return ["escript", str(paths.repo_root() / "initramfs" / "release" / "assemble.escript"),
            str(info.path), str(work / "staging"), str(work / "release.spec"),
            str(work / "sizes.json"), "--compress-beams", "--erts-vsn", STATIC_ERTS_VSN]


def initramfs_argv(work: Path, out: Path) -> list:
    """initramfs/build_initramfs.py: the cpio writer over the base spec (/init, mount
    points, /dev/console) and the staged release, with a profile-guided boot script."""
    bdir = paths.build_dir()
    return ["python3", str(paths.repo_root() / "initramfs" / "build_initramfs.py"),
            str(bdir / "target" / "initramfs" / "cpio" / "microbeam-cpio"), str(out / "microbeam.cpio"),
            str(work), str(bdir / "base.spec"), str(work / "release.spec"),
            str(work / "staging" / "release")]


def build_release(release_path: Path, out: Path = None, jobs=None) -> int:
    """Checks the release, runs the main build (cached parts are reused), then writes
    OUT/bzImage, OUT/microbeam.cpio and OUT/size-report.json for it."""
    from . import build  # the main build; imported here to keep this module's tests light

    info = read_release(Path(release_path).resolve())
    check_erts(info)
    out = Path(out).resolve() if out else default_out(info)
    steps = 5
    proc.say(f"[release 1/{steps}] {info.name} {info.rel_vsn} (ERTS {info.erts_vsn}) at {info.path}")
    proc.say(f"[release 2/{steps}] main build: kernel, /init (cached unless changed)")
    build.build(jobs)
    work = paths.build_dir() / "user-releases" / info.name
    work.mkdir(parents=True, exist_ok=True)
    proc.say(f"[release 3/{steps}] stage the release for the guest")
    proc.run(assemble_argv(info, work))
    proc.say(f"[release 4/{steps}] initramfs: /init + the release, boot script profiled, lz4")
    out.mkdir(parents=True, exist_ok=True)
    proc.run(initramfs_argv(work, out))
    proc.say(f"[release 5/{steps}] kernel and size report into {out}")
    main_out = paths.out_dir()
    for name in ("bzImage", "vmlinux"):
        if (main_out / name).exists():
            shutil.copyfile(main_out / name, out / name)
    proc.run(["python3", str(paths.repo_root() / "initramfs" / "size_report.py"),
              "--out", str(out / "size-report.json"), "--kernel", str(out / "bzImage"),
              "--init", str(main_out / "microbeam-init"), "--initramfs", str(out / "microbeam.cpio"),
              "--release-sizes", str(work / "sizes.json")])
    for name in ("bzImage", "microbeam.cpio"):
        proc.say(f"  {out / name} ({(out / name).stat().st_size} bytes)")
    proc.say(f"boot it: microbeam run --kernel {out / 'bzImage'} --initrd {out / 'microbeam.cpio'}")
    return 0
