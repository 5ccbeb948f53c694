"""`microbeam bench --density`: its pure parts (reading QEMU's memory from /proc, the
summary, ratios, table, chart layout), and one small run end to end (two guests of each
of our kinds at once: booted and restored, with and without free page reporting, with
TCG's code cache capped): each
guest serves, each QEMU's PSS and guest RAM are read. Not a timed test: the figures come
from the full run (docs/benchmarks.md, "Density").

Environment:
  MICROBEAM_OUT            artifact directory (default <repo>/out)
  MICROBEAM_BENCH_QUICK    0 to skip the small run
"""

import json
import os
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli import bench_density, bench_density_report as dreport  # noqa: E402
from tests.bench.test_bench import NoOverlap  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")

SMAPS = """\
55d0c0000000-55d0c0100000 r-xp 00000000 08:01 123 /usr/bin/qemu-system-x86_64
Size:               1024 kB
Rss:                 800 kB
Pss:                  50 kB
7f0000000000-7f0010000000 rw-p 00000000 00:00 0
Size:             262144 kB
Rss:               61440 kB
Pss:               61440 kB
7f0010000000-7f0010001000 ---p 00000000 00:00 0
Size:                  4 kB
Rss:                   0 kB
Pss:                   0 kB
7f0020000000-7f0060000000 rwxp 00000000 00:00 0
Size:            1048576 kB
Rss:              100000 kB
Pss:              100000 kB
"""


def variant(system, reporting, pss, ram, restored=False):
    samples = [{"pss_kib": pss, "rss_kib": pss, "ram_pss_kib": ram, "serving": True, "first_200_s": 2.0}] * 3
    v = dreport.summarise(samples)
    v.update({"system": system, "reporting": reporting, "restored": restored})
    return v


def sample_density():
    d = {"settings": {"guests": 3},
         "variants": {"MicroBEAM": variant("microbeam", False, 90_000, 40_000),
                      "MicroBEAM, free page reporting": variant("microbeam", True, 60_000, 20_000),
                      "baseline": variant("baseline", False, 300_000, 180_000),
                      "baseline, free page reporting": variant("baseline", True, 240_000, 120_000),
                      "MicroBEAM restored, reporting": variant("microbeam", True, 50_000, 20_000, True)},
         "host_available_kib": 20_000_000}
    d["ratios"] = dreport.ratios(d["variants"])
    d["fit"] = {"available_kib": 20_000_000, "guests": {"MicroBEAM": 222}}
    return d


class Parsing(unittest.TestCase):
    def test_smaps_rollup(self):
        text = ("7ffd0000-7ffe0000 ---p 00000000 00:00 0 [rollup]\nRss:   1234 kB\nPss:   1000 kB\n"
                "Pss_Anon:   900 kB\n")
        self.assertEqual(dreport.parse_smaps_rollup(text), {"Rss": 1234, "Pss": 1000, "Pss_Anon": 900})

    def test_guest_ram_is_the_anonymous_mapping_of_its_size(self):
        self.assertEqual(dreport.guest_ram(SMAPS, 256), {"Rss": 61440, "Pss": 61440})
        self.assertEqual(dreport.guest_ram(SMAPS, 128), {})

    def test_small_pages_and_shared_ram_file(self):
        self.assertEqual(bench_density.small_pages_args(256),
                         ["-object", "memory-backend-memfd,id=mbram,size=256M", "-machine", "memory-backend=mbram"])
        args = bench_density.shared_ram_args(Path("/s/x.ram"), 128)
        self.assertIn("memory-backend-file,id=mbram,size=128M,mem-path=/s/x.ram,share=on", args)
        memfd = SMAPS.replace("7f0000000000-7f0010000000 rw-p 00000000 00:00 0",
                              "7f0000000000-7f0010000000 rw-s 00000000 00:01 77 /memfd:mbram (deleted)")
        self.assertEqual(dreport.guest_ram(memfd, 256), {"Rss": 61440, "Pss": 61440})

    def test_balloon_device_only_with_reporting(self):
        self.assertEqual(bench_density.balloon_args("microvm", False), [])
        self.assertEqual(bench_density.balloon_args("microvm", True),
                         ["-device", "virtio-balloon-device,free-page-reporting=on"])
        self.assertEqual(bench_density.balloon_args("q35", True),
                         ["-device", "virtio-balloon-pci,free-page-reporting=on"])


