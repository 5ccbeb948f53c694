#!/usr/bin/env python3
"""Writes the initramfs: /init + the staged release, with a profile-guided boot script.

    build_initramfs.py MKCPIO OUT_CPIO WORK_DIR BASE_SPEC RELEASE_SPEC STAGED_ROOT

1. MKCPIO writes the newc archive of BASE_SPEC + RELEASE_SPEC (WORK_DIR/microbeam.cpio.raw;
   the module list goes to WORK_DIR/boot-profile.txt).
2. That image boots once on the host, its /init as PID 1 of new PID, mount, UTS, net
   and IPC namespaces (as tests/pid1 does; needs root), with release/microbeam_profile.erl
   (compiled into that copy only) printing the modules loaded once the release has
   started, then halting.
3. release/preload_boot.escript has those modules loaded with the boot script's first
   primLoad (STAGED_ROOT/releases/VSN/start.boot, written from the assembler's own, which
   is kept in WORK_DIR): init then prepares them in parallel on every scheduler instead of
   one by one on first call (see its header).
4. MKCPIO again, then `zstd -19` into OUT_CPIO (the kernel's RD_ZSTD; why: kernel/README.md).

Without root or unshare, or if the profiling boot fails, the boot script stays as it was
(one line says why) and the image is still written: it boots the same, only slower
under emulation. Progress: [initramfs N/4].
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = "microbeam-boot-profile: "   # what release/microbeam_profile.erl prints, one line
PROBE = HERE / "release" / "microbeam_profile.erl"
PROFILE_TIMEOUT = 120


def end_namespace(p: subprocess.Popen) -> None:
    """Ends a timed-out `unshare --pid --fork` and everything in its PID namespace: the
    namespace's PID 1 (unshare's child) gets SIGKILL, which takes the namespace with it.
    Killing unshare alone left PID 1 running (its parent-death signal does not survive
    PID 1's switch to the app's user)."""
    try:
        children = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            os.kill(int(child), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    p.kill()
    p.communicate()


def step(n, what):
    print(f"[initramfs {n}/4] {what}", flush=True)


def mkcpio(mkcpio_bin, raw, specs):
    subprocess.run([mkcpio_bin, "-o", str(raw), *map(str, specs)], check=True,
                   env=dict(os.environ, SOURCE_DATE_EPOCH="0"))


def profile(raw: Path):
    """The module list (Erlang term text) the image loads while starting, or None and why."""
    if os.geteuid() != 0:
        return None, "not root (unshare needs it)"
    if not shutil.which("unshare") or not shutil.which("cpio") or not shutil.which("erlc"):
        return None, "unshare, cpio or erlc missing"
    root = Path(tempfile.mkdtemp(prefix="microbeam-profile-"))
    root.chmod(0o755)  # as the VM's root: PID 1 runs the BEAM as an unprivileged user
    try:
        with open(raw, "rb") as f:
            subprocess.run(["cpio", "-idm", "--quiet"], stdin=f, cwd=root, check=True)
        # The probe goes where the code server finds it: kernel's ebin, in this copy only.
        ebin = next(iter(sorted((root / "release" / "lib").glob("kernel-*/ebin"))), None)
        if ebin is None:
            return None, "the release has no lib/kernel-*/ebin"
        c = subprocess.run(["erlc", "-o", str(ebin), str(PROBE)], capture_output=True, text=True)
        if c.returncode != 0:
            return None, f"erlc {PROBE.name}: {(c.stderr or c.stdout).strip()[:200]}"
        p = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--uts", "--net", "--ipc",
             f"--root={root}", "/init", "microbeam.erl_flags=-s microbeam_profile dump"],
            env=dict(os.environ, container="microbeam-profile"), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        try:
            p.stdout, p.stderr = p.communicate(timeout=PROFILE_TIMEOUT)
        except subprocess.TimeoutExpired:
            end_namespace(p)
            return None, f"the profiling boot did not finish within {PROFILE_TIMEOUT} s"
        for line in (p.stdout + p.stderr).splitlines():
            if line.startswith(MARK):
                term = line[len(MARK):].strip()
                if term.startswith("[") and term.endswith("]"):
                    return term, ""
        tail = " | ".join((p.stdout + p.stderr).strip().splitlines()[-3:])
        return None, f"the profiling boot printed no module list (exit {p.returncode}): {tail}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv):
    if len(argv) != 6:
        print("usage: build_initramfs.py MKCPIO OUT_CPIO WORK_DIR BASE_SPEC RELEASE_SPEC STAGED_ROOT",
              file=sys.stderr)
        return 2
    mkcpio_bin, out, work, base_spec, release_spec, staged = argv
    out, work, staged = Path(out), Path(work), Path(staged)
    work.mkdir(parents=True, exist_ok=True)
    raw = work / "microbeam.cpio.raw"
    try:
        rel_vsn = (staged / "releases" / "start_erl.data").read_text().split()[1]
    except (OSError, IndexError) as e:
        print(f"build_initramfs: {staged}/releases/start_erl.data: cannot read the release version ({e})",
              file=sys.stderr)
        return 1
    boot = staged / "releases" / rel_vsn / "start.boot"
    assembled, ours = work / "start.boot.assembled", work / "start.boot.profiled.sha256"
    # The staged boot file is either the assembler's (new) or ours from a run before. The
    # profiling boot must run the assembler's: with ours, every module preloaded last time
    # would count as one the release loads, and stay preloaded for good.
    if ours.exists() and ours.read_text() == sha256(boot):
        shutil.copyfile(assembled, boot)
    else:
        shutil.copyfile(boot, assembled)
    step(1, "newc archive of /init and the release")
    mkcpio(mkcpio_bin, raw, [base_spec, release_spec])
    step(2, "boot it once in host namespaces to see which modules it loads")
    term, why = profile(raw)
    if term is None:
        print(f"build_initramfs: boot script left unprofiled: {why}", flush=True)
    else:
        step(3, "move them into the boot script's first primLoad")
        prof = work / "boot-profile.txt"
        prof.write_text(term + ".\n")
        subprocess.run(["escript", str(HERE / "release" / "preload_boot.escript"),
                        str(staged), rel_vsn, str(prof), str(assembled)], check=True)
        ours.write_text(sha256(boot))
        mkcpio(mkcpio_bin, raw, [base_spec, release_spec])
    step(4, f"zstd -19 -> {out}")
    subprocess.run(["zstd", "-19", "-q", "-f", str(raw), "-o", str(out)], check=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as e:
        print(f"build_initramfs: {e.cmd[0]} failed (exit {e.returncode})", file=sys.stderr)
        sys.exit(1)
