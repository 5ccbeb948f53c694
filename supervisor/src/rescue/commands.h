// The rescue shell's commands. Each returns its output as text (so tests can call
// them directly) and what the shell should do next.
#pragma once

#include <string>
#include <vector>

namespace microbeam::rescue {

enum class Action { kContinue, kBoot, kReboot, kPoweroff };

struct Outcome {
  std::string output;
  Action action = Action::kContinue;
};

// words[0] is the command. An unknown command says so and suggests `help`.
Outcome RunCommand(const std::vector<std::string>& words);

}  // namespace microbeam::rescue
