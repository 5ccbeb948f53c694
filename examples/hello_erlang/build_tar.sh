#!/bin/sh
# The plain-Erlang example as systools:make_tar/2 packs it (OTP's own release tool, as
# reltool and release_handler use it), unpacked into OUTDIR: no releases/start_erl.data,
# no vm.args (OTP 25's make_tar copies sys.config, not vm.args), releases/hello.rel
# beside releases/0.1.0/, OTP's applications under lib/, and the host's erts-13.1.5
# ({erts, code:root_dir()}), which MicroBEAM does not use.
#
#   examples/hello_erlang/build_tar.sh OUTDIR
set -eu
[ $# -eq 1 ] || { echo "usage: build_tar.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/release.sh"
out=$(absdir "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/build.sh" "$work/rel" >/dev/null
echo "[hello_erlang tar] systools:make_tar -> $out"
rm -rf "$out/lib" "$out/releases" "$out"/erts-*
(cd "$work/rel/releases/0.1.0" && erl -noshell -noinput -eval '
    [Tar] = init:get_plain_arguments(),
    Path = [filename:absname("../../lib/hello-0.1.0/ebin")],
    {ok, _, _} = systools:make_script("hello", [{path, Path}, silent, no_warn_sasl]),
    {ok, _, _} = systools:make_tar("hello", [{path, Path}, {erts, code:root_dir()}, {outdir, filename:dirname(Tar)},
                                             silent, no_warn_sasl]),
    halt(0).' -extra "$work/hello.tar.gz")
tar -xzf "$work/hello.tar.gz" -C "$out"
