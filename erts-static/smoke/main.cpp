// Smoke test of the static ERTS: one static musl binary that is the BEAM (erl_start in
// this process) and, by argv[0], the erl_child_setup and inet_gethost helpers.
//   smoke ROOTDIR BINDIR [init args...]   e.g. smoke /usr/lib/erlang /tmp/bin -boot ... -eval ...
// BINDIR must hold erl_child_setup and inet_gethost symlinks to this binary.
#include <erts_static.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <sys/syscall.h>
#include <unistd.h>

namespace {
bool emulator_mode = false;
void report(const char *what, int code) {
  if (emulator_mode)
    std::fprintf(stderr, "[smoke] intercepted %s(%d) in thread %ld (main thread %ld)\n", what, code,
                 static_cast<long>(syscall(SYS_gettid)), static_cast<long>(getpid()));
}
}  // namespace

// The exits ERTS can take (erts/emulator/beam/erl_init.c erts_exit_epilogue), intercepted
// with -Wl,--wrap= to show that PID 1 can catch them.
extern "C" {
[[noreturn]] void __real_exit(int);
[[noreturn]] void __real__exit(int);
[[noreturn]] void __real_abort(void);
[[noreturn]] void __wrap_exit(int code) {
  report("exit", code);
  __real_exit(code);
}
[[noreturn]] void __wrap__exit(int code) {
  report("_exit", code);
  __real__exit(code);
}
[[noreturn]] void __wrap_abort(void) {
  report("abort", 0);
  __real_abort();
}
}

int main(int argc, char **argv) {
  std::string_view self = argv[0];
  if (auto slash = self.rfind('/'); slash != std::string_view::npos) self.remove_prefix(slash + 1);
  if (self == "erl_child_setup") return erl_child_setup_main(argc, argv);
  if (self == "inet_gethost") return inet_gethost_main(argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s ROOTDIR BINDIR [init args...]\n", argv[0]);
    return 2;
  }
  const std::string root = argv[1], bindir = argv[2];
  const char *home = std::getenv("HOME");
  // What the `erl` script exports and erlexec passes (erts/etc/unix/erl.src.src,
  // erts/etc/common/erlexec.c).
  setenv("ROOTDIR", root.c_str(), 1);
  setenv("BINDIR", bindir.c_str(), 1);
  setenv("EMU", "beam", 1);
  setenv("PROGNAME", "erl", 1);
  std::vector<std::string> args = {"beam.smp", "--", "-root", root, "-bindir", bindir,
                                   "-progname", "erl", "--", "-home", home ? home : "/", "--"};
  for (int i = 3; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char *> av;
  for (auto &a : args) av.push_back(a.data());
  av.push_back(nullptr);
  emulator_mode = true;
  erl_start(static_cast<int>(av.size() - 1), av.data());
  std::fprintf(stderr, "[smoke] erl_start returned\n");  // not expected
  return 1;
}
