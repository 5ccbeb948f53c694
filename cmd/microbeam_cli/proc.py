"""Running host commands: echo them, run them, fail with a clear message."""

import shlex
import subprocess
import sys


class CommandError(RuntimeError):
    """A command the CLI ran failed; carries its exit status."""

    def __init__(self, argv, status):
        super().__init__(f"command failed (exit {status}): {shlex.join(map(str, argv))}")
        self.status = status


def say(msg: str) -> None:
    """One progress line on stderr (stdout stays for the command's own output)."""
    print(f"microbeam: {msg}", file=sys.stderr, flush=True)


def run(argv, *, check=True, env=None, cwd=None) -> int:
    """Runs argv with inherited stdio after echoing it; returns its exit status."""
    argv = [str(a) for a in argv]
    say("$ " + shlex.join(argv))
    status = subprocess.call(argv, env=env, cwd=cwd)
    if check and status != 0:
        raise CommandError(argv, status)
    return status


def capture(argv, *, env=None) -> subprocess.CompletedProcess:
    """Runs argv quietly and returns its CompletedProcess (text output)."""
    return subprocess.run([str(a) for a in argv], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
