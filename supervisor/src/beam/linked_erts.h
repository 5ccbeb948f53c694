// The ERTS this /init links (one link per OTP major: supervisor/link/), for PID 1's
// console line; the release's start_erl.data may name another version of the major.
#pragma once

namespace microbeam {

extern const char kLinkedErtsVsn[];     // e.g. "15.2.7"
extern const char kLinkedOtpVersion[];  // e.g. "27.3.4.1"

}  // namespace microbeam
