// The restore channel's messages (docs/snapshots.md). After `microbeam run --restore`
// resumes a saved VM, the host writes one line on the guest's virtio console (hvc0):
//
//   microbeam-restore UNIX_NS SEED      UNIX_NS: the host's wall clock, ns since 1970
//                                       SEED: 64 hex digits, 32 random bytes
//
// PID 1 steps the clock to UNIX_NS, mixes SEED into the kernel's pool and reseeds it,
// then answers `microbeam-restored N STEP_NS` on the same console and tells the BEAM
// `restored N STEP_NS` (N: how many restores this guest has seen, 1, 2, ...; STEP_NS:
// how far the clock moved, signed). Pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace microbeam {

inline constexpr std::string_view kRestoreChannel = "/dev/hvc0";
// The BEAM reads `restored GEN STEP_NS` lines from this fd (an open_port({fd, N, N})).
inline constexpr std::string_view kRestoreFdEnv = "MICROBEAM_RESTORE_FD";
inline constexpr size_t kRestoreLineMax = 256;  // longer lines are dropped whole

struct RestoreMessage {
  int64_t unix_ns = 0;
  std::array<uint8_t, 32> seed = {};
};

// One line without its newline (a trailing '\r' is allowed). The error names what is wrong.
absl::StatusOr<RestoreMessage> ParseRestoreMessage(std::string_view line);
std::string FormatRestoreMessage(const RestoreMessage& m);  // with the newline
std::string FormatRestoreAck(uint64_t restores, int64_t step_ns);   // for the host
std::string FormatBeamNotice(uint64_t restores, int64_t step_ns);   // for the BEAM

// Splits bytes read from the console into lines: Feed() appends, Next() returns the next
// complete line (without '\n'), dropping lines over kRestoreLineMax bytes.
class LineSplitter {
 public:
  void Feed(std::string_view bytes);
  bool Next(std::string& line);

 private:
  std::string buffer_;
  bool discarding_ = false;  // inside an overlong line: drop until its '\n'
};

}  // namespace microbeam
