#!/usr/bin/env bash
# Build the static x86_64 musl toolchain MicroBEAM compiles everything for PID 1 with.
#   cmake/build-musl-toolchain.sh OUTDIR
# OUTDIR/sysroot   musl (built from the pinned Debian musl source, with musl's oldmalloc)
#                  + kernel uapi headers + libc++/libc++abi/libunwind
#                  (static, LLVM 14 runtimes from the pinned llvm-toolchain-14 source)
# OUTDIR/bin/musl-cc, musl-c++   clang-14 wrappers: sysroot-only headers, -static, lld
# OUTDIR/musl.cmake              CMake toolchain file using them
# Needs: clang-14, lld, llvm-14 (ar/ranlib), gcc, make, libclang-rt-14-dev, cmake (ninja optional).
# Idempotent: nothing is done when OUTDIR/.done exists.
# Measured here (2 cores shared with parallel kernel builds, load average 5-7): cold run
# 6 min 32 s (another run at load 7: 9 min 29 s); ~4 min CPU (user 2m28 + sys 1m27).
# Unpack 25 s, CMake configure checks 2.5 min, compile libc++/abi/unwind 2.8 min, self-test
# 50 s. Most of it is process start-up of clang/cmake for the configure checks.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -f "$out/.done" ]; then echo "[toolchain] up to date: $out"; exit 0; fi
steps=7 step=0 what=""
log="$out/build.log"
progress() { step=$((step + 1)); what=$1; echo "[toolchain $step/$steps] $what"; echo "=== $(date +%T) $what" >>"$log"; }
trap 'echo "build-musl-toolchain: step $step/$steps ($what) failed; log: $log" >&2' ERR
die() { echo "build-musl-toolchain: $*" >&2; trap - ERR; exit 1; }

clang=$(command -v clang-14) || die "clang-14 not found (apt-get install clang-14)"
clangxx=$(command -v clang++-14) || die "clang++-14 not found (apt-get install clang-14)"
command -v ld.lld >/dev/null || die "ld.lld not found (apt-get install lld)"
llvm_ar=$(command -v llvm-ar-14) || die "llvm-ar-14 not found (apt-get install llvm-14)"
llvm_ranlib=$(command -v llvm-ranlib-14) || die "llvm-ranlib-14 not found (apt-get install llvm-14)"
command -v gcc >/dev/null && command -v make >/dev/null || die "gcc and make are needed to build musl (apt-get install gcc make)"
rtdir=$("$clang" -print-resource-dir)/lib/linux
[ -f "$rtdir/libclang_rt.builtins-x86_64.a" ] || die "compiler-rt builtins missing in $rtdir (apt-get install libclang-rt-14-dev)"
[ -d /usr/include/linux ] && [ -d /usr/include/x86_64-linux-gnu/asm ] || die "kernel uapi headers missing (apt-get install linux-libc-dev)"

rm -rf "$out/sysroot" "$out/bin" "$out/musl.cmake" "$out/.work"
: >"$log"
sys=$out/sysroot work=$out/.work

progress "musl from the pinned Debian source (static, oldmalloc)"
mkdir -p "$sys/usr/include" "$sys/usr/lib" "$work/empty"
(cd "$work/empty" && "$here/fetch-debian-source.sh" musl "$work/musl") >>"$log" 2>&1
# Debian's own flags (--enable-debug) but static only, and musl's other malloc:
# mallocng, the default, returns every emptied small group to the kernel at once
# (about 1,000 munmap and 1,200 madvise calls while ERTS loads ~100 modules), and each
# one is a TLB shoot-down IPI to the other CPU. Under TCG that was a third of the
# BEAM's start: first HTTP 200 3.3 s with oldmalloc against 4.1 s (median of 4 each,
# kernel/README.md and the README's bench table). oldmalloc keeps freed memory in
# its bins and gives back only large free runs.
(cd "$work/musl" && ./configure --prefix=/usr --disable-shared --enable-debug \
   --with-malloc=oldmalloc CC=gcc >>"$log" 2>&1 \
 && make -j "$(nproc)" >>"$log" 2>&1 && make install DESTDIR="$work/musl-root" >>"$log" 2>&1)
[ -f "$work/musl-root/usr/lib/libc.a" ] || die "musl did not install libc.a (see $log)"
nm "$work/musl-root/usr/lib/libc.a" 2>/dev/null | grep ' T __bin_chunk$' >/dev/null \
  || die "musl's libc.a is not the oldmalloc build"

progress "sysroot: musl headers and libs, kernel uapi headers"
cp -a "$work/musl-root/usr/include/." "$sys/usr/include/"
cp -a /usr/include/linux /usr/include/asm-generic "$sys/usr/include/"
cp -a /usr/include/x86_64-linux-gnu/asm "$sys/usr/include/asm"
# Static only: crt objects and archives (musl's -lm/-lpthread/-lrt/-ldl are empty archives,
# all of it is in libc.a). No libc.so, no musl-gcc.specs.
cp -a "$work/musl-root/usr/lib/"*.o "$work/musl-root/usr/lib/"*.a "$sys/usr/lib/"

progress "compiler wrappers bin/musl-cc, bin/musl-c++"
mkdir -p "$out/bin"
sed -e "s|@NAME@|musl-cc|" -e "s|@CLANG@|$clang|" -e "s|@CXXLIBS@|nothing else|" -e "s|@EXTRA@ ||" \
  "$here/musl-toolchain/wrapper.sh.in" >"$out/bin/musl-cc"
