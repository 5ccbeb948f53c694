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
mkdir -p "$1"
out=$(cd "$1" && pwd)
vsn=0.1.0
rm -rf "$out/lib" "$out/releases"
ebin=$out/lib/hello-$vsn/ebin
rel=$out/releases/$vsn
mkdir -p "$ebin" "$rel"
echo "[hello_erlang 1/3] erlc src/*.erl"
erlc -o "$ebin" "$here"/src/*.erl
cp "$here/src/hello.app" "$ebin/"
echo "[hello_erlang 2/3] boot script (systools) for release hello $vsn"
cp "$here/rel/sys.config" "$here/rel/vm.args" "$rel/"
(cd "$out" && erl -noshell -noinput -eval '
    [Out, Vsn] = init:get_plain_arguments(),
    Dir = filename:join([Out, "releases", Vsn]),
    OtpApps = [{A, begin _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end}
               || A <- [kernel, stdlib]],
    Rel = {release, {"hello", Vsn}, {erts, erlang:system_info(version)}, OtpApps ++ [{hello, Vsn}]},
    ok = file:write_file(filename:join(Dir, "hello.rel"), io_lib:format("~p.~n", [Rel])),
    Path = [filename:join([Out, "lib", "hello-" ++ Vsn, "ebin"])],
    {ok, _, _} = systools:make_script(filename:join(Dir, "hello"), [{path, Path}, {outdir, Dir}, silent, no_warn_sasl]),
    ok = file:rename(filename:join(Dir, "hello.boot"), filename:join(Dir, "start.boot")),
    ok = file:write_file(filename:join([Out, "releases", "start_erl.data"]),
                         [erlang:system_info(version), " ", Vsn, "\n"]),
    halt(0).' -extra "$out" "$vsn")
echo "[hello_erlang 3/3] release in $out"
