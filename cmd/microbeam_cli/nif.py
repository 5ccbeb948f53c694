"""`build --release PATH --nif APP=DIR`: a release's own C NIF, linked into its /init.

DIR's *.c files are compiled with the musl toolchain as a static NIF
(STATIC_ERLANG_NIF_LIBNAME=microbeam_nif_N, N the NIF's slot), and the release's /init is
linked again from the main build's own link of /init plus those objects: a link per
release, not a new ERTS build. ERTS's table of static NIFs ends with weak slots
microbeam_nif_0..N-1 (erts-static/build.sh); an /init without the objects has them NULL,
which ends the table. OTP 25 finds a static NIF by the module that calls
erlang:load_nif/2, so the NIF's ERL_NIF_INIT(MODULE, ...) must name that module, as it
must for a shared NIF too; the library's file name does not matter (docs/crypto.md).
"""

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List


class NifError(Exception):
    """Bad input: the message is one line that names the option or file."""


@dataclass
class Nif:
    app: str
    src: Path


APP_NAME = re.compile(r"[a-z][A-Za-z0-9_@]*")


def parse(specs: List[str], slots: int) -> List[Nif]:
    """Nifs from --nif APP=DIR values, each DIR with at least one .c file."""
    nifs = []
    for spec in specs:
        app, sep, d = spec.partition("=")
        if not sep or not APP_NAME.fullmatch(app) or not d:
            raise NifError(f"--nif {spec!r}: expected APP=DIR (an application name and the "
                           "directory of its NIF's C sources)")
        src = Path(d).resolve()
        if not src.is_dir() or not sorted(src.glob("*.c")):
            raise NifError(f"--nif {spec!r}: {src} holds no .c file")
        if any(n.app == app for n in nifs):
            raise NifError(f"--nif {spec!r}: {app} is given twice")
        nifs.append(Nif(app, src))
    if len(nifs) > slots:
        raise NifError(f"--nif: {len(nifs)} NIFs, but /init has room for {slots} "
                       "(nif_slots in erts-static/build.sh)")
    return nifs


def cache_value(cache: Path, key: str) -> str:
    """KEY's value in a CMakeCache.txt."""
    for line in cache.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.split(":")[0] == key:
            return value
    raise NifError(f"{cache}: no {key} (run `microbeam build` first)")


def link_command(target_bin: Path, exe: str) -> List[str]:
    """The main build's own link command of supervisor/EXE (ninja knows it), as argv."""
    p = subprocess.run(["ninja", "-C", str(target_bin), "-t", "commands", f"supervisor/{exe}"],
                       capture_output=True, text=True)
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        raise NifError(f"{target_bin}: no link command for supervisor/{exe} (run `microbeam build`)")
    argv = shlex.split(lines[-1])
    # ": && CXX ... -o supervisor/EXE ... && :"
    while argv and argv[0] in (":", "&&"):
        argv.pop(0)
    while argv and argv[-1] in (":", "&&"):
        argv.pop()
    if f"supervisor/{exe}" not in argv or "-o" not in argv:
        raise NifError(f"{target_bin}: unexpected link command for supervisor/{exe}")
    return argv


def relink_argv(link: List[str], exe: str, out: Path, objects: List[Path]) -> List[str]:
    """LINK (the main build's argv for supervisor/EXE) writing OUT, with OBJECTS added.
    Objects, not an archive: their init functions are only weakly referenced, and a weak
    reference does not pull a member out of an archive."""
    argv = list(link)
    i = argv.index(f"supervisor/{exe}")
    argv[i] = str(out)
    return argv + [str(o) for o in objects]


def compile_argv(cc: str, erts_include: Path, slot: int, src: Path, obj: Path) -> List[str]:
    return [cc, "-O2", "-g", "-fno-common", "-Wall", f"-DSTATIC_ERLANG_NIF_LIBNAME=microbeam_nif_{slot}",
            "-I", str(erts_include / "nif"), "-c", str(src), "-o", str(obj)]


def build_init(nifs: List[Nif], base_exe: str, build_dir: Path, work: Path, say) -> Path:
    """Compiles the NIFs and links WORK/BASE_EXE-nif.debug (BASE_EXE's link plus them);
    returns WORK/BASE_EXE-nif, stripped."""
    target_bin = build_dir / "target"
    cache = target_bin / "CMakeCache.txt"
    if not cache.is_file():
        raise NifError(f"{cache}: missing (run `microbeam build` first)")
    # The ERTS that /init links (erl_nif.h must be its own): 25's for the -otp25 variants.
    erts = Path(cache_value(cache, "MICROBEAM_ERTS" if base_exe.endswith("-otp25") else "MICROBEAM_ERTS27"))
    cc = Path(cache_value(cache, "CMAKE_TOOLCHAIN_FILE")).parent / "bin" / "musl-cc"
    slots = int((erts / "nif-slots.txt").read_text()) if (erts / "nif-slots.txt").is_file() else 0
    parse([f"{n.app}={n.src}" for n in nifs], slots)   # the slot count, checked again
    objects = []
    for slot, nif in enumerate(nifs):
        odir = work / "nifs" / f"{slot}-{nif.app}"
        odir.mkdir(parents=True, exist_ok=True)
        for src in sorted(nif.src.glob("*.c")):
            obj = odir / (src.stem + ".o")
            p = subprocess.run(compile_argv(str(cc), erts / "include", slot, src, obj),
                               capture_output=True, text=True)
            if p.returncode != 0:
                first = (p.stderr.strip().splitlines() or ["(no output)"])[0]
                raise NifError(f"--nif {nif.app}: {src} does not compile with musl: {first}")
            objects.append(obj)
        say(f"  NIF of {nif.app}: {len(list(nif.src.glob('*.c')))} C file(s) from {nif.src}, "
            f"slot microbeam_nif_{slot}")
    name = f"{base_exe}-nif"
    debug = work / f"{name}.debug"
    argv = relink_argv(link_command(target_bin, base_exe), base_exe, debug, objects)
    p = subprocess.run(argv, cwd=target_bin, capture_output=True, text=True)
    if p.returncode != 0:
        first = next((l for l in p.stderr.splitlines() if "error" in l), p.stderr.strip()[:200])
        raise NifError(f"--nif: linking /init with the NIF(s) failed: {first}")
    stripped = work / name
    subprocess.run(["llvm-objcopy-14", "--strip-all", f"--add-gnu-debuglink={debug}", str(debug),
                    str(stripped)], check=True)
    return stripped
