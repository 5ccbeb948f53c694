#!/bin/sh
# A release of OTP's kernel, stdlib and mnesia (loaded, not started) with vm.args setting
# Mnesia's directory on the data volume, for tests/qemu/test_data_disk.py. erlc-free:
# systools only, as examples/hello_erlang/build.sh.
#
#   tests/qemu/mnesia_release/build.sh OUTDIR
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
vsn=0.1.0
rm -rf "$out/releases"
rel=$out/releases/$vsn
mkdir -p "$rel"
cp "$here/vm.args" "$rel/"
printf '[].\n' >"$rel/sys.config"
(cd "$out" && erl -noshell -noinput -eval '
    [Out, Vsn] = init:get_plain_arguments(),
    Dir = filename:join([Out, "releases", Vsn]),
    V = fun(A) -> _ = application:load(A), {ok, X} = application:get_key(A, vsn), X end,
    Rel = {release, {"mnesia_probe", Vsn}, {erts, erlang:system_info(version)},
           [{kernel, V(kernel)}, {stdlib, V(stdlib)}, {mnesia, V(mnesia), load}]},
    ok = file:write_file(filename:join(Dir, "mnesia_probe.rel"), io_lib:format("~p.~n", [Rel])),
    {ok, _, _} = systools:make_script(filename:join(Dir, "mnesia_probe"), [{outdir, Dir}, silent, no_warn_sasl]),
    ok = file:rename(filename:join(Dir, "mnesia_probe.boot"), filename:join(Dir, "start.boot")),
    ok = file:write_file(filename:join([Out, "releases", "start_erl.data"]),
                         [erlang:system_info(version), " ", Vsn, "\n"]),
    halt(0).' -extra "$out" "$vsn")
