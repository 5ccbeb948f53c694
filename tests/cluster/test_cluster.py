"""Three microVMs on one private network (QEMU socket networking, multicast: no root, no
host setup), Erlang distribution on, with node names and a cookie from the kernel command
line and no epmd anywhere (OTP's -erl_epmd_port: every node listens on that port and
assumes the others do). Nodes a and c boot first; node b then runs `--eval`: it pings
both, calls all three over rpc, and waits; the test powers c off (QMP system_powerdown),
b sees c leave (nodedown, only a left) and exits with the result as its status.

Slow under TCG (three guests on a shared 2-core host): about a minute. Environment:
MICROBEAM_OUT, MICROBEAM_TEST_ACCEL (tcg), MICROBEAM_BOOT_TIMEOUT (seconds, default 180).
"""

import os
import random
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

from microbeam_cli import qemucmd  # noqa: E402
from microbeam_cli.vm import Guest  # noqa: E402

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
KERNEL, INITRD = OUT / "bzImage", OUT / "microbeam.cpio"
ACCEL = os.environ.get("MICROBEAM_TEST_ACCEL", "tcg")
BOOT_TIMEOUT = float(os.environ.get("MICROBEAM_BOOT_TIMEOUT", "180"))
COOKIE = "microbeam-cluster-test"
DIST_PORT = 4370


def node_append(name: str, ip: str) -> str:
    return (f'panic=-1 microbeam.hostname={name} microbeam.erl_flags="-name {name}@{ip} '
            f'-setcookie {COOKIE} -erl_epmd_port {DIST_PORT}"')


@unittest.skipUnless(KERNEL.is_file() and INITRD.is_file(), "images missing (cmd/microbeam build)")
class ThreeNodeCluster(unittest.TestCase):
    def test_cluster_forms_without_epmd_and_a_powered_off_node_leaves(self):
        net = f"mcast:230.0.0.1:{random.randint(20000, 60000)}"   # a segment of our own
        ips = {"a": "192.168.100.1", "b": "192.168.100.2", "c": "192.168.100.3"}
        node = {n: f"'{n}@{ip}'" for n, ip in ips.items()}
        guests = {}

        def start(name, extra="", debug_exit=False):
            guests[name] = Guest.start(
                KERNEL, INITRD, append=" ".join(filter(None, [node_append(name, ips[name]), extra])),
                memory=128, smp=1, accel=ACCEL, private_net=net, guest_ip=f"{ips[name]}/24",
                debug_exit=debug_exit)
            return guests[name]

        # b, once a and c are up: connect to both, rpc over all three, then watch c
        # until it goes away and check that only a is left.
        expr = (f"Others = [{node['a']}, {node['c']}], "
                "Pongs = [net_adm:ping(N) || N <- Others], "
                "{Names, Bad} = rpc:multicall([node() | Others], erlang, node, [], 30000), "
                "Epmd = gen_tcp:connect({127,0,0,1}, 4369, [], 1000), "
                "io:format(\"cluster: formed pongs ~p names ~p bad ~p epmd ~p~n\", "
                "[Pongs, lists:sort(Names), Bad, Epmd]), "
                f"erlang:monitor_node({node['c']}, true), "
                f"Left = receive {{nodedown, {node['c']}}} -> nodes() after 120000 -> timeout end, "
                "io:format(\"cluster: after c left ~p~n\", [Left]), "
                "Pongs =:= [pong, pong] andalso length(Names) =:= 3 andalso Bad =:= [] "
                f"andalso Epmd =:= {{error, econnrefused}} andalso Left =:= [{node['a']}]")
        try:
            for name in ("a", "c"):
                start(name)
            for name in ("a", "c"):
                guests[name].wait_for_console(r"demo: listening on port", BOOT_TIMEOUT)
            b = start("b", qemucmd.eval_kernel_param(expr), debug_exit=True)
            formed = b.wait_for_console(r"cluster: formed .*", BOOT_TIMEOUT)
            self.assertIn("pongs [pong,pong]", formed.group(0), b.console_tail(30))
            guests["c"].qmp("system_powerdown")       # c powers off gracefully
            self.assertEqual(guests["c"].wait_exit(60), 0, guests["c"].console_tail(20))
            status = b.wait_exit(BOOT_TIMEOUT)
            console = b.console_text()
            self.assertIn("cluster: after c left [" + node["a"].strip("'") + "]", console.replace("'", ""),
                          console[-3000:])
            self.assertEqual(status, 0, console[-3000:])
            self.assertNotIn("Kernel panic", console)
        finally:
            for g in guests.values():
                g.kill()


if __name__ == "__main__":
    unittest.main()
