#include "boot/process_setup.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sys/read_file.h"

namespace microbeam {
namespace {

std::string LimitText(uint64_t v) { return v == kUnlimited ? "unlimited" : absl::StrCat(v); }

}  // namespace

std::vector<std::string> ApplyProcessSetup(const Config& config, bool in_container) {
  std::vector<std::string> lines;
  for (const ResourceLimit& l : config.limits) {
    std::string entry = absl::StrCat("microbeam: microbeam.limits: ", l.name, ":", LimitText(l.soft), ":",
                                     LimitText(l.hard));
    if (l.resource == RLIMIT_DATA && config.guard_memory) {
      lines.push_back(absl::StrCat(entry, ": the memory guard keeps RLIMIT_DATA (microbeam.memory_guard=0 to set it); ignored"));
      continue;
    }
    struct rlimit now;
    if (getrlimit(l.resource, &now) == 0 && now.rlim_cur == l.soft && now.rlim_max == l.hard) continue;
    struct rlimit want = {static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
    if (setrlimit(l.resource, &want) != 0) {
      lines.push_back(absl::StrCat(entry, ": ", strerror(errno), "; left as it was"));
    }
  }
  if (!config.core_pattern.empty()) {
    constexpr char kPath[] = "/proc/sys/kernel/core_pattern";
    absl::StatusOr<std::string> now = ReadFile(kPath);
    if (in_container) {
      lines.push_back("microbeam: microbeam.core_pattern: not set in a container (its /proc/sys is the host's)");
    } else if (!now.ok() || absl::StripTrailingAsciiWhitespace(*now) != config.core_pattern) {
      int fd = open(kPath, O_WRONLY | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT) {
        lines.push_back(absl::StrCat("microbeam: microbeam.core_pattern=", config.core_pattern,
                                     ": this kernel writes no core dumps (no CONFIG_COREDUMP); ignored"));
      } else if (fd < 0 || write(fd, config.core_pattern.data(), config.core_pattern.size()) !=
                               static_cast<ssize_t>(config.core_pattern.size())) {
        lines.push_back(absl::StrCat("microbeam: microbeam.core_pattern=", config.core_pattern, ": ", kPath, ": ",
                                     strerror(errno), "; the kernel's stays"));
      }
      if (fd >= 0) close(fd);
    }
  }
  if (!config.cwd.empty() && chdir(config.cwd.c_str()) != 0) {
    lines.push_back(absl::StrCat("microbeam: microbeam.cwd=", config.cwd, ": ", strerror(errno), "; staying in /"));
  }
  return lines;
}

}  // namespace microbeam
