# The test suite (ctest --test-dir build): unit tests of the supervisor's logic and the
# cpio writer, the cpio writer against GNU cpio as an oracle, the hard lines of the
# design on the built artifacts, the demo's own ExUnit tests, PID 1 in host namespaces,
# the CLI, and QEMU boots.
enable_testing()

add_test(NAME unit COMMAND "${TARGET_BIN}/tests/unit/microbeam_unit_tests")

# The unit tests again on the host (glibc, clang-14) under ASan+UBSan, and each libFuzzer
# target of fuzz/ for a few seconds over its seed corpus; both build build/sanitize
# first (tests/sanitize: a separate, incremental host build).
add_test(NAME unit_asan_ubsan COMMAND "${CMAKE_SOURCE_DIR}/tests/sanitize/unit.sh")
add_test(NAME fuzz_smoke COMMAND "${CMAKE_SOURCE_DIR}/tests/sanitize/fuzz.sh" --seconds 10 --fresh)
set_tests_properties(unit_asan_ubsan fuzz_smoke PROPERTIES
  ENVIRONMENT "SANITIZE_BUILD=${CMAKE_BINARY_DIR}/sanitize" TIMEOUT 1200)

add_test(NAME cpio_oracle
  COMMAND "${CMAKE_SOURCE_DIR}/tests/cpio/oracle_test.sh" "${TARGET_BIN}/initramfs/cpio/microbeam-cpio")

add_test(NAME hard_lines COMMAND "${CMAKE_SOURCE_DIR}/tests/image/hard_lines_test.sh" "${OUT}")

add_test(NAME demo_exunit
  COMMAND "${CMAKE_SOURCE_DIR}/initramfs/demo/test.sh" "${CMAKE_BINARY_DIR}/demo-test")

# The real /init as PID 1 of new namespaces on the host: signals, exit paths, reaping.
add_test(NAME pid1_namespace COMMAND "${PYTHON3}" -m unittest -v tests.pid1.test_namespace)
# The CLI: its pure parts, then `microbeam run` end to end (a few short TCG boots), and
# the stand-ins for Firecracker and cloud-hypervisor (tests/qemu/test_vmm_standins.py).
add_test(NAME cli COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_cli tests.qemu.test_vmm_config
                                                      tests.qemu.test_run tests.qemu.test_vmm_standins)
add_test(NAME qemu_boot COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_boot)
# The fault matrix in QEMU: one boot a fault, each timed into out/fault-matrix.json.
add_test(NAME fault_matrix COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_faults)
# Warm snapshots: one `microbeam snapshot`, two copies restored from it, each a correct
# guest (clock, random pool, TCP ISNs, monotonic time, its own port); ~20 s.
add_test(NAME snapshot COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_snapshot)
# Three microVMs on a private network, distribution without epmd (slow: ~1 min).
add_test(NAME cluster COMMAND "${PYTHON3}" -m unittest -v tests.cluster.test_cluster)
# A user's release in: the plain-Erlang example through `microbeam build --release`.
add_test(NAME user_release COMMAND "${PYTHON3}" -m unittest -v tests.release.test_release)
# The benchmark's pure parts, and one quick run against the Debian baseline (which it
# builds: bench/baseline/build.sh) that must write valid JSON and SVG.
add_test(NAME bench_quick COMMAND "${PYTHON3}" -m unittest -v tests.bench.test_bench)
set_tests_properties(pid1_namespace cli qemu_boot fault_matrix snapshot cluster user_release bench_quick PROPERTIES
  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" ENVIRONMENT "MICROBEAM_OUT=${OUT}")
set_tests_properties(qemu_boot fault_matrix snapshot cluster user_release PROPERTIES TIMEOUT 900)
set_tests_properties(cluster PROPERTIES LABELS slow)
set_tests_properties(pid1_namespace PROPERTIES TIMEOUT 600)
set_tests_properties(bench_quick PROPERTIES TIMEOUT 2400)
