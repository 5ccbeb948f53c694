// The records PID 1 leaves on /data at the end of the BEAM (records/records.h says what
// and where): allocation-free and async-signal-safe, like the rest of the crash path.
// records/records.cc opens the files at boot and hands them over here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "records/random_seed.h"

namespace microbeam {

struct EndRecordsSetup {
  int records_dir = -1;   // /data/microbeam
  int crash_dir = -1;     // /data/microbeam/crash
  int seed_fd = -1;       // random-seed, opened for writing by root at boot; -1: none
  const uint8_t* seed = nullptr;  // the seed written at boot, mixed into the next one
  size_t seed_len = 0;
  std::string_view boot_id;
};

// Takes the fds (closed by SaveRecords). Call once, before erl_start.
void PrepareEndRecords(const EndRecordsSetup& setup);

// The first stop request heard (stop_watcher), for the report.
void NoteStopRequest(std::string_view what);

// At the end, after the other processes have stopped and before /data is closed: the
// crash dump copied, the shutdown report written, a fresh seed saved; every file
// fsync'd and renamed into place (the seed rewritten in place), the directory fsync'd;
// then every fd of PID 1's on /data closed (and the working directory is / again). POLICY is ExitPolicyName()'s. Runs once;
// nothing without PrepareEndRecords().
void SaveRecords(const char* how, int status, std::string_view policy);

}  // namespace microbeam
