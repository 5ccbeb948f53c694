// The random seed kept on /data across boots, after seedrng's design (pure logic; the
// file dance is records.cc's):
//  - at boot the seed is fed to the kernel's pool (RNDADDENTROPY), credited only when a
//    clean shutdown wrote it, and at once replaced by a fresh one marked not creditable,
//    so that no seed is ever credited twice (a crash or power cut before the next clean
//    shutdown leaves that mark);
//  - at shutdown a fresh seed is saved, creditable if the kernel's pool was ready when
//    it was drawn.
// Every new seed is fresh random bytes whose last 32 are replaced by a hash over the
// old seed, the clocks and the new bytes: an old seed nobody else saw keeps the new one
// unpredictable even if the pool was weak when it was drawn.
//
// The file: a 20-byte header "microbeam-seed-v1 C\n" (C: creditable) or
// "microbeam-seed-v1 N\n" (N: not), then the seed. The header has one length either way,
// so the shutdown can rewrite the file in place: the seed first, then the one letter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace microbeam {

inline constexpr size_t kMinSeedBytes = 32;
inline constexpr size_t kMaxSeedBytes = 512;
inline constexpr std::string_view kSeedMagic = "microbeam-seed-v1 ";
inline constexpr size_t kSeedHeaderBytes = 20;  // magic, 'C' or 'N', '\n'
inline constexpr size_t kSeedCreditOffset = 18;  // where the letter is

// The seed length for a pool of /proc/sys/kernel/random/poolsize bits: a pool's worth,
// 32..512 bytes; 32 when the text is not a number (the pool has 256 bits since 5.18).
size_t SeedLength(std::string_view poolsize_text);

enum class SeedKind {
  kNone,       // empty file: nothing to feed
  kForeign,    // not our format: fed (the first 512 bytes) but never credited
  kCreditable,
  kNotCreditable,
};

struct SeedFile {
  SeedKind kind = SeedKind::kNone;
  std::string_view seed;  // into the text given
};

SeedFile ParseSeedFile(std::string_view text);

// What the file says, and who could have written it. Credit only a seed of ours marked
// creditable, in a regular file that root alone can read and write with one link (the
// app's user can write /data, but not a file root owns), and unless the operator turned
// credit off (microbeam.seed_credit=0: a disk image copied to many VMs).
struct SeedFileStat {
  bool regular = false;
  uint32_t uid = 0;
  uint32_t mode = 0;  // st_mode & 07777
  uint64_t links = 0;
};
bool CreditSeed(const SeedFile& file, const SeedFileStat& st, bool credit_allowed);

// Writes the file's bytes (header and SEED) to OUT, which must hold
// kSeedHeaderBytes + seed size; returns the bytes written. Allocation-free.
size_t FormatSeedFile(bool creditable, const uint8_t* seed, size_t seed_size, char* out);

// Replaces the last 32 bytes of FRESH (all of it if it is 32) by SHA-256 over a domain
// string, the clocks, OLD and FRESH (each with its length). Allocation-free.
void MixSeed(uint8_t* fresh, size_t fresh_size, const uint8_t* old, size_t old_size, uint64_t realtime_ns,
             uint64_t boottime_ns);

}  // namespace microbeam
