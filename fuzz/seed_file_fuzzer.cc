// The random seed file read at boot from /data (any bytes after a bad disk): its seed
// is bounded, only our format is ever creditable, and ours formats back to itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "records/random_seed.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  microbeam::SeedFile f = microbeam::ParseSeedFile(text);
  FUZZ_CHECK(f.seed.size() <= microbeam::kMaxSeedBytes, "seed bounded");
  FUZZ_CHECK((f.kind == microbeam::SeedKind::kNone) == text.empty(), "empty only when empty");
  bool ours = f.kind == microbeam::SeedKind::kCreditable || f.kind == microbeam::SeedKind::kNotCreditable;
  if (ours) {
    std::string again(microbeam::kSeedHeaderBytes + f.seed.size(), '\0');
    microbeam::FormatSeedFile(f.kind == microbeam::SeedKind::kCreditable,
                              reinterpret_cast<const uint8_t*>(f.seed.data()), f.seed.size(), again.data());
    FUZZ_CHECK(again == text, "format round trip");
  }
  microbeam::SeedFileStat roots{true, 0, 0600, 1};
  if (microbeam::CreditSeed(f, roots, true)) FUZZ_CHECK(f.kind == microbeam::SeedKind::kCreditable, "credit");
  size_t len = microbeam::SeedLength(text);
  FUZZ_CHECK(len >= microbeam::kMinSeedBytes && len <= microbeam::kMaxSeedBytes, "seed length");
  return 0;
}
