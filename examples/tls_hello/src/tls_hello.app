{application, tls_hello,
 [{description, "MicroBEAM's TLS example: crypto, public_key and ssl in the guest"},
  {vsn, "0.1.0"},
  {modules, [tls_hello_app, tls_hello]},
  {registered, [tls_hello_sup]},
  {applications, [kernel, stdlib, crypto, asn1, public_key, ssl]},
  {mod, {tls_hello_app, []}},
  {env, [{port, 8443}]}]}.
