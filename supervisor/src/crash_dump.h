// ERTS's crash dump, reported by the next PID 1 after a restart by re-exec: the dump is
// in the RAM-backed root, which a re-exec keeps (a reboot of the VM does not).
#pragma once

#include <string>
#include <string_view>

namespace microbeam {

// Where ERTS writes it: PID 1's working directory is /, and ERL_CRASH_DUMP is not set.
inline constexpr const char* kCrashDumpPath = "/erl_crash.dump";
// Where PID 1 moves it once reported, so that a new dump does not overwrite it.
inline constexpr const char* kPreviousCrashDumpPath = "/erl_crash.dump.previous";

// The reason line of a crash dump's header ("Slogan: ..."), or "" if there is none
// in TEXT (the first few KiB of the file are enough).
std::string CrashDumpSlogan(std::string_view text);

}  // namespace microbeam
