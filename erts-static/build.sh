#!/usr/bin/env bash
# Build ERTS (Erlang/OTP from a pinned Debian `erlang` source) against musl as static
# libraries exposing erl_start, with the JIT, and crypto's and asn1's NIFs as static NIFs
# (OTP's --enable-static-nifs) against OPENSSL_DIR's static libcrypto.
#   erts-static/build.sh OUTDIR TOOLCHAIN_DIR OPENSSL_DIR [PIN]
# PIN names the source: `erlang` (default: OTP 25.2.3, Debian 12's, cmake/debian-sources.txt,
# Debian patches applied) or a line of cmake/debian-pool-sources.txt such as `erlang-27`
# (OTP 27.3.4.1 from trixie's upstream tarball). The same script builds every major,
# each with MicroBEAM's patches for it: erts-static/patches/otp-MAJOR/*.patch, in name order.
# TOOLCHAIN_DIR is the output of cmake/build-musl-toolchain.sh, OPENSSL_DIR that of
# erts-static/openssl/build.sh. Writes into OUTDIR:
#   lib/*.a              libbeam.a and everything the beam.smp link uses, minus erl_main.o
#                        and minus driver_tab.o (the table of static drivers and NIFs):
#   lib/liberts_tab_plain.a   that table without static NIFs (the crypto-less /init)
#   lib/liberts_tab_crypto.a  that table with crypto and asn1rt_nif, which link
#                        lib/crypto.a, lib/asn1rt_nif.a and lib/libcrypto.a
#   lib/liberl_child_setup.a, lib/libinet_gethost.a   the helpers, main renamed
#   include/erts_static.h, erts-static.cmake (targets erts::static, erts::static_crypto,
#   erts::child_setup, erts::inet_gethost; variables ERTS_VSN, OTP_RELEASE, OTP_VERSION),
#   link.txt, link-crypto.txt
# Work tree: $MICROBEAM_CACHE/erts-work-<hash of OUTDIR> (override: ERTS_WORK_DIR), removed
# on success unless ERTS_KEEP_WORK=1. Idempotent: nothing is done when OUTDIR/.done exists.
# Measured here (2 cores shared with parallel kernel builds, load average ~6): cold run
# 10 min 44 s (CPU: user 5m13 + sys 2m51): unpack 6 s, configure 3 min 46 s, emulator
# (beam.smp, libbeam.a, erl_child_setup) 6 min 10 s, inet_gethost 1 s, collect + check 40 s.
set -euo pipefail
[ $# -eq 3 ] || [ $# -eq 4 ] || { echo "usage: $0 OUTDIR TOOLCHAIN_DIR OPENSSL_DIR [PIN]" >&2; exit 2; }
pin=${4:-erlang}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -f "$out/.done" ]; then echo "[erts] up to date: $out"; exit 0; fi
tc=$(cd "$2" 2>/dev/null && pwd) ||
  { echo "erts-static: toolchain dir $2 does not exist (run cmake/build-musl-toolchain.sh $2)" >&2; exit 1; }
ossl=$(cd "$3" 2>/dev/null && pwd) ||
  { echo "erts-static: OpenSSL dir $3 does not exist (run erts-static/openssl/build.sh $3)" >&2; exit 1; }
cache=${MICROBEAM_CACHE:-/var/cache/microbeam}
work=${ERTS_WORK_DIR:-$cache/erts-work-$(printf %s "$out" | sha256sum | cut -c1-12)}
T=x86_64-pc-linux-musl
steps=8 step=0 what=""
log="$out/build.log"
progress() { step=$((step + 1)); what=$1; echo "[erts $step/$steps] $what"; echo "=== $(date +%T) $what" >>"$log"; }
trap 'echo "erts-static: step $step/$steps ($what) failed; log: $log" >&2' ERR
die() { echo "erts-static: $*" >&2; trap - ERR; exit 1; }

[ -f "$tc/.done" ] && [ -x "$tc/bin/musl-cc" ] ||
  die "toolchain in $tc is not built (run cmake/build-musl-toolchain.sh $tc)"
[ -f "$ossl/.done" ] && [ -f "$ossl/lib/libcrypto.a" ] ||
  die "OpenSSL in $ossl is not built (run erts-static/openssl/build.sh $ossl $tc)"