# libc++ headers come first (they #include_next the libc's); -nostdinc++ keeps any host
# libc++ headers (next to clang) out.
sed -e "s|@NAME@|musl-c++|" -e "s|@CLANG@|$clangxx|" -e "s|@CXXLIBS@|libc++ with libc++abi merged in|" \
  -e "s|@EXTRA@|-stdlib=libc++ -nostdinc++ -isystem \"\$s/usr/include/c++/v1\"|" \
  "$here/musl-toolchain/wrapper.sh.in" >"$out/bin/musl-c++"
chmod +x "$out/bin/musl-cc" "$out/bin/musl-c++"

progress "unpack LLVM 14 runtimes source (llvm-toolchain-14)"
# Run from an empty directory: fetch-debian-source.sh passes its '*/SUBDIR' tar patterns
# unquoted, so the shell would expand them against the current directory first.
(cd "$work/empty" && "$here/fetch-debian-source.sh" llvm-toolchain-14 "$work/llvm" \
  runtimes libcxx libcxxabi libunwind cmake llvm/cmake llvm/utils/llvm-lit) >>"$log" 2>&1

progress "configure libc++, libc++abi, libunwind for x86_64-linux-musl"
gen="Unix Makefiles"; command -v ninja >/dev/null && gen=Ninja
# The compilers cannot link a C++ program before libc++ exists: skip CMake's compiler
# check; the runtimes' own checks add -nostdlib++ and --unwindlib=none themselves.
cmake -G "$gen" -S "$work/llvm/runtimes" -B "$work/build" \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$sys/usr" \
  -DCMAKE_C_COMPILER="$out/bin/musl-cc" -DCMAKE_CXX_COMPILER="$out/bin/musl-c++" \
  -DCMAKE_ASM_COMPILER="$out/bin/musl-cc" \
  -DCMAKE_C_COMPILER_WORKS=ON -DCMAKE_CXX_COMPILER_WORKS=ON \
  -DCMAKE_AR="$llvm_ar" -DCMAKE_RANLIB="$llvm_ranlib" \
  -DLLVM_ENABLE_RUNTIMES="libcxx;libcxxabi;libunwind" \
  -DLLVM_DEFAULT_TARGET_TRIPLE=x86_64-linux-musl -DLLVM_ENABLE_PER_TARGET_RUNTIME_DIR=OFF \
  -DLLVM_INCLUDE_TESTS=OFF -DLLVM_INCLUDE_DOCS=OFF \
  -DLIBCXX_HAS_MUSL_LIBC=ON -DLIBCXX_CXX_ABI=libcxxabi \
  -DLIBCXX_ENABLE_SHARED=OFF -DLIBCXX_ENABLE_STATIC=ON \
  -DLIBCXX_ENABLE_STATIC_ABI_LIBRARY=ON -DLIBCXX_STATICALLY_LINK_ABI_IN_STATIC_LIBRARY=ON \
  -DLIBCXX_USE_COMPILER_RT=ON -DLIBCXX_INCLUDE_TESTS=OFF -DLIBCXX_INCLUDE_BENCHMARKS=OFF \
  -DLIBCXX_INCLUDE_DOCS=OFF \
  -DLIBCXXABI_ENABLE_SHARED=OFF -DLIBCXXABI_ENABLE_STATIC=ON -DLIBCXXABI_USE_LLVM_UNWINDER=ON \
  -DLIBCXXABI_STATICALLY_LINK_UNWINDER_IN_STATIC_LIBRARY=OFF \
  -DLIBCXXABI_USE_COMPILER_RT=ON -DLIBCXXABI_INCLUDE_TESTS=OFF \
  -DLIBUNWIND_ENABLE_SHARED=OFF -DLIBUNWIND_ENABLE_STATIC=ON -DLIBUNWIND_USE_COMPILER_RT=ON \
  -DLIBUNWIND_INCLUDE_TESTS=OFF -DLIBUNWIND_INCLUDE_DOCS=OFF \
  >>"$log" 2>&1

progress "build and install libc++, libc++abi, libunwind (static)"
cmake --build "$work/build" -j "$(nproc)" >>"$log" 2>&1
cmake --install "$work/build" >>"$log" 2>&1
for l in libc++.a libc++abi.a libunwind.a; do
  [ -f "$sys/usr/lib/$l" ] || die "$l was not installed into $sys/usr/lib"
done
[ -f "$sys/usr/include/c++/v1/__config_site" ] || die "libc++ headers were not installed"
rm -f "$sys"/usr/lib/*.so*

progress "CMake toolchain file musl.cmake and self-test"
sed -e "s|@LLVM_AR@|$llvm_ar|" -e "s|@LLVM_RANLIB@|$llvm_ranlib|" \
  "$here/musl-toolchain/musl.cmake.in" >"$out/musl.cmake"
if "$out/bin/musl-cc" "$here/musl-toolchain/test/mallopt.c" -o "$work/mallopt" >>"$log" 2>&1; then
  die "musl-cc linked a glibc-only function (mallopt): the sysroot is leaking host libraries"
fi
cmake -G "$gen" -S "$here/musl-toolchain/test" -B "$work/test" \
  -DCMAKE_TOOLCHAIN_FILE="$out/musl.cmake" -DCMAKE_BUILD_TYPE=Release >>"$log" 2>&1
cmake --build "$work/test" >>"$log" 2>&1
for exe in hello hello_c; do
  f=$work/test/$exe
  ! readelf -lW "$f" | grep -q INTERP || die "self-test $exe has an INTERP header"
  ! readelf -dW "$f" | grep -q NEEDED || die "self-test $exe has NEEDED entries"
  ! grep -q GLIBC_ "$f" || die "self-test $exe contains a GLIBC_ string"
  "$f" >>"$log" 2>&1 || die "self-test $exe failed to run (see $log)"
done

rm -rf "$work"
date -u +%FT%TZ >"$out/.done"
echo "[toolchain] done: $out"
