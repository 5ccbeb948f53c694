// SHA-256 (FIPS 180-4), for mixing the random seed kept across boots (random_seed.h).
// Allocation-free and without locks: the shutdown path (crash_path.h) uses it. Written
// here because the /init without crypto links no OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace microbeam {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;

  Sha256();
  void Update(const void* data, size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  void UpdateU64(uint64_t v);  // 8 bytes, little-endian: lengths and clock readings
  void Final(uint8_t out[kDigestBytes]);  // the object is spent afterwards

 private:
  void Block(const uint8_t* p);

  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buffered_ = 0;
  uint64_t total_ = 0;  // bytes hashed
};

}  // namespace microbeam
