// microbeam.mount=DEV:DIR:TYPE:OPTIONS from the kernel command line: never a crash, and
// whatever parses is a mount PID 1 may make (an absolute DIR of plain components, outside
// the directories PID 1 keeps, a file system name).
#include <sys/mount.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "storage/mount_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view spec(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<microbeam::MountSpec> m = microbeam::ParseMountSpec(spec);
  microbeam::MountOptions o = microbeam::ParseMountOptions(spec);
  FUZZ_CHECK(o.data.size() <= spec.size(), "options data longer than the input");
  if (!m.ok()) {
    FUZZ_CHECK(!m.status().message().empty(), "an error without a reason");
    return 0;
  }
  FUZZ_CHECK(!m->source.empty(), "empty DEV");
  FUZZ_CHECK(m->target.size() > 1 && m->target[0] == '/' && m->target.back() != '/', "DIR not absolute");
  FUZZ_CHECK(m->target.find("/../") == std::string::npos && !m->target.ends_with("/..") &&
                 m->target.find("//") == std::string::npos,
             "DIR with .. or an empty component");
  for (std::string_view kept : {"/proc", "/sys", "/dev", "/run", "/tmp", "/release"}) {
    FUZZ_CHECK(!microbeam::PathIsUnder(m->target, kept), "DIR under a directory PID 1 keeps");
  }
  FUZZ_CHECK(!m->fstype.empty() && m->fstype.find(':') == std::string::npos, "TYPE");
  FUZZ_CHECK(m->source.size() + m->target.size() + m->fstype.size() + 2 <= spec.size(), "parts longer than the input");
  return 0;
}
