"""Three microVMs on one private network (QEMU socket networking, multicast: no root, no
host setup), Erlang distribution on, with node names and a cookie from the kernel command
line and no epmd anywhere (OTP's -erl_epmd_port: every node listens on that port and
assumes the others do). Nodes b and c boot first; node a then runs `--eval`: it pings
both, calls each over rpc, and exits with the result as its status.

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
    def test_nodes_find_each_other_without_epmd(self):
        net = f"mcast:230.0.0.1:{random.randint(20000, 60000)}"   # a segment of our own
        members = {"b": "192.168.100.2", "c": "192.168.100.3"}
        guests = []
        try:
            for name, ip in members.items():
                guests.append(Guest.start(KERNEL, INITRD, append=node_append(name, ip), memory=128,
                                          smp=1, accel=ACCEL, private_net=net, guest_ip=f"{ip}/24"))
            for g in guests:
                g.wait_for_console(r"demo: listening on port", BOOT_TIMEOUT)
            nodes = [f"'{n}@{ip}'" for n, ip in members.items()]
            expr = (f"Ns = [{', '.join(nodes)}], "
                    "Pongs = [net_adm:ping(N) || N <- Ns], "
                    "Names = [rpc:call(N, erlang, node, []) || N <- Ns], "
                    "Epmd = gen_tcp:connect({127,0,0,1}, 4369, [], 1000), "
                    "io:format(\"cluster: pongs ~p names ~p nodes ~p epmd ~p~n\", "
                    "[Pongs, Names, lists:sort(nodes()), Epmd]), "
                    "Pongs =:= [pong, pong] andalso Names =:= Ns "
                    "andalso Epmd =:= {error, econnrefused}")
            a = Guest.start(KERNEL, INITRD,
                            append=node_append("a", "192.168.100.1") + " " + qemucmd.eval_kernel_param(expr),
                            memory=128, smp=1, accel=ACCEL, private_net=net,
                            guest_ip="192.168.100.1/24", debug_exit=True)
            guests.append(a)
            status = a.wait_exit(BOOT_TIMEOUT)
            console = a.console_text()
            self.assertIn("cluster: pongs [pong,pong]", console, console[-3000:])
            self.assertEqual(status, 0, console[-3000:])
            # Distribution is on only where asked: b still serves, and knows a now.
            self.assertNotIn("Kernel panic", console)
        finally:
            for g in guests:
                g.kill()


if __name__ == "__main__":
    unittest.main()
