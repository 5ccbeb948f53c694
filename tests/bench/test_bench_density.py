"""`microbeam bench --density`: its pure parts (reading QEMU's memory from /proc, the
summary, ratios, table, chart layout), and one small run end to end (two guests of each
of our kinds at once: booted and restored, with and without free page reporting, with
TCG's code cache capped, with one vCPU, with the host's KSM if this is root): each
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

from microbeam_cli import bench_density, bench_density_report as dreport, host_ksm  # noqa: E402
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


class OneVcpu(unittest.TestCase):
    def test_smp_1_rows_for_both_systems_after_the_small_cache(self):
        rows = {v.name: v for v in bench_density.variants(bench_density.DensitySettings())}
        for label in ("MicroBEAM", "baseline"):
            one, ksm = rows[f"{label} + TCG cache 16M, -smp 1"], rows[f"{label} + TCG cache 16M, -smp 1, KSM"]
            self.assertEqual((one.smp, one.tb_size, one.reporting, one.ksm), (1, 16, True, ""))
            self.assertEqual((ksm.smp, ksm.ksm, ksm.before), (1, "ram", one.name))
            self.assertEqual(rows[f"{label} + TCG cache 16M, KSM"].smp, 2)
        self.assertEqual({v.smp for n, v in rows.items() if "-smp 1" not in n}, {2})
        names = [v.name for v in bench_density.variants(bench_density.DensitySettings(one_vcpu=False))]
        self.assertFalse([n for n in names if "-smp 1" in n])
        self.assertIn("MicroBEAM + TCG cache 16M, KSM", names)

    def test_smp_reaches_qemu(self):
        from microbeam_cli import qemucmd
        argv = qemucmd.qemu_argv(qemucmd.VMConfig(kernel="k", initrd="i", accel="tcg", smp=1))
        self.assertEqual(argv[argv.index("-smp") + 1], "1")

    def test_ratio_is_against_the_baseline_with_as_many_vcpus(self):
        d = {"ours 1": {**variant("microbeam", True, 100, 50), "tb_size_mib": 16, "smp": 1},
             "ours 2": {**variant("microbeam", True, 120, 60), "tb_size_mib": 16, "smp": 2},
             "theirs 2": {**variant("baseline", True, 400, 300), "tb_size_mib": 16, "smp": 2},
             "theirs 1": {**variant("baseline", True, 200, 150), "tb_size_mib": 16, "smp": 1}}
        r = dreport.ratios(d)
        self.assertAlmostEqual(r["ours 1"], 0.5)
        self.assertAlmostEqual(r["ours 2"], 0.3)


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



def fake_ksm(d: Path, **values) -> Path:
    """A directory laid out like /sys/kernel/mm/ksm with VALUES in it."""
    files = {"run": 0, "pages_to_scan": 100, "sleep_millisecs": 20, "full_scans": 0,
             "pages_shared": 0, "pages_sharing": 0, "general_profit": 0, **values}
    for name, value in files.items():
        (d / name).write_text(f"{value}\n")
    return d


class Ksm(unittest.TestCase):
    def test_unavailable_says_why(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertIn("no KSM on this host", host_ksm.unavailable(Path(d) / "none", euid=0))
            fake_ksm(Path(d))
            self.assertIn("needs root", host_ksm.unavailable(Path(d), euid=1000))
            self.assertEqual(host_ksm.unavailable(Path(d), euid=0), "")

    def test_session_puts_the_settings_back_on_error(self):
        with tempfile.TemporaryDirectory() as d:
            root = fake_ksm(Path(d), run=0, pages_to_scan=123, sleep_millisecs=200)
            with self.assertRaises(KeyboardInterrupt):
                with host_ksm.Session(root) as ksm:
                    ksm.enable(5000, 20)
                    self.assertEqual(((root / "run").read_text(), (root / "pages_to_scan").read_text()),
                                     ("1\n", "5000\n"))
                    raise KeyboardInterrupt
            self.assertEqual([(root / n).read_text().strip() for n in ("run", "pages_to_scan", "sleep_millisecs")],
                             ["0", "123", "200"])

    def test_off_again_means_unmerged_first(self):
        with tempfile.TemporaryDirectory() as d:
            root, writes = fake_ksm(Path(d), run=0), []
            ksm = host_ksm.Session(root)
            real = ksm._write
            ksm._write = lambda name, value: (writes.append((name, str(value))), real(name, value))
            with ksm:
                ksm.enable(1000, 20)
            self.assertEqual([w for w in writes if w[0] == "run"], [("run", "1"), ("run", "2"), ("run", "0")])
            # KSM left running by the host: back to running, nothing unmerged
            root, writes = fake_ksm(Path(d), run=1), []
            ksm = host_ksm.Session(root)
            ksm._write = lambda name, value: (writes.append((name, str(value))), real(name, value))
            with ksm:
                ksm.enable(1000, 20)
            self.assertEqual([w for w in writes if w[0] == "run"], [("run", "1"), ("run", "1")])

    def test_session_untouched_without_enable(self):
        with tempfile.TemporaryDirectory() as d:
            root = fake_ksm(Path(d), run=1, pages_to_scan=77)
            with host_ksm.Session(root):
                pass
            self.assertEqual(((root / "run").read_text().strip(), (root / "pages_to_scan").read_text().strip()),
                             ("1", "77"))

    def test_counters(self):
        with tempfile.TemporaryDirectory() as d:
            root = fake_ksm(Path(d), full_scans=4, pages_sharing=1000, pages_shared=90)
            c = host_ksm.read_counters(root)
            self.assertEqual((c["full_scans"], c["pages_sharing"], c["pages_shared"]), (4, 1000, 90))
            self.assertNotIn("ksm_zero_pages", c)   # a counter this kernel lacks is left out

    def test_settled_needs_passes_and_a_quiet_last_one(self):
        self.assertFalse(host_ksm.settled(2, 3, 1000, 1001, 0.02))      # too few passes
        self.assertFalse(host_ksm.settled(3, 3, 1000, 2000, 0.02))      # still merging
        self.assertTrue(host_ksm.settled(3, 3, 1990, 2000, 0.02))
        self.assertFalse(host_ksm.settled(5, 3, 0, 0, 0.02))            # nothing merged yet
        self.assertTrue(host_ksm.settled(6, 3, 0, 0, 0.02))             # nor will it be

    def test_wait_settled_times_out_and_says_so(self):
        with tempfile.TemporaryDirectory() as d:
            root = fake_ksm(Path(d))
            with host_ksm.Session(root) as ksm:
                out = ksm.wait_settled(3, timeout=0.2, poll=0.05)
            self.assertTrue(out["timed_out"])
            self.assertEqual(out["passes"], 0)

    def test_scan_rate(self):
        # 250,000 pages in 5 s at 20 ms a batch: 250 batches of 1,001
        self.assertEqual(host_ksm.scan_rate(250_000, 5.0, 20), 1001)
        self.assertEqual(host_ksm.scan_rate(10, 5.0, 20), 100)

    def test_ksm_rows_compare_with_the_baseline_under_ksm(self):
        names = [v.name for v in bench_density.variants(bench_density.DensitySettings())]
        self.assertIn("MicroBEAM + KSM", names)
        self.assertIn("baseline + KSM", names)
        self.assertNotIn("MicroBEAM + KSM", [v.name for v in bench_density.variants(
            bench_density.DensitySettings(ksm=False))])
        d = {"ours": {**variant("microbeam", True, 100, 50), "tb_size_mib": 32, "ksm": "ram"},
             "theirs": {**variant("baseline", True, 400, 300), "tb_size_mib": 32},
             "theirs, ksm": {**variant("baseline", True, 200, 150), "tb_size_mib": 32, "ksm": "ram"}}
        self.assertAlmostEqual(dreport.ratios(d)["ours"], 0.5)

    def test_ksm_note(self):
        v = {**variant("microbeam", True, 100 * 1024, 50 * 1024), "ksm": "ram",
             "ksm_counters": {"passes": 3, "wait_s": 9.5, "pages_to_scan": 1001, "ksmd_cpu_s": 8.1,
                              "pages_sharing": 5000, "pages_shared": 700,
                              "before": {"pss_total_kib": 600 * 1024}}}
        note = dreport.ksm_note("MicroBEAM + KSM", v)
        self.assertIn("pages_sharing 5000", note)
        self.assertIn("fleet PSS 600 -> 300 MiB", note)
        d = {"settings": {"guests": 3}, "variants": {
            "baseline + KSM": {"system": "baseline", "ksm": "ram", "unavailable": "KSM needs root (...)"}}}
        d["ratios"] = dreport.ratios(d["variants"])
        self.assertIn("baseline + KSM: not measured: KSM needs root", dreport.table(d))
        ET.fromstring(dreport.svg(d))

@unittest.skipIf(os.environ.get("MICROBEAM_BENCH_QUICK") == "0", "MICROBEAM_BENCH_QUICK=0")
@unittest.skipIf(not (OUT / "microbeam.cpio").is_file(), "build first: cmd/microbeam build")
class SmallRun(unittest.TestCase):
    def test_two_of_each_of_our_kinds_serve_and_are_measured(self):
        from microbeam_cli import bench
        settings = bench_density.DensitySettings(guests=2, settle_s=3.0, baseline=False)
        ours = bench.System("microbeam", OUT / "bzImage", OUT / "microbeam.cpio", "microvm", 128, 128)
        ksm_before = {n: (host_ksm.SYSFS / n).read_text() for n in host_ksm.TUNABLES} \
            if not host_ksm.unavailable() else None
        result = bench_density.measure({"microbeam": ours}, settings, lambda m: None, bench.wait_first_200)
        self.assertEqual(len(result["variants"]), 12)
        for name in ("MicroBEAM + KSM", "MicroBEAM + TCG cache 16M, KSM", "MicroBEAM + TCG cache 16M, -smp 1, KSM"):
            v = result["variants"].pop(name)
            if ksm_before is None:
                self.assertTrue(v["unavailable"], name)
                continue
            # ksmd merged pages of the two copies, and the host's settings are as they were
            self.assertGreater(v["ksm_counters"]["pages_sharing"], 0, name)
            self.assertGreaterEqual(v["ksm_counters"]["passes"], settings.ksm_min_passes, name)
            self.assertLess(v["total_pss_kib"], v["ksm_counters"]["before"]["pss_total_kib"], name)
            self.assertEqual(v.get("serving"), 2, f"{name}: {v}")
            self.assertEqual({n: (host_ksm.SYSFS / n).read_text() for n in host_ksm.TUNABLES}, ksm_before)
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
