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
set_tests_properties(demo_exunit PROPERTIES
  ENVIRONMENT "MICROBEAM_TOOLCHAIN_PATH=${ELIXIR_HOST_DIR}/bin:${OTP27_HOST_DIR}/bin")

# The real /init as PID 1 of new namespaces on the host: signals, exit paths, reaping; the
# records it keeps on a /data (a tmpfs here) across boots, and the process keys.
add_test(NAME pid1_namespace COMMAND "${PYTHON3}" -m unittest -v tests.pid1.test_namespace tests.pid1.test_records)
# The CLI: its pure parts, then `microbeam run` end to end (a few short TCG boots), and
# the stand-ins for Firecracker and cloud-hypervisor (tests/qemu/test_vmm_standins.py).
add_test(NAME cli COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_cli tests.qemu.test_vmm_config
                                                      tests.qemu.test_run tests.qemu.test_vmm_standins)
# The docs as a user reads them: docs/kernel-cmdline.md's plain QEMU lines booted as
# written, and the README's examples run as written (tests/readme).
add_test(NAME docs_examples COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_doc_recipes
                                                                tests.readme.test_readme_examples)
add_test(NAME qemu_boot COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_boot tests.qemu.test_process_keys)
# The guest's wall clock within 2 s of the host's, and its CRNG ready during boot with
# the virtio-rng device, on microvm and q35 (one boot each).
add_test(NAME clock_entropy COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_clock_entropy)
# Plain QEMU as a user starts it (pc and q35, default NIC, no ip=): PID 1's DHCP client;
# and a guest without a NIC reaching its release as soon as one given ip=.
add_test(NAME plain_qemu COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_plain_qemu)
# The fault matrix in QEMU: one boot a fault, each timed into out/fault-matrix.json.
add_test(NAME fault_matrix COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_faults)
# The data disk (docs/persistent-data.md): `run --disk`'s image at /data, the demo's
# /kv, and its faults as fault matrix rows: power button and SIGKILL during write
# storms, a full disk, a corrupt, missing or read-only one, Mnesia on /data.
add_test(NAME data_disk COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_data_disk)
# Warm snapshots: one `microbeam snapshot`, two copies restored from it, each a correct
# guest (clock, random pool, TCP ISNs, monotonic time, its own port); ~20 s.
add_test(NAME snapshot COMMAND "${PYTHON3}" -m unittest -v tests.qemu.test_snapshot)
# Three microVMs on a private network, distribution without epmd (slow: ~1 min).
add_test(NAME cluster COMMAND "${PYTHON3}" -m unittest -v tests.cluster.test_cluster)
# The OTP majors: the /init a release's ERTS version picks, the refusal of a major not
# built, the note for another version of one that is, `microbeam otp 27 -- CMD` (erl,
# elixir, an offline `mix new` + `mix release`). No boot.
add_test(NAME otp_majors COMMAND "${PYTHON3}" -m unittest -v tests.release.test_otp)
# A user's release in: the plain-Erlang example through `microbeam build --release`.
add_test(NAME user_release COMMAND "${PYTHON3}" -m unittest -v tests.release.test_release)
# crypto, public_key and ssl in the guest (examples/tls_hello with /init's static NIFs):
# TLS 1.2/1.3 both ways with verify_peer against the test's own CA, the guest's clock;
# one boot on OTP 25 and one on OTP 27 (that release claiming ERTS 15.2: the same-major note).
add_test(NAME tls_release COMMAND "${PYTHON3}" -m unittest -v tests.release.test_tls)
# A third-party web stack: Cowboy/Ranch/Cowlib from Debian's rabbitmq-server source,
# compiled in the test (examples/cowboy_hello): GET / and a websocket echo in the guest.
add_test(NAME cowboy_release COMMAND "${PYTHON3}" -m unittest -v tests.release.test_cowboy)
# A release's own C NIF (examples/nif_hello) linked into its /init by --nif APP=DIR.
add_test(NAME nif_release COMMAND "${PYTHON3}" -m unittest -v tests.release.test_nif)
# The benchmark's pure parts, and one quick run against the Debian baseline (which it
# builds: bench/baseline/build.sh) that must write valid JSON and SVG.
add_test(NAME bench_quick COMMAND "${PYTHON3}" -m unittest -v tests.bench.test_bench tests.bench.test_bench_native)
# Density (`bench --density`): its pure parts, and two guests of each of our kinds at once
# (booted, restored; with and without free page reporting), each serving and measured.
add_test(NAME bench_density COMMAND "${PYTHON3}" -m unittest -v tests.bench.test_bench_density)
set_tests_properties(pid1_namespace cli docs_examples qemu_boot plain_qemu clock_entropy fault_matrix data_disk snapshot
  cluster otp_majors user_release tls_release cowboy_release nif_release bench_quick bench_density PROPERTIES
  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}" ENVIRONMENT "MICROBEAM_OUT=${OUT}")
set_tests_properties(qemu_boot plain_qemu docs_examples clock_entropy fault_matrix data_disk snapshot cluster user_release
  tls_release cowboy_release nif_release bench_density PROPERTIES TIMEOUT 900)
set_tests_properties(cluster PROPERTIES LABELS slow)
set_tests_properties(pid1_namespace PROPERTIES TIMEOUT 600)
set_tests_properties(bench_quick PROPERTIES TIMEOUT 2400)
