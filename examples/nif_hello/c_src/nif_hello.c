/* The example's NIF: a function and a resource type (a counter).
 * Built two ways: by build.sh with the host's cc as priv/nif_hello.so (what rebar3 or
 * mix would put in a release: glibc, useless to the static /init), and by `microbeam
 * build --release --nif nif_hello=c_src` with the musl toolchain as a static NIF linked
 * into the release's /init. ERL_NIF_INIT names the module that calls load_nif. */
#include <erl_nif.h>
#include <string.h>

typedef struct { ErlNifSInt64 value; } counter;

static ErlNifResourceType *counter_type;

static void counter_dtor(ErlNifEnv *env, void *obj) { (void)env; (void)obj; }

static int load(ErlNifEnv *env, void **priv, ERL_NIF_TERM info) {
  (void)priv; (void)info;
  counter_type = enif_open_resource_type(env, NULL, "nif_hello_counter", counter_dtor,
                                         ERL_NIF_RT_CREATE, NULL);
  return counter_type == NULL;
}

static ERL_NIF_TERM hello(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc; (void)argv;
  const char *text = "hello from a static NIF";
  ErlNifBinary bin;
  if (!enif_alloc_binary(strlen(text), &bin)) return enif_make_badarg(env);
  memcpy(bin.data, text, bin.size);
  return enif_make_binary(env, &bin);
}

static ERL_NIF_TERM counter_new(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc; (void)argv;
  counter *c = enif_alloc_resource(counter_type, sizeof(counter));
  c->value = 0;
  ERL_NIF_TERM term = enif_make_resource(env, c);
  enif_release_resource(c);
  return term;
}

static ERL_NIF_TERM counter_add(ErlNifEnv *env, int argc, const ERL_NIF_TERM argv[]) {
  (void)argc;
  counter *c;
  ErlNifSInt64 n;
  if (!enif_get_resource(env, argv[0], counter_type, (void **)&c) ||
      !enif_get_int64(env, argv[1], &n))
    return enif_make_badarg(env);
  c->value += n;
  return enif_make_int64(env, c->value);
}

static ErlNifFunc funcs[] = {
    {"hello", 0, hello, 0},
    {"counter_new", 0, counter_new, 0},
    {"counter_add", 2, counter_add, 0},
};

ERL_NIF_INIT(nif_hello, funcs, load, NULL, NULL, NULL)
