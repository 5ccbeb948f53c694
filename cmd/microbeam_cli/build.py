"""`microbeam build` and `microbeam test`: the one CMake build, and CTest."""

import shutil

from . import paths, proc


def configured(build_dir) -> bool:
    return (build_dir / "CMakeCache.txt").exists()


def configure_argv(repo, build_dir) -> list:
    return ["cmake", "-S", str(repo), "-B", str(build_dir), "-G", "Ninja"]


def build_argv(build_dir, jobs=None, targets=()) -> list:
    argv = ["cmake", "--build", str(build_dir)]
    if jobs:
        argv += ["--parallel", str(jobs)]
    if targets:
        argv += ["--target", *targets]
    return argv


def ctest_argv(build_dir, extra=()) -> list:
    return ["ctest", "--test-dir", str(build_dir), "--output-on-failure", *extra]


def _need(tool):
    if not shutil.which(tool):
        raise RuntimeError(f"{tool} not found: run `microbeam setup` first")


def build(jobs=None, targets=()) -> int:
    """The whole build, or only TARGETS (e.g. elixir_host: the OTP 27 toolchain)."""
    _need("cmake")
    repo, bdir = paths.repo_root(), paths.build_dir()
    if not configured(bdir):
        proc.say(f"configuring {bdir}")
        proc.run(configure_argv(repo, bdir))
    proc.run(build_argv(bdir, jobs, targets))
    if targets:
        return 0
    out = paths.out_dir()
    for name in ("bzImage", "microbeam.cpio", "microbeam-init", "size-report.json"):
        f = out / name
        if f.exists():
            proc.say(f"  {f} ({f.stat().st_size} bytes)")
        else:
            proc.say(f"  {f} missing after the build")
    return 0


def test(extra=()) -> int:
    _need("ctest")
    return proc.run(ctest_argv(paths.build_dir(), extra), check=False)
