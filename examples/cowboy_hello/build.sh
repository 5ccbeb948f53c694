#!/bin/sh
# Builds the Cowboy example release: Cowboy 2.8.0, Ranch 2.1.0 and Cowlib 2.9.1 compiled
# with erlc from the copies Debian's rabbitmq-server 3.10.8 source bundles under deps/
# (pinned in cmake/debian-sources.txt, fetched and checked by cmake/fetch-debian-source.sh;
# never copied into this repository), then this example's own application, then the boot
# script with systools, in the layout rebar3 makes.
#
#   examples/cowboy_hello/build.sh OUTDIR
#
# OTP's own applications (kernel, stdlib, crypto, asn1, public_key, ssl: Ranch lists ssl)
# are not copied: `microbeam build --release OUTDIR` takes them from the host's OTP.
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/../lib/release.sh"
out=$(absdir "$1")
vsn=0.1.0
work=$out/.deps-src
rm -rf "$out/lib" "$out/releases" "$work"
echo "[cowboy_hello 1/4] Cowboy, Ranch, Cowlib from Debian's rabbitmq-server source"
"$repo/cmake/fetch-debian-source.sh" rabbitmq-server "$work" deps/cowboy deps/ranch deps/cowlib >/dev/null
deps=$work/deps
echo "[cowboy_hello 2/4] erlc cowlib, ranch, cowboy, cowboy_hello"
# app NAME VSN SRC: compile SRC/*.erl into lib/NAME-VSN/ebin, with include/ beside it as
# rebar3 lays it out (Cowboy's include_lib("cowlib/include/...") finds it via ERL_LIBS).
app() {
  ebin=$out/lib/$1-$2/ebin
  mkdir -p "$ebin"
  if [ -d "$3/../include" ]; then cp -r "$3/../include" "$out/lib/$1-$2/"; fi
  ERL_LIBS=$out/lib erlc -o "$ebin" -pa "$ebin" -I "$3/../include" "$3"/*.erl
}
mkvsn() { sed -n "s/^PROJECT_VERSION = //p" "$deps/$1/Makefile"; }
for d in cowlib ranch cowboy; do app "$d" "$(mkvsn "$d")" "$deps/$d/src"; done
app cowboy_hello "$vsn" "$here/src"
cp "$here/src/cowboy_hello.app" "$out/lib/cowboy_hello-$vsn/ebin/"
echo "[cowboy_hello 3/4] .app files (erlang.mk's job: modules filled in; ranch's from its Makefile)"
(cd "$out" && erl -noshell -noinput -eval '
    [Out, Deps] = init:get_plain_arguments(),
    Mods = fun(Ebin) -> lists:sort([list_to_atom(filename:basename(F, ".beam"))
                                    || F <- filelib:wildcard(filename:join(Ebin, "*.beam"))]) end,
    Ebin = fun(App) -> hd(filelib:wildcard(filename:join([Out, "lib", atom_to_list(App) ++ "-*", "ebin"]))) end,
    Write = fun(App, Props) ->
        File = filename:join(Ebin(App), atom_to_list(App) ++ ".app"),
        ok = file:write_file(File, io_lib:format("~p.~n", [{application, App, Props}]))
    end,
    [begin
         {ok, [{application, A, P}]} = file:consult(filename:join([Deps, atom_to_list(A), "src",
                                                                    atom_to_list(A) ++ ".app.src"])),
         Write(A, lists:keystore(modules, 1, P, {modules, Mods(Ebin(A))}))
     end || A <- [cowlib, cowboy]],
    {ok, Mk} = file:read_file(filename:join([Deps, "ranch", "Makefile"])),
    Var = fun(K) -> {match, [V]} = re:run(Mk, "^" ++ K ++ " = (.*)$", [multiline, {capture, all_but_first, list}]), V end,
    Write(ranch, [{description, Var("PROJECT_DESCRIPTION")}, {vsn, Var("PROJECT_VERSION")},
                  {modules, Mods(Ebin(ranch))}, {registered, [list_to_atom(Var("PROJECT_REGISTERED"))]},
                  {applications, [kernel, stdlib, list_to_atom(Var("LOCAL_DEPS"))]},
                  {mod, {ranch_app, []}}, {env, []}]),
    halt(0).' -extra "$out" "$deps")
echo "[cowboy_hello 4/4] boot script (systools) for release cowboy_hello $vsn"
rel=$out/releases/$vsn
mkdir -p "$rel"
boot_script "$out" cowboy_hello "$vsn" kernel stdlib crypto asn1 public_key ssl cowlib ranch cowboy cowboy_hello
rm -rf "$work"
echo "[cowboy_hello] release in $out"
