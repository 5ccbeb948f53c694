#!/bin/sh
# Builds the TLS example release (plain Erlang: erlc, then systools, as
# examples/hello_erlang does) with OTP's kernel, stdlib, crypto, asn1, public_key and ssl.
#
#   examples/tls_hello/build.sh OUTDIR [SYS_CONFIG]
#
# SYS_CONFIG (default: none) becomes releases/0.1.0/sys.config: the CA and certificates
# the checks use (see src/tls_hello.erl); tests/release/test_tls.py writes one with its
# own CA. `microbeam build --release OUTDIR` stages it with out/microbeam-init-crypto
# (crypto and asn1 NIFs linked in) and leaves the host's crypto.so/asn1rt_nif.so out.
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: build.sh OUTDIR [SYS_CONFIG]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/release.sh"
out=$(absdir "$1")
vsn=0.1.0
rm -rf "$out/lib" "$out/releases"
rel=$out/releases/$vsn
mkdir -p "$rel"
echo "[tls_hello 1/3] erlc src/*.erl"
erlc_app "$out" tls_hello "$vsn" "$here/src"
if [ $# -eq 2 ]; then cp "$2" "$rel/sys.config"; fi
echo "[tls_hello 2/3] boot script (systools) for release tls_hello $vsn"
boot_script "$out" tls_hello "$vsn" kernel stdlib crypto asn1 public_key ssl tls_hello
echo "[tls_hello 3/3] release in $out"
