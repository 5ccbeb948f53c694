-module(hello_sup).
-behaviour(supervisor).
-export([start_link/0, init/1]).

start_link() -> supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    {ok, Port} = application:get_env(hello, port),
    Listener = #{id => hello_http, start => {hello_http, start_link, [Port]}},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Listener]}}.
