// What OTP 27 changed for a program that replaces erl_main.c, in one place for both
// ERTS: the alternate signal stacks. On x86-64 OTP 27's JIT runs Erlang code on the
// native stack on musl too (OTP 25 did only on glibc), so every signal must be delivered
// on an alternate stack. erl_main.c calls sys_init_signal_stack() before erl_start (since
// OTP 26) and every scheduler thread calls sys_thread_init_signal_stack(), which sets a
// fresh malloc'ed SIGSTKSZ (8 KiB) one: smaller than the 64 KiB that PID 1 gives every
// thread for its crash handlers (thread_alt_stack.cc, shutdown.cc). In ERTS 25 on musl
// both functions are no-ops.
#pragma once

#include <signal.h>

namespace microbeam {

// True when the thread's alternate stack SS (from sigaltstack) is set and at least
// MIN_SIZE bytes: ERTS's own then stays unset (ours is larger).
bool KeepsOwnAltStack(const stack_t& ss, size_t min_size);

// Before erl_start, on the thread that calls it: what erl_main.c does (SA_ONSTACK on the
// handlers installed so far, an alternate stack for this thread), keeping this thread's
// own alternate stack if it has one.
void PrepareErtsSignalStacks();

}  // namespace microbeam
