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

from . import nif as nif_mod
from . import paths, proc

# The static ERTS inside /init (erts-static/build.sh, from the pinned erlang source in
# cmake/debian-sources.txt). A release must have been built for exactly this ERTS: its
# .beam files and boot script are loaded by it, and OTP's applications are taken from
# the host's OTP of the same version when the release does not carry them.
STATIC_ERTS_VSN = "13.1.5"
STATIC_OTP_VERSION = "25.2.3"
DEBIAN_ERLANG = "1:25.2.3+dfsg-1+deb12u4"
# Applications whose NIFs only out/microbeam-init-crypto has linked in (static NIFs with
# OpenSSL's libcrypto, erts-static/build.sh): a release whose .rel lists one gets that
# /init; any other gets out/microbeam-init, which is ~4 MB smaller (docs/crypto.md).
CRYPTO_APPS = ("crypto", "asn1")
# Where the trust store goes in the image of a release that includes ssl (Debian's path,
# the first that public_key:cacerts_get/0 reads on Linux): out/ca-certificates.crt, built
# from Debian's ca-certificates source by initramfs/cacerts/build.sh.
CACERTS_GUEST = "/etc/ssl/certs/ca-certificates.crt"


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


def rel_apps(info: ReleaseInfo) -> list:
    """The application names in the release's .rel ({release, _, {erts, _}, [{App, Vsn...}]})."""
    rel = sorted((info.path / "releases" / info.rel_vsn).glob("*.rel"))[0]
    try:
        text = rel.read_text(errors="replace")
    except OSError as e:
        raise ReleaseError(f"{rel}: cannot read ({e.strerror})")
    text = re.sub(r"%[^\n]*", "", text)
    return [m.group(1) for m in re.finditer(r"\{\s*'?([a-z][A-Za-z0-9_@]*)'?\s*,\s*\"", text)
            if m.group(1) != "erts"]


def init_name(apps) -> str:
    """The /init variant for a release of these applications."""
    return "microbeam-init-crypto" if any(a in CRYPTO_APPS for a in apps) else "microbeam-init"


def write_base_spec(template: Path, init: Path, spec: Path, cacerts: Path = None) -> None:
    """The main build's base spec (/init, mount points, /dev/console) with /init from INIT,
    and with CACERTS (if given) at CACERTS_GUEST."""
    lines = []
    for line in template.read_text().splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == "file" and f[1] == "/init":
            f[2] = str(init)
            line = " ".join(f)
        lines.append(line)
    if cacerts is not None:
        parts = CACERTS_GUEST.split("/")[1:]
        for i in range(1, len(parts)):
            lines.append(f"dir /{'/'.join(parts[:i])} 0755 0 0")
        lines.append(f"file {CACERTS_GUEST} {cacerts} 0644 0 0")
    spec.write_text("\n".join(lines) + "\n")


def default_out(info: ReleaseInfo) -> Path:
    return paths.out_dir() / f"release-{info.name}"


def assemble_argv(info: ReleaseInfo, work: Path) -> list:
    return ["escript", str(paths.repo_root() / "initramfs" / "release" / "assemble.escript"),
            str(info.path), str(work / "staging"), str(work / "release.spec"),
            str(work / "sizes.json"), "--compress-beams", "--erts-vsn", STATIC_ERTS_VSN]


def initramfs_argv(work: Path, out: Path) -> list:
    """initramfs/build_initramfs.py: the cpio writer over the base spec (/init, mount
    points, /dev/console: write_base_spec) and the staged release, with a profile-guided
    boot script."""
    bdir = paths.build_dir()
    return ["python3", str(paths.repo_root() / "initramfs" / "build_initramfs.py"),
            str(bdir / "target" / "initramfs" / "cpio" / "microbeam-cpio"), str(out / "microbeam.cpio"),
            str(work), str(work / "base.spec"), str(work / "release.spec"),
            str(work / "staging" / "release")]


def build_release(release_path: Path, out: Path = None, jobs=None, cacerts=True, nifs=()) -> int:
    """Checks the release, runs the main build (cached parts are reused), then writes
    OUT/bzImage, OUT/microbeam.cpio and OUT/size-report.json for it. A release that
    includes ssl gets the CA bundle unless CACERTS is false. NIFS ("APP=DIR" each): C
    NIFs linked into this release's own /init (nif.py)."""
    from . import build  # the main build; imported here to keep this module's tests light

    info = read_release(Path(release_path).resolve())
    check_erts(info)
    try:
        nif_list = nif_mod.parse(list(nifs), slots=1000)   # the real count is checked later
    except nif_mod.NifError as e:
        raise ReleaseError(str(e))
    out = Path(out).resolve() if out else default_out(info)
    steps = 5
    proc.say(f"[release 1/{steps}] {info.name} {info.rel_vsn} (ERTS {info.erts_vsn}) at {info.path}")
    proc.say(f"[release 2/{steps}] main build: kernel, /init (cached unless changed)")
    build.build(jobs)
    work = paths.build_dir() / "user-releases" / info.name
    work.mkdir(parents=True, exist_ok=True)
    apps = rel_apps(info)
    init = paths.out_dir() / init_name(apps)
    if nif_list:
        proc.say(f"  link /init ({init.name}) again with the release's NIFs")
        try:
            init = nif_mod.build_init(nif_list, init.name, paths.build_dir(), work, proc.say)
        except nif_mod.NifError as e:
            raise ReleaseError(str(e))
    bundle = paths.out_dir() / "ca-certificates.crt" if cacerts and "ssl" in apps else None
    proc.say(f"[release 3/{steps}] stage the release for the guest (/init: {init.name}; "
             f"CA bundle: {CACERTS_GUEST if bundle else 'none'})")
    proc.run(assemble_argv(info, work) + [a for n in nif_list for a in ("--linked-nif", n.app)])
    write_base_spec(paths.build_dir() / "base.spec", init, work / "base.spec", bundle)
    proc.say(f"[release 4/{steps}] initramfs: /init + the release, boot script profiled, lz4")
    out.mkdir(parents=True, exist_ok=True)
    proc.run(initramfs_argv(work, out))
    proc.say(f"[release 5/{steps}] kernel and size report into {out}")
    main_out = paths.out_dir()
    for name in ("bzImage", "vmlinux"):
        if (main_out / name).exists():
            shutil.copyfile(main_out / name, out / name)
    if nif_list:   # this release's own /init, beside its image
        for name in (init.name, init.name + ".debug"):
            shutil.copyfile(work / name, out / name)
    proc.run(["python3", str(paths.repo_root() / "initramfs" / "size_report.py"),
              "--out", str(out / "size-report.json"), "--kernel", str(out / "bzImage"),
              "--init", str(init), "--initramfs", str(out / "microbeam.cpio"),
              "--release-sizes", str(work / "sizes.json")])
    for name in ("bzImage", "microbeam.cpio"):
        proc.say(f"  {out / name} ({(out / name).stat().st_size} bytes)")
    proc.say(f"boot it: microbeam run --kernel {out / 'bzImage'} --initrd {out / 'microbeam.cpio'}")
    return 0
