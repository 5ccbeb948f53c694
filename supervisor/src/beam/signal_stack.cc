#include "beam/signal_stack.h"

namespace microbeam {

bool KeepsOwnAltStack(const stack_t& ss, size_t min_size) {
  return !(ss.ss_flags & SS_DISABLE) && ss.ss_sp != nullptr && ss.ss_size >= min_size;
}

}  // namespace microbeam
