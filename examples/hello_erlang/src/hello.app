{application, hello,
 [{description, "MicroBEAM's plain-Erlang example: a tiny HTTP service"},
  {vsn, "0.1.0"},
  {modules, [hello_app, hello_sup, hello_http]},
  {registered, [hello_sup, hello_http]},
  {applications, [kernel, stdlib]},
  {mod, {hello_app, []}},
  {env, [{port, 8080}, {greeting, default}]}]}.
