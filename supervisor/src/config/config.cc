#include "config/config.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "config/shown_value.h"
#include "guard/capabilities.h"
#include "storage/mount_spec.h"

namespace microbeam {
namespace {

constexpr std::string_view kPrefix = "microbeam.";

bool ParseExitPolicy(std::string_view value, ExitPolicy& out) {
  static const std::map<std::string_view, ExitPolicy> kPolicies = {
      {"poweroff", ExitPolicy::kPoweroff}, {"reboot", ExitPolicy::kReboot},
      {"restart", ExitPolicy::kRestart}, {"shell", ExitPolicy::kShell}};
  auto it = kPolicies.find(value);
  if (it == kPolicies.end()) return false;
  out = it->second;
  return true;
}

bool ParseBool(std::string_view value, bool& out) {
  if (value == "1" || value == "true" || value == "yes" || value == "on") return out = true, true;
  if (value == "0" || value == "false" || value == "no" || value == "off") return out = false, true;
  return false;
}

// RFC 1123 host name: 1-64 of [A-Za-z0-9-.], not starting with '-'.
bool ValidHostname(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '-') return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

// A tmpfs size (mount option size=): a number of bytes with an optional k/m/g suffix, or
// 1-100 followed by % of RAM. Not 0, which tmpfs takes as "no limit".
bool ValidTmpfsSize(std::string_view v) {
  if (v.empty()) return false;
  uint64_t n = 0;
  if (v.back() == '%') return absl::SimpleAtoi(v.substr(0, v.size() - 1), &n) && n >= 1 && n <= 100;
  if (std::string_view("kKmMgG").find(v.back()) != std::string_view::npos) v.remove_suffix(1);
  return absl::SimpleAtoi(v, &n) && n > 0;
}

// microbeam.env / microbeam.env_b64: NAME=VALUE, the value plain or base64. The
// warning names the key and the name, never the value (it may be a secret).
std::string AddEnv(std::string_view key, std::string_view entry, bool base64, Config& c) {
  size_t eq = entry.find('=');
  std::string_view name = entry.substr(0, eq);
  if (eq == std::string_view::npos) {
    return absl::StrCat("microbeam: ", key, "=", ShownValue(name), ": not NAME=VALUE; entry ignored");
  }
  if (!ValidEnvName(name)) {
    return absl::StrCat("microbeam: ", key, ": \"", ShownValue(name),
                        "\" is not a variable name (letters, digits, _; no digit first); entry ignored");
  }
  std::string value(entry.substr(eq + 1));
  if (base64) {
    std::string decoded;
    if (!absl::Base64Unescape(value, &decoded) && !absl::WebSafeBase64Unescape(value, &decoded)) {
      return absl::StrCat("microbeam: ", key, ": the value of ", name, " is not base64; entry ignored");
    }
    value = std::move(decoded);
  }
  if (value.find('\0') != std::string::npos) {
    return absl::StrCat("microbeam: ", key, ": the value of ", name, " holds a NUL byte; entry ignored");
  }
  c.env.emplace_back(std::string(name), std::move(value));
  return "";
}

// Applies one `key=value`; returns an empty string or a warning line.
using Setter = std::function<std::string(std::string_view value, Config& c)>;

// The value is shown printable and cut (config/shown_value.h); so is FALLBACK, which may be
// an earlier value of the key (microbeam.console=...). WHY is ours.
std::string Rejected(std::string_view key, std::string_view value, std::string_view why,
                     std::string_view fallback) {
  return absl::StrCat("microbeam: ", key, "=", ShownValue(value), ": ", why, "; using ",
                      ShownValue(fallback, 2 * kShownValueMax));
}

// A boolean key (0|1, true|false, yes|no, on|off): sets FIELD, or keeps it and says so.
Setter BoolSetter(std::string_view key, bool Config::*field) {
  return [key, field](std::string_view v, Config& c) -> std::string {
    if (ParseBool(v, c.*field)) return "";
    return Rejected(key, v, "not a boolean (0|1)", c.*field ? "1" : "0");
  };
}

const std::map<std::string_view, Setter>& Setters() {
  static const auto* setters = new std::map<std::string_view, Setter>{
      {"microbeam.exit",
       [](std::string_view v, Config& c) -> std::string {
         if (ParseExitPolicy(v, c.exit_policy)) return "";
         return Rejected("microbeam.exit", v, "unknown policy (poweroff|reboot|restart|shell)",
                         ExitPolicyName(c.exit_policy));
       }},
      {"microbeam.shutdown_timeout",
       [](std::string_view v, Config& c) -> std::string {
         int seconds = 0;
         if (absl::SimpleAtoi(v, &seconds) && seconds >= 0 && seconds <= 3600) {
           c.shutdown_timeout = absl::Seconds(seconds);
           return "";
         }
         return Rejected("microbeam.shutdown_timeout", v, "not a number of seconds in 0..3600",
                         absl::StrCat(absl::ToInt64Seconds(c.shutdown_timeout)));
       }},
      {"microbeam.hostname",
       [](std::string_view v, Config& c) -> std::string {
         if (ValidHostname(v)) return c.hostname = std::string(v), "";
         return Rejected("microbeam.hostname", v, "not a valid host name", c.hostname);
       }},
      {"microbeam.caps",
       [](std::string_view v, Config& c) -> std::string {
         std::vector<std::string> caps;
         for (std::string_view name : absl::StrSplit(v, ',', absl::SkipEmpty())) {
           std::string lower = absl::AsciiStrToLower(name);
           if (!lower.starts_with("cap_")) lower = absl::StrCat("cap_", lower);
           if (!CapabilityFromName(lower).has_value()) {
             return Rejected("microbeam.caps", v, absl::StrCat("unknown capability ", ShownValue(name)),
                             absl::StrJoin(c.keep_caps, ","));
           }
           if (std::find(caps.begin(), caps.end(), lower) == caps.end()) caps.push_back(lower);
         }
         c.keep_caps = caps;
         if (std::find(caps.begin(), caps.end(), "cap_sys_boot") == caps.end()) {
           // Without it no exit path could power off or reboot: the VM would hang.
           c.keep_caps.push_back("cap_sys_boot");
           return Rejected("microbeam.caps", v, "PID 1 needs cap_sys_boot to power off", absl::StrJoin(c.keep_caps, ","));
         }
         return "";
       }},
      {"microbeam.user",
       [](std::string_view v, Config& c) -> std::string {
         if (std::optional<AppUser> u = ParseAppUser(v)) return c.user = *u, "";
         return Rejected("microbeam.user", v, "not UID:GID (numbers) or root",
                         absl::StrCat(c.user.uid, ":", c.user.gid));
       }},
      {"microbeam.erl_flags",
       [](std::string_view v, Config& c) -> std::string {
         for (std::string& f : SplitFlags(v)) c.erl_flags.push_back(std::move(f));
         return "";
       }},
      {"microbeam.console",
       [](std::string_view v, Config& c) -> std::string {
         std::string path = v.starts_with("/") ? std::string(v) : absl::StrCat("/dev/", v);
         if (v.empty() || v.find("..") != std::string_view::npos) {
           return Rejected("microbeam.console", v, "not a device name", c.console);
         }
         c.console = path;
         return "";
       }},
      {"microbeam.release",
       [](std::string_view v, Config& c) -> std::string {
         if (v.starts_with("/") && v.find("..") == std::string_view::npos) {
           return c.release_root = std::string(v), "";
         }
         return Rejected("microbeam.release", v, "not an absolute path", c.release_root);
       }},
      {"microbeam.debug_exit", BoolSetter("microbeam.debug_exit", &Config::debug_exit)},
      {"microbeam.eval",
       [](std::string_view v, Config& c) -> std::string {
         // Base64 (RFC 4648, either alphabet), so that an expression's quotes, blanks and
         // commas survive the kernel command line, which has no escapes.
         std::string expr;
         if (!v.empty() && (absl::Base64Unescape(v, &expr) || absl::WebSafeBase64Unescape(v, &expr)) &&
             !expr.empty()) {
           return c.eval_expr = std::move(expr), "";
         }
         return Rejected("microbeam.eval", v, "not a base64-encoded Erlang expression", "none");
       }},
      {"microbeam.memory_guard", BoolSetter("microbeam.memory_guard", &Config::guard_memory)},
      {"microbeam.poweroff",
       [](std::string_view v, Config& c) -> std::string {
         if (v == "acpi" || v == "reboot") return c.poweroff_by_reboot = (v == "reboot"), "";
         return Rejected("microbeam.poweroff", v, "not acpi|reboot", c.poweroff_by_reboot ? "reboot" : "acpi");
       }},
      {"microbeam.dhcp", BoolSetter("microbeam.dhcp", &Config::dhcp)},
      {"microbeam.tmp_size",
       [](std::string_view v, Config& c) -> std::string {
         if (ValidTmpfsSize(v)) return c.tmp_size = std::string(v), "";
         return Rejected("microbeam.tmp_size", v, "not a size (bytes with k/m/g, or 1-100%)", c.tmp_size);
       }},
      {"microbeam.env",
       [](std::string_view v, Config& c) { return AddEnv("microbeam.env", v, false, c); }},
      {"microbeam.env_b64",
       [](std::string_view v, Config& c) { return AddEnv("microbeam.env_b64", v, true, c); }},
      {"microbeam.data",
       [](std::string_view v, Config& c) -> std::string {
         if (DataMount(v).ok()) return c.data_device = std::string(v), "";
         return Rejected("microbeam.data", v, "not a device path under /dev", "no data volume");
       }},
      {"microbeam.data_required", BoolSetter("microbeam.data_required", &Config::data_required)},
      {"microbeam.mount",
       [](std::string_view v, Config& c) -> std::string {
         absl::StatusOr<MountSpec> m = ParseMountSpec(v);
         if (m.ok()) return c.mounts.push_back(*std::move(m)), "";
         // The message quotes parts of the value (mount_spec.cc): shown the same way.
         return Rejected("microbeam.mount", v, ShownValue(m.status().message(), 2 * kShownValueMax),
                         "no such mount");
       }},
      {"microbeam.restart_limit",
       [](std::string_view v, Config& c) -> std::string {
         int n = 0;
         if (absl::SimpleAtoi(v, &n) && n >= 0 && n <= 1000) return c.restart_limit = n, "";
         return Rejected("microbeam.restart_limit", v, "not a count in 0..1000",
                         absl::StrCat(c.restart_limit));
       }},
      {"microbeam.restart_window",
       [](std::string_view v, Config& c) -> std::string {
         int seconds = 0;
         if (absl::SimpleAtoi(v, &seconds) && seconds > 0 && seconds <= 86400) {
           c.restart_window = absl::Seconds(seconds);
           return "";
         }
         return Rejected("microbeam.restart_window", v, "not a number of seconds in 1..86400",
                         absl::StrCat(absl::ToInt64Seconds(c.restart_window)));
       }},
      // The rest of erlinit's duties (config/process_keys.h).
      {"microbeam.limits",
       [](std::string_view v, Config& c) -> std::string {
         std::vector<std::string> errors;
         ParseLimits(v, c.limits, errors);
         return errors.empty() ? "" : LimitsWarning(errors);
       }},
      {"microbeam.core_pattern",
       [](std::string_view v, Config& c) -> std::string {
         if (std::string why = CorePatternError(v); !why.empty()) {
           return Rejected("microbeam.core_pattern", v, why, "the kernel's");
         }
         return c.core_pattern = std::string(v), "";
       }},
      {"microbeam.cwd",
       [](std::string_view v, Config& c) -> std::string {
         if (std::string why = CwdError(v); !why.empty()) return Rejected("microbeam.cwd", v, why, "/");
         return c.cwd = std::string(v), "";
       }},
      {"microbeam.seed_credit", BoolSetter("microbeam.seed_credit", &Config::seed_credit)},
  };
  return *setters;
}

// Splits on blanks; a quote character groups up to its match, and is removed.
std::vector<std::string> SplitQuoted(std::string_view s, std::string_view quotes) {
  std::vector<std::string> out;
  std::string cur;
  bool in_token = false;
  char quote = 0;
  for (char ch : s) {
    if (quote != 0) {
      if (ch == quote) {
        quote = 0;
      } else {
        cur.push_back(ch);
      }
    } else if (quotes.find(ch) != std::string_view::npos) {
      quote = ch;
      in_token = true;
    } else if (absl::ascii_isspace(static_cast<unsigned char>(ch))) {
      if (in_token) out.push_back(std::move(cur));
      cur.clear();
      in_token = false;
    } else {
      cur.push_back(ch);
      in_token = true;
    }
  }
  if (in_token) out.push_back(std::move(cur));
  return out;
}

}  // namespace

std::string_view ExitPolicyName(ExitPolicy policy) {
  switch (policy) {
    case ExitPolicy::kPoweroff: return "poweroff";
    case ExitPolicy::kReboot: return "reboot";
    case ExitPolicy::kRestart: return "restart";
    case ExitPolicy::kShell: return "shell";
  }
  return "poweroff";
}

bool ValidEnvName(std::string_view name) {
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char ch : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '_') return false;
  }
  return true;
}

