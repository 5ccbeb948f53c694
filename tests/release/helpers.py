"""What the release tests share: the tests' environment, an example built into a release,
that release through `microbeam build --release`, an image's file list and hard lines,
and the wait for a booted guest's first HTTP answer.

Environment: MICROBEAM_OUT (the main build's artifacts, default <repo>/out),
MICROBEAM_TEST_ACCEL (tcg by default), MICROBEAM_BOOT_TIMEOUT (seconds, default 120).
"""

import http.client
import os
import subprocess
import sys
import time
import unittest
from pathlib import Path

# The tests' environment as the boot tests read it; importing test_boot also puts cmd/
# on the path.
from tests.qemu.test_boot import ACCEL, BOOT_TIMEOUT, OUT, REPO  # noqa: F401

MICROBEAM = [sys.executable, str(REPO / "cmd" / "microbeam")]


def build_example(name: str, rel: Path, *args, timeout=300, env=None, via=()) -> None:
    """examples/NAME/build.sh REL ARGS...: the example's release at REL. VIA goes in front
    (e.g. `microbeam otp 27 --`)."""
    subprocess.run([*via, str(REPO / "examples" / name / "build.sh"), str(rel), *map(str, args)],
                   check=True, capture_output=True, timeout=timeout, env=env)


def build_image(rel: Path, images: Path, *extra) -> str:
    """`microbeam build --release REL --out IMAGES EXTRA...` on the main build's
    artifacts; its output (the progress lines are on stderr). A failure fails the test
    with the end of stderr."""
    p = subprocess.run(MICROBEAM + ["build", "--release", str(rel), "--out", str(images), *map(str, extra)],
                       capture_output=True, text=True, timeout=1800, env=dict(os.environ, MICROBEAM_OUT=str(OUT)))
    if p.returncode != 0:
        raise AssertionError(f"microbeam build --release {' '.join(map(str, extra))} failed "
                             f"({p.returncode}):\n{p.stderr[-4000:]}")
    return p.stdout + p.stderr


def cpio_listing(cpio: Path, verbose=False) -> str:
    """The member list of a zstd-compressed newc archive (`cpio -it`, or `-itv`)."""
    return subprocess.run(f"zstd -dcq '{cpio}' | cpio -it{'v' if verbose else ''} --quiet", shell=True,
                          capture_output=True, text=True, check=True).stdout


def assert_hard_lines(test: unittest.TestCase, artifacts: Path, cpio: Path, init: str) -> None:
    """tests/image/hard_lines_test.sh on an image whose /init is ARTIFACTS/INIT."""
    p = subprocess.run([str(REPO / "tests" / "image" / "hard_lines_test.sh"), str(artifacts), str(cpio), init],
                       capture_output=True, text=True, timeout=300)
    test.assertEqual(p.returncode, 0, p.stdout + p.stderr)


def wait_http(test: unittest.TestCase, g, port: int = None, path="/") -> str:
    """The body of the first 200 from the guest's PORT (forwarded to 127.0.0.1:PORT; the
    guest's own forward by default), within BOOT_TIMEOUT."""
    port = port or g.port
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read().decode()
            if r.status == 200:
                return body
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        if time.monotonic() > deadline or not g.running():
            test.fail(f"no answer on {port}:\n" + g.console_tail(60))
        time.sleep(0.25)
