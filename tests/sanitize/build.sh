#!/bin/bash
# Configures (once) and builds the host sanitizer build: the unit tests under
# ASan+UBSan and the libFuzzer targets. Incremental; one build at a time (a lock), at
# the lowest CPU priority.
#   tests/sanitize/build.sh [BUILD_DIR]     (default: build/sanitize)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build/sanitize}
fail() { echo "sanitize build: $*" >&2; exit 1; }

for tool in cmake ninja clang++-14 flock; do
  command -v "$tool" >/dev/null || fail "$tool not found: run \`./cmd/microbeam setup\` first"
done
mkdir -p "$build"
exec 9>"$build/.lock"
flock 9

# The pinned Abseil source with upstream's std types, as supervisor/deps/build-deps.sh
# prepares it for the target (see there; CMakeLists.txt says why not libabsl-dev).
absl=$build/abseil-src
pin=$(awk '$1 == "abseil"' "$repo/cmake/debian-sources.txt")
if [[ "$(cat "$absl.ready" 2>/dev/null)" != "$pin" ]]; then
  echo "sanitize build: unpacking the pinned Abseil source into $absl"
  "$repo/cmake/fetch-debian-source.sh" abseil "$absl" >"$build/abseil-src.log" 2>&1 ||
    { cat "$build/abseil-src.log" >&2; fail "cannot fetch the Abseil source (log: $build/abseil-src.log)"; }
  patch -s -R -p1 -d "$absl" <"$absl/debian/patches/latomic.diff" || fail "cannot revert latomic.diff in $absl"
  sed -i -E 's/^(#define ABSL_OPTION_USE_STD_(ANY|OPTIONAL|STRING_VIEW|VARIANT)) 0$/\1 2/' \
    "$absl/absl/base/options.h"
  echo "$pin" >"$absl.ready"
fi

if [[ ! -f $build/build.ninja ]]; then
  echo "sanitize build: configuring $build"
  nice -n 19 cmake -S "$repo/tests/sanitize" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_BUILD_TYPE= -DABSEIL_SOURCE_DIR="$absl" >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; fail "cmake configure failed (log: $build/configure.log)"; }
fi
echo "sanitize build: building in $build"
nice -n 19 ninja -C "$build" || fail "ninja failed in $build"
