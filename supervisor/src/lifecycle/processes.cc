#include "lifecycle/processes.h"

#include <charconv>
#include <cstring>

namespace microbeam {
namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // include/linux/sched.h

// Reads the next blank-separated unsigned field of `rest`; false if there is none.
template <typename T>
bool NextField(std::string_view& rest, T& value) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || end == rest.data()) return false;
  rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  return true;
}

bool SkipField(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  size_t blank = rest.find(' ');
  if (rest.empty()) return false;
  rest.remove_prefix(blank == std::string_view::npos ? rest.size() : blank);
  return true;
}

}  // namespace

bool ParseProcStat(std::string_view line, ProcStat& out) {
  size_t open = line.find(" ("), close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return false;
  std::string_view pid_text = line.substr(0, open);
  if (!NextField(pid_text, out.pid) || !pid_text.empty()) return false;
  std::string_view comm = line.substr(open + 2, close - open - 2);
  size_t n = comm.size() < sizeof out.comm - 1 ? comm.size() : sizeof out.comm - 1;
  std::memcpy(out.comm, comm.data(), n);
  out.comm[n] = '\0';
  std::string_view rest = line.substr(close + 1);
  if (rest.size() < 2 || rest[0] != ' ') return false;
  out.state = rest[1];
  rest.remove_prefix(2);
  if (!NextField(rest, out.ppid)) return false;
  for (int i = 0; i < 4; ++i) {  // pgrp, session, tty_nr, tpgid (tpgid may be -1)
    if (!SkipField(rest)) return false;
  }
  return NextField(rest, out.flags);
}

bool IsErtsHelper(const ProcStat& p) { return p.ppid == 1 && std::string_view(p.comm) == kErtsHelper; }

bool SparedAtShutdown(const ProcStat& p) {
  return p.pid == 1 || (p.flags & kPfKthread) || p.state == 'Z' || IsErtsHelper(p);
}

}  // namespace microbeam
