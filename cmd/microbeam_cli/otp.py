"""The OTP majors MicroBEAM builds a static ERTS for, how a release picks one, and
`microbeam otp MAJOR -- CMD` (CMD with that major's erl/erlc/escript/mix on PATH).

ERTS 25 is Debian 12's own OTP (the host's `erlang` packages); ERTS 27 and its host
toolchain (OTP 27 + Elixir 1.18) are built from trixie's sources by the main build
(erts-static/build.sh, erts-static/host/). docs/otp.md says more.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import paths


@dataclass(frozen=True)
class Otp:
    major: int
    erts_vsn: str      # the static ERTS linked into this major's /init
    otp_version: str
    init_suffix: str   # out/microbeam-init[-crypto]<suffix>
    source: str        # where it comes from, for messages


SUPPORTED = {
    25: Otp(25, "13.1.5", "25.2.3", "-otp25", "Debian 12's erlang 1:25.2.3+dfsg-1+deb12u4"),
    27: Otp(27, "15.2.7", "27.3.4.1", "", "trixie's erlang 1:27.3.4.1+dfsg-1+deb13u4"),
}
DEFAULT_MAJOR = 27
# Where the main build says the OTP 27 toolchain is (cmake/Superbuild.cmake).
TOOLCHAIN_ENV = "otp-{major}.env"
# Debian 12's own OTP 25 (erlang-base) and Elixir 1.14 (elixir).
DEBIAN_OTP_BIN = Path("/usr/lib/erlang/bin")


class OtpError(Exception):
    """One line naming what is wrong and what to do."""


def otp_major(erts_vsn: str) -> Optional[int]:
    """The OTP major of an ERTS version: ERTS 11 came with OTP 23, and each OTP major
    since has its own ERTS major (13 is OTP 25, 15 is OTP 27). None for older or
    unparsable versions."""
    m = re.fullmatch(r"(\d+)(\.\d+)*", erts_vsn.strip())
    if not m or int(m.group(1)) < 11:
        return None
    return int(m.group(1)) + 12


def supported_text() -> str:
    return " and ".join(f"OTP {o.otp_version} (ERTS {o.erts_vsn})" for o in SUPPORTED.values())


@dataclass(frozen=True)
class Choice:
    otp: Otp
    note: str = ""     # one line when the release's ERTS is another version of the major


def choose(erts_vsn: str, what: str) -> Choice:
    """The /init major for a release built for ERTS_VSN (WHAT names the release and the
    file the version came from). The same version: no note; another version of a major we
    build: accepted, with one line naming both; any other major: OtpError."""
    major = otp_major(erts_vsn)
    otp = SUPPORTED.get(major)
    if otp is None:
        built = f"OTP {major}" if major else "an OTP older than 23"
        raise OtpError(
            f"{what} was built for ERTS {erts_vsn} ({built}), which MicroBEAM has no /init for: "
            f"it supports {supported_text()}; rebuild the release with one of them, e.g. "
            f"`microbeam otp {DEFAULT_MAJOR} -- mix release` (docs/otp.md)")
    if erts_vsn == otp.erts_vsn:
        return Choice(otp)
    return Choice(otp, f"{what} was built for ERTS {erts_vsn} (OTP {major}); /init has ERTS "
                       f"{otp.erts_vsn} (OTP {otp.otp_version}): accepted, same major (the "
                       f"release's own OTP applications, ERTS {otp.erts_vsn}'s preloaded modules)")


def init_name(otp: Otp, crypto: bool) -> str:
    return ("microbeam-init-crypto" if crypto else "microbeam-init") + otp.init_suffix


def read_env_file(path: Path) -> dict:
    """NAME=VALUE lines of the build's otp-MAJOR.env."""
    out = {}
    for line in path.read_text().splitlines():
        name, eq, value = line.partition("=")
        if eq:
            out[name.strip()] = value.strip()
    return out


def toolchain_bins(major: int, out: Path = None) -> list:
    """The directories to put first on PATH for MAJOR's toolchain. OtpError if MAJOR is
    not built here or its toolchain is not there yet (the main build makes it)."""
    if major not in SUPPORTED:
        raise OtpError(f"OTP {major}: not supported; MicroBEAM supports {supported_text()}")
    if major == 25:
        if not (DEBIAN_OTP_BIN / "erl").exists():
            raise OtpError(f"{DEBIAN_OTP_BIN}/erl missing: install Debian's erlang with "
                           "`microbeam setup`")
        return [str(DEBIAN_OTP_BIN)]
    env_file = (out or paths.out_dir()) / TOOLCHAIN_ENV.format(major=major)
    if not env_file.is_file():
        raise OtpError(f"{env_file}: missing: run `microbeam build` (it builds the OTP {major} "
                       "toolchain)")
    env = read_env_file(env_file)
    bins = [env.get("ELIXIR_BIN", ""), env.get("OTP_BIN", "")]
    for b in bins:
        if not b or not (Path(b).parent / ".done").is_file():
            raise OtpError(f"{env_file}: the OTP {major} toolchain ({b or 'OTP_BIN/ELIXIR_BIN'}) "
                           "is not built: run `microbeam build`")
    return bins


def command_env(major: int, base: dict = None, out: Path = None) -> dict:
    """The environment for a command run with MAJOR's toolchain: its bin directories
    first on PATH, Hex kept offline unless the caller says otherwise."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join(toolchain_bins(major, out) + [env.get("PATH", "/usr/bin:/bin")])
    env.setdefault("HEX_OFFLINE", "1")
    return env


def run_with(major: int, argv: list, build) -> int:
    """`microbeam otp MAJOR -- CMD...`: builds the toolchain if needed (BUILD is the main
    build), then execs CMD with it on PATH."""
    if not argv:
        raise OtpError("otp: no command given (e.g. `microbeam otp 27 -- mix release`)")
    if major not in SUPPORTED:
        raise OtpError(f"OTP {major}: not supported; MicroBEAM supports {supported_text()}")
    try:
        env = command_env(major)
    except OtpError:
        if major == 25:
            raise
        build()
        env = command_env(major)
    try:
        os.execvpe(argv[0], argv, env)
    except OSError as e:
        raise OtpError(f"otp {major}: cannot run {argv[0]}: {e.strerror}")
