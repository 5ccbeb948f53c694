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
mkdir -p "$1"
out=$(cd "$1" && pwd)
vsn=0.1.0
rm -rf "$out/lib" "$out/releases"
ebin=$out/lib/tls_hello-$vsn/ebin
rel=$out/releases/$vsn
mkdir -p "$ebin" "$rel"
echo "[tls_hello 1/3] erlc src/*.erl"
erlc -o "$ebin" "$here"/src/*.erl
cp "$here/src/tls_hello.app" "$ebin/"
if [ $# -eq 2 ]; then cp "$2" "$rel/sys.config"; fi
echo "[tls_hello 2/3] boot script (systools) for release tls_hello $vsn"
(cd "$out" && erl -noshell -noinput -eval '
    [Out, Vsn] = init:get_plain_arguments(),
    Dir = filename:join([Out, "releases", Vsn]),
    OtpApps = [{A, begin _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end}
               || A <- [kernel, stdlib, crypto, asn1, public_key, ssl]],
    Rel = {release, {"tls_hello", Vsn}, {erts, erlang:system_info(version)},
           OtpApps ++ [{tls_hello, Vsn}]},
    ok = file:write_file(filename:join(Dir, "tls_hello.rel"), io_lib:format("~p.~n", [Rel])),
    Path = [filename:join([Out, "lib", "tls_hello-" ++ Vsn, "ebin"])],
    {ok, _, _} = systools:make_script(filename:join(Dir, "tls_hello"),
                                      [{path, Path}, {outdir, Dir}, silent, no_warn_sasl]),
    ok = file:rename(filename:join(Dir, "tls_hello.boot"), filename:join(Dir, "start.boot")),
    ok = file:write_file(filename:join([Out, "releases", "start_erl.data"]),
                         [erlang:system_info(version), " ", Vsn, "\n"]),
    halt(0).' -extra "$out" "$vsn")
echo "[tls_hello 3/3] release in $out"
