"""The `microbeam` command: setup, build, test, run (QEMU), size, demo, bench, soak, vmm-config.

One purpose a module:
  paths     where the repository, build tree and artifacts are
  proc      running host commands with progress output
  install   `setup`: Debian packages the build needs
  build     `build` and `test`: CMake/Ninja and CTest
  release   `build --release PATH`: a user's OTP release into its own two images
  qemucmd   pure QEMU command-line building and exit-status mapping
  accel     the one rule for KVM or TCG: probe the real image, remember the verdict
  console   what the serial console tells: PID 1 reached, a kernel panic
  initrd    what an initramfs unpacks to, and the least guest memory for it
  preflight `run`'s checks before QEMU: memory for the image, free host ports
  hosttsc   the host TSC frequency, told to microvm guests under TCG
  qmp       a minimal QMP client
  vm        the Guest class: one QEMU process with console capture (used by tests)
  run       `run`: QEMU in the foreground, signals turned into a guest shutdown
  size      `size`: out/size-report.json as a table
  bench     `bench`: MicroBEAM against the Debian baseline (boots, floor, wrk)
  bench_report  the benchmark's pure parts: statistics, parsing, bisection, table, SVG
  vmm_config  `vmm-config`: Firecracker JSON and the cloud-hypervisor command line
  soak      `soak`: bounded wrk load against one guest, memory and restarts watched
  main      argument parsing and dispatch
"""
