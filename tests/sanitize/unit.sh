#!/bin/bash
# The unit tests (tests/unit) built for the host under ASan+UBSan, then run: any
# sanitizer report fails the run.
#   tests/sanitize/unit.sh [GTEST_ARGS...]     (build dir: $SANITIZE_BUILD or build/sanitize)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${SANITIZE_BUILD:-$repo/build/sanitize}
"$repo/tests/sanitize/build.sh" "$build"
export ASAN_OPTIONS=detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1
echo "unit_asan_ubsan: running $build/microbeam_unit_tests_asan"
nice -n 19 "$build/microbeam_unit_tests_asan" "$@" ||
  { echo "unit_asan_ubsan: unit tests failed or a sanitizer reported an error (see above)" >&2; exit 1; }
