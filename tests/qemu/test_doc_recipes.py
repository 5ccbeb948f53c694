"""The plain QEMU command lines of docs/kernel-cmdline.md ("Plain QEMU"), booted as
written: each is read from the doc, so the doc cannot drift from what works. Only the
host port is changed (to a free one), and `out/` points at $MICROBEAM_OUT if set.
Each must serve /health from the host under TCG, with no `ip=` (PID 1's DHCP client).
Environment: as tests/qemu/test_boot.py.
"""

import os
import re
import shlex
import subprocess
import time
import unittest
import urllib.request

from tests.qemu.test_boot import BOOT_TIMEOUT, MISSING, OUT, REPO, SKIP_WHY
from microbeam_cli.vm import free_port, spawn  # noqa: E402 (test_boot put cmd/ on the path)

DOC = REPO / "docs" / "kernel-cmdline.md"
SECTION = "## Plain QEMU"


def recipes(markdown: str) -> list:
    """The QEMU command lines (indented code blocks, continuations joined) of SECTION."""
    start = markdown.index(SECTION)
    end = markdown.find("\n## ", start + len(SECTION))
    body = markdown[start:end if end >= 0 else None]
    found, block = [], []
    for line in body.splitlines() + [""]:
        if line.startswith("    "):
            block.append(line[4:])
            continue
        if block:
            text = re.sub(r"\\\n\s*", "", "\n".join(block)).strip()
            if text.startswith("qemu-system-x86_64"):
                found.append(text)
            block = []
    return found


def localize(command: str, port: int) -> str:
    """The doc's command with PORT for the host's 8080 and the build's out/ directory."""
    command = command.replace("hostfwd=tcp:127.0.0.1:8080-", f"hostfwd=tcp:127.0.0.1:{port}-")
    if OUT.resolve() != (REPO / "out").resolve():
        command = re.sub(r"(?<![\w/])out/", shlex.quote(str(OUT)) + "/", command)
    return command


class Recipes(unittest.TestCase):
    def test_the_doc_has_the_three_machines(self):
        found = recipes(DOC.read_text())
        self.assertEqual(len(found), 3, found)
        self.assertNotIn("-M", shlex.split(found[0].split("$(")[0]))   # QEMU's default: pc
        self.assertIn("-M q35", found[1])
        self.assertIn("-M microvm", found[2])
        for command in found:
            self.assertNotIn("ip=", command)

    def test_localize(self):
        cmd = "qemu-system-x86_64 -kernel out/bzImage -nic user,hostfwd=tcp:127.0.0.1:8080-:8080"
        self.assertIn("hostfwd=tcp:127.0.0.1:5555-:8080", localize(cmd, 5555))

    @unittest.skipIf(MISSING, SKIP_WHY)
    def test_each_recipe_serves(self):
        for command in recipes(DOC.read_text()):
            with self.subTest(command=command):
                self.boot_and_ask(command)

    def boot_and_ask(self, command: str):
        port = free_port()
        log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"recipe-{port}.log"), "w+b")
        t0 = time.monotonic()
        proc = spawn(["bash", "-c", "exec " + localize(command, port)], stdin=subprocess.DEVNULL,
                     stdout=log, stderr=subprocess.STDOUT)
        try:
            status, took = None, None
            while time.monotonic() - t0 < BOOT_TIMEOUT and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                        status, took = r.status, time.monotonic() - t0
                        break
                except OSError:
                    time.sleep(0.25)
            log.seek(0)
            console = log.read().decode(errors="replace")
            self.assertEqual(status, 200, f"{command}\n{console[-3000:]}")
            self.assertNotIn("Kernel panic", console)
            self.assertRegex(console, r"microbeam: eth0: [0-9.]+/[0-9]+ by DHCP", console[-3000:])
            print(f"\n  {took:.2f} s to the first 200: {command}", flush=True)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            log.close()
            os.unlink(log.name)


if __name__ == "__main__":
    unittest.main()
