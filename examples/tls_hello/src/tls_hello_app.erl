%% The application callback: a supervisor with the TLS listener under it.
-module(tls_hello_app).
-behaviour(application).
-behaviour(supervisor).
-export([start/2, stop/1, init/1]).

start(_Type, _Args) -> supervisor:start_link({local, tls_hello_sup}, ?MODULE, []).

stop(_State) -> ok.

init([]) ->
    Listener = #{id => listener, start => {tls_hello, start_link, []}},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Listener]}}.
