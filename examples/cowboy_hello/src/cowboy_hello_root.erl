%% GET /: a plain-text greeting that names the server and the OTP release.
-module(cowboy_hello_root).
-export([init/2]).

init(Req0, State) ->
    Body = io_lib:format("hello from cowboy ~s on OTP ~s, os pid ~s~n",
                         [app_vsn(cowboy), erlang:system_info(otp_release), os:getpid()]),
    Req = cowboy_req:reply(200, #{<<"content-type">> => <<"text/plain">>}, Body, Req0),
    {ok, Req, State}.

app_vsn(App) ->
    {ok, Vsn} = application:get_key(App, vsn),
    Vsn.
