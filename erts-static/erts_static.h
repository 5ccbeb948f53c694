/* Entry points of the static ERTS built by erts-static/build.sh (see README.md). */
#ifndef ERTS_STATIC_H
#define ERTS_STATIC_H
#ifdef __cplusplus
extern "C" {
#endif
/* The emulator (erts/emulator/beam/erl_init.c). argv must be writable and NULL-terminated
 * (erts_alloc_init removes the -M flags in place). Never returns: the calling thread becomes
 * the signal-receiver thread; the VM leaves with exit()/_exit()/abort() from another thread. */
void erl_start(int argc, char **argv);
/* erts/emulator/sys/unix/erl_child_setup.c main(), renamed. */
int erl_child_setup_main(int argc, char **argv);
/* erts/etc/common/inet_gethost.c main(), renamed. */
int inet_gethost_main(int argc, char **argv);
#ifdef __cplusplus
}
#endif
#endif
