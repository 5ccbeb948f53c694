"""`microbeam build --release PATH`: a user's OTP release (mix release, rebar3, reltool,
systools) in, `bzImage` + `microbeam.cpio` for it out.

The kernel and /init are the ones the main build makes (cached); only the release part
of the initramfs differs: initramfs/release/assemble.escript stages it, the cpio writer
adds it to the base spec (/init, mount points, /dev/console), zstd compresses it as the
main build does.
"""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import nif as nif_mod
from . import otp as otp_mod
from . import paths, proc

# The static ERTS inside /init comes in one build per OTP major (otp.py: 25 and 27). A
# release gets the /init of its ERTS major: its .beam files and boot script are loaded by
# that ERTS, and OTP's applications are taken from that major's host OTP when the release
# does not carry them.


class ReleaseError(Exception):
    """Bad input: the message names the file, one line (one line a file when several
    files are at fault, e.g. shared objects)."""


@dataclass
class ReleaseInfo:
    path: Path
    name: str
    erts_vsn: str
    rel_vsn: str
    source: Path = None   # the file the versions came from (start_erl.data, RELEASES, NAME.rel)


ASSEMBLE = paths.repo_root() / "initramfs" / "release" / "assemble.escript"


def _escript_error(p: subprocess.CompletedProcess, what: str) -> ReleaseError:
    lines = [ln[len("assemble: "):] if ln.startswith("assemble: ") else ln
             for ln in p.stderr.strip().splitlines()] or [f"{what} failed (exit {p.returncode})"]
    # main prints "microbeam: error: " before the first line; the others get it here.
    return ReleaseError("\nmicrobeam: error: ".join(lines))


