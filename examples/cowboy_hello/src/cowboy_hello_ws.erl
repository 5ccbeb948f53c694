%% /ws: a websocket that sends back every text or binary frame it gets. The upgrade's
%% Sec-WebSocket-Accept is computed by Cowboy with crypto:hash(sha, ...).
-module(cowboy_hello_ws).
-export([init/2, websocket_handle/2, websocket_info/2]).

init(Req, State) -> {cowboy_websocket, Req, State}.

websocket_handle({text, Data}, State) -> {[{text, Data}], State};
websocket_handle({binary, Data}, State) -> {[{binary, Data}], State};
websocket_handle(_Frame, State) -> {[], State}.

websocket_info(_Info, State) -> {[], State}.
