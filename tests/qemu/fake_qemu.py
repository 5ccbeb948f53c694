#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 that fails under KVM the ways nested KVM does, so
that the fallback to TCG is tested on any machine (tests/qemu/test_cli.py, test_run.py).

Each invocation appends its argv (JSON) to $FAKE_QEMU_LOG. With `-accel kvm` it does
$FAKE_QEMU_KVM: `abort` (QEMU's "failed to set MSR 0x10a" assertion, then SIGABRT),
`silent` (runs, prints nothing), `boot` (acts as a guest, below). Otherwise
$FAKE_QEMU_TCG: `exec` (the real QEMU with the same arguments) or `boot`. `boot` answers
QMP on the -qmp socket, prints PID 1's first line on the console, then
$FAKE_QEMU_CONSOLE (if set), and ends as isa-debug-exit would for $FAKE_QEMU_STATUS (0).
"""

import json
import os
import signal
import socket
import sys
import threading
import time

REAL = "/usr/bin/qemu-system-x86_64"


def option(argv, flag):
    return argv[argv.index(flag) + 1] if flag in argv else None


def serve_qmp(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def loop():
        conn, _ = srv.accept()
        f = conn.makefile("rwb")
        f.write(b'{"QMP": {"version": {}, "capabilities": []}}\n')
        f.flush()
        for line in f:
            f.write(b'{"return": {}}\n')
            f.flush()
            if json.loads(line).get("execute") == "quit":
                os._exit(0)
    threading.Thread(target=loop, daemon=True).start()


def boot(argv):
    qmp = option(argv, "-qmp")
    if qmp:
        serve_qmp(qmp.split(":", 1)[1].split(",")[0])
    time.sleep(0.2)
    out = sys.stdout.buffer
    out.write(b"[    0.100000] Linux version 6.1 (fake)\n")
    out.write(b"[    0.200000] microbeam: unknown key microbeam.accel_probe\n")
    out.write(os.environ.get("FAKE_QEMU_CONSOLE", "").encode())
    out.flush()
    time.sleep(0.3)
    status = int(os.environ.get("FAKE_QEMU_STATUS", "0"))
    os._exit(((status & 0xFF) << 1 | 1) & 0xFF)


def main():
    argv = sys.argv
    log = os.environ.get("FAKE_QEMU_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(argv[1:]) + "\n")
    if option(argv, "-accel") == "kvm":
        mode = os.environ.get("FAKE_QEMU_KVM", "abort")
        if mode == "abort":
            sys.stderr.write("qemu-system-x86_64: error: failed to set MSR 0x10a to 0x2000000e1\n"
                             "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3066: kvm_buf_set_msrs: "
                             "Assertion `ret == cpu->kvm_msr_buf->nmsrs' failed.\n")
            sys.stderr.flush()
            signal.signal(signal.SIGABRT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGABRT)
        if mode == "silent":
            qmp = option(argv, "-qmp")
            if qmp:
                serve_qmp(qmp.split(":", 1)[1].split(",")[0])
            time.sleep(3600)
        boot(argv)
    if os.environ.get("FAKE_QEMU_TCG", "boot") == "exec":
        os.execv(REAL, [REAL] + argv[1:])
    boot(argv)


if __name__ == "__main__":
    main()