def read_release(path: Path) -> ReleaseInfo:
    """The release at PATH in any layout (initramfs/release/assemble.escript --describe):
    releases/start_erl.data, else releases/RELEASES, else the .rel systools and reltool
    leave. Its name, ERTS and release versions."""
    path = Path(path)
    if not path.is_dir():
        raise ReleaseError(f"{path}: not a directory (want an OTP release: lib/, releases/)")
    try:
        p = subprocess.run(["escript", str(ASSEMBLE), "--describe", str(path)],
                           capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise ReleaseError("escript not found: install Erlang/OTP with `microbeam setup`")
    if p.returncode != 0:
        raise _escript_error(p, "reading the release")
    fields = p.stdout.strip().split(" ", 3)
    if len(fields) != 4:
        raise ReleaseError(f"{path}: cannot read the release ({p.stdout.strip()!r})")
    name, rel_vsn, erts_vsn, source = fields
    return ReleaseInfo(path, name, erts_vsn, rel_vsn, Path(source))


def check_erts(info: ReleaseInfo) -> otp_mod.Choice:
    """The OTP major whose /init runs the release (with a one-line note when the release
    is for another version of that major); a one-line error for a major not built here."""
    source = info.source or info.path / "releases" / "start_erl.data"
    try:
        return otp_mod.choose(info.erts_vsn, f"{source}: release {info.name} {info.rel_vsn}")
    except otp_mod.OtpError as e:
        raise ReleaseError(str(e))


# Applications whose NIFs only out/microbeam-init-crypto has linked in (static NIFs with
# OpenSSL's libcrypto, erts-static/build.sh): a release whose .rel lists one gets that
# /init; any other gets out/microbeam-init, which is ~3 MB smaller (docs/crypto.md).
CRYPTO_APPS = ("crypto", "asn1")
# Where the trust store goes in the image of a release that includes ssl (Debian's path,
# the first that public_key:cacerts_get/0 reads on Linux): out/ca-certificates.crt, built
# from Debian's ca-certificates source by initramfs/cacerts/build.sh.
CACERTS_GUEST = "/etc/ssl/certs/ca-certificates.crt"


def rel_apps(info: ReleaseInfo) -> list:
    """The application names in the release's .rel ({release, _, {erts, _}, [{App, Vsn...}]})."""
    rels = sorted((info.path / "releases" / info.rel_vsn).glob("*.rel")) or sorted(
        (info.path / "releases").glob("*.rel"))
    if not rels:
        raise ReleaseError(f"{info.path / 'releases'}: no NAME.rel file")
    try:
        text = rels[0].read_text(errors="replace")
    except OSError as e:
        raise ReleaseError(f"{rels[0]}: cannot read ({e.strerror})")
    text = re.sub(r"%[^\n]*", "", text)
    return [m.group(1) for m in re.finditer(r"\{\s*'?([a-z][A-Za-z0-9_@]*)'?\s*,\s*\"", text)
            if m.group(1) != "erts"]


def init_name(apps, otp: otp_mod.Otp = None) -> str:
    """The /init variant for a release of these applications on OTP's major (default:
    the demo's, 27)."""
    otp = otp or otp_mod.SUPPORTED[otp_mod.DEFAULT_MAJOR]
    return otp_mod.init_name(otp, any(a in CRYPTO_APPS for a in apps))


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


def read_env_file(path: Path) -> str:
    """The env file for the image (`--env-file`): NAME=VALUE lines, '#' comments, blank
    lines; as PID 1 reads /etc/microbeam.env. A bad line is an error naming file and line."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise ReleaseError(f"--env-file {path}: cannot read ({getattr(e, 'strerror', None) or e})")
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r").lstrip()
        if not line or line.startswith("#"):
            continue
        name, eq, _ = line.partition("=")
        if not eq or not ENV_NAME.fullmatch(name):
            raise ReleaseError(f"--env-file {path}:{number}: not NAME=VALUE with NAME of letters, "
                               "digits, _ (no digit first)")
        if "\0" in line:
            raise ReleaseError(f"--env-file {path}:{number}: the value of {name} holds a NUL byte")
    return text


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Where PID 1 reads the image's environment (supervisor/src/beam/release_env.h kEnvFile).
GUEST_ENV_FILE = "/etc/microbeam.env"


def default_out(info: ReleaseInfo) -> Path:
    return paths.out_dir() / f"release-{info.name}"


def assemble_argv(info: ReleaseInfo, work: Path) -> list:
    return ["escript", str(ASSEMBLE),
            str(info.path), str(work / "staging"), str(work / "release.spec"),
            str(work / "sizes.json"), "--compress-beams", "--erts-vsn", info.erts_vsn]


def stage(info: ReleaseInfo, work: Path, env_file: Path = None, linked_nif_apps=(),
          otp: otp_mod.Otp = None) -> None:
    """assemble.escript stages the release (every check on it: applications, boot
    script, shared objects, but those of LINKED_NIF_APPS, whose NIFs --nif links into
    /init), run by OTP's major's escript (OTP applications the release leaves out come
    from that OTP); the env file joins the spec at /etc/microbeam.env, 0600."""
    argv = assemble_argv(info, work) + [a for app in linked_nif_apps for a in ("--linked-nif", app)]
    env = None
    if otp is not None:
        try:
            env = otp_mod.command_env(otp.major)
        except otp_mod.OtpError as e:
            raise ReleaseError(str(e))
    proc.say("$ " + " ".join(argv))
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise _escript_error(p, "staging the release")
    if p.stdout:
        print(p.stdout, end="", flush=True)
    if env_file is not None:
        text = read_env_file(env_file)
        staged = work / "staging" / "microbeam.env"
        staged.unlink(missing_ok=True)
        staged.touch(mode=0o600)
        staged.write_text(text)
        with open(work / "release.spec", "a") as f:
            f.write(f"dir /etc 0755 0 0\nfile {GUEST_ENV_FILE} {staged} 0600 0 0\n")


def initramfs_argv(work: Path, out: Path) -> list:
    """initramfs/build_initramfs.py: the cpio writer over the base spec (/init, mount
    points, /dev/console: write_base_spec) and the staged release, with a profile-guided
    boot script."""
    bdir = paths.build_dir()
    return ["python3", str(paths.repo_root() / "initramfs" / "build_initramfs.py"),
            str(bdir / "target" / "initramfs" / "cpio" / "microbeam-cpio"), str(out / "microbeam.cpio"),
            str(work), str(work / "base.spec"), str(work / "release.spec"),
            str(work / "staging" / "release")]


def check_hard_lines(out: Path, init: Path) -> None:
    """tests/image/hard_lines_test.sh on the image just written with INIT (/init static,
    no glibc, one ELF in the cpio); a failure fails the build with one line."""
    p = subprocess.run(["bash", str(paths.repo_root() / "tests" / "image" / "hard_lines_test.sh"),
                        str(init.parent), str(out / "microbeam.cpio"), init.name],
                       capture_output=True, text=True)
    if p.returncode != 0:
        failed = [ln[len("FAIL "):] for ln in p.stdout.splitlines() if ln.startswith("FAIL ")]
        why = "; ".join(failed) or " ".join((p.stdout + p.stderr).strip().splitlines()[-1:])
        raise ReleaseError(f"{out / 'microbeam.cpio'}: hard line broken: {why}")


def erts_note(sizes: Path) -> str:
    """One line when the release ships its own erts-* (not used: ERTS is in /init)."""
    try:
        own = json.loads(sizes.read_text()).get("erts_not_used", [])
    except (OSError, ValueError):
        return ""
    if not own:
        return ""
    return (f"{', '.join(own)} in the release: not used (the ERTS is inside /init), "
            "not in the image")


def build_release(release_path: Path, out: Path = None, jobs=None, env_file: Path = None,
                  cacerts=True, nifs=()) -> int:
    """Checks and stages the release, runs the main build (cached parts are reused), then
    writes OUT/bzImage, OUT/microbeam.cpio and OUT/size-report.json for it, and checks
    the hard lines on them. The /init is microbeam-init-crypto for a release with crypto
    or asn1; NIFS ("APP=DIR" each) are C NIFs linked into this release's own /init
    (nif.py). A release that includes ssl gets the CA bundle unless CACERTS is false."""
    from . import build  # the main build; imported here to keep this module's tests light

    info = read_release(Path(release_path).resolve())
    choice = check_erts(info)
    if choice.note:
        proc.say(choice.note)
    if env_file is not None:
        read_env_file(env_file)  # before anything is built
    try:
        nif_list = nif_mod.parse(list(nifs), slots=1000)   # the real count is checked later
    except nif_mod.NifError as e:
        raise ReleaseError(str(e))
    apps = rel_apps(info)
    out = Path(out).resolve() if out else default_out(info)
    steps = 6
    proc.say(f"[release 1/{steps}] {info.name} {info.rel_vsn} (ERTS {info.erts_vsn}, /init of OTP "
             f"{choice.otp.otp_version}) at {info.path}")
    work = paths.build_dir() / "user-releases" / info.name
    work.mkdir(parents=True, exist_ok=True)
    proc.say(f"[release 2/{steps}] stage the release for the guest")
    if choice.otp.major != 25:   # the OTP 27 toolchain is the main build's: build it first
        build.build(jobs, targets=["elixir_host"])
    stage(info, work, env_file, [n.app for n in nif_list], choice.otp)
    note = erts_note(work / "sizes.json")
    if note:
        proc.say("  " + note)
    proc.say(f"[release 3/{steps}] main build: kernel, /init (cached unless changed)")
    build.build(jobs)
    init = paths.out_dir() / init_name(apps, choice.otp)
    if nif_list:
        proc.say(f"  link /init ({init.name}) again with the release's NIFs")
        try:
            init = nif_mod.build_init(nif_list, init.name, paths.build_dir(), work, proc.say)
        except nif_mod.NifError as e:
            raise ReleaseError(str(e))
    bundle = paths.out_dir() / "ca-certificates.crt" if cacerts and "ssl" in apps else None
    proc.say(f"  /init: {init.name}; CA bundle: {CACERTS_GUEST if bundle else 'none'}")
    write_base_spec(paths.build_dir() / "base.spec", init, work / "base.spec", bundle)
    proc.say(f"[release 4/{steps}] initramfs: /init + the release, boot script profiled, zstd")
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
    proc.say(f"[release 6/{steps}] hard lines: /init static, no glibc, one ELF in the image")
    check_hard_lines(out, init)
    for name in ("bzImage", "microbeam.cpio"):
        proc.say(f"  {out / name} ({(out / name).stat().st_size} bytes)")
    if note:
        proc.say("  " + note)
    proc.say(f"boot it: microbeam run --kernel {out / 'bzImage'} --initrd {out / 'microbeam.cpio'}")
    return 0
