#include "memory_guard.h"

#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "memory_limit.h"
#include "read_file.h"
#include "system.h"

namespace microbeam {
namespace {

absl::StatusOr<uint64_t> ApplyOnce() {
  absl::StatusOr<std::string> meminfo = ReadFile("/proc/meminfo");
  if (!meminfo.ok()) return meminfo.status();
  absl::StatusOr<std::string> status = ReadFile("/proc/self/status");
  if (!status.ok()) return status.status();
  std::optional<MemoryFigures> m = ParseMeminfo(*meminfo);
  if (!m) return absl::InvalidArgumentError("/proc/meminfo: no MemTotal or MemAvailable");
  if (!GuardsMemory(m->total)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "off below 50 MiB of MemTotal (", m->total >> 20, " MiB here; memory_limit.h)"));
  }
  std::optional<uint64_t> rss_anon = ParseRssAnon(*status);
  if (!rss_anon) return absl::InvalidArgumentError("/proc/self/status: no RssAnon");
  if (absl::Status s = sys::SetDataLimit(DataLimit(*rss_anon, *m)); !s.ok()) return s;
  return KernelReserve(m->total);
}

}  // namespace

absl::StatusOr<uint64_t> StartMemoryGuard(absl::Duration period) {
  absl::StatusOr<uint64_t> reserve = ApplyOnce();
  if (!reserve.ok()) return reserve.status();
  std::thread([period] {
    for (;;) {
      absl::SleepFor(period);
      (void)ApplyOnce();  // a failed read keeps the last limit
    }
  }).detach();
  return reserve;
}

}  // namespace microbeam
