// MICROBEAM_RESTARTS, the restart times PID 1 finds in its environment after a re-exec:
// parsing what formatting wrote gives the same times back.
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "lifecycle/restart_history.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view value(reinterpret_cast<const char*>(data), size);
  std::vector<long> times = microbeam::ParseRestartTimes(value);
  for (long t : times) FUZZ_CHECK(t >= 0, "negative time");
  FUZZ_CHECK(microbeam::ParseRestartTimes(microbeam::FormatRestartTimes(times)) == times, "round trip");
  long now = times.empty() ? 0 : times.back();
  microbeam::IsCrashLoop(times, now, 5, 60);
  return 0;
}
