"""bench_native's pure parts: -init_debug's step times, CPU time of a start."""
import os
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "cmd"))

from microbeam_cli import bench_native  # noqa: E402

# What OTP 27's init prints with -init_debug (shortened), as the guest's console has it.
CONSOLE = """microbeam: starting ERTS 15.2.7 (OTP 27.3.4.1), release 0.1.0 at /release
{progress,preloaded}
{path,["$ROOT/lib/kernel-10.2.7.1/ebin"]}
{done_in_microseconds,9}
{primLoad,[error_handler,application,code,lists]}
{done_in_microseconds,26461}
{primLoad,['Elixir.Access','Elixir.Application']}
{done_in_microseconds,2199}
{progress,kernel_load_completed}
{start,heart}
{done_in_microseconds,16}
{apply,{application,load,[{application,stdlib,[{description,"ERTS  CXC 138 10"}]}]}}
{done_in_microseconds,20}
{apply,{application,load,[{application,demo,[{description,"demo"}]}]}}
{done_in_microseconds,15172}
{progress,applications_loaded}
{apply,{application,start_boot,[kernel,permanent]}}
{running_on_load_handler,prim_tty}
{on_load_handler_returned_ok,prim_tty}
{done_in_microseconds,321}
{done_in_microseconds,6131}
{apply,{application,start_boot,[demo,permanent]}}
demo: listening on port 51843
{done_in_microseconds,1800}
{progress,started}
"""


class InitDebugPhases(unittest.TestCase):
    def test_sums_each_kind_of_step(self):
        phases = bench_native.init_debug_phases(CONSOLE)
        self.assertAlmostEqual(phases["boot_script_loading"], (26461 + 2199) / 1e6)
        self.assertAlmostEqual(phases["application_load"], (20 + 15172) / 1e6)
        # The on_load handler's 321 us is its own step, inside kernel's start (6131).
        self.assertAlmostEqual(phases["application_start"], (6131 + 1800) / 1e6)

    def test_no_times_no_phases(self):
        # OTP 25's init prints the steps without times; a console without -init_debug none.
        self.assertEqual(bench_native.init_debug_phases("{progress,preloaded}\n{primLoad,[a]}\n"), {})
        self.assertEqual(bench_native.init_debug_phases(""), {})

    def test_a_stray_done_line_is_ignored(self):
        self.assertEqual(bench_native.init_debug_phases("{done_in_microseconds,5}\n"), {})


@unittest.skipIf(os.geteuid() != 0, "needs root (network namespaces)")
class Namespaces(unittest.TestCase):
    def test_the_poller_reaches_a_server_in_a_new_network_namespace(self):
        """The baseline's way: `unshare --net`, lo brought up by the polling thread, which
        joined the namespace; here a Python server on the demo's port answers 200."""
        server = ("import http.server as h\n"
                  "class H(h.BaseHTTPRequestHandler):\n"
                  "    def do_GET(self): self.send_response(200); self.end_headers()\n"
                  f"h.HTTPServer(('127.0.0.1', {bench_native.DEMO_PORT}), H).serve_forever()\n")
        p = subprocess.Popen(["unshare", "--net", "--", sys.executable, "-c", server],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            t = bench_native._first_200_in_netns(p, 20, loopback_up=True)
        finally:
            bench_native._kill_tree(p)
        self.assertIsNotNone(t)


class CpuSeconds(unittest.TestCase):
    def test_no_such_process(self):
        self.assertIsNone(bench_native._cpu_seconds(2 ** 22 + 12345))


if __name__ == "__main__":
    unittest.main()
