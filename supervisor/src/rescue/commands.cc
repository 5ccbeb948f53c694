#include "rescue/commands.h"

#include <dirent.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "lifecycle/processes.h"
#include "sys/read_file.h"

extern char** environ;

namespace microbeam::rescue {
namespace {

using Args = std::vector<std::string>;

std::string Error(std::string_view cmd, std::string_view what) {
  return absl::StrCat(cmd, ": ", what, ": ", std::strerror(errno), "\n");
}

// The shell buffers a command's output inside PID 1: a file is shown up to this much
// (cat /dev/zero would otherwise grow PID 1 until memory ran out).
constexpr size_t kMaxFileOutput = 1 << 20;

// Whole-file output of a command (its first kMaxFileOutput bytes), or "CMD: PATH: cannot
// open: why".
Outcome FileOutput(std::string_view cmd, const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path, kMaxFileOutput + 1);
  if (!content.ok()) return {absl::StrCat(cmd, ": ", content.status().message(), "\n")};
  if (content->size() > kMaxFileOutput) {
    content->resize(kMaxFileOutput);
    absl::StrAppend(&*content, "\n", cmd, ": ", path, ": cut at ", kMaxFileOutput >> 20, " MiB\n");
  }
  return {*std::move(content)};
}

char TypeChar(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISLNK(mode)) return 'l';
  if (S_ISCHR(mode)) return 'c';
  if (S_ISBLK(mode)) return 'b';
  if (S_ISFIFO(mode)) return 'p';
  if (S_ISSOCK(mode)) return 's';
  return '-';
}

Outcome Ls(const Args& a) {
  Outcome o;
  Args paths(a.begin() + 1, a.end());
  if (paths.empty()) paths.push_back(".");
  for (const std::string& path : paths) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
      o.output += Error("ls", path);
      continue;
    }
    std::vector<std::string> names;
    if (S_ISDIR(st.st_mode)) {
      DIR* dir = opendir(path.c_str());
      if (dir == nullptr) {
        o.output += Error("ls", path);
        continue;
      }
      while (struct dirent* e = readdir(dir)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
      }
      closedir(dir);
      std::sort(names.begin(), names.end());
      if (paths.size() > 1) absl::StrAppend(&o.output, path, ":\n");
    } else {
      names.push_back("");
    }
    for (const std::string& name : names) {
      std::string full = name.empty() ? path : absl::StrCat(path, path.ends_with("/") ? "" : "/", name);
      if (lstat(full.c_str(), &st) != 0) continue;
      std::string target;
      if (S_ISLNK(st.st_mode)) {
        char buf[4096];
        ssize_t n = readlink(full.c_str(), buf, sizeof buf);
        if (n > 0) target = absl::StrCat(" -> ", std::string_view(buf, static_cast<size_t>(n)));
      }
      absl::StrAppendFormat(&o.output, "%c%04o %10lld %s%s\n", TypeChar(st.st_mode), st.st_mode & 07777,
                            static_cast<long long>(st.st_size), name.empty() ? path : name, target);
    }
  }
  return o;
}

Outcome Cat(const Args& a) {
  Outcome o;
  if (a.size() < 2) return {"usage: cat FILE...\n"};
  for (size_t i = 1; i < a.size(); ++i) {
    o.output += FileOutput("cat", a[i]).output;
  }
  return o;
}

Outcome Echo(const Args& a) { return {absl::StrCat(absl::StrJoin(a.begin() + 1, a.end(), " "), "\n")}; }

Outcome Mount(const Args& a) {
  if (a.size() == 1) {
    return FileOutput("mount", "/proc/mounts");
  }
  std::string type, options;
  Args rest;
  for (size_t i = 1; i < a.size(); ++i) {
    if (a[i] == "-t" && i + 1 < a.size()) {
      type = a[++i];
    } else if (a[i] == "-o" && i + 1 < a.size()) {
      options = a[++i];
    } else {
      rest.push_back(a[i]);
    }
  }
  if (rest.size() != 2 || type.empty()) return {"usage: mount [-t TYPE SOURCE DIR [-o OPTIONS]]\n"};
  if (mount(rest[0].c_str(), rest[1].c_str(), type.c_str(), 0, options.empty() ? nullptr : options.c_str()) != 0) {
    return {Error("mount", rest[1])};
  }
  return {};
}

Outcome Umount(const Args& a) {
  if (a.size() != 2) return {"usage: umount DIR\n"};
  if (umount(a[1].c_str()) != 0) return {Error("umount", a[1])};
  return {};
}

Outcome Dmesg(const Args&) {
  int size = klogctl(10, nullptr, 0);  // SYSLOG_ACTION_SIZE_BUFFER
  if (size <= 0) return {Error("dmesg", "klogctl")};
  std::string buf(static_cast<size_t>(size), '\0');
  int n = klogctl(3, buf.data(), size);  // SYSLOG_ACTION_READ_ALL
  if (n < 0) return {Error("dmesg", "klogctl")};
  buf.resize(static_cast<size_t>(n));
  return {buf};
}

