// ERTS ends the process with exit(), _exit() or abort(). The link wraps those symbols
// (-Wl,--wrap=...), so in PID 1 they reach the exit policy instead of the kernel,
// which panics when init exits. In the helper roles (erl_child_setup, inet_gethost),
// which are not PID 1, they behave as usual.
#include <unistd.h>

#include "lifecycle/shutdown.h"

extern "C" {
[[noreturn]] void __real_exit(int status);
[[noreturn]] void __real__exit(int status);
[[noreturn]] void __real__Exit(int status);
[[noreturn]] void __real_abort(void);

[[noreturn]] void __wrap_exit(int status) {
  if (getpid() == 1) microbeam::EndOfBeam("halted", status);
  __real_exit(status);
}

[[noreturn]] void __wrap__exit(int status) {
  if (getpid() == 1) microbeam::EndOfBeam("halted", status);
  __real__exit(status);
}

[[noreturn]] void __wrap__Exit(int status) {
  if (getpid() == 1) microbeam::EndOfBeam("halted", status);
  __real__Exit(status);
}

[[noreturn]] void __wrap_abort(void) {
  if (getpid() == 1) microbeam::EndOfBeam("aborted", 134);
  __real_abort();
}
}
