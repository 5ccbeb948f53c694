#!/bin/sh
# Builds the plain-Erlang example release (no Elixir, no rebar3): erlc, then systools
# for the boot script, in the layout rebar3 and reltool make.
#
#   examples/hello_erlang/build.sh OUTDIR
#
# OUTDIR/lib/hello-0.1.0/ebin, OUTDIR/releases/0.1.0/{hello.rel,start.boot,sys.config,
# vm.args}, OUTDIR/releases/start_erl.data. OTP's own applications are not copied:
# `microbeam build --release OUTDIR` takes them from the host's OTP 25.2.3.
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/release.sh"
out=$(absdir "$1")
vsn=0.1.0
rm -rf "$out/lib" "$out/releases"
rel=$out/releases/$vsn
mkdir -p "$rel"
echo "[hello_erlang 1/3] erlc src/*.erl"
erlc_app "$out" hello "$vsn" "$here/src"
echo "[hello_erlang 2/3] boot script (systools) for release hello $vsn"
cp "$here/rel/sys.config" "$here/rel/vm.args" "$rel/"
boot_script "$out" hello "$vsn" kernel stdlib hello
echo "[hello_erlang 3/3] release in $out"