command -v perl >/dev/null || die "perl not found (apt-get install perl)"
command -v make >/dev/null || die "make not found (apt-get install make)"
llvm_ar=$(command -v llvm-ar-14) || die "llvm-ar-14 not found (apt-get install llvm-14)"
llvm_ranlib=$(command -v llvm-ranlib-14) || die "llvm-ranlib-14 not found (apt-get install llvm-14)"
llvm_objcopy=$(command -v llvm-objcopy-14) || die "llvm-objcopy-14 not found (apt-get install llvm-14)"
llvm_nm=$(command -v llvm-nm-14) || die "llvm-nm-14 not found (apt-get install llvm-14)"
jobs=$(nproc)

rm -rf "$out/lib" "$out/include" "$out/erts-static.cmake" "$out/link.txt" "$out/link-crypto.txt"
mkdir -p "$out/lib" "$out/include"
: >"$log"

progress "unpack the $pin source into $work"
rm -rf "$work" && mkdir -p "$work"
if awk -v n="$pin" '$1==n {f=1} END {exit !f}' "$repo/cmake/debian-pool-sources.txt"; then
  "$repo/cmake/fetch-debian-pool.sh" "$pin" "$work/otp" >>"$log" 2>&1
else
  "$repo/cmake/fetch-debian-source.sh" "$pin" "$work/otp" >>"$log" 2>&1
fi
src=$work/otp
export ERL_TOP=$src

major=$(cut -d. -f1 "$src/OTP_VERSION")
patches=("$here/patches/otp-$major"/*.patch)
[ -e "${patches[0]}" ] || patches=()
progress "apply ${#patches[@]} MicroBEAM patch(es) for OTP $major (erts-static/patches/otp-$major)"
command -v patch >/dev/null || die "patch not found (apt-get install patch)"
for p in "${patches[@]}"; do
  patch -s -p1 -N -d "$src" <"$p" >>"$log" 2>&1 || die "$p does not apply to OTP $(cat "$src/OTP_VERSION") (see $log)"
done

progress "configure for $T with the JIT and static crypto/asn1 NIFs (musl-cc/musl-c++)"
# Native build with build = host = the musl triple: configure's run-tests execute (the host
# runs static musl programs), and TARGET names the musl tree. Applications with their own
# configure that the emulator does not need are skipped (crypto is needed: its configure
# finds OpenSSL). --enable-static-nifs=yes links asn1rt_nif.a and crypto.a into beam.smp;
# their OpenSSL dependency must come through LIBS (erts/configure.ac says so), here the
# static libcrypto.a itself (a configure test that does not use it links nothing of it).
skip=()
for d in "$src"/lib/*/configure; do
  app=$(basename "$(dirname "$d")")
  case $app in erl_interface|crypto) ;; *) skip+=("--without-$app") ;; esac
done
(cd "$src" && ./configure --build=$T --host=$T \
  CC="$tc/bin/musl-cc" CXX="$tc/bin/musl-c++" AR="$llvm_ar" RANLIB="$llvm_ranlib" \
  LIBS="$ossl/lib/libcrypto.a" \
  --enable-jit --enable-builtin-zlib --without-termcap --without-javac \
  --with-ssl="$ossl" --disable-dynamic-ssl-lib --with-ssl-rpath=no --enable-static-nifs \
  --disable-sctp --without-dynamic-trace "${skip[@]}") >>"$log" 2>&1
grep -q '^JIT_ENABLED=yes' "$src/erts/emulator/$T/Makefile" ||
  die "configure did not enable the JIT (see $log)"
grep -q '^STATIC_NIFS=yes' "$src/erts/emulator/$T/Makefile" ||
  die "configure did not enable the static NIFs (see $log)"
grep -q '^DYNAMIC_CRYPTO_LIB=no' "$src/lib/crypto/c_src/$T/Makefile" ||
  die "crypto's configure did not take the static libcrypto of $ossl (see $log)"
! grep -q '^#define HAVE_MALLOPT' "$src/erts/$T/config.h" ||
  die "configure found mallopt: the compiler links against glibc, not musl"

progress "build the emulator: beam.smp, libbeam.a, erl_child_setup, the static NIFs (opt, jit)"
make -C "$src/erts/emulator" -j"$jobs" opt TARGET=$T FLAVOR=jit >>"$log" 2>&1
bin=$src/bin/$T
for f in beam.smp libbeam.a erl_child_setup; do
  [ -f "$bin/$f" ] || die "the emulator build did not produce $bin/$f"
done
for f in lib/crypto/priv/lib/$T/crypto.a lib/asn1/priv/lib/$T/asn1rt_nif.a; do
  [ -f "$src/$f" ] || die "the emulator build did not produce the static NIF $src/$f"
done

