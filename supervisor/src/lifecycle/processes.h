// What PID 1 knows about the other processes: /proc/PID/stat, parsed without
// allocating (the shutdown path runs in signal handlers), and which of them the
// shutdown leaves alone.
#pragma once

#include <string_view>

namespace microbeam {

struct ProcStat {
  int pid = 0;
  int ppid = 0;
  char state = '?';        // R, S, D, Z, T...
  unsigned long flags = 0; // PF_* (PF_KTHREAD: a kernel thread)
  char comm[16] = {};      // the kernel's TASK_COMM_LEN, NUL-terminated
};

// Parses one /proc/PID/stat line ("PID (comm) S PPID PGRP SESSION TTY TPGID FLAGS ...").
// comm may hold blanks and parentheses: it ends at the last ')'.
bool ParseProcStat(std::string_view line, ProcStat& out);

// ERTS's port-program spawner, exec'd by the BEAM in PID 1 under this name.
inline constexpr std::string_view kErtsHelper = "erl_child_setup";

// Whether `p` is that spawner: PID 1's child of that name (a zombie one included).
bool IsErtsHelper(const ProcStat& p);

// Whether the shutdown must not signal `p`: PID 1 itself, kernel threads, zombies (only
// reaping ends them), and ERTS's helper. The helper goes last, with PID 1: when it dies
// ERTS notices and starts writing a crash dump. Port programs, its children, are
// signalled like any other process.
bool SparedAtShutdown(const ProcStat& p);

}  // namespace microbeam
