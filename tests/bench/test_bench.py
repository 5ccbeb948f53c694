"""The benchmark: its pure parts (statistics, parsing, bisection, reports), and one quick
run end to end (`microbeam bench --quick`: one boot each, few requests, coarse memory
floor) that must write valid JSON and SVG. The quick run is not a timed test: it only
proves the benchmark works; the figures come from the full run (docs/benchmarks.md).

Environment:
  MICROBEAM_OUT           artifact directory (default <repo>/out)
  MICROBEAM_BENCH_QUICK   0 to skip the quick run (e.g. while editing the pure parts)
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli import bench_report as report  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")


def sample_result():
    def system(total, first, floor):
        return {"sizes": {"kernel": 100, "initramfs_compressed": total - 100, "total": total,
                          "components": {"/init": 50, "app kernel": 20}},
                "boot": {"tcg": {"first_200_s": report.spread([first, first + 1]),
                                 "kernel_to_init_s": report.spread([1.0]),
                                 "marks_median_s": {"release_started": first - 1}}},
                "memory_floor_mib": floor,
                "steady": {"mem_used_kib": 1000, "requests_per_s": 500.0}}
    r = {"date": "2026-11-24T00:00:00+00:00", "host": {"cpu": "x", "cpus": 2}, "accels": ["tcg"],
         "systems": {"microbeam": system(6_000_000, 4.0, 40), "baseline": system(60_000_000, 20.0, 200)}}
    r["targets"] = {"met": report.verdicts(r)}
    return r


class Statistics(unittest.TestCase):
    def test_spread_counts_failures_apart(self):
        s = report.spread([3.0, None, 1.0, 2.0])
        self.assertEqual((s["median"], s["min"], s["max"], s["n"], s["failed"]), (2.0, 1.0, 3.0, 3, 1))
        self.assertIsNone(report.spread([None])["median"])

    def test_ratio(self):
        self.assertEqual(report.ratio(1, 4), 0.25)
        self.assertIsNone(report.ratio(None, 4))
        self.assertIsNone(report.ratio(1, 0))


class Parsing(unittest.TestCase):
    def test_timeline_line(self):
        console = ("noise\ndemo: boot timeline: init_entered=1018.4ms erl_start=1062.4ms "
                   "release_started=3542.0ms first_request=3854.0ms\n")
        marks = report.parse_timeline(console)
        self.assertAlmostEqual(marks["init_entered"], 1.0184)
        self.assertAlmostEqual(marks["first_request"], 3.854)
        self.assertEqual(report.parse_timeline("no line"), {})

    def test_kernel_to_init(self):
        self.assertEqual(report.parse_kernel_to_init("[    1.013194] Run /init as init process"), 1.013194)
        self.assertIsNone(report.parse_kernel_to_init("[    1.0] something else"))

    def test_wrk(self):
        text = ("Running 2s test @ http://127.0.0.1:1/health\n  1 threads and 4 connections\n"
                "  3021 requests in 2.00s, 400.12KB read\n"
                "  Socket errors: connect 0, read 1, write 0, timeout 2\n"
                "  Non-2xx or 3xx responses: 4\nRequests/sec:   1510.22\n")
        self.assertEqual(report.parse_wrk(text), {"requests_per_s": 1510.22, "requests": 3021, "errors": 7})


class Bisection(unittest.TestCase):
    def test_finds_the_floor_within_the_resolution(self):
        floor, tried = report.bisect_floor(lambda m: m >= 37, 8, 128, 4)
        self.assertTrue(37 <= floor <= 41, (floor, tried))
        self.assertEqual(tried[0], (128, True))

    def test_none_when_even_the_top_fails(self):
        floor, tried = report.bisect_floor(lambda m: False, 8, 128, 4)
        self.assertIsNone(floor)
        self.assertEqual(tried, [(128, False)])


class Reports(unittest.TestCase):
    def test_table_has_every_figure_and_ratio(self):
        text = report.table(sample_result())
        for row in ("size: total", "boot to first HTTP 200, tcg", "memory floor", "requests/s"):
            self.assertIn(row, text)
        self.assertIn("0.100", text)  # total size ratio 6 MB / 60 MB
        self.assertIn("targets: total_size met, boot_ratio_tcg met, memory_floor met", text)

    def test_otp_majors_side_by_side(self):
        r = sample_result()
        r["systems"]["microbeam-otp25"] = json.loads(json.dumps(r["systems"]["microbeam"]))
        r["systems"]["microbeam-otp25"]["sizes"]["total"] = 5_000_000
        r["systems"]["microbeam-otp25"]["steady"]["requests_per_s"] = 400.0
        r["otp_majors"] = report.otp_comparison(r, "microbeam", "microbeam-otp25", "tcg")
        f = r["otp_majors"]["figures"]
        self.assertEqual(f["total_bytes"], {"otp27": 6_000_000, "otp25": 5_000_000, "ratio": 1.2})
        self.assertEqual(f["requests_per_s"]["ratio"], 1.25)
        self.assertEqual(f["erl_start_to_release_started_tcg_s"]["otp27"], None)  # no erl_start mark
        text = report.otp_table(r)
        for part in ("OTP 27", "OTP 25", "27/25", "memory_floor_mib", "first_200_tcg_s", "1.200"):
            self.assertIn(part, text)
        self.assertEqual(report.otp_table(sample_result()), "")
        texts = " ".join(t.text or "" for t in ET.fromstring(report.svg(r)).iter("{http://www.w3.org/2000/svg}text"))
        self.assertIn("MicroBEAM, OTP 25", texts)

    def test_svg_is_well_formed_and_names_both_systems(self):
        root = ET.fromstring(report.svg(sample_result()))
        texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        self.assertIn("MicroBEAM", texts)
        self.assertIn("baseline", texts)
        self.assertIn("Boot to first HTTP 200", texts)


class CowboyRow(unittest.TestCase):
    """examples/cowboy_hello's image and boot next to the demo's (bench_cowboy.py)."""

    def test_rows_against_the_demo(self):
        from microbeam_cli import bench_cowboy
        r = sample_result()
        r["cowboy"] = {"sizes": {"total": 9_000_000}, "first_200_s": report.spread([4.4, 4.6])}
        text = report.table(r)
        self.assertIn("cowboy_hello: image total, bytes (ratio: to the demo's)", text)
        rows = dict((row[0], row) for row in bench_cowboy.rows(r))
        self.assertEqual(rows["cowboy_hello: image total, bytes (ratio: to the demo's)"][3], "1.500")
        boot = rows["cowboy_hello: boot to first GET / 200, tcg (ratio: to the demo's)"]
        self.assertEqual(boot[1], "4.50s (4.40-4.60)")
        self.assertEqual(boot[3], "1.000")     # the demo's median is 4.5 too

    def test_a_failed_build_is_one_row(self):
        from microbeam_cli import bench_cowboy
        r = sample_result()
        r["cowboy"] = {"error": "examples/cowboy_hello: building the release failed: x"}
        self.assertEqual(bench_cowboy.rows(r)[0][1], r["cowboy"]["error"])


def _text_boxes(svg_text):
    """(x0, top, x1, bottom, text) of every <text>, from its baseline and font size,
    with a width of 0.62 em a character (DejaVu Sans' average is below that)."""
    boxes = []
    for t in ET.fromstring(svg_text).iter("{http://www.w3.org/2000/svg}text"):
        size = float(t.get("font-size", 12))
        x, y = float(t.get("x")), float(t.get("y"))
        boxes.append((x, y - size, x + 0.62 * size * len(t.text or ""), y + 0.25 * size, t.text))
    return boxes


class NoOverlap:
    """For a chart's tests: no text box of the SVG runs into another."""

    def assert_no_overlap(self, svg_text):
        boxes = _text_boxes(svg_text)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                self.assertTrue(apart, f"{a[4]!r} overlaps {b[4]!r}")


class ChartLayout(NoOverlap, unittest.TestCase):
    """The chart read as a picture: no label runs into another (a legend used to run
    into the next panel's title)."""

    def test_sample_chart(self):
        self.assert_no_overlap(report.svg(sample_result()))

    def test_many_legend_entries_wrap_below_the_title(self):
        r = sample_result()
        for name, system in r["systems"].items():
            system["sizes"]["components"] = {f"app component_{i}": 10 + i for i in range(14)}
        self.assert_no_overlap(report.svg(r))

    def test_the_published_chart(self):
        bench = REPO / "docs" / "bench.json"
        self.assert_no_overlap(report.svg(json.loads(bench.read_text())))


@unittest.skipIf(os.environ.get("MICROBEAM_BENCH_QUICK") == "0", "MICROBEAM_BENCH_QUICK=0")
@unittest.skipIf(not (OUT / "microbeam.cpio").is_file(), "build first: cmd/microbeam build")
class QuickRun(unittest.TestCase):
    def test_quick_bench_writes_json_and_svg(self):
        with tempfile.TemporaryDirectory(prefix="microbeam-bench-") as tmp:
            code = ("import sys; from pathlib import Path; sys.path.insert(0, 'cmd'); "
                    "from microbeam_cli import bench; "
                    f"sys.exit(bench.bench(True, Path({tmp!r})))")
            r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                               text=True, timeout=2400)
            self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
            result = json.loads((Path(tmp) / "bench.json").read_text())
            ET.fromstring((Path(tmp) / "bench.svg").read_text())
        self.assertIn("boot to first HTTP 200, tcg", r.stdout)
        for name in ("microbeam", "baseline"):
            s = result["systems"][name]
            self.assertGreater(s["sizes"]["total"], 0)
            self.assertIsNotNone(s["boot"]["tcg"]["first_200_s"]["median"], f"{name} did not boot")
            self.assertIsNotNone(s["memory_floor_mib"], name)
            self.assertIsNotNone(s["steady"].get("requests_per_s"), name)
        self.assertLess(result["ratios"]["total_size"], 1.0)
        # Both OTP majors side by side: the demo on OTP 25 booted too.
        s = result["systems"]["microbeam-otp25"]
        self.assertIsNotNone(s["boot"]["tcg"]["first_200_s"]["median"], "the OTP 25 demo did not boot")
        self.assertIsNotNone(result["otp_majors"]["figures"]["requests_per_s"]["otp25"])
        self.assertIn("MicroBEAM by OTP major", r.stdout)


if __name__ == "__main__":
    unittest.main()
