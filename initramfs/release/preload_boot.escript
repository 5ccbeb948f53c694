#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Profile-guided boot script: the modules a release loads while it starts (measured by
%% initramfs/build_initramfs.py) join the boot script's first primLoad, in small batches
%% of their own right after it, and their beams are stored plain (not gzipped).
%%
%%   preload_boot.escript STAGED_ROOT REL_VSN PROFILE ASSEMBLED_BOOT
%%
%% STAGED_ROOT is the staged guest release (assemble.escript's STAGING/release); its
%% releases/REL_VSN/start.boot is written from ASSEMBLED_BOOT (the assembler's own);
%% PROFILE holds one Erlang term, the list of module names. Why: init loads the first primLoad (before
%% kernel_load_completed) through erl_prim_loader, which prepares the modules in up to 32
%% processes at once, so the JIT translates them on every scheduler; in interactive mode
%% every later module is loaded one by one by the code server on first call, on one
%% scheduler, with the code server's own work per module. Under emulation (TCG) the JIT
%% is most of boot.
%%
%% Left where they were: modules not in any later primLoad of the script (the release's
%% own code path decides) and Elixir's consolidated protocols (the consolidated version
%% must win over the one in elixir's ebin, and only the code path orders that). The
%% parser family that assemble.escript takes out of the first primLoad is moved when the
%% profile has it (the profile no longer comes from an -eval, which loaded it itself);
%% ?LAZY never is. Bad input: one line naming the file, exit 1.
-mode(compile).

%% Never preloaded: the modules the code server loads itself as it starts
%% (code:load_code_server_prerequisites/0). On OTP 25, erl_features preloaded by the boot
%% script hung a release that reads a sys.config (tests/release/test_tls.py): its boot
%% never reached the applications' start.
-define(LAZY, [erl_features, beam_lib]).

%% Modules per added primLoad. Init holds every module of a primLoad prepared until the
%% last one is, and prepares up to 32 at once: one batch of ~70 modules took the demo's
%% memory floor from 47 MiB to over 60 MiB. Each primLoad's finish copies the export
%% table for staging: 16 a batch instead of 4 started natively 4% sooner (and under
%% TCG), for a floor 1 MiB higher (docs/benchmarks.md).
-define(BATCH, 16).

main([Root, RelVsn, Profile, Assembled]) ->
    try
        run(Root, RelVsn, Profile, Assembled),
        halt(0)
    catch
        throw:{fail, Message} ->
            io:put_chars(standard_error, ["preload_boot: ", Message, "\n"]),
            halt(1)
    end;
main(_) ->
    io:put_chars(standard_error, "usage: preload_boot.escript STAGED_ROOT REL_VSN PROFILE ASSEMBLED_BOOT\n"),
    halt(1).

fail(Format, Args) -> throw({fail, io_lib:format(Format, Args)}).

run(Root, RelVsn, Profile, Assembled) ->
    Wanted = read_profile(Profile),
    BootFile = filename:join([Root, "releases", RelVsn, "start.boot"]),
    {script, Id, Instrs} =
        case file:read_file(Assembled) of
            {ok, Bin} ->
                try binary_to_term(Bin)
                catch error:badarg -> fail("~ts: not a boot file", [Assembled])
                end;
            {error, Reason} -> fail("cannot read ~ts: ~ts", [Assembled, file:format_error(Reason)])
        end,
    Consolidated = consolidated(filename:join([Root, "releases", RelVsn, "consolidated"])),
    {New, Moved} = rewrite(Instrs, Wanted -- (?LAZY ++ Consolidated), Root),
    ok = file:write_file(BootFile, term_to_binary({script, Id, New})),
    Plain = store_plain(Wanted, Root, RelVsn),
    io:format("preload_boot: ~b of ~b profiled modules loaded with the first primLoad of ~ts; "
              "~b beams stored plain~n", [Moved, length(Wanted), BootFile, Plain]).

read_profile(File) ->
    case file:consult(File) of
        {ok, [Mods]} when is_list(Mods) ->
            lists:all(fun is_atom/1, Mods) orelse fail("~ts: not a list of module names", [File]),
            lists:usort(Mods);
        {ok, _} -> fail("~ts: expected one term, a list of module names", [File]);
        {error, Reason} -> fail("~ts: ~ts", [File, file:format_error(Reason)])
    end.

consolidated(Dir) ->
    case file:list_dir(Dir) of
        {ok, Names} -> [list_to_atom(filename:basename(N, ".beam")) || N <- Names,
                                                                       filename:extension(N) =:= ".beam"];
        {error, _} -> []
    end.

%% The beams every boot reads (the profile's) are stored plain, the others stay gzipped
%% (the unpacked initramfs stays in RAM). Inflating them was 7% of a native start, and
%% zstd packs the plain ones tighter: docs/benchmarks.md. Returns how many were gzipped.
store_plain(Mods, Root, RelVsn) ->
    Dirs = [filename:join([Root, "releases", RelVsn, "consolidated"]) |
            filelib:wildcard(filename:join([Root, "lib", "*", "ebin"]))],
    length([F || M <- Mods, F <- [beam_file(M, Dirs)], F =/= none, gunzip_in_place(F)]).

beam_file(M, [D | Ds]) ->
    F = filename:join(D, atom_to_list(M) ++ ".beam"),
    case filelib:is_regular(F) of
        true -> F;
        false -> beam_file(M, Ds)
    end;
beam_file(_, []) -> none.

gunzip_in_place(F) ->
    case file:read_file(F) of
        {ok, <<31, 139, _/binary>> = Gz} ->
            Plain = try zlib:gunzip(Gz) catch error:_ -> fail("~ts: not a gzipped beam", [F]) end,
            ok =:= file:write_file(F, Plain) orelse fail("cannot write ~ts", [F]);
        {ok, _} -> false;
        {error, Reason} -> fail("cannot read ~ts: ~ts", [F, file:format_error(Reason)])
    end.

%% Splits the script at the first primLoad: the modules of Wanted that a later primLoad
%% lists join it, and the directories they come from join the path before it.
rewrite(Instrs, Wanted, Root) ->
    {Head, [{primLoad, First} | Tail]} = split_first_primload(Instrs, []),
    Later = later_modules(Tail, Root, #{}),
    Move = [M || M <- Wanted, maps:is_key(M, Later), not lists:member(M, First)],
    Dirs = lists:usort([maps:get(M, Later) || M <- Move]),
    [{path, Path0} | RevHead] = lists:reverse(Head),
    Path = Path0 ++ [D || D <- Dirs, not lists:member(D, Path0)],
    Batches = [{primLoad, B} || B <- batches(Move, ?BATCH)],
    {lists:reverse([{path, Path} | RevHead]) ++ [{primLoad, First} | Batches] ++ Tail, length(Move)}.

batches([], _N) -> [];
batches(L, N) when length(L) =< N -> [L];
batches(L, N) ->
    {B, Rest} = lists:split(N, L),
    [B | batches(Rest, N)].

split_first_primload([{primLoad, _} | _] = Rest, Acc) ->
    case Acc of
        [{path, _} | _] -> {lists:reverse(Acc), Rest};
        _ -> fail("the boot script's first primLoad has no path before it", [])
    end;
split_first_primload([I | Rest], Acc) -> split_first_primload(Rest, [I | Acc]);
split_first_primload([], _) -> fail("the boot script has no primLoad", []).

%% Module -> the directory it is loaded from, for every later path + primLoad pair
%% (the first directory of the pair's path that holds it, as erl_prim_loader searches).
later_modules([{path, Dirs}, {primLoad, Mods} | Rest], Root, Acc) ->
    Found = [{M, D} || M <- Mods, D <- [first_holding(M, Dirs, Root)], D =/= none],
    later_modules(Rest, Root, maps:merge(maps:from_list(Found), Acc));
later_modules([_ | Rest], Root, Acc) -> later_modules(Rest, Root, Acc);
later_modules([], _, Acc) -> Acc.

first_holding(M, ["$ROOT/" ++ Sub = Dir | Dirs], Root) ->
    case filelib:is_regular(filename:join([Root, Sub, atom_to_list(M) ++ ".beam"])) of
        true -> Dir;
        false -> first_holding(M, Dirs, Root)
    end;
first_holding(M, [_ | Dirs], Root) -> first_holding(M, Dirs, Root);
first_holding(_, [], _) -> none.
