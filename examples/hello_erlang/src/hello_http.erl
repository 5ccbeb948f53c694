%% A minimal HTTP/1.1 responder on gen_tcp: every request gets one text line that shows
%% where the configuration came from (sys.config, vm.args) and what the VM runs on.
%% `GET /halt/N` stops the node with status N, for the tests' exit-status checks.
-module(hello_http).
-export([start_link/1, init/2, body/0]).

start_link(Port) -> proc_lib:start_link(?MODULE, init, [self(), Port]).

init(Parent, Port) ->
    register(?MODULE, self()),
    {ok, Listen} = gen_tcp:listen(Port, [binary, {packet, http_bin}, {active, false},
                                         {reuseaddr, true}, {backlog, 128}]),
    proc_lib:init_ack(Parent, {ok, self()}),
    io:format("hello: listening on port ~b~n", [Port]),
    accept(Listen).

accept(Listen) ->
    {ok, Socket} = gen_tcp:accept(Listen),
    Pid = spawn(fun() -> receive go -> serve(Socket) end end),
    ok = gen_tcp:controlling_process(Socket, Pid),
    Pid ! go,
    accept(Listen).

serve(Socket) ->
    case read_request(Socket, undefined) of
        {ok, Path} ->
            {Status, Body} = route(Path),
            Reply = [<<"HTTP/1.1 ">>, Status, <<"\r\ncontent-type: text/plain\r\n">>,
                     <<"content-length: ">>, integer_to_binary(iolist_size(Body)),
                     <<"\r\nconnection: close\r\n\r\n">>, Body],
            gen_tcp:send(Socket, Reply),
            gen_tcp:close(Socket),
            after_reply(Path);
        {error, _} ->
            gen_tcp:close(Socket)
    end.

read_request(Socket, Path) ->
    case gen_tcp:recv(Socket, 0, 10000) of
        {ok, {http_request, _Method, {abs_path, P}, _Version}} -> read_request(Socket, P);
        {ok, {http_header, _, _, _, _}} -> read_request(Socket, Path);
        {ok, http_eoh} when Path =/= undefined -> {ok, Path};
        {ok, _Other} -> {error, bad_request};
        {error, _} = E -> E
    end.

route(<<"/halt/", N/binary>>) -> {<<"200 OK">>, [<<"halting with ">>, N, <<"\n">>]};
route(_) -> {<<"200 OK">>, body()}.

after_reply(<<"/halt/", N/binary>>) -> erlang:halt(binary_to_integer(N));
after_reply(_) -> ok.

body() ->
    {ok, Greeting} = application:get_env(hello, greeting),
    Source = application:get_env(hello, source, none),
    io_lib:format("hello ~p (config ~p) from ~s: otp=~s schedulers=~b os_pid=~s~n",
                  [Greeting, Source, node(), erlang:system_info(otp_release),
                   erlang:system_info(schedulers), os:getpid()]).
