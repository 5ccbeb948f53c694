"""The rest of erlinit's duties in a real guest (one TCG boot): microbeam.limits,
microbeam.core_pattern and microbeam.cwd as the BEAM sees them. The namespace tests
(tests/pid1/test_records.py) cover the limits and cwd too, but not the core pattern:
a container's /proc/sys is the host's."""

import base64
import unittest

from tests.qemu.test_boot import MISSING, SKIP_WHY, boot, save_console

KEYS = ("microbeam.limits=nofile:4096:8192,core:unlimited:unlimited "
        "microbeam.core_pattern=/tmp/core.%e.%p microbeam.cwd=/tmp")
REPORT = ('{ok, P} = file:read_file("/proc/sys/kernel/core_pattern"), {ok, C} = file:get_cwd(), '
          '{ok, L} = file:read_file("/proc/self/limits"), '
          'io:format("keys pattern=~s cwd=~s~n~skeys end~n", [string:trim(P), C, L])')


@unittest.skipIf(MISSING, SKIP_WHY)
class ProcessKeys(unittest.TestCase):
    def test_limits_core_pattern_and_cwd(self):
        expr = base64.b64encode(REPORT.encode()).decode()
        guest = boot(f"{KEYS} microbeam.eval={expr}")
        try:
            m = guest.wait_for_console(r"keys pattern=(\S+) cwd=(\S+)\r?\n((?:.|\n)*?)keys end", 120)
        finally:
            save_console(guest, "process_keys")
            guest.kill()
        self.assertEqual(m.group(1), "/tmp/core.%e.%p")
        self.assertEqual(m.group(2), "/tmp")
        self.assertRegex(m.group(3), r"(?m)^Max open files\s+4096\s+8192\s")
        self.assertRegex(m.group(3), r"(?m)^Max core file size\s+unlimited\s+unlimited\s")
        self.assertNotRegex(guest.console_text(), r"microbeam: microbeam\.(limits|core_pattern|cwd)")  # no complaint


if __name__ == "__main__":
    unittest.main()
