// The shutdown report read back at boot (/data/microbeam/last-exit.json may hold
// anything after a bad disk): the one line stays one line; and a report written from
// any field values parses back with the same values. Also the slogan and mountinfo
// readers over the same bytes.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "records/exit_record.h"
#include "records/last_exit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string line = microbeam::LastExitLine(text);
  FUZZ_CHECK(line.starts_with("microbeam: last exit: "), "prefix");
  FUZZ_CHECK(line.size() < 1200, "one short line");
  for (char c : line) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control character");
  microbeam::MountAt(text, "/data");
  std::string_view slogan = microbeam::SloganOf(text);
  FUZZ_CHECK(slogan.find('\n') == std::string_view::npos, "slogan is one line");

  // Fields from the input (split on NUL), written and read back.
  std::string_view parts[3];
  size_t n = 0;
  for (std::string_view rest = text; n < 3;) {
    size_t nul = rest.find('\0');
    parts[n++] = rest.substr(0, nul);
    if (nul == std::string_view::npos) break;
    rest = rest.substr(nul + 1);
  }
  microbeam::ExitRecord r;
  r.how = parts[0].empty() ? "halted" : parts[0];
  r.crash_slogan = parts[1];
  r.stop_request = parts[2];
  r.status = static_cast<int>(size);
  r.policy = "poweroff";
  r.time_unix = static_cast<int64_t>(size) * 1'000'003 - 500'000'000;
  static char buf[1 << 17];
  size_t len = microbeam::FormatExitRecord(r, buf, sizeof buf);
  FUZZ_CHECK(len > 0, "a record fits");
  auto rec = microbeam::ParseFlatJsonObject(std::string_view(buf, len));
  FUZZ_CHECK(rec.has_value(), "the record parses back");
  FUZZ_CHECK((*rec)["status"].text == std::to_string(r.status), "status round trip");
  std::string back = microbeam::LastExitLine(std::string_view(buf, len));
  FUZZ_CHECK(back.starts_with("microbeam: last exit: the BEAM "), "our record gives the full line");
  return 0;
}
