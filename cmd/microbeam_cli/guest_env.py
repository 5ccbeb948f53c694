"""`--env NAME=VALUE` (run, demo, vmm-config): the release's environment variables as
kernel parameters, which PID 1 reads (docs/kernel-cmdline.md, docs/releases.md).

A value of printable ASCII without blanks or quotes goes as it is
(`microbeam.env=NAME=VALUE`); one with blanks but no double quote goes quoted the
kernel's way (`"microbeam.env=NAME=hello world"`); anything else goes base64-encoded
(`microbeam.env_b64=NAME=...`). The guest can read its kernel command line
(/proc/cmdline): secrets belong in `build --release --env-file` instead.
"""

import base64
import re

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
PLAIN = re.compile(r'[\x21-\x7e]*')          # printable ASCII, no blank
QUOTABLE = re.compile(r'[\x20-\x7e]*')       # the same with blanks
# x86's COMMAND_LINE_SIZE is 2048 bytes for the whole line; leave room for the rest.
MAX_ENV_BYTES = 1024


class EnvError(ValueError):
    """A bad --env entry: one line naming it (without its value)."""


def env_param(entry: str) -> str:
    """One kernel parameter for `NAME=VALUE`."""
    name, eq, value = entry.partition("=")
    if not eq:
        raise EnvError(f"--env {name[:64]!r}: not NAME=VALUE")
    if not NAME.fullmatch(name):
        raise EnvError(f"--env: {name[:64]!r} is not a variable name (letters, digits, _; no digit first)")
    if "\0" in value:
        raise EnvError(f"--env: the value of {name} holds a NUL byte")
    if PLAIN.fullmatch(value) and '"' not in value:
        return f"microbeam.env={name}={value}"
    if QUOTABLE.fullmatch(value) and '"' not in value:
        return f'"microbeam.env={name}={value}"'
    encoded = base64.b64encode(value.encode("utf-8", "surrogateescape")).decode()
    return f"microbeam.env_b64={name}={encoded}"


def with_env(append: str, entries) -> str:
    """APPEND (extra kernel parameters) followed by one parameter per --env entry."""
    params = [env_param(e) for e in (entries or [])]
    size = sum(len(p) + 1 for p in params)
    if size > MAX_ENV_BYTES:
        raise EnvError(f"--env: {size} bytes of kernel command line (at most {MAX_ENV_BYTES}; the "
                       "whole line has 2048): put the variables in a file, `microbeam build "
                       "--release PATH --env-file FILE`")
    return " ".join(filter(None, [(append or "").strip(), *params]))
