// How far the BEAM's memory may grow before its own allocations fail. The BEAM runs in
// PID 1, which the kernel's OOM killer never picks: a BEAM that allocates without bound
// leaves the kernel nothing to kill, and it panics ("System is deadlocked on memory";
// seen in QEMU with 128 MiB). So PID 1 keeps RLIMIT_DATA at what its data already is
// plus what is still available, less a reserve for the kernel, and moves it as both
// change (memory_guard.h). mmap/brk then fail first: ERTS reports "Cannot allocate",
// exits, and PID 1 carries out the exit policy.
//
// Why not a fixed limit: RLIMIT_DATA counts mapped, not touched, memory. ERTS maps
// ~10 MiB more than it touches (thread stacks, carriers) at start, so a fixed limit
// at MemAvailable kept the demo from booting at 48 MiB, where it otherwise serves.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace microbeam {

struct MemoryFigures {
  uint64_t total = 0;      // MemTotal
  uint64_t available = 0;  // MemAvailable
};

// MemTotal and MemAvailable (bytes) from /proc/meminfo's text; nullopt if either is
// missing or malformed.
std::optional<MemoryFigures> ParseMeminfo(std::string_view meminfo);

// RssAnon (bytes) from /proc/self/status's text; nullopt if missing or malformed.
std::optional<uint64_t> ParseRssAnon(std::string_view status);

// Kept back for the kernel (page tables, socket buffers, the crash dump): 1/64 of
// MemTotal, at least 1 MiB. More would cost the smallest guests their boot: at 47 MiB
// the demo maps all but ~1 MiB of what is available while it starts.
uint64_t KernelReserve(uint64_t total);

// Whether the guard is worth its cost in a guest of `total` RAM (MemTotal, what the
// kernel manages: a 64 MiB guest has ~54 MiB). While ERTS starts it maps ~10 MiB more
// than it touches, and RLIMIT_DATA counts mappings: with the guard the demo needs
// ~52 MiB of guest RAM instead of 47 MiB, so smaller guests keep the old behaviour (and
// the kernel can still panic if the BEAM runs away there).
bool GuardsMemory(uint64_t total);

// The RLIMIT_DATA: the memory already touched plus what is available beyond the reserve.
uint64_t DataLimit(uint64_t rss_anon, const MemoryFigures& m);

}  // namespace microbeam