progress "build inet_gethost (erts/etc/common)"
make -C "$src/erts/etc/common" -f $T/Makefile TARGET=$T TYPE=opt "$bin/inet_gethost" >>"$log" 2>&1
[ -f "$bin/inet_gethost" ] || die "the erts/etc/common build did not produce $bin/inet_gethost"

progress "collect the static libraries of the beam.smp link"
emu=$src/erts/emulator
make -s --no-print-directory -C "$emu" -f $T/Makefile -f "$here/print-link.mk" \
  TARGET=$T TYPE=opt FLAVOR=jit microbeam-print-link >"$work/link-vars.txt" 2>>"$log"
var() { sed -n "s/^$1=//p" "$work/link-vars.txt"; }
# Resolve the beam.smp link's libraries: archives are copied into OUTDIR/lib, -lNAME found
# in a -L directory of the build tree likewise; the rest (-lm -ldl -lutil -lpthread -lrt)
# are musl's, which resolve in the sysroot.
libs=() syslibs=() ldirs=() niflibs=()
add_lib() {
  local f=$1 b; b=$(basename "$f")
  [ -f "$f" ] || die "library $f of the beam.smp link does not exist"
  for x in "${libs[@]}"; do [ "$x" = "$b" ] && return 0; done
  cp "$f" "$out/lib/$b"; libs+=("$b")
}
add_lib "$(var EMULATOR_LIB)"
# The static NIFs and OpenSSL go to the crypto variant only (erts::static_crypto).
for f in $(var STATIC_NIF_LIBS) "$ossl/lib/libcrypto.a"; do
  cp "$f" "$out/lib/$(basename "$f")"; niflibs+=("$(basename "$f")")
done
for tok in $(var STATIC_DRIVER_LIBS) $(var LIBS); do
  case $tok in
    -L*) d=${tok#-L}; case $d in /*) ;; *) d=$emu/$d ;; esac; ldirs+=("$d") ;;
    -l*) n=${tok#-l} found=
         for d in "${ldirs[@]}"; do
           if [ -f "$d/lib$n.a" ]; then add_lib "$d/lib$n.a"; found=1; break; fi
         done
         if [ -z "$found" ]; then
           [ -f "$tc/sysroot/usr/lib/lib$n.a" ] || die "-l$n of the beam.smp link is neither built nor in musl"
           case " ${syslibs[*]-} " in *" -l$n "*) ;; *) syslibs+=("-l$n") ;; esac
         fi ;;
    "$ossl/lib/libcrypto.a") ;;  # in niflibs
    *.a) add_lib "$tok" ;;
    -*) echo "note: ignoring link flag $tok" >>"$log" ;;
    *) die "unexpected item $tok in the beam.smp link" ;;
  esac
done
case " $(echo $(var INIT_OBJS)) " in *"/erl_main.o "*) ;; *) die "erl_main.o is not in INIT_OBJS: the Makefile changed" ;; esac
"$llvm_nm" -g --defined-only --format=just-symbols "$out/lib/libbeam.a" >"$work/libbeam.syms" 2>/dev/null
grep -qx erl_start "$work/libbeam.syms" || die "libbeam.a does not define erl_start"
! grep -qx main "$work/libbeam.syms" || die "libbeam.a defines main"
# The table of static drivers and NIFs (driver_tab.c, generated by utils/make_driver_tab)
# is the only object that names the static NIFs. libbeam.a's one goes; two are generated
# and compiled with the emulator's own flags: liberts_tab_plain.a without crypto/asn1,
# liberts_tab_crypto.a with them. One ERTS build, two /init links. Both end with
# $nif_slots entries microbeam_nif_N_nif_init, declared weak: ERTS's table ends at the
# first entry whose init function is NULL, which an undefined weak function is, so an
# /init linked with a release's own NIF compiled as STATIC_ERLANG_NIF_LIBNAME=microbeam_nif_N
# (cmd/microbeam_cli/nif.py) has it, and any other /init has the table as before.
nif_slots=4
objdir=$src/erts/emulator/obj/$T/opt/jit
(cd "$work" && "$llvm_ar" x "$out/lib/libbeam.a" driver_tab.o) ||
  die "libbeam.a holds no driver_tab.o: the Makefile changed"
"$llvm_ar" d "$out/lib/libbeam.a" driver_tab.o
"$llvm_nm" "$work/driver_tab.o" >"$work/driver_tab.syms"
grep -qE ' U crypto_nif_init$' "$work/driver_tab.syms" ||
  die "libbeam.a's driver_tab.o does not name crypto_nif_init: the static NIFs are not in it"
