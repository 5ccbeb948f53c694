#!/usr/bin/env bash
# Build OpenSSL's libcrypto (and libssl: cheap, and what a static port program would
# need) from the pinned Debian `openssl` source for musl, static, for ERTS's crypto NIF.
#   erts-static/openssl/build.sh OUTDIR TOOLCHAIN_DIR
# Writes OUTDIR/include/openssl/*.h, OUTDIR/lib/libcrypto.a, libssl.a and OUTDIR/build.log.
# Static and self-contained: no shared objects (no-shared), every provider built into
# libcrypto (no-module: the default, base and legacy providers are in the archive, not
# files to dlopen), no engines (no-engine: OpenSSL 3 deprecates them, and /init cannot
# load one), no DSO loader at all (no-dso). The configuration directory is /etc/ssl,
# Debian's: X509_get_default_cert_file() is then /etc/ssl/cert.pem and the cert dir
# /etc/ssl/certs, where the image's trust store goes (docs/crypto.md).
# Why bookworm's 3.0 and not trixie's 3.5: docs/crypto.md.
# Work tree: OUTDIR.work, removed on success. Idempotent: nothing is done when OUTDIR/.done exists.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OUTDIR TOOLCHAIN_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -f "$out/.done" ]; then echo "[openssl] up to date: $out"; exit 0; fi
tc=$(cd "$2" 2>/dev/null && pwd) ||
  { echo "openssl: toolchain dir $2 does not exist (run cmake/build-musl-toolchain.sh $2)" >&2; exit 1; }
work=$out.work
log=$out/build.log
steps=4 step=0 what=""
progress() { step=$((step + 1)); what=$1; echo "[openssl $step/$steps] $what"; echo "=== $(date +%T) $what" >>"$log"; }
trap 'echo "openssl: step $step/$steps ($what) failed; log: $log" >&2' ERR
die() { echo "openssl: $*" >&2; trap - ERR; exit 1; }

[ -f "$tc/.done" ] && [ -x "$tc/bin/musl-cc" ] ||
  die "toolchain in $tc is not built (run cmake/build-musl-toolchain.sh $tc)"
command -v perl >/dev/null || die "perl not found (apt-get install perl)"
ar=$(command -v llvm-ar-14) || die "llvm-ar-14 not found (apt-get install llvm-14)"
ranlib=$(command -v llvm-ranlib-14) || die "llvm-ranlib-14 not found (apt-get install llvm-14)"
nm=$(command -v llvm-nm-14) || die "llvm-nm-14 not found (apt-get install llvm-14)"

rm -rf "$out/include" "$out/lib" "$work"
mkdir -p "$work"
: >"$log"

progress "unpack openssl source (Debian patches applied) into $work"
"$repo/cmake/fetch-debian-source.sh" openssl "$work/src" >>"$log" 2>&1
src=$work/src

progress "configure linux-x86_64 with musl-cc: no-shared no-module no-engine no-dso"
# no-afalgeng: the kernel's AF_ALG engine (an engine, and our kernel has no AF_ALG);
# no-tests: the test programs are not built. SOURCE_DATE_EPOCH keeps the build date out.
(cd "$src" && SOURCE_DATE_EPOCH=0 CC="$tc/bin/musl-cc" AR="$ar" RANLIB="$ranlib" \
  ./Configure linux-x86_64 --prefix="$out" --libdir=lib --openssldir=/etc/ssl \
  no-shared no-module no-engine no-dso no-afalgeng no-tests -O2) >>"$log" 2>&1
perl -I"$src" -Mconfigdata -e 'exit(exists $disabled{shared} && exists $disabled{module} ? 0 : 1)' ||
  die "Configure did not disable shared libraries and loadable modules (see $log)"

progress "build libcrypto.a and libssl.a"
make -C "$src" -j"$(nproc)" build_libs >>"$log" 2>&1

progress "install the headers and archives, check them"
make -C "$src" install_dev >>"$log" 2>&1
rm -rf "$out/lib/pkgconfig"
for f in libcrypto.a libssl.a; do [ -f "$out/lib/$f" ] || die "the build did not install lib/$f"; done
! ls "$out"/lib/*.so* >/dev/null 2>&1 || die "the build installed a shared object"
# No provider module or engine may be loaded from a file: the loaders are compiled out.
"$nm" --defined-only "$out/lib/libcrypto.a" >"$work/libcrypto.syms" 2>/dev/null
grep -qw ossl_default_provider_init "$work/libcrypto.syms" ||
  die "libcrypto.a has no built-in default provider"
grep -q '^# *define OPENSSL_NO_ENGINE' "$out/include/openssl/configuration.h" ||
  die "configuration.h does not say OPENSSL_NO_ENGINE"
grep -q '^# *define OPENSSL_NO_DSO' "$out/include/openssl/configuration.h" ||
  die "configuration.h does not say OPENSSL_NO_DSO"
# Link a program against it with the musl toolchain: it must be static and print the version.
cat >"$work/check.c" <<'C'
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
int main(void) {
  unsigned char md[EVP_MAX_MD_SIZE]; unsigned int n = 0;
  if (!EVP_Digest("abc", 3, md, &n, EVP_sha256(), NULL) || n != 32 || md[0] != 0xba) return 1;
  puts(OpenSSL_version(OPENSSL_VERSION));
  return 0;
}
C
"$tc/bin/musl-cc" -O2 -I"$out/include" "$work/check.c" "$out/lib/libcrypto.a" -o "$work/check" >>"$log" 2>&1
! readelf -lW "$work/check" | grep -q INTERP || die "check binary has an INTERP header"
version=$("$work/check") || die "check binary failed to hash with SHA-256"
echo "$version" >"$out/version.txt"

rm -rf "$work"
date -u +%FT%TZ >"$out/.done"
echo "[openssl] done: $out ($version)"
