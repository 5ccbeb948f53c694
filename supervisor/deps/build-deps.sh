#!/usr/bin/env bash
# Builds the supervisor's libraries for the musl target, from pinned Debian sources:
# Abseil, GoogleTest (for the target-built unit tests) and libcap. Installs them into
# OUTDIR (include/, lib/, lib/cmake/) for find_package.
#   build-deps.sh OUTDIR TOOLCHAIN_DIR
set -euo pipefail
out=$1 tc=$2
here=$(cd "$(dirname "$0")" && pwd)
fetch=$here/../../cmake/fetch-debian-source.sh
[ -f "$out/.done" ] && { echo "[deps] cached: $out"; exit 0; }
[ -f "$tc/musl.cmake" ] || { echo "build-deps: no toolchain at $tc (musl.cmake missing)" >&2; exit 1; }
work=$out.work
rm -rf "$work" && mkdir -p "$work" "$out"
jobs=$(nproc)
cmake_common=(-G Ninja -DCMAKE_TOOLCHAIN_FILE="$tc/musl.cmake" -DCMAKE_BUILD_TYPE=Release
              -DCMAKE_INSTALL_PREFIX="$out" -DCMAKE_CXX_STANDARD=20 -DCMAKE_POSITION_INDEPENDENT_CODE=OFF
              -DBUILD_SHARED_LIBS=OFF)

echo "[deps 1/6] fetching abseil, googletest, libcap2 sources"
"$fetch" abseil "$work/abseil"
"$fetch" googletest "$work/googletest"
"$fetch" libcap2 "$work/libcap2"

# Two of Debian's patches serve its shared-library packaging, not a static musl build:
# latomic.diff links -latomic (for armel; x86_64 needs none, and musl has none), and
# configure.diff pins absl::string_view/optional/any/variant to Abseil's own types (an
# ABI choice). Undo both: we want upstream's defaults, the std types.
patch -s -R -p1 -d "$work/abseil" <"$work/abseil/debian/patches/latomic.diff"
sed -i -E 's/^(#define ABSL_OPTION_USE_STD_(ANY|OPTIONAL|STRING_VIEW|VARIANT)) 0$/\1 2/' \
  "$work/abseil/absl/base/options.h"

echo "[deps 2/6] configuring Abseil"
cmake -S "$work/abseil" -B "$work/abseil-build" "${cmake_common[@]}" -DABSL_PROPAGATE_CXX_STD=ON \
  -DABSL_BUILD_TESTING=OFF -DBUILD_TESTING=OFF >"$work/abseil.log" 2>&1 ||
  { tail -20 "$work/abseil.log"; echo "build-deps: Abseil configure failed (log: $work/abseil.log)" >&2; exit 1; }
echo "[deps 3/6] building Abseil"
cmake --build "$work/abseil-build" -j "$jobs" >>"$work/abseil.log" 2>&1 &&
  cmake --install "$work/abseil-build" >>"$work/abseil.log" 2>&1 ||
  { tail -20 "$work/abseil.log"; echo "build-deps: Abseil build failed (log: $work/abseil.log)" >&2; exit 1; }

echo "[deps 4/6] building GoogleTest"
cmake -S "$work/googletest" -B "$work/googletest-build" "${cmake_common[@]}" -DINSTALL_GTEST=ON \
  -Dgtest_disable_pthreads=OFF >"$work/googletest.log" 2>&1 &&
  cmake --build "$work/googletest-build" -j "$jobs" >>"$work/googletest.log" 2>&1 &&
  cmake --install "$work/googletest-build" >>"$work/googletest.log" 2>&1 ||
  { tail -20 "$work/googletest.log"; echo "build-deps: GoogleTest build failed (log: $work/googletest.log)" >&2; exit 1; }

echo "[deps 5/6] building libcap"
# libcap's own Makefile: the static library only, with the musl compiler; the name
# table generator (_makenames) runs on the build host.
make -C "$work/libcap2/libcap" CC="$tc/bin/musl-cc" BUILD_CC=cc AR=ar RANLIB=ranlib \
  SHARED=no PTHREADS=no GOLANG=no USE_GPERF=no COPTS="-O2" libcap.a >"$work/libcap.log" 2>&1 ||
  { tail -20 "$work/libcap.log"; echo "build-deps: libcap build failed (log: $work/libcap.log)" >&2; exit 1; }
mkdir -p "$out/lib" "$out/include/sys"
cp "$work/libcap2/libcap/libcap.a" "$out/lib/"
cp "$work/libcap2/libcap/include/sys/capability.h" "$out/include/sys/"

echo "[deps 6/6] done"
rm -rf "$work"
touch "$out/.done"
