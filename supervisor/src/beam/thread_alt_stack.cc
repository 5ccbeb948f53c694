// Every thread of PID 1 gets an alternate signal stack (sigaltstack is per thread; the
// crash handlers run on it, SA_ONSTACK, shutdown.cc). Without one, a stack overflow in
// an ERTS scheduler or the stop watcher faulted again in the handler, on the same full
// stack. The link wraps pthread_create (-Wl,--wrap=pthread_create), which ERTS's
// threads and std::thread both come through.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include <cstdlib>

namespace {

constexpr size_t kAltStackSize = 64 * 1024;

struct Start {
  void* (*fn)(void*);
  void* arg;
};

pthread_key_t g_key;
pthread_once_t g_once = PTHREAD_ONCE_INIT;

// At the thread's end: off first (a late signal must not land on unmapped memory).
void FreeAltStack(void* stack) {
  stack_t off = {};
  off.ss_flags = SS_DISABLE;
  sigaltstack(&off, nullptr);
  munmap(stack, kAltStackSize);
}

void MakeKey() { pthread_key_create(&g_key, FreeAltStack); }

void* WithAltStack(void* p) {
  Start start = *static_cast<Start*>(p);
  std::free(p);
  void* stack = mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (stack != MAP_FAILED) {
    stack_t ss = {};
    ss.ss_sp = stack;
    ss.ss_size = kAltStackSize;
    if (sigaltstack(&ss, nullptr) == 0) {
      pthread_setspecific(g_key, stack);
    } else {
      munmap(stack, kAltStackSize);
    }
  }
  return start.fn(start.arg);
}

}  // namespace

extern "C" {
int __real_pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*fn)(void*), void* arg);

int __wrap_pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*fn)(void*), void* arg) {
  pthread_once(&g_once, MakeKey);
  Start* start = static_cast<Start*>(std::malloc(sizeof(Start)));
  if (start == nullptr) return __real_pthread_create(thread, attr, fn, arg);
  *start = {fn, arg};
  int rc = __real_pthread_create(thread, attr, WithAltStack, start);
  if (rc != 0) std::free(start);
  return rc;
}
}
