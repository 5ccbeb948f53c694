#!/usr/bin/env bash
# Build and run the erts-static smoke test.
#   erts-static/smoke/run.sh ERTS_OUTDIR TOOLCHAIN_DIR [BUILDDIR]
# Runs Debian's own OTP 25.2.3 .beam files (/usr/lib/erlang, package erlang-base) on the
# static musl JIT emulator linked into one C++ binary, which also serves as inet_gethost and
# erl_child_setup through symlinks in its BINDIR.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 ERTS_OUTDIR TOOLCHAIN_DIR [BUILDDIR]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
erts=$(cd "$1" && pwd) tc=$(cd "$2" && pwd)
b=${3:-$erts/smoke-build}
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
[ -f /usr/lib/erlang/bin/start_clean.boot ] || fail "Debian's erlang-base is not installed (/usr/lib/erlang)"
gen="Unix Makefiles"; command -v ninja >/dev/null && gen=Ninja
cmake -G "$gen" -S "$here" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$tc/musl.cmake" \
  -DERTS_STATIC_DIR="$erts" -DCMAKE_BUILD_TYPE=Release >"$b.log" 2>&1 || fail "cmake configure (see $b.log)"
cmake --build "$b" >>"$b.log" 2>&1 || fail "build (see $b.log)"
exe=$b/erts-smoke
mkdir -p "$b/bin" && ln -sf ../erts-smoke "$b/bin/erl_child_setup" && ln -sf ../erts-smoke "$b/bin/inet_gethost"

! readelf -lW "$exe" | grep -q INTERP || fail "INTERP program header"
! readelf -dW "$exe" | grep -q NEEDED || fail "NEEDED entries"
! grep -q GLIBC_ "$exe" || fail "GLIBC_ string"
nm "$exe" >"$b/nm.txt"
grep -qw erl_start "$b/nm.txt" || fail "no erl_start symbol"
! grep -qwE '_dl_x86_cpu_features|__libc_csu_init|__libc_start_call_main|_IO_stdin_used' "$b/nm.txt" || fail "glibc symbols"
llvm-strip-14 -o "$b/erts-smoke.stripped" "$exe"

eval='io:format("emu_flavor=~p~nos_pid=~s~n", [erlang:system_info(emu_flavor), os:getpid()]),
  io:format("inet_gethost=~p~n", [inet_gethost_native:gethostbyname("localhost")]),
  io:format("os_cmd=~p~n", [os:cmd("echo forked-via-erl_child_setup")]),
  halt()'
start=$(date +%s%N)
out=$(cd "$b" && HOME=/root timeout 120 "$exe" /usr/lib/erlang "$b/bin" \
  -boot /usr/lib/erlang/bin/start_clean -noshell -noinput -eval "$eval" 2>&1) || fail "run: $out"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "$out"
grep -q '^emu_flavor=jit$' <<<"$out" || fail "emu_flavor is not jit"
grep -q '^inet_gethost={ok,{hostent,"localhost"' <<<"$out" || fail "inet_gethost via multi-call"
grep -q 'forked-via-erl_child_setup' <<<"$out" || fail "os:cmd via erl_child_setup"
echo "smoke: OK: static, no INTERP/NEEDED/GLIBC_, jit; $(stat -c %s "$exe") bytes," \
  "$(stat -c %s "$b/erts-smoke.stripped") stripped; start-to-halt ${ms} ms"
