%% TLS in the guest, both ways, with what sys.config gives (all PEM text):
%%   ca_pem       the CA that signed both servers' certificates
%%   server_pem   this node's server certificate and its key (for ssl:listen/2)
%%   host_server  {Address, Port} of a TLS server to reach with verify_peer
%% The listener (port, default 8443) answers each line with the protocol version and
%% the line. The image's CA bundle must be there (public_key:cacerts_get/0). checks/0
%% runs every check, prints one line each, and returns ok or
%% {failed, Results}: made for `microbeam run --eval 'tls_hello:checks()'`.
-module(tls_hello).
-export([start_link/0, init/1, checks/0, checks/1]).
-include_lib("public_key/include/public_key.hrl").

%%% The listener

start_link() -> proc_lib:start_link(?MODULE, init, [self()]).

init(Parent) ->
    {ok, Port} = application:get_env(tls_hello, port),
    Opts = case application:get_env(tls_hello, server_pem) of
               {ok, Pem} -> server_opts(Pem);
               undefined -> []
           end,
    case Opts of
        [] -> proc_lib:init_ack(Parent, {ok, self()}), receive stop -> ok end;
        _ ->
            {ok, L} = ssl:listen(Port, [binary, {active, false}, {reuseaddr, true}, {packet, line},
                                        {versions, ['tlsv1.2', 'tlsv1.3']} | Opts]),
            proc_lib:init_ack(Parent, {ok, self()}),
            accept(L)
    end.

server_opts(Pem) ->
    Entries = public_key:pem_decode(iolist_to_binary(Pem)),
    [Cert] = [Der || {'Certificate', Der, not_encrypted} <- Entries],
    [Key] = [{T, Der} || {T, Der, not_encrypted} <- Entries,
                         lists:member(T, ['PrivateKeyInfo', 'ECPrivateKey', 'RSAPrivateKey'])],
    [{cert, Cert}, {key, Key}].

accept(L) ->
    {ok, T} = ssl:transport_accept(L),
    case ssl:handshake(T, 20000) of
        {ok, S} ->
            case ssl:recv(S, 0, 20000) of
                {ok, Line} ->
                    {ok, [{protocol, P}]} = ssl:connection_information(S, [protocol]),
                    ok = ssl:send(S, [atom_to_list(P), " ", Line]),
                    Served = application:get_env(tls_hello, served, 0),
                    application:set_env(tls_hello, served, Served + 1);
                _ -> ok
            end,
            ssl:close(S);
        {error, _} -> ok
    end,
    accept(L).

%%% The checks

checks() -> checks(2).

%% Listens: how many connections the listener must have served before the checks end
%% (the host makes them while the checks run).
checks(Listens) ->
    Results = [{Name, try F() catch C:E -> {C, E} end}
               || {Name, F} <- [{hash, fun hash/0},
                                {strong_rand_bytes, fun rand/0},
                                {certificate, fun certificate/0},
                                {cacerts_get, fun cacerts/0},
                                {'tlsv1.2', fun() -> connect('tlsv1.2') end},
                                {'tlsv1.3', fun() -> connect('tlsv1.3') end},
                                {wrong_ca_refused, fun wrong_ca/0},
                                {listener, fun() -> served(Listens) end}]],
    [io:format("tls_hello check ~p: ~tp~n", [N, R]) || {N, R} <- Results],
    case [R || {_, R} <- Results, R =/= ok] of
        [] -> ok;
        _ -> {failed, Results}
    end.

hash() ->
    <<16#ba7816bf:32, _/binary>> = crypto:hash(sha256, <<"abc">>),
    Mac = crypto:mac(hmac, sha256, <<"key">>, <<"The quick brown fox jumps over the lazy dog">>),
    <<16#f7bc83f4:32, _/binary>> = Mac,
    ok.

rand() ->
    A = crypto:strong_rand_bytes(32),
    B = crypto:strong_rand_bytes(32),
    32 = byte_size(A),
    true = A =/= B,
    ok.

ca_der() ->
    {ok, Pem} = application:get_env(tls_hello, ca_pem),
    [{'Certificate', Der, not_encrypted}] = public_key:pem_decode(iolist_to_binary(Pem)),
    Der.

%% public_key: decode the CA, check it is self-signed with the expected subject, and
%% validate our server certificate's path to it.
certificate() ->
    Ca = ca_der(),
    #'OTPCertificate'{tbsCertificate = Tbs} = public_key:pkix_decode_cert(Ca, otp),
    {rdnSequence, Rdns} = Tbs#'OTPTBSCertificate'.subject,
    Names = [str(V) || [#'AttributeTypeAndValue'{type = ?'id-at-commonName', value = V}] <- Rdns],
    true = lists:member("MicroBEAM test CA", Names),
    true = public_key:pkix_is_self_signed(Ca),
    {ok, Pem} = application:get_env(tls_hello, server_pem),
    [Server] = [D || {'Certificate', D, not_encrypted} <- public_key:pem_decode(iolist_to_binary(Pem))],
    {ok, _} = public_key:pkix_path_validation(Ca, [Server], []),
    ok.

str({utf8String, B}) -> unicode:characters_to_list(B);
str({printableString, S}) -> S;
str(S) -> S.

%% The image's trust store (/etc/ssl/certs/ca-certificates.crt), as public_key reads it.
cacerts() ->
    Certs = public_key:cacerts_get(),
    true = length(Certs) >= 100,
    ok.

%% ssl:connect/3 with verify_peer to the host's server; the line sent carries this
%% node's clock, which the host compares with its own.
connect(Version) ->
    {ok, {Host, Port}} = application:get_env(tls_hello, host_server),
    {ok, S} = ssl:connect(Host, Port, [binary, {active, false}, {packet, line},
                                       {verify, verify_peer}, {cacerts, [ca_der()]},
                                       {versions, [Version]}], 30000),
    {ok, [{protocol, Version}]} = ssl:connection_information(S, [protocol]),
    Line = io_lib:format("clock ~b~n", [os:system_time(millisecond)]),
    ok = ssl:send(S, Line),
    {ok, Reply} = ssl:recv(S, 0, 30000),
    ok = ssl:close(S),
    Expect = iolist_to_binary([atom_to_list(Version), " ", Line]),
    Expect = Reply,
    ok.

%% The same server with a CA that did not sign it: verify_peer must refuse it.
wrong_ca() ->
    {ok, {Host, Port}} = application:get_env(tls_hello, host_server),
    {ok, Other} = application:get_env(tls_hello, other_ca_pem),
    [{'Certificate', OtherDer, not_encrypted}] = public_key:pem_decode(iolist_to_binary(Other)),
    case ssl:connect(Host, Port, [binary, {active, false}, {verify, verify_peer},
                                  {cacerts, [OtherDer]}], 30000) of
        {error, {tls_alert, {unknown_ca, _}}} -> ok;
        Else -> {unexpected, Else}
    end.

served(N) -> served(N, erlang:monotonic_time(second) + 120).

served(N, Deadline) ->
    case application:get_env(tls_hello, served, 0) of
        M when M >= N -> ok;
        M ->
            case erlang:monotonic_time(second) > Deadline of
                true -> {served, M, of_, N};
                false -> timer:sleep(200), served(N, Deadline)
            end
    end.
