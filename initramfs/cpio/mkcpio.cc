// microbeam-cpio: writes a reproducible newc archive from gen_init_cpio-style specs.
//   microbeam-cpio -o OUT [--mtime SECONDS] SPEC...
// The mtime defaults to $SOURCE_DATE_EPOCH, else 0.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "newc_writer.h"
#include "spec_parser.h"

namespace {

absl::StatusOr<std::string> ReadHostFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("no such file or not readable");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::DataLossError("read error");
  return buf.str();
}

int Fail(const std::string& message) {
  std::cerr << "microbeam-cpio: " << message << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path;
  uint32_t mtime = 0;
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && !absl::SimpleAtoi(epoch, &mtime)) {
    return Fail(std::string("SOURCE_DATE_EPOCH is not a number of seconds: ") + epoch);
  }
  std::vector<std::string> specs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-o" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (arg == "--mtime" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &mtime)) return Fail(std::string("--mtime: not a number: ") + argv[i]);
    } else if (!arg.empty() && arg[0] == '-') {
      return Fail("unknown option " + arg + " (usage: microbeam-cpio -o OUT [--mtime N] SPEC...)");
    } else {
      specs.push_back(arg);
    }
  }
  if (out_path.empty() || specs.empty()) return Fail("usage: microbeam-cpio -o OUT [--mtime N] SPEC...");
  std::vector<microbeam::cpio::Entry> entries;
  for (const std::string& spec : specs) {
    absl::StatusOr<std::string> text = ReadHostFile(spec);
    if (!text.ok()) return Fail(spec + ": " + std::string(text.status().message()));
    auto parsed = microbeam::cpio::ParseSpec(*text, spec, ReadHostFile);
    if (!parsed.ok()) return Fail(std::string(parsed.status().message()));
    for (auto& e : *parsed) entries.push_back(std::move(e));
  }
  absl::StatusOr<std::string> archive = microbeam::cpio::WriteNewc(std::move(entries), mtime);
  if (!archive.ok()) return Fail(std::string(archive.status().message()));
  // Write beside the target and rename, so a failed run never leaves a truncated archive.
  std::string tmp = out_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(archive->data(), static_cast<std::streamsize>(archive->size()));
    if (!out.flush()) return Fail(out_path + ": write failed");
  }
  if (std::rename(tmp.c_str(), out_path.c_str()) != 0) return Fail(out_path + ": rename failed");
  return 0;
}
