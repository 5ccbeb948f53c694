// The rest of erlinit's duties, applied (config/process_keys.h parses them): resource
// limits, the core pattern for port programs, the working directory. Before the
// capabilities drop (raising a hard limit and writing /proc/sys need root); a restart
// by re-exec applies them again where it still can. A failure is one line; boot goes on.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace microbeam {

// Returns the lines to log.
std::vector<std::string> ApplyProcessSetup(const Config& config, bool in_container);

}  // namespace microbeam
