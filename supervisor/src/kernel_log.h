// PID 1's own messages go to the kernel log (/dev/kmsg): the kernel prints them on the
// console by polling, so they appear even when nobody drains the serial line, and a
// write never blocks PID 1 (a full tty buffer would, at the worst moment: shutdown).
// They also stay in dmesg for the rescue shell.
#pragma once

#include <string_view>

namespace microbeam {

// Opens /dev/kmsg (after /dev is mounted). Until then, or if it fails, lines go to stderr.
void OpenKernelLog();

// Writes one line ("microbeam: " prefix expected). Async-signal-safe.
void LogLine(std::string_view line);

}  // namespace microbeam
