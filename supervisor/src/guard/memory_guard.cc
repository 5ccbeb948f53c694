#include "guard/memory_guard.h"

#include <fcntl.h>
#include <unistd.h>

#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "guard/memory_limit.h"
#include "sys/read_file.h"
#include "sys/system.h"

namespace microbeam {
namespace {

// Reads PATH into BUF (the first SIZE bytes: both files are ~1.5 KiB): every 100 ms
// for the life of the BEAM, so into one buffer, not a new string each time.
std::optional<std::string_view> ReadInto(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  ssize_t n = read(fd, buf, size);
  close(fd);
  if (n <= 0) return std::nullopt;
  return std::string_view(buf, static_cast<size_t>(n));
}

absl::StatusOr<uint64_t> ApplyOnce() {
  static char meminfo_buf[8192], status_buf[8192];  // one guard thread
  std::optional<std::string_view> meminfo = ReadInto("/proc/meminfo", meminfo_buf, sizeof meminfo_buf);
  if (!meminfo) return absl::NotFoundError("/proc/meminfo: cannot read");
  std::optional<std::string_view> status = ReadInto("/proc/self/status", status_buf, sizeof status_buf);
  if (!status) return absl::NotFoundError("/proc/self/status: cannot read");
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
      // A failed read keeps the last limit. Success allocates nothing; failure
      // (a Status message) is rare.
      (void)ApplyOnce();
    }
  }).detach();
  return reserve;
}

}  // namespace microbeam
