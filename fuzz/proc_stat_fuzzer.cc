// One /proc/PID/stat line (as PID 1 reads it at shutdown, up to 1024 bytes). comm stays
// NUL-terminated in its 16 bytes, and is what stands between the first " (" and the
// last ')'.
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_check.h"
#include "lifecycle/processes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  microbeam::ProcStat p;
  std::memset(p.comm, 'x', sizeof p.comm);  // a reused struct: comm must be rewritten
  bool ok = microbeam::ParseProcStat(line, p);
  if (!ok) return 0;
  FUZZ_CHECK(std::memchr(p.comm, '\0', sizeof p.comm) != nullptr, "comm not NUL-terminated");
  size_t open = line.find(" ("), close = line.rfind(')');
  std::string_view comm = line.substr(open + 2, close - open - 2);
  std::string_view want = comm.substr(0, sizeof p.comm - 1);
  want = want.substr(0, want.find('\0'));  // a NUL in comm ends the C string early
  FUZZ_CHECK(std::string_view(p.comm) == want, "comm");
  microbeam::SparedAtShutdown(p);
  return 0;
}
