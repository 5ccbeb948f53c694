// PID 1's own messages go to the kernel log (/dev/kmsg): the kernel prints them on the
// console by polling, so they appear even when nobody drains the serial line, and a
// write never blocks PID 1 (a full tty buffer would, at the worst moment: shutdown).
// They also stay in dmesg for the rescue shell.
//
// /dev/kmsg limits each opener to 10 records in 5 s and drops the rest while reporting
// success, unless printk_devkmsg is "on", which OpenKernelLog() sets. Lines about the
// end of the BEAM (LogAlways) go at KERN_EMERG, the one level no console loglevel
// (quiet, loglevel=1..7) hides; the rest at KERN_NOTICE.
#pragma once

#include <string_view>

namespace microbeam {

// Opens /dev/kmsg (after /dev is mounted), or takes the one a restarted PID 1 was
// handed (crash_path.h), and lifts the rate limit. Until then, or if it fails, lines go
// to stderr.
void OpenKernelLog();

// The fd of the kernel log, or -1.
int KernelLogFd();

// Writes one line ("microbeam: " prefix expected). Async-signal-safe.
void LogLine(std::string_view line);
// The same at a level the console always shows: the end of the BEAM's life.
void LogAlways(std::string_view line);

}  // namespace microbeam
