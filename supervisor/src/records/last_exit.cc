#include "records/last_exit.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace microbeam {
namespace {

// Reads one JSON value (scalars only) or key from TEXT at POS.
class FlatReader {
 public:
  explicit FlatReader(std::string_view t) : t_(t) {}

  void Blank() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  bool Eat(char c) {
    Blank();
    if (p_ < t_.size() && t_[p_] == c) return ++p_, true;
    return false;
  }
  bool AtEnd() {
    Blank();
    return p_ == t_.size();
  }
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    while (p_ < t_.size()) {
      unsigned char c = static_cast<unsigned char>(t_[p_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (p_ >= t_.size()) return false;
      char e = t_[p_++];
      switch (e) {
        case '"': case '\\': case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {  // a surrogate pair's first half
            uint32_t lo = 0;
            if (p_ + 1 >= t_.size() || t_[p_] != '\\' || t_[p_ + 1] != 'u') return false;
            p_ += 2;
            if (!Hex4(lo) || lo < 0xdc00 || lo > 0xdfff) return false;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  // A number, true, false or null: its text.
  bool Scalar(std::string& out) {
    Blank();
    for (std::string_view word : {"true", "false", "null"}) {
      if (t_.substr(p_).starts_with(word)) {
        out = word;
        p_ += word.size();
        return true;
      }
    }
    size_t start = p_;
    if (p_ < t_.size() && t_[p_] == '-') ++p_;
    size_t digits = Digits();
    if (digits == 0 || (digits > 1 && t_[p_ - digits] == '0')) return false;
    if (p_ < t_.size() && t_[p_] == '.') {
      ++p_;
      if (Digits() == 0) return false;
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (Digits() == 0) return false;
    }
    out = std::string(t_.substr(start, p_ - start));
    return true;
  }
  bool PeekString() {
    Blank();
    return p_ < t_.size() && t_[p_] == '"';
  }

 private:
  size_t Digits() {
    size_t n = 0;
    while (p_ < t_.size() && absl::ascii_isdigit(static_cast<unsigned char>(t_[p_]))) ++p_, ++n;
    return n;
  }
  bool Hex4(uint32_t& v) {
    if (p_ + 4 > t_.size()) return false;
    for (int i = 0; i < 4; ++i) {
      char c = t_[p_++];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  std::string_view t_;
  size_t p_ = 0;
};

// A value for the console: control characters become '?', at most MAX bytes.
std::string ForConsole(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

std::optional<std::map<std::string, JsonScalar>> ParseFlatJsonObject(std::string_view text) {
  if (text.size() > 65536) return std::nullopt;
  FlatReader in(text);
  std::map<std::string, JsonScalar> out;
  if (!in.Eat('{')) return std::nullopt;
  if (!in.Eat('}')) {
    do {
      std::string key;
      JsonScalar v;
      if (!in.String(key) || !in.Eat(':')) return std::nullopt;
      v.is_string = in.PeekString();
      if (!(v.is_string ? in.String(v.text) : in.Scalar(v.text))) return std::nullopt;
      out[key] = std::move(v);
    } while (in.Eat(','));
    if (!in.Eat('}')) return std::nullopt;
  }
  if (!in.AtEnd()) return std::nullopt;
  return out;
}

std::string LastExitLine(std::string_view file_text) {
  constexpr std::string_view kHead = "microbeam: last exit: ";
  std::optional<std::map<std::string, JsonScalar>> rec = ParseFlatJsonObject(file_text);
  if (!rec) return absl::StrCat(kHead, "the record is not a JSON object of ours; ignored");
  auto str = [&](const char* key) -> std::string {
    auto it = rec->find(key);
    return it == rec->end() || !it->second.is_string ? "" : ForConsole(it->second.text, 160);
  };
  auto num = [&](const char* key) -> std::optional<int64_t> {
    auto it = rec->find(key);
    int64_t v = 0;
    if (it == rec->end() || it->second.is_string || !absl::SimpleAtoi(it->second.text, &v)) return std::nullopt;
    return v;
  };
  std::string how = str("how");
  std::optional<int64_t> status = num("status");
  if (how.empty() || !status) return absl::StrCat(kHead, "the record has no \"how\" or \"status\"; ignored");
  std::string line = absl::StrCat(kHead, "the BEAM ", how, " (status ", *status, ")");
  if (std::string when = str("time"); !when.empty()) absl::StrAppend(&line, " at ", when);
  if (std::optional<int64_t> up = num("uptime_ms"); up && *up >= 0) {
    absl::StrAppend(&line, " after ", *up / 1000, ".", *up % 1000 / 100, " s up");
  }
  if (std::string policy = str("policy"); !policy.empty()) absl::StrAppend(&line, "; policy ", policy);
  if (std::string stop = str("stop_request"); !stop.empty()) absl::StrAppend(&line, "; stop request: ", stop);
  if (std::string slogan = str("crash_slogan"); !slogan.empty()) absl::StrAppend(&line, "; slogan: ", slogan);
  if (std::string dump = str("crash_dump"); !dump.empty()) absl::StrAppend(&line, "; crash dump: ", dump);
  return line;
}

MountState MountAt(std::string_view mountinfo, std::string_view dir) {
  MountState state;
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t eol = mountinfo.find('\n', pos);
    if (eol == std::string_view::npos) eol = mountinfo.size();
    std::string_view line = mountinfo.substr(pos, eol - pos);
    pos = eol + 1;
    // id parent major:minor root MOUNT-POINT OPTIONS ...
    std::string_view fields[6];
    size_t n = 0;
    while (n < 6 && !line.empty()) {
      size_t sp = line.find(' ');
      fields[n++] = line.substr(0, sp);
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    if (n < 6 || fields[4] != dir) continue;
    state.mounted = true;
    std::string_view opts = fields[5];
    state.read_only = opts == "ro" || opts.starts_with("ro,");
  }
  return state;
}

}  // namespace microbeam
