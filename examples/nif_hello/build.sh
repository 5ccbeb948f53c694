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
mkdir -p "$1"
out=$(cd "$1" && pwd)
vsn=0.1.0
rm -rf "$out/lib" "$out/releases"
app=$out/lib/nif_hello-$vsn
rel=$out/releases/$vsn
mkdir -p "$app/ebin" "$app/priv" "$rel"
echo "[nif_hello 1/3] erlc, cc -shared (the host's NIF, as a release carries it)"
erlc -o "$app/ebin" "$here"/src/*.erl
cp "$here/src/nif_hello.app" "$app/ebin/"
erts_include=$(erl -noshell -noinput -eval 'io:put_chars(filename:join([code:root_dir(), "usr", "include"])), halt().')
cc -O2 -fPIC -shared -I "$erts_include" -o "$app/priv/nif_hello.so" "$here/c_src/nif_hello.c"
echo "[nif_hello 2/3] boot script (systools) for release nif_hello $vsn"
(cd "$out" && erl -noshell -noinput -eval '
    [Out, Vsn] = init:get_plain_arguments(),
    Dir = filename:join([Out, "releases", Vsn]),
    OtpApps = [{A, begin _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end}
               || A <- [kernel, stdlib]],
    Rel = {release, {"nif_hello", Vsn}, {erts, erlang:system_info(version)}, OtpApps ++ [{nif_hello, Vsn}]},
    ok = file:write_file(filename:join(Dir, "nif_hello.rel"), io_lib:format("~p.~n", [Rel])),
    Path = [filename:join([Out, "lib", "nif_hello-" ++ Vsn, "ebin"])],
    {ok, _, _} = systools:make_script(filename:join(Dir, "nif_hello"), [{path, Path}, {outdir, Dir}, silent, no_warn_sasl]),
    ok = file:rename(filename:join(Dir, "nif_hello.boot"), filename:join(Dir, "start.boot")),
    ok = file:write_file(filename:join([Out, "releases", "start_erl.data"]),
                         [erlang:system_info(version), " ", Vsn, "\n"]),
    halt(0).' -extra "$out" "$vsn")
echo "[nif_hello 3/3] release in $out"
