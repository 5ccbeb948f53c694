#!/bin/sh
# Builds the NIF example release as a team's build would: erlc, the NIF compiled with the
# host's cc into lib/nif_hello-0.1.0/priv/nif_hello.so (glibc: what rebar3 or mix put in a
# release), systools for the boot script.
#
#   examples/nif_hello/build.sh OUTDIR
#
# The image: `microbeam build --release OUTDIR --nif nif_hello=examples/nif_hello/c_src`
# leaves the .so out and links the NIF, compiled for musl, into the release's /init.
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/release.sh"
out=$(absdir "$1")
vsn=0.1.0
rm -rf "$out/lib" "$out/releases"
app=$out/lib/nif_hello-$vsn
rel=$out/releases/$vsn
mkdir -p "$app/priv" "$rel"
echo "[nif_hello 1/3] erlc, cc -shared (the host's NIF, as a release carries it)"
erlc_app "$out" nif_hello "$vsn" "$here/src"
erts_include=$(erl -noshell -noinput -eval 'io:put_chars(filename:join([code:root_dir(), "usr", "include"])), halt().')
cc -O2 -fPIC -shared -I "$erts_include" -o "$app/priv/nif_hello.so" "$here/c_src/nif_hello.c"
echo "[nif_hello 2/3] boot script (systools) for release nif_hello $vsn"
boot_script "$out" nif_hello "$vsn" kernel stdlib nif_hello
echo "[nif_hello 3/3] release in $out"