std::vector<std::string> SplitKernelCmdline(std::string_view cmdline) {
  return SplitQuoted(cmdline, "\"");
}

std::vector<std::string> SplitFlags(std::string_view flags) { return SplitQuoted(flags, "\"'"); }

ParsedConfig ParseConfig(const std::vector<std::string>& kernel_params,
                         const std::vector<std::string>& init_args) {
  ParsedConfig result;
  auto apply = [&](std::string_view param) {
    if (param == "--emergency-shell" || param == "microbeam.emergency_shell" ||
        param == "microbeam.emergency_shell=1") {
      result.config.emergency_shell = true;
      return;
    }
    if (!param.starts_with(kPrefix)) return;  // the kernel's, not ours
    size_t eq = param.find('=');
    std::string_view key = param.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    auto it = Setters().find(key);
    if (it == Setters().end()) {
      result.warnings.push_back(absl::StrCat("microbeam: unknown key ", ShownValue(key), " (value \"", ShownValue(value),
                                             "\") ignored; see the README for the keys"));
      return;
    }
    if (eq == std::string_view::npos) {
      result.warnings.push_back(absl::StrCat("microbeam: ", key, " has no value; ignored"));
      return;
    }
    if (std::string warning = it->second(value, result.config); !warning.empty()) {
      result.warnings.push_back(std::move(warning));
    }
  };
  // Everything after a bare "--" on the kernel command line is init's argv: read it there.
  for (const std::string& p : kernel_params) {
    if (p == "--") break;
    // The kernel's IP autoconfiguration (CONFIG_IP_PNP) reads these, ip=off included.
    if (p.starts_with("ip=") || p.starts_with("nfsaddrs=")) result.config.kernel_ip = true;
    apply(p);
  }
  for (const std::string& a : init_args) apply(a);
  return result;
}

}  // namespace microbeam
