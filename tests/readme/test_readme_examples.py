"""Every command in the README's code blocks, run as written, in order, from the
repository's top: what a newcomer types is what is tested.

How each kind of line is checked:
- `./cmd/microbeam demo` and `run` without `--eval`: started; the app must answer on
  127.0.0.1:8080 (the README's `curl localhost:8080/metrics`), then Ctrl-C (SIGINT) must
  end it with status 0.
- `run ... --eval EXPR`: must exit 0.
- `./cmd/microbeam test`: this suite itself; checked to be what .ci/run runs.
- `qemu-system-x86_64 ...`: must be one of docs/kernel-cmdline.md's plain QEMU lines,
  which tests/qemu/test_doc_recipes.py boots as written.
- anything else: run with bash, must exit 0.
A line of another kind fails the test, so a new example cannot go untested.
Port 8080 on the host must be free (it is what the README promises to use).
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
import unittest
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.qemu.test_doc_recipes import recipes  # noqa: E402

README = REPO / "README.md"
SERVE_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "120")) + 600  # demo builds first


def commands(markdown: str) -> list:
    """The commands of the README's indented code blocks: continuations joined, comments
    after `#` dropped (outside quotes)."""
    found, block = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("    ") and line.strip():
            block.append(line[4:])
            continue
        if block:
            text = re.sub(r"\\\n\s*", "", "\n".join(block))
            for cmd in text.splitlines():
                words = shlex.split(cmd, comments=True)
                if words:
                    found.append(shlex.join(words) if not words[0].startswith("qemu") else cmd.split(" #")[0].strip())
            block = []
    return found


def kind(command: str) -> str:
    words = shlex.split(command)
    if words[0] == "qemu-system-x86_64":
        return "qemu"
    if words[:2] == ["./cmd/microbeam", "test"]:
        return "suite"
    if words[:2] == ["./cmd/microbeam", "demo"] or (words[:2] == ["./cmd/microbeam", "run"]
                                                    and "--eval" not in words):
        return "serve"
    return "status"


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


class ReadmeExamples(unittest.TestCase):
    def test_readme_examples_run_as_written(self):
        found = commands(README.read_text())
        self.assertTrue(any(kind(c) == "serve" for c in found), found)
        for command in found:
            with self.subTest(command=command):
                getattr(self, "check_" + kind(command))(command)

    def check_suite(self, command):
        ci = (REPO / ".ci" / "run").read_text()
        self.assertIn(command, ci)

    def check_qemu(self, command):
        docs = [re.sub(r"\s+", " ", r) for r in recipes((REPO / "docs" / "kernel-cmdline.md").read_text())]
        self.assertIn(re.sub(r"\s+", " ", command), docs, "not one of the doc's tested lines")

    def check_status(self, command):
        t0 = time.monotonic()
        p = subprocess.run(["bash", "-c", command], cwd=REPO, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=SERVE_TIMEOUT)
        self.assertEqual(p.returncode, 0, f"{command}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
        print(f"\n  {time.monotonic() - t0:.1f} s, exit 0: {command}", flush=True)

    def check_serve(self, command):
        self.assertFalse(answers("http://127.0.0.1:8080/health"), "something already serves on 8080")
        log = open(REPO / "build" / "readme-example.log", "w+b") if (REPO / "build").is_dir() \
            else open(os.devnull, "w+b")
        t0 = time.monotonic()
        p = subprocess.Popen(["bash", "-c", "exec " + command], cwd=REPO, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while not answers("http://127.0.0.1:8080/metrics"):
                self.assertIsNone(p.poll(), f"{command} ended ({p.returncode}) before serving")
                self.assertLess(time.monotonic() - t0, SERVE_TIMEOUT, f"{command}: no answer")
                time.sleep(0.5)
            served = time.monotonic() - t0
            p.send_signal(signal.SIGINT)         # the terminal's Ctrl-C
            rc = p.wait(timeout=60)
            self.assertEqual(rc, 0, f"{command}: Ctrl-C gave {rc}")
            print(f"\n  served after {served:.1f} s, Ctrl-C -> 0: {command}", flush=True)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            log.close()


class Parsing(unittest.TestCase):
    def test_commands_and_kinds(self):
        md = ("text\n\n    ./cmd/microbeam demo     # boots\n    ./cmd/microbeam run --image d \\\n"
              "        --eval 'ok'   # status\n\nmore\n")
        self.assertEqual(commands(md), ["./cmd/microbeam demo", "./cmd/microbeam run --image d --eval ok"])
        self.assertEqual([kind(c) for c in commands(md)], ["serve", "status"])


if __name__ == "__main__":
    unittest.main()
