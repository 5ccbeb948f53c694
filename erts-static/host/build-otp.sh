#!/usr/bin/env bash
# Build the host's Erlang/OTP toolchain (erl, erlc, escript and the OTP applications that
# releases, mix and Elixir use) from a pinned Debian source, for releases meant for an
# OTP major other than the host's own (Debian 12 ships OTP 25).
#   erts-static/host/build-otp.sh OUTDIR PIN
# PIN names the source in cmake/debian-pool-sources.txt (e.g. erlang-27). Installs into
# OUTDIR (bin/erl, bin/erlc, lib/erlang/...), glibc, dynamic, JIT, crypto against the
# host's libssl (libssl-dev). The static ERTS of the guest is built from the same pinned
# tarball by erts-static/build.sh; the guest's OTP applications are this build's .beams
# (a release built with it carries them). Applications no release, mix or Elixir needs
# are skipped (wx, odbc, jinterface, megaco, the GUI tools, ssh, snmp, diameter, ...).
# Work tree: $MICROBEAM_CACHE/otp-host-work-<hash of OUTDIR>, removed on success unless
# ERTS_KEEP_WORK=1. Idempotent: nothing is done when OUTDIR/.done exists.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OUTDIR PIN" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
pin=$2
if [ -f "$out/.done" ]; then echo "[otp-host] up to date: $out"; exit 0; fi
cache=${MICROBEAM_CACHE:-/var/cache/microbeam}
work=$cache/otp-host-work-$(printf %s "$out" | sha256sum | cut -c1-12)
steps=5 step=0 what=""
log="$out/build.log"
progress() { step=$((step + 1)); what=$1; echo "[otp-host $step/$steps] $what"; echo "=== $(date +%T) $what" >>"$log"; }
trap 'echo "otp-host: step $step/$steps ($what) failed; log: $log" >&2' ERR
die() { echo "otp-host: $*" >&2; trap - ERR; exit 1; }
for t in gcc make perl; do command -v $t >/dev/null || die "$t not found (apt-get install $t)"; done
[ -f /usr/include/openssl/evp.h ] || die "OpenSSL headers not found (apt-get install libssl-dev)"
find "$out" -mindepth 1 -delete
: >"$log"

# Applications to build: what OTP's release tools, mix, Elixir's build, ExUnit and common
# releases (web servers, TLS clients, Mnesia) use, and erl_interface (configure insists).
# Everything else gets --without-APP.
keep=" kernel stdlib compiler erts sasl crypto asn1 public_key ssl inets tools syntax_tools
  parsetools mnesia runtime_tools eunit os_mon xmerl erl_interface "

progress "unpack $pin into $work"
rm -rf "$work" && mkdir -p "$work"
"$repo/cmake/fetch-debian-pool.sh" "$pin" "$work/otp" >>"$log" 2>&1
src=$work/otp
export ERL_TOP=$src

progress "configure (prefix $out, JIT, without the applications not needed)"
skip=()
for d in "$src"/lib/*/; do
  app=$(basename "$d")
  case $keep in *" $app "*) ;; *) skip+=("--without-$app") ;; esac
done
(cd "$src" && ./configure --prefix="$out" --enable-jit --without-termcap --without-javac \
  --disable-sctp --without-dynamic-trace "${skip[@]}") >>"$log" 2>&1
for app in crypto ssl; do
  [ ! -f "$src/lib/$app/SKIP" ] || die "configure skipped $app: $(cat "$src/lib/$app/SKIP") (see $log)"
done

progress "build (emulator and applications)"
make -C "$src" -j"$(nproc)" >>"$log" 2>&1

progress "install into $out"
make -C "$src" install >>"$log" 2>&1

progress "check: erl runs, compiles, starts crypto and ssl"
"$out/bin/erl" -noshell -eval '
  {ok, _} = application:ensure_all_started(ssl),
  <<_:256>> = crypto:hash(sha256, <<"x">>),
  {ok, _, _} = compile:forms([{attribute,1,module,t}], [binary]),
  io:format("~s ~s~n", [erlang:system_info(otp_release), erlang:system_info(version)]),
  halt().' >"$out/check.txt" 2>>"$log" || die "the installed erl does not run (see $log)"
cat "$out/check.txt" >>"$log"
[ "$(cat "$src/OTP_VERSION")" ] && cp "$src/OTP_VERSION" "$out/OTP_VERSION"
[ "${ERTS_KEEP_WORK:-0}" = 1 ] || rm -rf "$work"
date -u +%FT%TZ >"$out/.done"
echo "[otp-host] done: $out (OTP $(cat "$out/OTP_VERSION"), ERTS $(cut -d' ' -f2 "$out/check.txt"))"
