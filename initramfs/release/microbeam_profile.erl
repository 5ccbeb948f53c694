%% The profiling boot's probe (initramfs/build_initramfs.py compiles it into that boot's
%% copy of the release only; it is never in an image). `-s microbeam_profile dump` runs
%% once the release has started and prints the modules loaded from files by then.
%% Unlike -eval, it parses nothing: parsing would load the parser family (erl_scan,
%% erl_parse, erl_eval) whether or not the release's own start loads it.
-module(microbeam_profile).
-export([dump/0]).

dump() ->
    Skip = [?MODULE | erlang:pre_loaded()],
    Mods = lists:sort([M || {M, F} <- code:all_loaded(), is_list(F), not lists:member(M, Skip)]),
    io:format("microbeam-boot-profile: ~w~n", [Mods]),
    erlang:halt(0).
