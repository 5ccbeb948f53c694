// ERTS's crash dump. It is written to the RAM-backed root: a restart by re-exec keeps it
// (the next PID 1 reports it), a power-off or reboot of the VM does not, so PID 1 shows
// its header on the console (which the VMM keeps) before carrying out such a policy.
#pragma once

#include <string>
#include <string_view>

namespace microbeam {

// Where ERTS writes it (ERL_CRASH_DUMP): a directory of the RAM-backed root that the
// app's user owns (the rest of the root is root's and read-only to the app).
inline constexpr const char* kCrashDumpDir = "/crash";
inline constexpr const char* kCrashDumpPath = "/crash/erl_crash.dump";
// Where PID 1 moves it once reported, so that a new dump does not overwrite it.
inline constexpr const char* kPreviousCrashDumpPath = "/crash/erl_crash.dump.previous";

// The reason line of a crash dump's header ("Slogan: ..."), or "" if there is none
// in TEXT (the first few KiB of the file are enough).
std::string CrashDumpSlogan(std::string_view text);

// The header of a crash dump: from its first line ("=erl_crash_dump:...") up to the next
// section ("=scheduler:1", "=memory"...), without the final newline; "" if TEXT does not
// start like a crash dump. A view into TEXT (no allocation: PID 1 may be ending in a
// signal handler when it calls this).
std::string_view CrashDumpHeader(std::string_view text);

}  // namespace microbeam
