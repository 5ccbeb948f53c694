#include "lifecycle/restore_message.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace microbeam {
namespace {

constexpr std::string_view kVerb = "microbeam-restore";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<RestoreMessage> ParseRestoreMessage(std::string_view line) {
  absl::ConsumeSuffix(&line, "\r");
  std::vector<std::string_view> words = absl::StrSplit(line, ' ');
  if (words.size() != 3 || words[0] != kVerb) {
    return absl::InvalidArgumentError("restore message: not \"microbeam-restore UNIX_NS SEED\"");
  }
  RestoreMessage m;
  if (words[1].empty() || words[1][0] == '+' || !absl::SimpleAtoi(words[1], &m.unix_ns) || m.unix_ns <= 0) {
    return absl::InvalidArgumentError("restore message: UNIX_NS is not a positive integer");
  }
  if (words[2].size() != 2 * m.seed.size()) {
    return absl::InvalidArgumentError("restore message: SEED is not 64 hex digits");
  }
  for (size_t i = 0; i < m.seed.size(); ++i) {
    int hi = HexDigit(words[2][2 * i]), lo = HexDigit(words[2][2 * i + 1]);
    if (hi < 0 || lo < 0) return absl::InvalidArgumentError("restore message: SEED is not 64 hex digits");
    m.seed[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return m;
}

std::string FormatRestoreMessage(const RestoreMessage& m) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string seed;
  for (uint8_t b : m.seed) {
    seed.push_back(kHex[b >> 4]);
    seed.push_back(kHex[b & 15]);
  }
  return absl::StrCat(kVerb, " ", m.unix_ns, " ", seed, "\n");
}

std::string FormatRestoreAck(uint64_t restores, int64_t step_ns) {
  return absl::StrCat("microbeam-restored ", restores, " ", step_ns, "\n");
}

std::string FormatBeamNotice(uint64_t restores, int64_t step_ns) {
  return absl::StrCat("restored ", restores, " ", step_ns, "\n");
}

void LineSplitter::Feed(std::string_view bytes) { buffer_.append(bytes); }

bool LineSplitter::Next(std::string& line) {
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl == std::string::npos) {
      if (buffer_.size() > kRestoreLineMax) {  // too long already: drop it up to its end
        buffer_.clear();
        discarding_ = true;
      }
      return false;
    }
    bool drop = discarding_ || nl > kRestoreLineMax;
    discarding_ = false;
    if (!drop) line.assign(buffer_, 0, nl);
    buffer_.erase(0, nl + 1);
    if (!drop) return true;
  }
}

}  // namespace microbeam
