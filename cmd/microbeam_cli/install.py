"""`microbeam setup`: the Debian packages a fresh Debian 12 machine needs for the build.

Warm runs (everything already installed, deb-src already enabled) touch nothing and
take about a second: the only work is one `dpkg-query`.
"""

import glob
import os
import re
import shutil
from pathlib import Path

from . import proc

PACKAGES = [
    "cmake", "make", "patch", "ninja-build",
    "clang-14", "lld-14", "llvm-14", "libclang-rt-14-dev",
    "gcc",  # musl (built from its pinned source) and the kernel
    "linux-source-6.1", "bc", "flex", "bison", "libelf-dev", "libssl-dev",
    "cpio", "zstd", "xz-utils", "lz4",
    "e2fsprogs",  # mkfs.ext4 for `run --disk` (cmd/microbeam_cli/disk.py), dumpe2fs in tests
    "erlang-base", "erlang-dev", "elixir",
    "erlang-mnesia",  # the Mnesia test release on the data disk (tests/qemu/test_data_disk.py)
    "qemu-system-x86", "wrk",
    "dpkg-dev", "curl", "python3",
    "python3-cryptography",  # ca-certificates' certdata2pem.py (initramfs/cacerts)
    # the host tests' port programs and shell inside the PID namespace (tests/pid1)
    "busybox-static",
    # the host sanitizer build of the unit tests and fuzzers (tests/sanitize)
    "libgtest-dev", "libgmock-dev", "libcap-dev",
]

# The packages whose contents end up in the image or decide how it is built, pinned by
# version: the compiler and runtimes, the kernel source, and the OTP/Elixir .beam
# files the release ships. (Source packages are pinned in cmake/debian-sources.txt.)
PINNED = {
    "clang-14": "1:14.0.6-12", "lld-14": "1:14.0.6-12", "llvm-14": "1:14.0.6-12",
    "libclang-rt-14-dev": "1:14.0.6-12",
    "linux-source-6.1": "6.1.192-2",
    "erlang-base": "1:25.2.3+dfsg-1+deb12u4", "erlang-dev": "1:25.2.3+dfsg-1+deb12u4",
    "erlang-mnesia": "1:25.2.3+dfsg-1+deb12u4",
    "elixir": "1.14.0.dfsg-2",
}

DEB822_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
ONE_LINE_SOURCES = Path("/etc/apt/sources.list")
APT_LISTS = Path("/var/lib/apt/lists")
# Others may be running apt at the same moment: wait for its lock instead of failing.
APT_LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=600"]


def enable_deb_src_deb822(text: str) -> str:
    """Returns the deb822 sources text with `deb-src` added to every `Types:` line that
    names `deb` without `deb-src`; other lines are kept byte for byte."""
    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(Types:)([ \t]*)(.*?)([ \t]*)(\r?\n)?$", line)
        if m:
            types = m.group(3).split()
            if "deb" in types and "deb-src" not in types:
                types.insert(types.index("deb") + 1, "deb-src")
                line = f"{m.group(1)} {' '.join(types)}{m.group(5) or ''}"
        out.append(line)
    return "".join(out)


def enable_deb_src_one_line(text: str) -> str:
    """Returns a one-line-style sources.list with a `deb-src` twin appended for each
    active `deb` line that has none."""
    lines = text.splitlines()
    existing = {l.strip()[len("deb-src"):].strip() for l in lines
                if l.strip().startswith("deb-src ")}
    extra = []
    for l in lines:
        s = l.strip()
        if s.startswith("deb "):
            rest = s[len("deb "):].strip()
            if rest not in existing:
                extra.append("deb-src " + rest)
                existing.add(rest)
    if not extra:
        return text
    sep = "" if text.endswith("\n") or not text else "\n"
    return text + sep + "\n".join(extra) + "\n"


def ensure_deb_src() -> bool:
    """Enables deb-src in the system's apt sources; returns True if a file changed."""
    for path, fix in ((DEB822_SOURCES, enable_deb_src_deb822),
                      (ONE_LINE_SOURCES, enable_deb_src_one_line)):
        if not path.exists():
            continue
        old = path.read_text()
        new = fix(old)
        if new != old:
            proc.say(f"enabling deb-src in {path}")
            path.write_text(new)
            return True
        return False
    proc.say("no apt sources file found to enable deb-src in; skipping")
    return False


def have_source_indexes() -> bool:
    return bool(glob.glob(str(APT_LISTS / "*_Sources*")))


def parse_dpkg_query(output: str) -> dict:
    """From `dpkg-query -W -f='${Package} ${db:Status-Abbrev} ${Version}\\n'` output,
    {name: version} of the fully installed packages (status `ii`)."""
    installed = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1].startswith("ii"):
            installed[parts[0].split(":")[0]] = parts[2]
    return installed


def missing_packages(packages=PACKAGES, pinned=PINNED) -> list:
    """Install arguments (`name` or `name=version`) for what is absent or at another
    version than its pin."""
    installed = {}
    if shutil.which("dpkg-query"):
        r = proc.capture(["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev} ${Version}\\n",
                          *packages])
        installed = parse_dpkg_query(r.stdout)
    missing = []
    for p in packages:
        want = pinned.get(p)
        if p not in installed or (want and installed[p] != want):
            missing.append(f"{p}={want}" if want else p)
    return missing


def _privileged(argv):
    if os.geteuid() == 0:
        return argv
    if shutil.which("sudo"):
        return ["sudo", *argv]
    raise PermissionError("setup needs root (or sudo) to install packages")


def setup(packages=PACKAGES) -> int:
    proc.say("setup: checking Debian packages")
    missing = missing_packages(packages)
    if os.geteuid() == 0:
        sources_changed = ensure_deb_src()
    else:
        sources_changed = False
        proc.say("not root: leaving apt sources alone")
    need_update = sources_changed or bool(missing) or not have_source_indexes()
    if not missing and not need_update:
        proc.say(f"setup: all {len(packages)} packages present, deb-src enabled")
        return 0
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    proc.run(_privileged(["apt-get", *APT_LOCK_WAIT, "update"]), env=env)
    if missing:
        proc.say(f"setup: installing {len(missing)} package(s): {' '.join(missing)}")
        proc.run(_privileged(["apt-get", *APT_LOCK_WAIT, "install", "-y",
                              "--allow-downgrades", *missing]), env=env)
        still = missing_packages(packages)
        if still:
            raise RuntimeError(f"setup: still missing after install: {' '.join(still)}")
    proc.say("setup: done")
    return 0