Outcome Ps(const Args&) {
  Outcome o{"  PID STATE COMMAND\n"};
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return {Error("ps", "/proc")};
  std::vector<int> pids;
  while (struct dirent* e = readdir(proc)) {
    int pid;
    if (absl::SimpleAtoi(e->d_name, &pid)) pids.push_back(pid);
  }
  closedir(proc);
  std::sort(pids.begin(), pids.end());
  for (int pid : pids) {
    absl::StatusOr<std::string> stat_file = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
    if (!stat_file.ok()) continue;  // the process has just gone
    ProcStat stat;
    if (!ParseProcStat(*stat_file, stat)) continue;
    std::string comm = stat.comm;
    char state = stat.state;
    std::string cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline")).value_or("");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    absl::StrAppendFormat(&o.output, "%5d %c     %s\n", pid, state,
                          cmdline.empty() ? absl::StrCat("[", comm, "]") : std::string(absl::StripTrailingAsciiWhitespace(cmdline)));
  }
  return o;
}

Outcome Kill(const Args& a) {
  int sig = SIGTERM;
  size_t i = 1;
  if (i < a.size() && a[i].starts_with("-")) {
    if (!absl::SimpleAtoi(a[i].substr(1), &sig) || sig <= 0 || sig >= NSIG) return {"kill: bad signal number\n"};
    ++i;
  }
  if (i >= a.size()) return {"usage: kill [-SIGNUM] PID...\n"};
  Outcome o;
  for (; i < a.size(); ++i) {
    int pid;
    if (!absl::SimpleAtoi(a[i], &pid) || pid <= 1) {
      o.output += absl::StrCat("kill: ", a[i], ": not a PID other than 1\n");
    } else if (kill(pid, sig) != 0) {
      o.output += Error("kill", a[i]);
    }
  }
  return o;
}

Outcome Free(const Args&) {
  struct sysinfo si;
  if (sysinfo(&si) != 0) return {Error("free", "sysinfo")};
  auto kib = [&](unsigned long v) { return static_cast<unsigned long long>(v) * si.mem_unit / 1024; };
  return {absl::StrFormat("%-6s %10s %10s %10s\n%-6s %10llu %10llu %10llu\n", "KiB", "total", "used", "free",
                          "Mem:", kib(si.totalram), kib(si.totalram - si.freeram), kib(si.freeram))};
}

Outcome Cmdline(const Args&) {
  return FileOutput("cmdline", "/proc/cmdline");
}

Outcome Env(const Args&) {
  Outcome o;
  for (char** e = environ; e && *e; ++e) absl::StrAppend(&o.output, *e, "\n");
  return o;
}

Outcome Help(const Args&);

const std::map<std::string, std::pair<std::function<Outcome(const Args&)>, const char*>>& Commands() {
  static const auto* commands = new std::map<std::string, std::pair<std::function<Outcome(const Args&)>, const char*>>{
      {"help", {Help, "this list"}},
      {"ls", {Ls, "ls [PATH...]      list files"}},
      {"cat", {Cat, "cat FILE...       print files"}},
      {"echo", {Echo, "echo WORDS...     print words"}},
      {"mount", {Mount, "mount [-t TYPE SOURCE DIR [-o OPTS]]"}},
      {"umount", {Umount, "umount DIR"}},
      {"dmesg", {Dmesg, "the kernel log"}},
      {"ps", {Ps, "processes"}},
      {"kill", {Kill, "kill [-SIGNUM] PID..."}},
      {"free", {Free, "memory"}},
      {"cmdline", {Cmdline, "the kernel command line"}},
      {"env", {Env, "PID 1's environment"}},
      {"boot", {[](const Args&) { return Outcome{"", Action::kBoot}; }, "leave the shell and start the BEAM (also Ctrl-D)"}},
      {"reboot", {[](const Args&) { return Outcome{"", Action::kReboot}; }, "reboot the VM"}},
      {"poweroff", {[](const Args&) { return Outcome{"", Action::kPoweroff}; }, "power the VM off"}},
  };
  return *commands;
}

Outcome Help(const Args&) {
  Outcome o{"commands:\n"};
  for (const auto& [name, entry] : Commands()) absl::StrAppendFormat(&o.output, "  %-9s %s\n", name, entry.second);
  return o;
}

}  // namespace

Outcome RunCommand(const std::vector<std::string>& words) {
  if (words.empty()) return {};
  auto it = Commands().find(words[0]);
  if (it == Commands().end()) return {absl::StrCat(words[0], ": unknown command (try help)\n")};
  return it->second.first(words);
}

}  // namespace microbeam::rescue
