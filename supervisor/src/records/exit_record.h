// The shutdown report PID 1 leaves on /data (/data/microbeam/last-exit.json): why the
// BEAM ended, when, after how long, and the policy carried out. Written at the end of
// the BEAM, so everything here is allocation-free (crash/crash_path.h); last_exit.h
// reads it back at the next boot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace microbeam {

struct ExitRecord {
  std::string_view how;            // EndOfBeam's: "halted", "aborted", "got fatal signal SIGSEGV in PID 1"...
  int status = 0;
  std::string_view stop_request;   // "power button", "SIGPWR"...; empty: none
  std::string_view crash_slogan;   // from the crash dump's header; empty: none
  std::string_view crash_dump;     // the copy on /data; empty: none
  uint64_t crash_dump_bytes = 0;   // the dump's size (the copy may be its head only)
  uint64_t crash_dump_copied = 0;
  std::string_view policy;         // "poweroff", "reboot", "restart", "shell"
  int64_t time_unix = 0;           // CLOCK_REALTIME, seconds
  int64_t uptime_ms = 0;           // CLOCK_BOOTTIME
  std::string_view boot_id;        // /proc/sys/kernel/random/boot_id
};

// The fatal signal behind HOW/STATUS ("SIGSEGV", "SIGABRT"), or "" (a halt, a stop).
std::string_view ExitSignal(std::string_view how, int status);

// "Slogan: ..." of a crash dump's head, without the line end: a view into TEXT, or "".
std::string_view SloganOf(std::string_view text);

// "2026-11-28T23:55:01Z" (20 characters) into OUT (at least 21 bytes, NUL-terminated).
size_t FormatUtc(int64_t unix_seconds, char* out);

// The record as one JSON object and a newline into OUT (CAP bytes); returns the length,
// 0 if it does not fit. Strings are escaped (control characters as u-escapes, invalid
// UTF-8 as U+FFFD).
size_t FormatExitRecord(const ExitRecord& r, char* out, size_t cap);

}  // namespace microbeam
