// The BEAM's crash dumps kept on /data (/data/microbeam/crash/erl_crash.NNNNNN.dump):
// the newest few, bounded by count and by total size. Pure logic, allocation-free: the
// shutdown path (crash_path.h) plans with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace microbeam {

struct DumpLimits {
  size_t keep = 3;                       // copies at most, the new one included
  uint64_t total_bytes = 16ull << 20;    // bytes at most, the new one included
};

// "erl_crash.000042.dump" -> 42; nullopt for any other name.
std::optional<uint32_t> DumpSequence(std::string_view name);

// Writes "erl_crash.NNNNNN.dump" (6 digits or more) to OUT (at least 32 bytes), NUL-
// terminated; returns its length.
size_t DumpName(uint32_t seq, char* out);

struct DumpEntry {
  uint32_t seq = 0;
  uint64_t bytes = 0;
};

struct DumpPlan {
  uint64_t copy_bytes = 0;    // the head of the new dump to copy (all of it if it fits)
  size_t delete_oldest = 0;   // how many of the oldest copies to delete first
  uint32_t seq = 1;           // the new copy's number
};

// EXISTING: the copies there, sorted oldest (lowest seq) first.
DumpPlan PlanDumpCopy(const DumpEntry* existing, size_t count, uint64_t new_bytes, const DumpLimits& limits);

// Sorts ENTRIES by seq, ascending (insertion sort: few entries, no allocation).
void SortDumps(DumpEntry* entries, size_t count);

}  // namespace microbeam