slots=()
: >"$work/nif_slots.h"
for i in $(seq 0 $((nif_slots - 1))); do
  slots+=("microbeam_nif_$i.a")
  echo "extern void *microbeam_nif_${i}_nif_init(void) __attribute__((weak));" >>"$work/nif_slots.h"
done
tab() {  # NAME STATIC-NIF-ARCHIVES...
  local name=$1; shift
  make -s --no-print-directory -C "$emu" -f $T/Makefile -f "$here/print-link.mk" \
    TARGET=$T TYPE=opt FLAVOR=jit MICROBEAM_WORK="$work" MICROBEAM_TAB="$name" \
    MICROBEAM_TAB_HEADER="$work/nif_slots.h" MICROBEAM_STATIC_NIFS="$*" microbeam-driver-tab >>"$log" 2>&1
  "$llvm_nm" "$work/$name.o" >"$work/$name.syms"
  grep -qw erts_static_nif_tab "$work/$name.syms" || die "$name.o defines no erts_static_nif_tab"
  grep -qE " w microbeam_nif_$((nif_slots - 1))_nif_init$" "$work/$name.syms" ||
    die "$name.o has no weak NIF slot $((nif_slots - 1))"
}
tab driver_tab_plain "${slots[@]}"
tab driver_tab_crypto $(var STATIC_NIF_LIBS) "${slots[@]}"
! grep -qE " U (crypto|asn1rt_nif)_nif_init$" "$work/driver_tab_plain.syms" ||
  die "the plain driver_tab_plain.o still names a static NIF"
grep -qE " U crypto_nif_init$" "$work/driver_tab_crypto.syms" &&
  grep -qE " U asn1rt_nif_nif_init$" "$work/driver_tab_crypto.syms" ||
  die "driver_tab_crypto.o does not name the crypto and asn1rt_nif NIFs"
echo "$nif_slots" >"$out/nif-slots.txt"
"$llvm_ar" rcs "$out/lib/liberts_tab_crypto.a" "$work/driver_tab_crypto.o"
"$llvm_ar" rcs "$out/lib/liberts_tab_plain.a" "$work/driver_tab_plain.o"
# The helpers, main renamed. erl_child_setup also links sys_uds.o and hash.o, which
# libbeam.a already holds (same objects), and erts_internal, for which erts_internal_r serves.
case " $(echo $(var CS_OBJ)) " in *"/erl_child_setup.o "*) ;; *) die "erl_child_setup.o is not in CS_OBJ: the Makefile changed" ;; esac
# Every other global they define is made local: erl_child_setup.o has its own
# sys_sigblock/sys_sigrelease, which libbeam.a's sys.o also defines.
helper() {  # object new-main-name
  "$llvm_objcopy" --redefine-sym main="$2" "$1" "$work/$2.tmp.o"
  "$llvm_objcopy" --keep-global-symbol="$2" "$work/$2.tmp.o" "$work/$2.o"
}
helper "$objdir/erl_child_setup.o" erl_child_setup_main
helper "$src/erts/obj/$T/inet_gethost.o" inet_gethost_main
rm -f "$out/lib/liberl_child_setup.a" "$out/lib/libinet_gethost.a"
"$llvm_ar" rcs "$out/lib/liberl_child_setup.a" "$work/erl_child_setup_main.o"
"$llvm_ar" rcs "$out/lib/libinet_gethost.a" "$work/inet_gethost_main.o"
cp "$here/erts_static.h" "$out/include/"
# erl_nif.h and what it includes, for a release's own NIFs compiled as static NIFs.
mkdir -p "$out/include/nif"
cp "$src/erts/emulator/beam/erl_nif.h" "$src/erts/emulator/beam/erl_nif_api_funcs.h" \
   "$src/erts/emulator/beam/erl_drv_nif.h" "$src/erts/include/$T/erl_int_sizes_config.h" "$out/include/nif/"

