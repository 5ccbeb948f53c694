# Sourced by the example releases' build.sh (and tests/qemu/mnesia_release/build.sh):
# the steps they share, in the layout rebar3 and reltool make.

# absdir DIR: DIR, made if missing, as an absolute path.
absdir() {
  mkdir -p "$1"
  (cd "$1" && pwd)
}

# erlc_app OUT NAME VSN SRC: SRC/*.erl compiled into OUT/lib/NAME-VSN/ebin, beside
# SRC/NAME.app.
erlc_app() {
  mkdir -p "$1/lib/$2-$3/ebin"
  erlc -o "$1/lib/$2-$3/ebin" "$4"/*.erl
  cp "$4/$2.app" "$1/lib/$2-$3/ebin/"
}

# boot_script OUT NAME VSN APP...: the release NAME VSN of ERTS and the APPs, each
# APP's version from its .app (under OUT/lib, else the host's OTP), APP:TYPE giving
# a start type (mnesia:load). Writes OUT/releases/VSN/NAME.rel, its start.boot
# (systools:make_script) and OUT/releases/start_erl.data; OUT/releases/VSN must exist.
boot_script() {
  (cd "$1" && erl -noshell -noinput -eval '
    [Out, Name, Vsn | Apps] = init:get_plain_arguments(),
    Dir = filename:join([Out, "releases", Vsn]),
    Path = filelib:wildcard(filename:join([Out, "lib", "*", "ebin"])),
    code:add_pathsa(Path),
    AppVsn = fun(A) -> _ = application:load(A), {ok, V} = application:get_key(A, vsn), V end,
    Entry = fun(Spec) ->
                case string:split(Spec, ":") of
                    [A] -> {list_to_atom(A), AppVsn(list_to_atom(A))};
                    [A, Type] -> {list_to_atom(A), AppVsn(list_to_atom(A)), list_to_atom(Type)}
                end
            end,
    Rel = {release, {Name, Vsn}, {erts, erlang:system_info(version)}, [Entry(S) || S <- Apps]},
    ok = file:write_file(filename:join(Dir, Name ++ ".rel"), io_lib:format("~p.~n", [Rel])),
    {ok, _, _} = systools:make_script(filename:join(Dir, Name), [{path, Path}, {outdir, Dir}, silent, no_warn_sasl]),
    ok = file:rename(filename:join(Dir, Name ++ ".boot"), filename:join(Dir, "start.boot")),
    ok = file:write_file(filename:join([Out, "releases", "start_erl.data"]),
                         [erlang:system_info(version), " ", Vsn, "\n"]),
    halt(0).' -extra "$@")
}
