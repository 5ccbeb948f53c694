"""The guest's wall clock and entropy, on each machine `microbeam run` offers.

One boot of the demo image per machine (microvm, q35) under TCG, with `--eval` printing
os:system_time(millisecond) on the console: the host reads the line as it appears and
its own clock must be within 2 s (certificate checks fail on a wrong clock). The same
boot shows the kernel's CRNG ready ("random: crng init done") before the BEAM runs,
with the virtio-rng device that `microbeam run` adds; its time goes to the test's output.

Environment: MICROBEAM_OUT (default <repo>/out), MICROBEAM_TEST_ACCEL (tcg by default),
MICROBEAM_BOOT_TIMEOUT (seconds, default 120).
"""

import os
import re
import sys
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli import qemucmd  # noqa: E402
from microbeam_cli.vm import Guest  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
ACCEL = os.environ.get("MICROBEAM_TEST_ACCEL", "tcg")
BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "120"))
CLOCK_EXPR = 'io:format("microbeam-clock ~b~n", [os:system_time(millisecond)]), ok'
CRNG_DONE = re.compile(r"^\[\s*(\d+\.\d+)\] random: crng init done", re.M)
RUN_INIT = re.compile(r"^\[\s*(\d+\.\d+)\] Run /init", re.M)


@unittest.skipUnless((OUT / "bzImage").is_file() and (OUT / "microbeam.cpio").is_file(),
                     "main build missing (cmd/microbeam build)")
class ClockAndEntropy(unittest.TestCase):

    def check_machine(self, machine: str):
        append = "panic=-1 " + qemucmd.eval_kernel_param(CLOCK_EXPR)
        with Guest.start(OUT / "bzImage", OUT / "microbeam.cpio", append=append, machine=machine,
                         memory=128, debug_exit=True, accel=ACCEL) as g:
            m = g.wait_for_console(r"microbeam-clock (\d+)", BOOT_TIMEOUT)
            host_ms = time.time() * 1000
            status = g.wait_exit(60)
            console = g.console_text()
        self.assertEqual(status, 0, console[-3000:])
        skew = host_ms - int(m.group(1))
        self.assertLess(abs(skew), 2000, f"{machine}: guest clock {skew:+.0f} ms off the host's")
        crng = CRNG_DONE.search(console)
        self.assertIsNotNone(crng, f"{machine}: no 'random: crng init done' on the console")
        run_init = RUN_INIT.search(console)
        self.assertIsNotNone(run_init)
        print(f"{machine}: guest clock {skew:+.0f} ms behind the host (console read delay "
              f"included); crng init done at {crng.group(1)} s, Run /init at {run_init.group(1)} s")

    def test_microvm(self):
        self.check_machine("microvm")

    def test_q35(self):
        self.check_machine("q35")


if __name__ == "__main__":
    unittest.main()
