"""Where the QEMU tests of `microbeam run` and `microbeam snapshot` find the repository,
the CLI and the main build's images: MICROBEAM_OUT (default <repo>/out). Importing it
puts cmd/ on the path, for `from microbeam_cli import ...`."""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "cmd"))

OUT = Path(os.environ.get("MICROBEAM_OUT") or REPO / "out")
KERNEL, INITRD = OUT / "bzImage", OUT / "microbeam.cpio"
MICROBEAM = str(REPO / "cmd" / "microbeam")
MISSING = [str(p) for p in (KERNEL, INITRD) if not p.is_file()]   # the images not built yet
