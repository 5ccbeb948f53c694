"""Choosing the accelerator: KVM only where it boots this kernel, else TCG.

/dev/kvm can be there while nested KVM cannot run a real kernel: on some hosts QEMU
aborts at once with `-cpu host` ("failed to set MSR 0x10a"), with other CPU models the
guest hangs without printing a line, while a tiny firmware runs fine. So the probe does
what `run` will do: the real kernel and initramfs, the same machine and `-cpu`, and
watches the serial console for PID 1's first line (`microbeam: `) within PROBE_TIMEOUT
(under KVM the kernel reaches PID 1 in well under a second). QEMU dying, or a console
that stays silent, means TCG.

The verdict is kept in a small file (see verdict_file()), keyed by the QEMU binary, the
kernel, the machine, the CPU model and the host's kernel, so it costs once per machine.
A guest started under KVM on that verdict that dies or stays silent anyway is booted
again under TCG (run.py, vm.py) and the verdict is corrected (`demote`).
`--accel kvm|tcg` or MICROBEAM_ACCEL=kvm|tcg choose without a probe and never fall back.
"""

import datetime
import hashlib
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import console, qemucmd

PROBE_TIMEOUT = 5.0
PROBE_MEMORY = 256          # MiB: room for any initramfs; KVM touches only what the guest uses
PROBE_APPEND = "microbeam.accel_probe=1"   # an unknown key: PID 1 names it at once
CPU = {"kvm": "host", "tcg": "max"}


@dataclass(frozen=True)
class Choice:
    accel: str              # kvm | tcg
    forced: bool            # asked for by the user: no probe, no fallback
    why: str

    @property
    def may_fall_back(self) -> bool:
        return self.accel == "kvm" and not self.forced


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    why: str
    certain: bool           # worth remembering (not e.g. a slow or broken image)


def kvm_device_usable() -> bool:
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


# ---- the verdict file ------------------------------------------------------------------

def verdict_file() -> Path:
    """$MICROBEAM_ACCEL_CACHE, else accel-verdicts.json in $XDG_CACHE_HOME/microbeam,
    $MICROBEAM_CACHE, /var/cache/microbeam (if writable) or ~/.cache/microbeam."""
    explicit = os.environ.get("MICROBEAM_ACCEL_CACHE")
    if explicit:
        return Path(explicit)
    name = "accel-verdicts.json"
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "microbeam" / name
    if os.environ.get("MICROBEAM_CACHE"):
        return Path(os.environ["MICROBEAM_CACHE"]) / name
    system = Path("/var/cache/microbeam")
    if os.access(system, os.W_OK) or (not system.exists() and os.access(system.parent, os.W_OK)):
        return system / name
    return Path.home() / ".cache" / "microbeam" / name


