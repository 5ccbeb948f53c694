#include "rescue/rescue_shell.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "config/config.h"
#include "lifecycle/shutdown.h"
#include "rescue/commands.h"
#include "rescue/line_editor.h"

namespace microbeam {
namespace {

constexpr char kPrompt[] = "microbeam-rescue# ";

bool WriteAll(std::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(STDOUT_FILENO, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Raw input (no echo, byte at a time) while the shell runs; restored on exit.
class RawTerminal {
 public:
  RawTerminal() {
    active_ = tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (!active_) return;
    struct termios raw = saved_;
    raw.c_lflag &= static_cast<tcflag_t>(~(ICANON | ECHO | ISIG));
    raw.c_iflag &= static_cast<tcflag_t>(~(ICRNL | IXON));
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  struct termios saved_ {};
  bool active_ = false;
};

}  // namespace

ShellExit RunRescueShell(std::string_view why) {
  WriteAll(absl::StrCat("\r\nmicrobeam: rescue shell (", why, ")\r\ntype help for commands, boot or Ctrl-D to continue\r\n"));
  RawTerminal raw;
  rescue::LineEditor editor;
  int failed_reads = 0;
  if (!WriteAll(kPrompt)) return ShellExit::kConsoleGone;
  for (;;) {
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // A closed or broken console: nobody can type, so do not spin or wait forever.
      if (++failed_reads >= 3) return ShellExit::kConsoleGone;
      usleep(100'000);
      continue;
    }
    failed_reads = 0;
    std::string echo;
    rescue::LineEditor::Event event = editor.Feed(c, echo);
    WriteAll(echo);
    if (event == rescue::LineEditor::Event::kEof) return ShellExit::kBoot;
    if (event == rescue::LineEditor::Event::kCancel) {
      WriteAll(kPrompt);
      continue;
    }
    if (event != rescue::LineEditor::Event::kLine) continue;
    rescue::Outcome outcome = rescue::RunCommand(SplitFlags(editor.TakeLine()));
    std::string text;
    for (char ch : outcome.output) {  // raw mode: the terminal needs CR LF
      if (ch == '\n') text.push_back('\r');
      text.push_back(ch);
    }
    WriteAll(text);
    switch (outcome.action) {
      case rescue::Action::kBoot: return ShellExit::kBoot;
      case rescue::Action::kReboot: EndTheVm(ExitPolicy::kReboot);
      case rescue::Action::kPoweroff: EndTheVm(ExitPolicy::kPoweroff);
      case rescue::Action::kContinue: break;
    }
    WriteAll(kPrompt);
  }
}

}  // namespace microbeam
