"""What a guest's serial console tells the host: any output at all (a PC firmware prints
too), the kernel's first line, PID 1 reached (its first `microbeam: ` line), a kernel
panic.

Lines from PID 1 reach the console through the kernel log (level notice), with the
kernel's timestamp in front (CONFIG_PRINTK_TIME).
"""

import re
import threading

KERNEL_LINE = re.compile(rb"Linux version \d")
PID1_LINE = re.compile(rb"(?m)^(?:\[[ 0-9.]+\] )?microbeam: ")
PANIC_LINE = re.compile(rb"Kernel panic - not syncing: ([^\r\n]*)")


def quiet(append: str) -> bool:
    """Whether the kernel command line keeps notice-level lines (PID 1's) off the
    console: `quiet`, or loglevel= at most 5."""
    for w in (append or "").split():
        if w == "quiet":
            return True
        if w.startswith("loglevel="):
            try:
                if int(w.partition("=")[2]) <= 5:
                    return True
            except ValueError:
                pass
    return False


class Watch:
    """Fed the console's bytes as they come (from any thread); `output`, `kernel` and
    `pid1` are threading.Events, `panic` the panic message once one was printed."""

    KEEP = 4096                       # bytes kept across feeds, for lines split in two

    def __init__(self):
        self.output = threading.Event()
        self.kernel = threading.Event()
        self.pid1 = threading.Event()
        self.panic = None
        self._tail = b""
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> None:
        if not data:
            return
        with self._lock:
            self.output.set()
            text = self._tail + data
            if not self.kernel.is_set() and KERNEL_LINE.search(text):
                self.kernel.set()
            if not self.pid1.is_set() and PID1_LINE.search(text):
                self.pid1.set()
            if self.panic is None:
                m = PANIC_LINE.search(text)
                if m and (m.end() < len(text)):      # the whole line is there
                    self.panic = m.group(1).decode(errors="replace").strip()
            cut = text.rfind(b"\n", 0, len(text) - 1)
            self._tail = text[cut + 1:][-self.KEEP:] if cut >= 0 else text[-self.KEEP:]

    def finish(self) -> None:
        """The console ended: a panic line without its newline still counts."""
        with self._lock:
            if self.panic is None:
                m = PANIC_LINE.search(self._tail)
                if m:
                    self.panic = m.group(1).decode(errors="replace").strip()
