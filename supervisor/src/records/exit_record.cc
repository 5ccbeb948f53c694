#include "records/exit_record.h"

#include <cstring>

namespace microbeam {
namespace {

// Appends to a fixed buffer; remembers if anything did not fit.
class Out {
 public:
  Out(char* buf, size_t cap) : buf_(buf), cap_(cap) {}
  void Raw(std::string_view s) {
    if (s.size() > cap_ - n_) {
      full_ = true;
      return;
    }
    std::memcpy(buf_ + n_, s.data(), s.size());
    n_ += s.size();
  }
  void Int(int64_t v) {
    char d[24];
    size_t k = 0;
    uint64_t u = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    do {
      d[k++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u);
    if (v < 0) d[k++] = '-';
    char r[24];
    for (size_t i = 0; i < k; ++i) r[i] = d[k - 1 - i];
    Raw(std::string_view(r, k));
  }
  // A JSON string; "" becomes null when EMPTY_IS_NULL.
  void Str(std::string_view s, bool empty_is_null = false) {
    if (empty_is_null && s.empty()) return Raw("null");
    Raw("\"");
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == '"' || c == '\\') {
        char e[2] = {'\\', static_cast<char>(c)};
        Raw(std::string_view(e, 2));
        ++i;
      } else if (c < 0x20 || c == 0x7f) {
        static constexpr char kHex[] = "0123456789abcdef";
        char e[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        Raw(std::string_view(e, 6));
        ++i;
      } else if (c < 0x80) {
        Raw(std::string_view(s.data() + i, 1));
        ++i;
      } else if (size_t len = Utf8Length(s.substr(i)); len > 0) {
        Raw(s.substr(i, len));
        i += len;
      } else {
        Raw("\\ufffd");
        ++i;
      }
    }
    Raw("\"");
  }
  void Key(std::string_view k) {
    Raw(first_ ? "{\"" : ",\"");
    first_ = false;
    Raw(k);
    Raw("\":");
  }
  size_t size() const { return full_ ? 0 : n_; }

  // The length of the valid UTF-8 sequence S starts with (RFC 3629: no overlongs, no
  // surrogates, at most U+10FFFF), 0 if it does not start with one.
  static size_t Utf8Length(std::string_view s) {
    auto cont = [&](size_t i) { return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80; };
    unsigned char c = static_cast<unsigned char>(s[0]);
    unsigned char c1 = s.size() > 1 ? static_cast<unsigned char>(s[1]) : 0;
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f)) return 0;
      return cont(1) && cont(2) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) return 0;
      return cont(1) && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
  }

 private:
  char* buf_;
  size_t cap_;
  size_t n_ = 0;
  bool full_ = false;
  bool first_ = true;
};

}  // namespace

std::string_view ExitSignal(std::string_view how, int status) {
  for (std::string_view name : {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT"}) {
    if (how.find(name) != std::string_view::npos) return name;
  }
  if (how == "aborted" && status == 134) return "SIGABRT";
  return "";
}

std::string_view SloganOf(std::string_view text) {
  constexpr std::string_view kSlogan = "Slogan: ";
  size_t at = 0;
  if (!text.starts_with(kSlogan)) {
    at = text.find("\nSlogan: ");
    if (at == std::string_view::npos) return "";
    ++at;
  }
  std::string_view line = text.substr(at + kSlogan.size());
  line = line.substr(0, line.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  return line;
}

size_t FormatUtc(int64_t t, char* out) {
  int64_t days = t / 86400, secs = t % 86400;
  if (secs < 0) secs += 86400, --days;
  // Days since 1970-01-01 to a civil date (the proleptic Gregorian calendar).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  int64_t y = yoe + era * 400 + (m <= 2);
  if (y < 0 || y > 9999) y = 0;  // a clock that far off still gives 20 characters
  int64_t parts[6] = {y, m, d, secs / 3600, secs / 60 % 60, secs % 60};
  const char seps[6] = {'-', '-', 'T', ':', ':', 'Z'};
  size_t n = 0;
  for (int i = 0; i < 6; ++i) {
    int width = i == 0 ? 4 : 2;
    for (int k = width - 1; k >= 0; --k) {
      int64_t v = parts[i];
      for (int j = 0; j < k; ++j) v /= 10;
      out[n++] = static_cast<char>('0' + v % 10);
    }
    out[n++] = seps[i];
  }
  out[n] = '\0';
  return n;
}

size_t FormatExitRecord(const ExitRecord& r, char* buf, size_t cap) {
  Out o(buf, cap);
  char when[24];
  FormatUtc(r.time_unix, when);
  o.Key("version"), o.Int(1);
  o.Key("record"), o.Str("shutdown");
  o.Key("how"), o.Str(r.how);
  o.Key("status"), o.Int(r.status);
  o.Key("signal"), o.Str(ExitSignal(r.how, r.status), true);
  o.Key("stop_request"), o.Str(r.stop_request, true);
  o.Key("crash_slogan"), o.Str(r.crash_slogan, true);
  o.Key("crash_dump"), o.Str(r.crash_dump, true);
  o.Key("crash_dump_bytes"), o.Int(static_cast<int64_t>(r.crash_dump_bytes));
  o.Key("crash_dump_copied_bytes"), o.Int(static_cast<int64_t>(r.crash_dump_copied));
  o.Key("policy"), o.Str(r.policy);
  o.Key("time"), o.Str(when);
  o.Key("time_unix"), o.Int(r.time_unix);
  o.Key("uptime_ms"), o.Int(r.uptime_ms);
  o.Key("boot_id"), o.Str(r.boot_id, true);
  o.Raw("}\n");
  return o.size();
}

}  // namespace microbeam
