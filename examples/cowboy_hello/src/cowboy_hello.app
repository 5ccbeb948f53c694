{application, cowboy_hello,
 [{description, "MicroBEAM's Cowboy example: GET / and a websocket echo on /ws"},
  {vsn, "0.1.0"},
  {modules, [cowboy_hello_app, cowboy_hello_root, cowboy_hello_ws]},
  {registered, [cowboy_hello_sup]},
  {applications, [kernel, stdlib, crypto, cowboy]},
  {mod, {cowboy_hello_app, []}},
  {env, [{port, 8080}]}]}.
