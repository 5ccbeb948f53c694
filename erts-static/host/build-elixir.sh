#!/usr/bin/env bash
# Build Elixir (compiler, mix, ExUnit, IEx, EEx, Logger) from a pinned Debian source with
# the OTP toolchain of erts-static/host/build-otp.sh, for releases of that OTP major.
#   erts-static/host/build-elixir.sh OUTDIR OTP_DIR PIN
# PIN names the source in cmake/debian-pool-sources.txt (e.g. elixir-lang). Elixir's make
# needs only OTP_DIR/bin/erl and erlc. Installs into OUTDIR (bin/elixir, bin/mix, bin/iex,
# lib/elixir/...). Mix works offline (no Hex: HEX_OFFLINE, nothing fetched).
# Idempotent: nothing is done when OUTDIR/.done exists.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 OUTDIR OTP_DIR PIN" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
otp=$(cd "$2" 2>/dev/null && pwd) ||
  { echo "elixir-host: OTP dir $2 does not exist (run erts-static/host/build-otp.sh $2 PIN)" >&2; exit 1; }
pin=$3
if [ -f "$out/.done" ]; then echo "[elixir-host] up to date: $out"; exit 0; fi
[ -f "$otp/.done" ] && [ -x "$otp/bin/erl" ] ||
  { echo "elixir-host: OTP in $otp is not built (run erts-static/host/build-otp.sh $otp PIN)" >&2; exit 1; }
cache=${MICROBEAM_CACHE:-/var/cache/microbeam}
work=$cache/elixir-host-work-$(printf %s "$out" | sha256sum | cut -c1-12)
steps=4 step=0 what=""
log="$out/build.log"
progress() { step=$((step + 1)); what=$1; echo "[elixir-host $step/$steps] $what"; echo "=== $(date +%T) $what" >>"$log"; }
trap 'echo "elixir-host: step $step/$steps ($what) failed; log: $log" >&2' ERR
die() { echo "elixir-host: $*" >&2; trap - ERR; exit 1; }
find "$out" -mindepth 1 -delete
: >"$log"
export PATH="$otp/bin:$PATH" LANG=C.UTF-8 LC_ALL=C.UTF-8

progress "unpack $pin into $work"
rm -rf "$work" && mkdir -p "$work"
"$repo/cmake/fetch-debian-pool.sh" "$pin" "$work/elixir" >>"$log" 2>&1

progress "compile with OTP $(cat "$otp/OTP_VERSION")"
make -C "$work/elixir" -j"$(nproc)" compile >>"$log" 2>&1

progress "install into $out"
make -C "$work/elixir" install PREFIX="$out" >>"$log" 2>&1

progress "check: elixir runs, mix knows release"
export PATH="$out/bin:$PATH"   # mix and iex are `#!/usr/bin/env elixir` scripts
"$out/bin/elixir" -e 'IO.puts(System.version() <> " " <> System.otp_release())' >"$out/check.txt" 2>>"$log" ||
  die "the installed elixir does not run (see $log)"
(cd "$work" && MIX_HOME="$work/mix-home" HEX_OFFLINE=1 "$out/bin/mix" help release >/dev/null 2>>"$log") ||
  die "mix help release failed (see $log)"
cat "$out/check.txt" >>"$log"
cp "$work/elixir/VERSION" "$out/VERSION"
[ "${ERTS_KEEP_WORK:-0}" = 1 ] || rm -rf "$work"
date -u +%FT%TZ >"$out/.done"
echo "[elixir-host] done: $out (Elixir $(cut -d' ' -f1 "$out/check.txt") on OTP $(cut -d' ' -f2 "$out/check.txt"))"
