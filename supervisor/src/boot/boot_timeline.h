// Boot timeline: CLOCK_BOOTTIME marks PID 1 records on its way to erl_start. They are
// printed as one console line and written as JSON for the release to serve.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace microbeam {

inline constexpr char kBootTimelineFile[] = "/run/microbeam/boot.json";

class BootTimeline {
 public:
  void Mark(std::string name);                     // now, on CLOCK_BOOTTIME
  void MarkAt(std::string name, double ms) { marks_.emplace_back(std::move(name), ms); }
  std::string ConsoleLine() const;                 // "microbeam: boot timeline: a=1.2ms ..."
  std::string Json() const;                        // {"clock":"boottime","marks_ms":{...}}

 private:
  std::vector<std::pair<std::string, double>> marks_;
};

}  // namespace microbeam
