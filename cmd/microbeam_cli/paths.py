"""Where things are: the repository root, the build tree, the artifacts."""

import os
from pathlib import Path

# cmd/microbeam_cli/paths.py -> the repository root is two levels up.
REPO = Path(__file__).resolve().parent.parent.parent


def repo_root() -> Path:
    return REPO


def build_dir() -> Path:
    return REPO / "build"


def out_dir() -> Path:
    """The artifact directory: $MICROBEAM_OUT if set, else <repo>/out."""
    env = os.environ.get("MICROBEAM_OUT")
    return Path(env).resolve() if env else REPO / "out"


def default_kernel() -> Path:
    return out_dir() / "bzImage"


def default_initrd() -> Path:
    return out_dir() / "microbeam.cpio"


def size_report() -> Path:
    return out_dir() / "size-report.json"
