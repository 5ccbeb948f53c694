// Text built in a fixed buffer, for PID 1's crash path (crash_path.h): no allocation,
// no locale, no stdio lock, so it is safe in a signal handler and while another thread
// holds the allocator's lock. Text past the capacity is cut, never overflowed.
#pragma once

#include <cstddef>
#include <string_view>

namespace microbeam {

template <size_t kCapacity>
class FixedLine {
 public:
  FixedLine& operator<<(std::string_view s) {
    for (char c : s) {
      if (size_ + 1 >= kCapacity) break;
      buf_[size_++] = c;
    }
    buf_[size_] = '\0';
    return *this;
  }
  FixedLine& operator<<(const char* s) { return *this << std::string_view(s ? s : "(null)"); }
  FixedLine& operator<<(long long n) {
    char digits[24];
    size_t k = 0;
    unsigned long long u = n < 0 ? 0ULL - static_cast<unsigned long long>(n) : static_cast<unsigned long long>(n);
    do {
      digits[k++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (n < 0) digits[k++] = '-';
    char out[24];
    for (size_t i = 0; i < k; ++i) out[i] = digits[k - 1 - i];
    return *this << std::string_view(out, k);
  }
  FixedLine& operator<<(long n) { return *this << static_cast<long long>(n); }
  FixedLine& operator<<(int n) { return *this << static_cast<long long>(n); }

  void Clear() { size_ = 0, buf_[0] = '\0'; }
  const char* c_str() const { return buf_; }
  std::string_view view() const { return std::string_view(buf_, size_); }
  char* data() { return buf_; }

 private:
  char buf_[kCapacity] = {};
  size_t size_ = 0;
};

}  // namespace microbeam
