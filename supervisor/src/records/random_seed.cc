#include "records/random_seed.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "records/sha256.h"

namespace microbeam {

size_t SeedLength(std::string_view poolsize_text) {
  uint64_t bits = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(poolsize_text), &bits)) return kMinSeedBytes;
  uint64_t bytes = bits / 8;
  if (bytes < kMinSeedBytes) return kMinSeedBytes;
  if (bytes > kMaxSeedBytes) return kMaxSeedBytes;
  return bytes;
}

SeedFile ParseSeedFile(std::string_view text) {
  if (text.empty()) return {};
  if (text.size() > kSeedHeaderBytes && text.starts_with(kSeedMagic) && text[kSeedHeaderBytes - 1] == '\n' &&
      (text[kSeedCreditOffset] == 'C' || text[kSeedCreditOffset] == 'N')) {
    std::string_view seed = text.substr(kSeedHeaderBytes);
    if (seed.size() > kMaxSeedBytes) return {SeedKind::kForeign, seed.substr(0, kMaxSeedBytes)};
    return {text[kSeedCreditOffset] == 'C' ? SeedKind::kCreditable : SeedKind::kNotCreditable, seed};
  }
  return {SeedKind::kForeign, text.substr(0, kMaxSeedBytes)};
}

bool CreditSeed(const SeedFile& file, const SeedFileStat& st, bool credit_allowed) {
  return credit_allowed && file.kind == SeedKind::kCreditable && file.seed.size() >= kMinSeedBytes &&
         st.regular && st.uid == 0 && (st.mode & 077) == 0 && st.links == 1;
}

size_t FormatSeedFile(bool creditable, const uint8_t* seed, size_t seed_size, char* out) {
  std::memcpy(out, kSeedMagic.data(), kSeedMagic.size());
  out[kSeedCreditOffset] = creditable ? 'C' : 'N';
  out[kSeedHeaderBytes - 1] = '\n';
  std::memcpy(out + kSeedHeaderBytes, seed, seed_size);
  return kSeedHeaderBytes + seed_size;
}

void MixSeed(uint8_t* fresh, size_t fresh_size, const uint8_t* old, size_t old_size, uint64_t realtime_ns,
             uint64_t boottime_ns) {
  Sha256 h;
  h.Update("MicroBEAM random seed v1: old + new");
  h.UpdateU64(realtime_ns);
  h.UpdateU64(boottime_ns);
  h.UpdateU64(old_size);
  h.Update(old, old_size);
  h.UpdateU64(fresh_size);
  h.Update(fresh, fresh_size);
  uint8_t digest[Sha256::kDigestBytes];
  h.Final(digest);
  size_t n = fresh_size < sizeof digest ? fresh_size : sizeof digest;
  std::memcpy(fresh + fresh_size - n, digest, n);
}

}  // namespace microbeam