progress "write erts-static.cmake"
vsn=$(var VSN) rel=$(var SYSTEM_VSN) otpv=$(cat "$src/OTP_VERSION")
# group NAME EXTRA-LIBS...: one variant's link items, ERTS's archives in one group.
group() {
  printf '%s' "-Wl,--start-group"
  for l in "${libs[@]}" "$@"; do printf ';${ERTS_STATIC_DIR}/lib/%s' "$l"; done
  printf ';-Wl,--end-group'
  for l in "${syslibs[@]}"; do printf ';%s' "$l"; done
}
{
  echo "# Generated by erts-static/build.sh: static ERTS $vsn (OTP $otpv) for x86_64 musl, JIT."
  echo "# Link order of erts/emulator/Makefile's beam.smp link, minus erl_main.o; two variants:"
  echo "# erts::static without static NIFs, erts::static_crypto with crypto and asn1rt_nif"
  echo "# ($(cat "$ossl/version.txt" 2>/dev/null || echo OpenSSL), static). Link exactly one of them."
  echo "set(ERTS_VSN \"$vsn\")"
  echo "set(OTP_RELEASE \"$rel\")"
  echo "set(OTP_VERSION \"$otpv\")"
  echo "set(ERTS_STATIC_DIR \"\${CMAKE_CURRENT_LIST_DIR}\")"
  echo "if(NOT TARGET erts::static)"
  for v in static:liberts_tab_plain.a static_crypto:liberts_tab_crypto.a; do
    extra=("${v#*:}"); [ "${v%%:*}" = static ] || extra+=("${niflibs[@]}")
    echo "  add_library(erts::${v%%:*} INTERFACE IMPORTED)"
    echo "  set_target_properties(erts::${v%%:*} PROPERTIES"
    echo "    INTERFACE_INCLUDE_DIRECTORIES \"\${ERTS_STATIC_DIR}/include\""
    echo "    INTERFACE_LINK_LIBRARIES \"$(group "${extra[@]}")\")"
  done
  echo "  # The helpers' main()s, renamed (multi-call by argv[0]); they need one of the above."
  for h in child_setup:erl_child_setup inet_gethost:inet_gethost; do
    echo "  add_library(erts::${h%%:*} STATIC IMPORTED)"
    echo "  set_target_properties(erts::${h%%:*} PROPERTIES"
    echo "    IMPORTED_LOCATION \"\${ERTS_STATIC_DIR}/lib/lib${h#*:}.a\")"
  done
  echo "endif()"
} >"$out/erts-static.cmake"
link_line() {
  printf '%s ' -Wl,--start-group; for l in "${libs[@]}" "$@"; do printf '%s ' "$out/lib/$l"; done
  printf '%s ' -Wl,--end-group "${syslibs[@]}"; echo
}
link_line liberts_tab_plain.a >"$out/link.txt"
link_line liberts_tab_crypto.a "${niflibs[@]}" >"$out/link-crypto.txt"

progress "check: link erl_start with musl-c++, static, no glibc"
cat >"$work/check.cpp" <<'CPP'
#include <erts_static.h>
#include <string_view>
int main(int argc, char **argv) {
  std::string_view s = argv[0];
  if (s.ends_with("erl_child_setup")) return erl_child_setup_main(argc, argv);
  if (s.ends_with("inet_gethost")) return inet_gethost_main(argc, argv);
  erl_start(argc, argv);
}
CPP
for v in link link-crypto; do
  "$tc/bin/musl-c++" -std=c++20 -O2 -I"$out/include" "$work/check.cpp" \
    "$out/lib/liberl_child_setup.a" "$out/lib/libinet_gethost.a" $(cat "$out/$v.txt") \
    -o "$work/check" >>"$log" 2>&1
  ! readelf -lW "$work/check" | grep -q INTERP || die "check binary ($v) has an INTERP header"
  ! readelf -dW "$work/check" | grep -q NEEDED || die "check binary ($v) has NEEDED entries"
  ! grep -q GLIBC_ "$work/check" || die "check binary ($v) contains a GLIBC_ string"
  "$llvm_nm" "$work/check" >"$work/check.syms"
  grep -qw erl_start "$work/check.syms" || die "check binary ($v) has no erl_start"
  ! grep -qwE '_dl_x86_cpu_features|__libc_csu_init|__libc_start_call_main|_IO_stdin_used|_dl_relocate_static_pie' "$work/check.syms" ||
    die "check binary ($v) holds glibc symbols"
  case $v in
    link) ! grep -qw crypto_nif_init "$work/check.syms" || die "the plain link holds the crypto NIF" ;;
    *) grep -qw crypto_nif_init "$work/check.syms" && grep -qw asn1rt_nif_nif_init "$work/check.syms" &&
         grep -qw EVP_DigestInit_ex "$work/check.syms" || die "the crypto link lacks the crypto/asn1 NIFs or OpenSSL" ;;
  esac
  echo "check binary ($v): $(stat -c %s "$work/check") bytes" >>"$log"
done

[ "${ERTS_KEEP_WORK:-0}" = 1 ] || rm -rf "$work"
date -u +%FT%TZ >"$out/.done"
echo "[erts] done: $out (ERTS $vsn, OTP $otpv, JIT)"
