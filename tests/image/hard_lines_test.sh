#!/usr/bin/env bash
# The hard lines of shared/DESIGN.md, checked on the built artifacts:
# /init is static (no INTERP, no NEEDED), holds no glibc, links ERTS (erl_start),
# and the initramfs holds exactly one ELF file: /init. CPIO (default OUTDIR/microbeam.cpio)
# may be another image with the same /init: `microbeam build --release` checks its own.
# INIT (default microbeam-init) names the /init variant in OUTDIR: microbeam-init-crypto
# for an image of a release with crypto (tests/release/test_tls.py).
set -uo pipefail
out=$(cd "${1:?usage: hard_lines_test.sh OUTDIR [CPIO]}" && pwd)
init=$out/microbeam-init debug=$out/microbeam-init.debug cpio=${2:-$out/microbeam.cpio}
init=$out/${3:-microbeam-init} debug=$out/${3:-microbeam-init}.debug
failed=0 passed=0
check() {  # check "what" command...
  local what=$1; shift
  if "$@"; then echo "ok   $what"; passed=$((passed + 1)); else echo "FAIL $what"; failed=$((failed + 1)); fi
}
for f in "$init" "$debug" "$cpio"; do
  [ -f "$f" ] || { echo "hard_lines: $f is missing (build first)"; exit 1; }
done
check "/init is an ELF executable" bash -c "readelf -h '$init' | grep -q 'EXEC\|DYN'"
check "/init has no INTERP (no dynamic loader)" bash -c "! readelf -lW '$init' | grep -q INTERP"
check "/init has no NEEDED (no shared library)" bash -c "! readelf -dW '$init' | grep -q NEEDED"
check "/init carries no GLIBC_ symbol version" bash -c "! grep -qa 'GLIBC_' '$init'"
check "/init links ERTS (erl_start)" bash -c "nm '$debug' | grep -qw 'T erl_start'"
check "/init holds no glibc code" bash -c "! nm '$debug' | grep -qE ' (_dl_x86_cpu_features|__libc_csu_init|__libc_start_call_main)$'"
check "/init runs the JIT emulator (beam_jit objects linked)" bash -c "nm '$debug' | grep -q 'beamasm\|BeamAssembler\|asmjit'"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && zstd -dcq "$cpio" | cpio -idm --quiet --no-absolute-filenames 2>/dev/null)
elfs=$(cd "$tmp" && find . -type f -exec sh -c 'head -c4 "$1" | grep -q "^.ELF" && echo "$1"' _ {} \;)
check "the initramfs holds exactly one ELF, ./init (found: $(echo $elfs))" test "$elfs" = "./init"
check "the initramfs /init is out/${3:-microbeam-init}" cmp -s "$tmp/init" "$init"
check "/dev/console is in the initramfs" test -c "$tmp/dev/console" -o -n "$(zstd -dcq "$cpio" | cpio -itv --quiet 2>/dev/null | grep '^c.* dev/console$')"
# Lock-down: nothing in the image is writable by others (the guest mounts its own /tmp),
# and nothing runs set-uid or set-gid.
listing=$(zstd -dcq "$cpio" | cpio -itv --quiet 2>/dev/null)
ww=$(echo "$listing" | awk '$1 !~ /^l/ && substr($1, 9, 1) == "w" {print $NF}' | grep -v '^tmp$' || true)
check "no world-writable file or directory in the initramfs but /tmp (found: $(echo $ww))" test -z "$ww"
suid=$(echo "$listing" | awk '$1 ~ /[sS]/ {print $NF}')
check "no set-uid or set-gid file in the initramfs (found: $(echo $suid))" test -z "$suid"
# The crash path's home (supervisor/src/crash/) is visibly allocation-free and
# async-signal-safe: no allocating container or Abseil, no heap, no stdio, no locks.
crash_src=$(cd "$(dirname "$0")/../../supervisor/src/crash" && pwd)
unsafe=$(grep -nE '#include <(string|vector|map|memory|functional|mutex|iostream|sstream|cstdio)>|#include "absl/|\bnew\b|\b(malloc|calloc|realloc|free|printf|fprintf|snprintf|syslog)\(|std::(string|vector|mutex|lock_guard)\b' "$crash_src"/*.cc "$crash_src"/*.h | grep -v '^[^:]*:[0-9]*: *//' || true)
check "supervisor/src/crash uses no allocation, stdio or lock (found: $(echo $unsafe))" test -z "$unsafe"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
