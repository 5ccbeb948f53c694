{application, nif_hello,
 [{description, "MicroBEAM's NIF example: a C function and a resource type"},
  {vsn, "0.1.0"},
  {modules, [nif_hello]},
  {registered, []},
  {applications, [kernel, stdlib]},
  {env, []}]}.
