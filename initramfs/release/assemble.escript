#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% Stages an OTP release for the MicroBEAM guest and describes it for the cpio writer.
%%
%%   assemble.escript RELEASE_DIR STAGING_DIR SPEC_OUT SIZES_OUT
%%                    [--guest-root /release] [--erts-vsn 13.1.5] [--otp-lib DIR]
%%                    [--compress-beams]
%%   assemble.escript --describe RELEASE_DIR
%%                    prints "NAME REL_VSN ERTS_VSN FILE": the release and the file
%%                    its versions came from (any layout below), nothing else
%%
%% Layouts: releases/start_erl.data (mix, rebar3, OTP's own start scripts), else
%% releases/RELEASES (release_handler's), else one releases/NAME.rel (systools:make_tar,
%% reltool), else one releases/VSN/NAME.rel. The guest always gets start_erl.data and
%% releases/release_name (PID 1 reads both).
%%
%% See README.md beside this file. Any bad input ends in one line on stderr naming
%% the file at fault, and exit status 1.
-mode(compile).
-include_lib("kernel/include/file.hrl").

-define(MARKER, ".assemble-escript-staging").
%% Chunks beam_lib:strip/1 keeps (OTP 25); "Attr" is kept as well: it holds
%% module_info(attributes) (-behaviour, -vsn, Elixir's persisted attributes),
%% which libraries may read at run time. Stripping gzips; beams are written
%% uncompressed unless --compress-beams. The MicroBEAM build compresses them: the
%% unpacked initramfs stays in RAM for the guest's life, and gzipped beams take 2.4 MB
%% less of it (the loader inflates them), for 0.8 MB more of zstd'd cpio.
-define(EXTRA_CHUNKS, ["Attr"]).
-define(ALLOWED_CHUNKS, ["AtU8", "Atom", "Code", "StrT", "ImpT", "ExpT", "FunT", "LitT",
                         "Line", "Type", "Meta", "Attr"]).
-define(REQUIRED_CHUNKS, ["Code", "ImpT", "ExpT"]).
-define(HELPERS, ["erl_child_setup", "inet_gethost"]).
%% Modules systools puts in every boot script's first primLoad that nothing needs
%% while the system starts: the Erlang linter and parser (the two largest modules of
%% stdlib) and the evaluator. The guest runs in interactive mode, so the code server
%% loads them the first time they are called (-eval, file:consult, a shell). Each
%% module loaded is one the JIT translates, which is most of boot under emulation.
-define(LAZY_BOOT_MODULES, [erl_lint, erl_parse, erl_eval]).
%% Shared objects that /init has linked in (static NIFs), as {App, FileName}: they are
%% left out of the image instead of refused. Empty until crypto and asn1 are linked into
%% /init ("crypto, TLS and NIFs inside the one binary"); that work fills it, e.g.
%% {crypto, "crypto.so"}, {crypto, "crypto_callback.so"}, {asn1, "asn1rt_nif.so"}.
-define(LINKED_NIFS, []).
%% OTP's applications whose NIFs that work will link into /init: their refusal says so.
-define(NIFS_COMING, [crypto, asn1]).

main(["--describe", Rel]) ->
    try
        Abs = filename:absname(Rel),
        {Name0, Vsn, Erts, Source} = find_release(Abs),
        Name = case Name0 of
                   undefined ->
                       Boot = boot_file(filename:join([Abs, "releases", Vsn]), undefined),
                       {script, {N, _}, _} = read_boot(Boot, Vsn),
                       N;
                   _ -> Name0
               end,
        check_name(Name),
        io:format("~ts ~ts ~ts ~ts~n", [Name, Vsn, Erts, Source]),
        halt(0)
    catch
        throw:{fail, Message} ->
            io:put_chars(standard_error, ["assemble: ", Message, "\n"]),
            halt(1)
    end;
main(Args) ->
    try
        run(parse_args(Args)),
        halt(0)
    catch
        throw:{fail, Message} ->
            io:put_chars(standard_error, ["assemble: ", Message, "\n"]),
            halt(1);
        throw:{fail_lines, Lines} ->
            [io:put_chars(standard_error, ["assemble: ", L, "\n"]) || L <- Lines],
            halt(1);
        Class:Reason ->
            io:put_chars(standard_error,
                         io_lib:format("assemble: internal error: ~tW~n", [{Class, Reason}, 12])),
            halt(2)
    end.

fail(Format, Args) -> throw({fail, io_lib:format(Format, Args)}).

usage() ->
    fail("usage: assemble.escript RELEASE_DIR STAGING_DIR SPEC_OUT SIZES_OUT "
         "[--guest-root /release] [--erts-vsn VSN] [--otp-lib DIR] [--compress-beams]", []).

%%% Arguments

parse_args(Args) ->
    Defaults = #{guest_root => "/release", erts_vsn => undefined,
                 otp_lib => code:lib_dir(), compress => false},
    parse_args(Args, [], Defaults).

parse_args(["--guest-root", Root | Rest], Pos, Opts) -> parse_args(Rest, Pos, Opts#{guest_root => Root});
parse_args(["--erts-vsn", Vsn | Rest], Pos, Opts) -> parse_args(Rest, Pos, Opts#{erts_vsn => Vsn});
parse_args(["--otp-lib", Dir | Rest], Pos, Opts) -> parse_args(Rest, Pos, Opts#{otp_lib => Dir});
parse_args(["--compress-beams" | Rest], Pos, Opts) -> parse_args(Rest, Pos, Opts#{compress => true});
parse_args(["--" ++ _ | _], _Pos, _Opts) -> usage();
parse_args([Arg | Rest], Pos, Opts) -> parse_args(Rest, [Arg | Pos], Opts);
parse_args([], [Sizes, Spec, Staging, Release], Opts) ->
    GuestRoot = check_guest_root(maps:get(guest_root, Opts)),
    Opts#{release => filename:absname(Release), staging => filename:absname(Staging),
          spec => Spec, sizes => Sizes, guest_root => GuestRoot};
parse_args([], _Pos, _Opts) -> usage().

check_guest_root("/" ++ _ = Root) ->
    Clean = string:trim(Root, trailing, "/"),
    Parts = filename:split(Clean),
    case Clean =/= "" andalso lists:all(fun(P) -> P =/= ".." andalso P =/= "." end, Parts) of
        true -> check_name(Clean), Clean;
        false -> fail("--guest-root ~ts must be an absolute directory other than /", [Root])
    end;
check_guest_root(Root) -> fail("--guest-root ~ts must be an absolute path", [Root]).

%%% The whole job

run(#{release := Rel, staging := Staging, guest_root := GuestRoot} = Opts) ->
    {Name0, RelVsn, ErtsVsn, Source} = find_release(Rel),
    check_erts_option(maps:get(erts_vsn, Opts), ErtsVsn, Source),
    VsnDir = filename:join([Rel, "releases", RelVsn]),
    BootFile = boot_file(VsnDir, Name0),
    {script, {RelName, _}, Instrs} = read_boot(BootFile, RelVsn),
    Name0 =:= undefined orelse Name0 =:= RelName
        orelse fail("~ts is for release ~ts, ~ts names release ~ts", [BootFile, RelName, Source, Name0]),
    RelFile = filename:join(VsnDir, RelName ++ ".rel"),
    RelApps = read_rel(RelFile, RelName, RelVsn, ErtsVsn),
    {Staged, Skipped} = lists:partition(fun({_, _, Type}) -> Type =/= none end, RelApps),
    Sources = [{App, Vsn, locate_app(App, Vsn, Rel, maps:get(otp_lib, Opts), RelFile)}
               || {App, Vsn, _} <- Staged],
    check_shared_objects(Sources, Rel),

    Dest = filename:join(Staging, tl(GuestRoot)),
    prepare_dest(Dest),
    Compress = maps:get(compress, Opts),
    AppFiles = lists:append([stage_app(App, Vsn, Src, Dest, Compress)
                             || {App, Vsn, Src} <- Sources]),
    RelDest = filename:join(["releases", RelVsn]),
    Consolidated = stage_beam_dir(filename:join(VsnDir, "consolidated"), Dest,
                                  filename:join(RelDest, "consolidated"), Compress),
    Boot = rewrite_boot(Instrs, Skipped),
    BootRel = filename:join(RelDest, "start.boot"),
    write(Dest, BootRel, term_to_binary({script, {RelName, RelVsn}, Boot})),
    verify_boot(Boot, [A || {A, _, _} <- Staged], Dest, BootFile),
    Config = stage_config(VsnDir, Dest, RelDest),
    StartErl = filename:join("releases", "start_erl.data"),
    write(Dest, StartErl, [ErtsVsn, " ", RelVsn, "\n"]),
    NameFile = filename:join("releases", "release_name"),
    write(Dest, NameFile, [RelName, "\n"]),
    Extra = stage_optional([{filename:join(VsnDir, "runtime.exs"), filename:join(RelDest, "runtime.exs")},
                            {filename:join([Rel, "releases", "COOKIE"]), filename:join("releases", "COOKIE")}],
                           Dest),
    Files = lists:sort(AppFiles ++ Consolidated ++ Extra
                       ++ [{BootRel, 8#644}, {StartErl, 8#644}, {NameFile, 8#644} | Config]),

    write_spec(maps:get(spec, Opts), Files, Dest, GuestRoot, ErtsVsn),
    Sizes = write_sizes(maps:get(sizes, Opts), Sources, Files, Dest, own_erts(Rel)),
    io:format("assemble: staged ~ts-~ts (~ts) into ~ts: ~b files, ~b bytes~n",
              [RelName, RelVsn, lists:join(" ", [atom_to_list(A) || {A, _, _} <- Sources]),
               Dest, length(Files), Sizes]).

%%% Inputs

%% {Name | undefined, RelVsn, ErtsVsn, SourceFile}, the way OTP's own start scripts and
%% release_handler find them: start_erl.data first (its name comes from the boot
%% script), then RELEASES, then the .rel that systools:make_tar and reltool leave.
find_release(Rel) ->
    filelib:is_dir(Rel) orelse fail("release directory ~ts does not exist", [Rel]),
    Releases = filename:join(Rel, "releases"),
    filelib:is_dir(Releases)
        orelse fail("~ts: no releases/ directory: not an OTP release (want lib/ and releases/)", [Rel]),
    StartErl = filename:join(Releases, "start_erl.data"),
    RelFiles = filelib:wildcard(filename:join(Releases, "*.rel")),
    VsnRelFiles = filelib:wildcard(filename:join([Releases, "*", "*.rel"])),
    case {filelib:is_regular(StartErl), filelib:is_regular(filename:join(Releases, "RELEASES"))} of
        {true, _} ->
            {Erts, Vsn} = read_start_erl_data(StartErl),
            {undefined, Vsn, Erts, StartErl};
        {false, true} ->
            read_releases(filename:join(Releases, "RELEASES"));
        {false, false} when RelFiles =/= [] ->
            only_rel(RelFiles, filename:join(Releases, "*.rel"));
        {false, false} when VsnRelFiles =/= [] ->
            only_rel(VsnRelFiles, filename:join([Releases, "*", "*.rel"]));
        {false, false} ->
            fail("~ts: none of start_erl.data, RELEASES, NAME.rel, VSN/NAME.rel: not an OTP release "
                 "(mix release, rebar3, reltool or systools make these)", [Releases])
    end.

read_start_erl_data(File) ->
    case file:read_file(File) of
        {ok, Bin} ->
            case string:lexemes(unicode:characters_to_list(Bin), " \t\r\n") of
                [Erts, Vsn] -> check_name(Vsn), check_vsn(File, Vsn), {Erts, Vsn};
                _ -> fail("~ts: expected \"ERTS_VSN REL_VSN\", found ~tp", [File, Bin])
            end;
        {error, Reason} -> fail_file(File, Reason)
    end.

%% release_handler's list: the permanent release, else the current one, else the only one.
read_releases(File) ->
    Entries = case file:consult(File) of
                  {ok, [L]} when is_list(L), L =/= [] -> L;
                  {ok, _} -> fail("~ts is not a list of {release, Name, Vsn, ErtsVsn, Libs, Status}", [File]);
                  {error, Reason} when is_atom(Reason) -> fail_file(File, Reason);
                  {error, Reason} -> fail("~ts is corrupt: ~ts", [File, file:format_error(Reason)])
              end,
    Valid = [E || {release, N, V, Erts, _Libs, _St} = E <- Entries,
                  io_lib:printable_list(N), io_lib:printable_list(V), io_lib:printable_list(Erts)],
    length(Valid) =:= length(Entries)
        orelse fail("~ts is not a list of {release, Name, Vsn, ErtsVsn, Libs, Status}", [File]),
    Pick = fun(Status) -> [E || {release, _, _, _, _, S} = E <- Entries, S =:= Status] end,
    {release, Name, Vsn, Erts, _, _} =
        case {Pick(permanent), Pick(current), Entries} of
            {[P | _], _, _} -> P;
            {[], [C | _], _} -> C;
            {[], [], [Only]} -> Only;
            _ -> fail("~ts lists several releases and none is permanent or current", [File])
        end,
    check_name(Vsn), check_vsn(File, Vsn),
    {Name, Vsn, Erts, File}.

only_rel([File], _Pattern) ->
    case file:consult(File) of
        {ok, [{release, {Name, Vsn}, {erts, Erts}, Apps}]} when is_list(Name), is_list(Vsn),
                                                                  is_list(Erts), is_list(Apps) ->
            check_name(Vsn), check_vsn(File, Vsn),
            {Name, Vsn, Erts, File};
        {ok, _} -> fail("~ts is not {release, {Name, Vsn}, {erts, ErtsVsn}, Apps}", [File]);
        {error, Reason} when is_atom(Reason) -> fail_file(File, Reason);
        {error, Reason} -> fail("~ts is corrupt: ~ts", [File, file:format_error(Reason)])
    end;
only_rel(Files, Pattern) ->
    fail("~ts: ~b release files (~ts) and no start_erl.data or RELEASES to choose: keep one",
         [Pattern, length(Files), lists:join(", ", [filename:basename(F) || F <- Files])]).

check_vsn(File, Vsn) ->
    (Vsn =/= "." andalso Vsn =/= ".." andalso Vsn =/= "" andalso not lists:member($/, Vsn))
        orelse fail("~ts: bad release version ~tp", [File, Vsn]).

%% start.boot, or NAME.boot as systools:make_script/2 leaves it.
boot_file(VsnDir, Name) ->
    Start = filename:join(VsnDir, "start.boot"),
    Named = case Name of
                undefined -> [];
                _ -> [filename:join(VsnDir, Name ++ ".boot")]
            end,
    case [F || F <- [Start | Named], filelib:is_regular(F)] of
        [F | _] -> F;
        [] -> fail("missing boot file ~ts~ts: make it with systools:make_script/2 (mix release and "
                   "rebar3 release write it)",
                   [Start, [[" (nor ", N, ")"] || N <- Named]])
    end.

check_erts_option(undefined, _ErtsVsn, _Source) -> ok;
check_erts_option(Vsn, Vsn, _Source) -> ok;
check_erts_option(Wanted, ErtsVsn, Source) ->
    fail("~ts names ERTS ~ts but --erts-vsn is ~ts", [Source, ErtsVsn, Wanted]).

%% The erts-* directories a release ships: not used (the ERTS is inside /init).
own_erts(Rel) ->
    [filename:basename(D) || D <- filelib:wildcard(filename:join(Rel, "erts-*")), filelib:is_dir(D)].

read_boot(File, RelVsn) ->
    Bin = case file:read_file(File) of
              {ok, B} -> B;
              {error, Reason} -> fail_file(File, Reason)
          end,
    try binary_to_term(Bin) of
        {script, {Name, RelVsn}, Instrs} = Script when is_list(Name), is_list(Instrs) ->
            Script;
        {script, {_Name, Other}, _} ->
            fail("~ts is for release version ~tp, start_erl.data says ~ts", [File, Other, RelVsn]);
        _ ->
            fail("~ts is not a boot script ({script, {Name, Vsn}, Instructions})", [File])
    catch
        error:badarg -> fail("~ts is corrupt (not an Erlang external term)", [File])
    end.

%% [{App, Vsn, Type}] from the .rel; Type is permanent, transient, temporary, load or none.
read_rel(File, Name, Vsn, ErtsVsn) ->
    case file:consult(File) of
        {ok, [{release, {Name, Vsn}, {erts, ErtsVsn}, Apps}]} when is_list(Apps) ->
            [rel_app(A, File) || A <- Apps];
        {ok, [{release, {Name, Vsn}, {erts, Other}, _}]} ->
            fail("~ts names ERTS ~tp, start_erl.data says ~ts", [File, Other, ErtsVsn]);
        {ok, _} ->
            fail("~ts is not {release, {~tp, ~tp}, {erts, ~tp}, Apps}", [File, Name, Vsn, ErtsVsn]);
        {error, Reason} when is_atom(Reason) -> fail_file(File, Reason);
        {error, Reason} -> fail("~ts is corrupt: ~ts", [File, file:format_error(Reason)])
    end.

rel_app({App, Vsn}, _File) when is_atom(App), is_list(Vsn) -> {App, Vsn, permanent};
rel_app({App, Vsn, Type}, _File) when is_atom(App), is_list(Vsn), is_atom(Type) -> {App, Vsn, Type};
rel_app({App, Vsn, Inc}, _File) when is_atom(App), is_list(Vsn), is_list(Inc) -> {App, Vsn, permanent};
rel_app({App, Vsn, Type, _Inc}, _File) when is_atom(App), is_list(Vsn), is_atom(Type) ->
    {App, Vsn, Type};
rel_app(Other, File) -> fail("~ts: bad application entry ~tp", [File, Other]).

%% The release's own lib/ first; OTP applications left out of it (mix release with
%% include_erts: false does that) come from --otp-lib, in exactly the named version.
locate_app(App, Vsn, Rel, OtpLib, RelFile) ->
    Dir = atom_to_list(App) ++ "-" ++ Vsn,
    Candidates = [filename:join([Rel, "lib", Dir]), filename:join(OtpLib, Dir)],
    case [D || D <- Candidates, filelib:is_dir(filename:join(D, "ebin"))] of
        [Found | _] -> check_app_file(App, Vsn, Found), Found;
        [] -> fail("~ts names application ~ts, which is in neither ~ts/lib nor ~ts",
                   [RelFile, Dir, Rel, OtpLib])
    end.

%%% Shared objects: /init is static and the guest holds one ELF, so a NIF or port
%%% driver .so (or a port program) in an application would fail at boot, on the first
%%% call, or break the one-ELF line. Refused here, one line a file.

check_shared_objects(Sources, Rel) ->
    Found = lists:append([[{App, File, Kind} || {File, Kind} <- elf_files(Src)] || {App, _Vsn, Src} <- Sources]),
    case [refusal(App, File, Kind, Rel) || {App, File, Kind} <- Found,
                                           not lists:member({App, filename:basename(File)}, ?LINKED_NIFS)] of
        [] -> ok;
        Lines -> throw({fail_lines, Lines})
    end.

refusal(App, File, Kind, Rel) ->
    Shown = case lists:prefix(Rel ++ "/", File) of
                true -> lists:nthtail(length(Rel) + 1, File);
                false -> File
            end,
    What = case Kind of
               shared -> "a shared object (NIF or port driver)";
               executable -> "an executable (port program)"
           end,
    Fix = case lists:member(App, ?NIFS_COMING) of
              true -> io_lib:format("~ts's NIF is not linked into /init yet: drop ~ts from the release "
                                    "(and the applications that need it) until the crypto-enabled /init",
                                    [App, App]);
              false when Kind =:= shared ->
                  io_lib:format("/init is static and cannot load it: drop ~ts from the release, or use a "
                                "pure-Erlang alternative", [App]);
              false ->
                  io_lib:format("the guest runs one ELF, /init: drop ~ts from the release, or do the "
                                "program's work in Erlang", [App])
          end,
    io_lib:format("~ts (application ~ts) is ~ts: ~ts", [Shown, App, What, Fix]).

%% [{File, shared | executable}] of the ELF files under Dir (symlinks not followed).
elf_files(Dir) ->
    lists:sort(filelib:fold_files(Dir, ".", true,
                                  fun(F, Acc) ->
                                          case elf_kind(F) of
                                              none -> Acc;
                                              Kind -> [{F, Kind} | Acc]
                                          end
                                  end, [])).

%% e_type at offset 16 (byte order from EI_DATA): ET_EXEC is a program; ET_DYN is a
%% shared object unless it is an executable file not named .so (a PIE program).
elf_kind(File) ->
    case file:open(File, [read, raw, binary]) of
        {ok, Fd} ->
            Head = file:read(Fd, 18),
            ok = file:close(Fd),
            case Head of
                {ok, <<16#7f, "ELF", _Class, Data, _:10/binary, T:2/binary>>} ->
                    Type = case Data of
                               2 -> binary:decode_unsigned(T, big);
                               _ -> binary:decode_unsigned(T, little)
                           end,
                    Base = filename:basename(File),
                    IsSo = lists:suffix(".so", Base) orelse string:find(Base, ".so.") =/= nomatch,
                    {ok, #file_info{mode = Mode}} = file:read_file_info(File),
                    if
                        Type =:= 2 -> executable;
                        Type =:= 3, not IsSo, Mode band 8#111 =/= 0 -> executable;
                        true -> shared
                    end;
                _ -> none
            end;
        {error, _} -> none
    end.

check_app_file(App, Vsn, Dir) ->
    File = filename:join([Dir, "ebin", atom_to_list(App) ++ ".app"]),
    case file:consult(File) of
        {ok, [{application, App, Props}]} when is_list(Props) ->
            case proplists:get_value(vsn, Props) of
                Vsn -> ok;
                Other -> fail("~ts has vsn ~tp, the .rel wants ~ts", [File, Other, Vsn])
            end;
        {ok, _} -> fail("~ts is not {application, ~tp, Props}", [File, App]);
        {error, Reason} when is_atom(Reason) -> fail_file(File, Reason);
        {error, Reason} -> fail("~ts is corrupt: ~ts", [File, file:format_error(Reason)])
    end.

%%% Staging

prepare_dest(Dest) ->
    case file:read_file_info(Dest) of
        {error, enoent} ->
            ok;
        {ok, _} ->
            filelib:is_regular(filename:join(Dest, ?MARKER))
                orelse fail("~ts exists and was not made by assemble.escript: remove it", [Dest]),
            ok = file:del_dir_r(Dest)
    end,
    ok = filelib:ensure_dir(filename:join(Dest, ?MARKER)),
    ok = file:write_file(filename:join(Dest, ?MARKER), <<>>).

%% Returns [{RelativePath, Mode}] of what it wrote under Dest.
stage_app(App, Vsn, Src, Dest, Compress) ->
    AppDir = filename:join("lib", atom_to_list(App) ++ "-" ++ Vsn),
    AppFile = atom_to_list(App) ++ ".app",
    Ebin = filename:join(AppDir, "ebin"),
    Beams = stage_beam_dir(filename:join(Src, "ebin"), Dest, Ebin, Compress),
    copy(filename:join([Src, "ebin", AppFile]), Dest, filename:join(Ebin, AppFile)),
    Linked = [F || {A, F} <- ?LINKED_NIFS, A =:= App],
    Priv = copy_tree(filename:join(Src, "priv"), Dest, filename:join(AppDir, "priv"), Linked),
    [{filename:join(Ebin, AppFile), 8#644} | Beams ++ Priv].

stage_beam_dir(SrcDir, Dest, RelDir, Compress) ->
    Beams = lists:sort(filelib:wildcard("*.beam", SrcDir)),
    [begin
         Rel = filename:join(RelDir, B),
         write(Dest, Rel, strip_beam(filename:join(SrcDir, B), Compress)),
         {Rel, 8#644}
     end || B <- Beams].

strip_beam(File, Compress) ->
    Bin = case file:read_file(File) of
              {ok, B} -> B;
              {error, Reason} -> fail_file(File, Reason)
          end,
    Stripped = case beam_lib:strip(Bin, ?EXTRA_CHUNKS) of
                   {ok, {_Mod, S}} -> S;
                   {error, beam_lib, Why} -> beam_error(File, Why)
               end,
    Plain = case Stripped of
                <<31, 139, _/binary>> -> zlib:gunzip(Stripped);
                _ -> Stripped
            end,
    check_chunks(File, Plain),
    case Compress of
        true -> zlib:gzip(Plain);
        false -> Plain
    end.

%% The stripped module must name itself as its file does and hold only loader chunks.
check_chunks(File, Bin) ->
    Expected = filename:basename(File, ".beam"),
    case beam_lib:all_chunks(Bin) of
        {ok, Mod, Chunks} ->
            Ids = [Id || {Id, _} <- Chunks],
            atom_to_list(Mod) =:= Expected
                orelse fail("~ts holds module ~tp, not ~ts", [File, Mod, Expected]),
            [fail("~ts still has chunk ~ts after stripping", [File, Id])
             || Id <- Ids, not lists:member(Id, ?ALLOWED_CHUNKS)],
            [fail("~ts has no ~ts chunk", [File, Id])
             || Id <- ?REQUIRED_CHUNKS, not lists:member(Id, Ids)],
            lists:member("AtU8", Ids) orelse lists:member("Atom", Ids)
                orelse fail("~ts has no atom table", [File]),
            ok;
        {error, beam_lib, Why} -> beam_error(File, Why)
    end.

%% beam_lib names the binary it was given; name the file instead, on one line.
beam_error(File, Why) when is_tuple(Why), tuple_size(Why) >= 2 ->
    Text = beam_lib:format_error(setelement(2, Why, File)),
    fail("invalid .beam: ~ts", [string:trim(lists:flatten(Text))]);
beam_error(File, Why) -> fail("invalid .beam ~ts: ~tp", [File, Why]).

%% LINKED: file names left out (NIFs that /init has linked in, ?LINKED_NIFS).
copy_tree(Src, Dest, Rel, Linked) ->
    case filelib:is_dir(Src) of
        false -> [];
        true ->
            {ok, Names} = file:list_dir(Src),
            lists:append([copy_entry(filename:join(Src, N), Dest, filename:join(Rel, N), Linked)
                          || N <- lists:sort(Names)])
    end.

copy_entry(Src, Dest, Rel, Linked) ->
    case file:read_file_info(Src) of
        {ok, #file_info{type = directory}} -> copy_tree(Src, Dest, Rel, Linked);
        {ok, #file_info{type = regular}} ->
            case lists:member(filename:basename(Src), Linked) of
                true -> [];
                false -> copy_file(Src, Dest, Rel)
            end;
        {ok, _} -> fail("~ts is neither a file nor a directory", [Src]);
        {error, Reason} -> fail_file(Src, Reason)
    end.

copy_file(Src, Dest, Rel) ->
    {ok, #file_info{mode = Mode}} = file:read_file_info(Src),
    copy(Src, Dest, Rel),
    [{Rel, case Mode band 8#111 =/= 0 of true -> 8#755; false -> 8#644 end}].

%% An empty sys.config is not staged: reading one at boot (file:consult) loads the
%% preprocessor's encoding check, the scanner and the parser, three of the largest
%% modules, for nothing. Without the file PID 1 passes no -config; a config that sets
%% anything, or that Mix's runtime config reads (RUNTIME_CONFIG=true), is staged as is.
stage_config(VsnDir, Dest, RelDest) ->
    SysConfig = filename:join(VsnDir, "sys.config"),
    SysRel = filename:join(RelDest, "sys.config"),
    Config = case filelib:is_regular(SysConfig) of
        true ->
            case file:consult(SysConfig) of
                {ok, [[]]} ->
                    {ok, Text} = file:read_file(SysConfig),
                    case binary:match(Text, <<"RUNTIME_CONFIG=true">>) of
                        nomatch -> [];
                        _ -> copy(SysConfig, Dest, SysRel), [{SysRel, 8#644}]
                    end;
                {ok, [Terms]} when is_list(Terms) -> copy(SysConfig, Dest, SysRel), [{SysRel, 8#644}];
                {ok, _} -> fail("~ts must hold exactly one list", [SysConfig]);
                {error, Reason} when is_atom(Reason) -> fail_file(SysConfig, Reason);
                {error, Reason} ->
                    fail("~ts is corrupt: ~ts", [SysConfig, file:format_error(Reason)])
            end;
        false ->
            []
    end,
    VmArgs = filename:join(VsnDir, "vm.args"),
    VmRel = filename:join(RelDest, "vm.args"),
    case filelib:is_regular(VmArgs) of
        true -> check_node_name(VmArgs), copy(VmArgs, Dest, VmRel), Config ++ [{VmRel, 8#644}];
        false -> Config
    end.

%% A node named in vm.args (rebar3's default vm.args has -name and -setcookie) starts
%% distribution at boot, which registers with epmd; the guest runs none (one ELF), so the
%% BEAM would halt at once ("register/listen error: econnrefused"). Without epmd, OTP's
%% erl_epmd takes -erl_epmd_port PORT: each node listens on PORT and finds its peers there.
check_node_name(VmArgs) ->
    {ok, Bin} = file:read_file(VmArgs),
    Words = lists:append([string:lexemes(hd(string:split(L, "#")), " \t\r")
                          || L <- string:split(unicode:characters_to_list(Bin), "\n", all)]),
    Named = [W || W <- Words, W =:= "-sname" orelse W =:= "-name"],
    NoEpmd = lists:member("-erl_epmd_port", Words) orelse lists:member("-epmd_module", Words),
    case Named of
        [Flag | _] when not NoEpmd ->
            fail("~ts: ~ts names the node, and the guest runs no epmd, so the BEAM would halt at boot "
                 "(register/listen error: econnrefused): add -erl_epmd_port PORT (every node listens on "
                 "PORT, no epmd), or remove ~ts and -setcookie (distribution off)", [VmArgs, Flag, Flag]);
        _ -> ok
    end.

%% [{Src, Rel}] staged when Src exists (Mix's runtime.exs, which its config provider reads
%% at $RELEASE_ROOT/releases/VSN/runtime.exs, and releases/COOKIE for RELEASE_COOKIE).
stage_optional(Pairs, Dest) ->
    [begin copy(Src, Dest, Rel), {Rel, 8#644} end || {Src, Rel} <- Pairs, filelib:is_regular(Src)].

copy(Src, Dest, Rel) ->
    case file:read_file(Src) of
        {ok, Bin} -> write(Dest, Rel, Bin);
        {error, Reason} -> fail_file(Src, Reason)
    end.

write(Dest, Rel, Bin) ->
    check_name(Rel),
    Path = filename:join(Dest, Rel),
    ok = filelib:ensure_dir(Path),
    case file:write_file(Path, Bin) of
        ok -> ok;
        {error, Reason} -> fail("cannot write ~ts: ~ts", [Path, file:format_error(Reason)])
    end.

%% The cpio spec is split on blanks and cut at '#'.
check_name(Name) ->
    case [C || C <- Name, C =:= $\s orelse C =:= $\t orelse C =:= $# orelse C < 32] of
        [] -> ok;
        _ -> fail("path ~tp has a blank, '#' or control character the cpio spec cannot carry", [Name])
    end.

fail_file(File, enoent) -> fail("missing file: ~ts", [File]);
fail_file(File, Reason) -> fail("cannot read ~ts: ~ts", [File, file:format_error(Reason)]).

%%% The boot script

%% Every path becomes $ROOT-relative ($RELEASE_LIB is mix's name for $ROOT/lib), so
%% the guest needs only -root. Applications of type none are not staged: their
%% path + primLoad pairs go, and their directories leave the code path.
rewrite_boot(Instrs, Skipped) ->
    SkippedDirs = ["$ROOT/lib/" ++ atom_to_list(A) ++ "-" ++ V ++ "/ebin" || {A, V, _} <- Skipped],
    rewrite(Instrs, fun normalise_dir/1, SkippedDirs).

rewrite([{path, Dirs}, {primLoad, Mods} | Rest], Norm, Skipped) ->
    Paths = [Norm(D) || D <- Dirs],
    case [D || D <- Paths, lists:member(D, Skipped)] of
        [] -> [{path, Paths}, {primLoad, Mods -- ?LAZY_BOOT_MODULES} | rewrite(Rest, Norm, Skipped)];
        _ -> rewrite(Rest, Norm, Skipped)
    end;
rewrite([{kernelProcess, Name, {application_controller, start, [{application, kernel, Props}]}} | Rest],
        Norm, Skipped) ->
    [{kernelProcess, Name, {application_controller, start, [{application, kernel, distribution_off(Props)}]}}
     | rewrite(Rest, Norm, Skipped)];
rewrite([{path, Dirs} | Rest], Norm, Skipped) ->
    [{path, [D || D <- [Norm(D0) || D0 <- Dirs], not lists:member(D, Skipped)]}
     | rewrite(Rest, Norm, Skipped)];
rewrite([Instr | Rest], Norm, Skipped) -> [Instr | rewrite(Rest, Norm, Skipped)];
rewrite([], _Norm, _Skipped) -> [].

%% Erlang distribution off unless asked for: the kernel application then starts no rpc,
%% global, global_group or erl_distribution (modules the JIT would translate at every
%% boot). In the script's own kernel environment, not as `-kernel start_distribution
%% false` on the command line: init parses such a value with erl_scan and erl_parse,
%% which it would load for that alone. PID 1 passes `start_distribution true` when the
%% release asks for -name/-sname (supervisor/src/emulator_args.cc); a value the release
%% sets itself (kernel env, sys.config) stays.
distribution_off(Props) ->
    Env = proplists:get_value(env, Props, []),
    case lists:keymember(start_distribution, 1, Env) of
        true -> Props;
        false -> lists:keystore(env, 1, Props, {env, [{start_distribution, false} | Env]})
    end.

normalise_dir("$RELEASE_LIB/../" ++ Rest) -> "$ROOT/" ++ Rest;
normalise_dir("$RELEASE_LIB/" ++ Rest) -> "$ROOT/lib/" ++ Rest;
normalise_dir(Dir) -> Dir.

%% Checks the rewritten script against the staged tree: every code path exists,
%% every module it loads is there, every application it loads or starts is staged.
verify_boot(Instrs, Apps, Dest, BootFile) ->
    lists:foldl(fun(I, Path) -> verify_instr(I, Path, Apps, Dest, BootFile) end, [], Instrs),
    ok.

verify_instr({path, Dirs}, _Path, _Apps, Dest, BootFile) ->
    [begin
         Host = guest_dir(Dir, Dest, BootFile),
         filelib:is_dir(Host) orelse fail("~ts: code path ~ts is not in the staged release",
                                          [BootFile, Dir]),
         Host
     end || Dir <- Dirs];
verify_instr({primLoad, Mods}, Path, _Apps, _Dest, BootFile) ->
    [lists:any(fun(D) -> filelib:is_regular(filename:join(D, atom_to_list(M) ++ ".beam")) end, Path)
         orelse fail("~ts loads module ~tp, which has no .beam in the release's applications", [BootFile, M])
     || M <- Mods],
    Path;
verify_instr({apply, {application, F, [AppArg | _]}}, Path, Apps, _Dest, BootFile)
  when F =:= load; F =:= start_boot ->
    App = case AppArg of
              {application, A, _} -> A;
              A -> A
          end,
    lists:member(App, Apps)
        orelse fail("~ts: ~ts of ~tp, which the .rel does not ship", [BootFile, F, App]),
    Path;
verify_instr(_Instr, Path, _Apps, _Dest, _BootFile) -> Path.

guest_dir("$ROOT/" ++ Rest, Dest, _BootFile) -> filename:join(Dest, Rest);
guest_dir(Dir, _Dest, BootFile) ->
    fail("~ts: code path ~ts uses a boot variable other than $ROOT", [BootFile, Dir]).

%%% Outputs

write_spec(SpecOut, Files, Dest, GuestRoot, ErtsVsn) ->
    Bin = GuestRoot ++ "/erts-" ++ ErtsVsn ++ "/bin",
    FileLines = [{GuestRoot ++ "/" ++ Rel,
                  io_lib:format("file ~ts ~ts ~4.8.0B 0 0~n",
                                [GuestRoot ++ "/" ++ Rel, filename:join(Dest, Rel), Mode])}
                 || {Rel, Mode} <- Files],
    LinkLines = [{Bin ++ "/" ++ H, io_lib:format("slink ~ts/~ts /init 0777 0 0~n", [Bin, H])}
                 || H <- ?HELPERS],
    Dirs = lists:usort(lists:append([ancestors(filename:dirname(P)) || {P, _} <- FileLines ++ LinkLines])),
    DirLines = [{D, io_lib:format("dir ~ts 0755 0 0~n", [D])} || D <- Dirs],
    Lines = [L || {_, L} <- lists:keysort(1, DirLines ++ FileLines ++ LinkLines)],
    check_name(filename:join(Dest, "x")),
    write_out(SpecOut, ["# The staged release, by initramfs/release/assemble.escript\n" | Lines]).

ancestors("/") -> [];
ancestors(Dir) -> [Dir | ancestors(filename:dirname(Dir))].

%% {"apps":{APP:BYTES,...},"release_total":BYTES,"erts_not_used":[DIR,...]}; returns the total.
write_sizes(SizesOut, Sources, Files, Dest, OwnErts) ->
    Size = fun(Rel) -> filelib:file_size(filename:join(Dest, Rel)) end,
    Total = lists:sum([Size(R) || {R, _} <- Files]),
    PerApp = [{atom_to_list(App),
               lists:sum([Size(R) || {R, _} <- Files,
                                     lists:prefix("lib/" ++ atom_to_list(App) ++ "-" ++ Vsn ++ "/", R)])}
              || {App, Vsn, _} <- Sources],
    Apps = lists:join(",", [io_lib:format("\"~ts\":~b", [A, B]) || {A, B} <- lists:sort(PerApp)]),
    Erts = lists:join(",", [["\"", E, "\""] || E <- OwnErts]),
    write_out(SizesOut, ["{\"apps\":{", Apps, "},\"release_total\":", integer_to_list(Total),
                         ",\"erts_not_used\":[", Erts, "]}\n"]),
    Total.

write_out(File, IoData) ->
    ok = filelib:ensure_dir(File),
    case file:write_file(File, unicode:characters_to_binary(IoData)) of
        ok -> ok;
        {error, Reason} -> fail("cannot write ~ts: ~ts", [File, file:format_error(Reason)])
    end.