class CodeCacheCap(unittest.TestCase):
    def test_accel_options_reach_qemu(self):
        from microbeam_cli import qemucmd
        argv = qemucmd.qemu_argv(qemucmd.VMConfig(kernel="k", initrd="i", accel="tcg", accel_opts="tb-size=32"))
        self.assertEqual(argv[argv.index("-accel") + 1], "tcg,tb-size=32")
        argv = qemucmd.qemu_argv(qemucmd.VMConfig(kernel="k", initrd="i", accel="tcg"))
        self.assertEqual(argv[argv.index("-accel") + 1], "tcg")

    def test_capped_variants_compare_with_each_other(self):
        names = [v.name for v in bench_density.variants(bench_density.DensitySettings(tcg_cache_mib=32))]
        self.assertIn("MicroBEAM + TCG cache 32M", names)
        self.assertIn("baseline + TCG cache 32M", names)
        self.assertIn("baseline + 4 KiB pages", names)
        d = {"a": {**variant("microbeam", True, 100, 50), "tb_size_mib": 32},
             "b": {**variant("baseline", True, 400, 200), "tb_size_mib": 0},
             "c": {**variant("baseline", True, 200, 150), "tb_size_mib": 32}}
        self.assertAlmostEqual(dreport.ratios(d)["a"], 0.5)


class Summary(unittest.TestCase):
    def test_summary_splits_guest_ram_from_the_rest(self):
        v = dreport.summarise([{"pss_kib": 100, "ram_pss_kib": 60, "serving": True},
                               {"pss_kib": 120, "ram_pss_kib": 70, "serving": False},
                               {"error": "did not start"}])
        self.assertEqual((v["guests"], v["serving"], v["total_pss_kib"]), (3, 1, 220))
        self.assertEqual(v["other_pss_kib"]["median"], 45)
        self.assertEqual(v["pss_kib"]["failed"], 1)

    def test_ratio_is_against_the_baseline_with_the_same_reporting(self):
        r = sample_density()["ratios"]
        self.assertAlmostEqual(r["MicroBEAM"], 0.3)
        self.assertAlmostEqual(r["MicroBEAM, free page reporting"], 0.25)
        self.assertAlmostEqual(r["MicroBEAM restored, reporting"], 50 / 240)
        self.assertNotIn("baseline", r)

    def test_table(self):
        text = dreport.table(sample_density())
        self.assertIn("MicroBEAM, free page reporting", text)
        self.assertIn("0.250", text)
        self.assertIn("3/3", text)
        self.assertIn("target: PSS per idle guest <= 1/3 of the baseline's: met", text)


class Chart(NoOverlap, unittest.TestCase):

    def test_sample_chart(self):
        svg = dreport.svg(sample_density(), {"date": "2026-11-29", "host": {"cpu": "x", "cpus": 2}})
        root = ET.fromstring(svg)
        texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        self.assertIn("MicroBEAM restored, reporting", texts)
        self.assertIn("guest RAM", texts)
        self.assert_no_overlap(svg)

    def test_the_published_chart(self):
        published = REPO / "docs" / "bench-density.json"
        if not published.is_file():
            self.skipTest("no docs/bench-density.json yet")
        r = json.loads(published.read_text())
        self.assert_no_overlap(dreport.svg(r["density"], r))


@unittest.skipIf(os.environ.get("MICROBEAM_BENCH_QUICK") == "0", "MICROBEAM_BENCH_QUICK=0")
@unittest.skipIf(not (OUT / "microbeam.cpio").is_file(), "build first: cmd/microbeam build")
class SmallRun(unittest.TestCase):
    def test_two_of_each_of_our_kinds_serve_and_are_measured(self):
        from microbeam_cli import bench
        settings = bench_density.DensitySettings(guests=2, settle_s=3.0, baseline=False)
        ours = bench.System("microbeam", OUT / "bzImage", OUT / "microbeam.cpio", "microvm", 128, 128)
        result = bench_density.measure({"microbeam": ours}, settings, lambda m: None, bench.wait_first_200)
        self.assertEqual(len(result["variants"]), 7)
        for name, v in result["variants"].items():
            self.assertEqual(v.get("serving"), 2, f"{name}: {v}")
            self.assertGreater(v["pss_kib"]["median"], 8 * 1024, name)
            # the guest's RAM is found, and is part of the PSS
            self.assertGreater(v["ram_pss_kib"]["median"], 4 * 1024, name)
            self.assertLess(v["ram_pss_kib"]["median"], v["pss_kib"]["median"], name)
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "x.svg").write_text(dreport.svg(result))
            ET.parse(Path(d) / "x.svg")
        self.assertIn("MicroBEAM restored", dreport.table(result))


if __name__ == "__main__":
    unittest.main()
