#include "records/dump_copies.h"

namespace microbeam {

std::optional<uint32_t> DumpSequence(std::string_view name) {
  constexpr std::string_view kPrefix = "erl_crash.", kSuffix = ".dump";
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  std::string_view digits = name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (digits.size() < 6 || digits.size() > 9) return std::nullopt;
  uint32_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  return n;
}

size_t DumpName(uint32_t seq, char* out) {
  char digits[12];
  size_t k = 0;
  do {
    digits[k++] = static_cast<char>('0' + seq % 10);
    seq /= 10;
  } while (seq != 0);
  while (k < 6) digits[k++] = '0';
  size_t n = 0;
  for (char c : std::string_view("erl_crash.")) out[n++] = c;
  while (k > 0) out[n++] = digits[--k];
  for (char c : std::string_view(".dump")) out[n++] = c;
  out[n] = '\0';
  return n;
}

DumpPlan PlanDumpCopy(const DumpEntry* existing, size_t count, uint64_t new_bytes, const DumpLimits& limits) {
  DumpPlan plan;
  plan.copy_bytes = new_bytes < limits.total_bytes ? new_bytes : limits.total_bytes;
  uint32_t last = count > 0 ? existing[count - 1].seq : 0;
  plan.seq = last >= 999'999'999u ? 1 : last + 1;  // the name holds 9 digits at most
  uint64_t total = 0;
  for (size_t i = 0; i < count; ++i) total += existing[i].bytes;
  size_t keep_others = limits.keep > 0 ? limits.keep - 1 : 0;
  while (plan.delete_oldest < count &&
         (count - plan.delete_oldest > keep_others || total + plan.copy_bytes > limits.total_bytes)) {
    total -= existing[plan.delete_oldest].bytes;
    ++plan.delete_oldest;
  }
  if (limits.keep == 0) plan.copy_bytes = 0;
  return plan;
}

void SortDumps(DumpEntry* entries, size_t count) {
  for (size_t i = 1; i < count; ++i) {
    DumpEntry e = entries[i];
    size_t j = i;
    for (; j > 0 && entries[j - 1].seq > e.seq; --j) entries[j] = entries[j - 1];
    entries[j] = e;
  }
}

}  // namespace microbeam
