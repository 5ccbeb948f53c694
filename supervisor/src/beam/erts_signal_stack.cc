// The ERTS side of signal_stack.h: the calls into ERTS, and the wrap of its per-thread
// alternate stack (the link has -Wl,--wrap=sys_thread_init_signal_stack).
#include <signal.h>

#include "beam/signal_stack.h"

extern "C" {
void sys_init_signal_stack(void);
void __real_sys_thread_init_signal_stack(void);

// Each ERTS scheduler thread calls this at its start (erts_sys_scheduler_init). The
// thread already has PID 1's 64 KiB alternate stack (thread_alt_stack.cc): keep it.
void __wrap_sys_thread_init_signal_stack(void) {
  stack_t ss = {};
  if (sigaltstack(nullptr, &ss) == 0 && microbeam::KeepsOwnAltStack(ss, SIGSTKSZ)) return;
  __real_sys_thread_init_signal_stack();
}
}

namespace microbeam {

void PrepareErtsSignalStacks() {
  stack_t own = {};
  const bool had = sigaltstack(nullptr, &own) == 0 && KeepsOwnAltStack(own, SIGSTKSZ);
  // Calls the unwrapped sys_thread_init_signal_stack (same object): this thread gets an
  // 8 KiB stack, then its own again.
  sys_init_signal_stack();
  if (had) sigaltstack(&own, nullptr);
}

}  // namespace microbeam
