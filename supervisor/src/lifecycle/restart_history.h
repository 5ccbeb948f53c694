// Restart bookkeeping that survives PID 1's re-exec: the boot-clock times of earlier
// restarts travel in one environment variable. Pure functions, so tests call them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace microbeam {

inline constexpr std::string_view kRestartsEnv = "MICROBEAM_RESTARTS";

// "12,40,41" -> {12, 40, 41} (seconds of CLOCK_BOOTTIME); malformed items are skipped.
std::vector<long> ParseRestartTimes(std::string_view value);
std::string FormatRestartTimes(const std::vector<long>& times);

// The times that can still count towards a crash loop: inside the window before NOW_S,
// at most the last LIMIT of them (what the next restart passes on).
std::vector<long> RecentRestartTimes(const std::vector<long>& times, long now_s, long window_s, int limit);

// True when `limit` restarts already happened within `window_s` seconds before `now_s`:
// a crash loop, which goes to the rescue shell instead of another restart.
bool IsCrashLoop(const std::vector<long>& times, long now_s, int limit, long window_s);

}  // namespace microbeam