def verdict_key(qemu: str, kernel, machine: str, cpu: str = CPU["kvm"]) -> str:
    """What the verdict depends on: the QEMU binary (path, size, mtime), the kernel's
    bytes, the machine, the CPU model and the host's kernel release."""
    path = shutil.which(qemu) or qemu
    try:
        st = os.stat(path)
        binary = [os.path.realpath(path), st.st_size, st.st_mtime_ns]
    except OSError:
        binary = [path]
    digest = hashlib.sha256()
    with open(kernel, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    parts = {"qemu": binary, "kernel": digest.hexdigest(), "machine": machine, "cpu": cpu,
             "host": os.uname().release}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _load() -> dict:
    try:
        data = json.loads(verdict_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def recall(key: str):
    """The remembered (accel, why) for KEY, or None."""
    v = _load().get(key)
    if isinstance(v, dict) and v.get("accel") in ("kvm", "tcg"):
        return v["accel"], str(v.get("why", ""))
    return None


def remember(key: str, accel: str, why: str) -> bool:
    """Stores the verdict (atomically); False if the file cannot be written."""
    path = verdict_file()
    data = _load()
    data[key] = {"accel": accel, "why": why,
                 "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".accel-", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
        return True
    except OSError:
        return False


# ---- the probe -------------------------------------------------------------------------

def probe_config(kernel, initrd, machine: str = "microvm", memory: int = PROBE_MEMORY,
                 smp: int = 2) -> qemucmd.VMConfig:
    """`run`'s guest under KVM as the probe boots it: the same machine and -cpu, no host
    port forwarded, no QMP, our own short kernel command line."""
    return qemucmd.VMConfig(kernel=str(kernel), initrd=str(initrd), forwards=[],
                            memory=max(memory, PROBE_MEMORY), smp=smp, machine=machine,
                            append=PROBE_APPEND, accel="kvm", serial="stdio")


def first_line(err: bytes) -> str:
    """The most telling line of QEMU's stderr: the first, without the binary's name."""
    lines = [l.strip() for l in err.decode(errors="replace").splitlines() if l.strip()]
    if not lines:
        return "no message"
    line = lines[0]
    prefix = "qemu-system-x86_64: "
    return line[len(prefix):] if line.startswith(prefix) else line


def probe(kernel, initrd, machine: str = "microvm", memory: int = PROBE_MEMORY, smp: int = 2,
          qemu: str = None, timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """Boots the real image under KVM until PID 1 speaks on the console."""
    qemu = qemu or qemucmd.qemu_binary()
    argv = qemucmd.qemu_argv(probe_config(kernel, initrd, machine, memory, smp), qemu)
    watch = console.Watch()
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return ProbeResult(False, f"cannot start {qemu}: {e.strerror}", False)
    err = b""
    try:
        fds = {p.stdout.fileno(): "out", p.stderr.fileno(): "err"}
        deadline = t0 + timeout
        while fds and not watch.pid1.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(fds), [], [], left)
            for fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    del fds[fd]
                elif fds[fd] == "out":
                    watch.feed(data)
                else:
                    err += data
    finally:
        if p.poll() is None:
            p.kill()
        try:
            _, rest = p.communicate(timeout=5)
            err += rest or b""
        except (subprocess.TimeoutExpired, ValueError):
            pass
    took = time.monotonic() - t0
    if watch.pid1.is_set():
        return ProbeResult(True, f"the kernel reached PID 1 under KVM in {took:.1f} s", True)
    if p.returncode is not None and p.returncode != -9 and took < timeout:
        died = f"QEMU {qemucmd.describe_exit(p.returncode)} under KVM: {first_line(err)}"
        # Before the kernel's first line it is KVM; after, it may be the image.
        return ProbeResult(False, died, not watch.kernel.is_set())
    if not watch.kernel.is_set():
        return ProbeResult(False, f"under KVM the kernel printed nothing in {timeout:g} s", True)
    return ProbeResult(False, f"under KVM the kernel did not reach PID 1 in {timeout:g} s", False)


# ---- the one rule ----------------------------------------------------------------------

def choose(requested: str, kernel, initrd, machine: str = "microvm", memory: int = 128,
           smp: int = 2, qemu: str = None, say=None) -> Choice:
    """The accelerator for a guest of KERNEL+INITRD on MACHINE. REQUESTED: auto | kvm |
    tcg; for auto, $MICROBEAM_ACCEL (kvm|tcg) wins if set, else the remembered or newly
    probed verdict. SAY, if given, gets one line saying what was chosen and why."""
    qemu = qemu or qemucmd.qemu_binary()
    if requested not in ("auto", "kvm", "tcg"):
        raise ValueError(f"unknown accelerator {requested!r} (auto|kvm|tcg)")
    env = os.environ.get("MICROBEAM_ACCEL", "").strip().lower()
    if requested != "auto":
        choice = Choice(requested, True, f"--accel {requested}")
    elif env in ("kvm", "tcg"):
        choice = Choice(env, True, f"MICROBEAM_ACCEL={env}")
    elif env:
        raise ValueError(f"MICROBEAM_ACCEL={env!r}: not kvm or tcg (unset it for the probe)")
    elif not kvm_device_usable():
        choice = Choice("tcg", False, "no usable /dev/kvm")
    else:
        choice = _auto(kernel, initrd, machine, memory, smp, qemu)
    if say:
        say(f"accelerator: {choice.accel} ({choice.why})")
    return choice


def _auto(kernel, initrd, machine, memory, smp, qemu) -> Choice:
    key = verdict_key(qemu, kernel, machine)
    known = recall(key)
    if known:
        accel, why = known
        if accel == "kvm":
            return Choice("kvm", False, f"{why}; remembered in {verdict_file()}")
        return Choice("tcg", False, f"KVM cannot boot this kernel here: {why}; remembered "
                                    f"in {verdict_file()} (delete it to probe again)")
    result = probe(kernel, initrd, machine, memory, smp, qemu)
    accel = "kvm" if result.ok else "tcg"
    kept = result.certain and remember(key, accel, result.why)
    note = f"; remembered in {verdict_file()}" if kept else ""
    if result.ok:
        return Choice("kvm", False, f"{result.why}{note}")
    return Choice("tcg", False, f"KVM cannot boot this kernel here: {result.why}{note}")


def demote(kernel, machine: str, why: str, qemu: str = None) -> Choice:
    """A guest under a KVM verdict died or stayed silent: TCG from now on."""
    qemu = qemu or qemucmd.qemu_binary()
    try:
        remember(verdict_key(qemu, kernel, machine), "tcg", why)
    except OSError:
        pass
    return Choice("tcg", False, f"KVM failed: {why}")
