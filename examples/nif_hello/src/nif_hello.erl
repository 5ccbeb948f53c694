%% The NIF's module: on_load loads priv/nif_hello as any release does. In the guest the
%% file is not there; ERTS finds the NIF linked into /init by this module's name.
-module(nif_hello).
-export([hello/0, counter_new/0, counter_add/2, check/0]).
-on_load(init/0).

init() ->
    erlang:load_nif(filename:join(code:priv_dir(nif_hello), "nif_hello"), 0).

hello() -> erlang:nif_error(not_loaded).
counter_new() -> erlang:nif_error(not_loaded).
counter_add(_Counter, _N) -> erlang:nif_error(not_loaded).

%% For `microbeam run --eval 'nif_hello:check()'`: ok, or what went wrong.
check() ->
    <<"hello from a static NIF">> = hello(),
    C = counter_new(),
    true = is_reference(C),
    2 = counter_add(C, 2),
    42 = counter_add(C, 40),
    D = counter_new(),
    1 = counter_add(D, 1),
    {'EXIT', {badarg, _}} = (catch counter_add(make_ref(), 1)),
    io:format("nif_hello: ~s; counters 42 and 1~n", [hello()]),
    ok.
