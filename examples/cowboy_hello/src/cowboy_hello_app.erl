%% The application callback: a Cowboy listener (clear HTTP) with two routes, under an
%% empty supervisor of our own (Cowboy's ranch supervises the listener).
-module(cowboy_hello_app).
-behaviour(application).
-behaviour(supervisor).
-export([start/2, stop/1, init/1]).

start(_Type, _Args) ->
    {ok, Port} = application:get_env(cowboy_hello, port),
    Dispatch = cowboy_router:compile([{'_', [{"/", cowboy_hello_root, []},
                                             {"/ws", cowboy_hello_ws, []}]}]),
    {ok, _} = cowboy:start_clear(cowboy_hello_http, [{port, Port}],
                                 #{env => #{dispatch => Dispatch}}),
    supervisor:start_link({local, cowboy_hello_sup}, ?MODULE, []).

stop(_State) -> cowboy:stop_listener(cowboy_hello_http).

init([]) -> {ok, {#{strategy => one_for_one}, []}}.
