#include "lifecycle/restart_history.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace microbeam {

std::vector<long> ParseRestartTimes(std::string_view value) {
  std::vector<long> times;
  for (std::string_view item : absl::StrSplit(value, ',', absl::SkipEmpty())) {
    long t = 0;
    if (absl::SimpleAtoi(item, &t) && t >= 0) times.push_back(t);
  }
  return times;
}

std::string FormatRestartTimes(const std::vector<long>& times) { return absl::StrJoin(times, ","); }

std::vector<long> RecentRestartTimes(const std::vector<long>& times, long now_s, long window_s, int limit) {
  std::vector<long> recent;
  for (long t : times) {
    if (t <= now_s && now_s - t < window_s) recent.push_back(t);
  }
  size_t keep = static_cast<size_t>(std::max(limit, 0));
  if (recent.size() > keep) recent.erase(recent.begin(), recent.end() - static_cast<long>(keep));
  return recent;
}

bool IsCrashLoop(const std::vector<long>& times, long now_s, int limit, long window_s) {
  long recent = std::count_if(times.begin(), times.end(),
                              [&](long t) { return t <= now_s && now_s - t < window_s; });
  return recent >= limit;
}

}  // namespace microbeam
