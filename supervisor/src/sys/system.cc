#include "sys/system.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "sys/dir_entries.h"

namespace microbeam::sys {
namespace {

constexpr unsigned short kDebugExitPort = 0xf4;  // QEMU's isa-debug-exit default iobase

absl::Status Errno(std::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

}  // namespace

// A directory on another device than its parent is a mount point already (e.g. after
// PID 1 restarted by re-exec, when the mounts of the first start are still there).
bool IsMountPoint(const std::string& path) {
  struct stat self, parent;
  if (stat(path.c_str(), &self) != 0 || stat((path + "/..").c_str(), &parent) != 0) return false;
  return self.st_dev != parent.st_dev;
}

absl::Status Mount(const MountSpec& m) {
  if (mkdir(m.target.c_str(), 0755) != 0 && errno != EEXIST) {
    return Errno(absl::StrCat("mkdir ", m.target));
  }
  if (IsMountPoint(m.target)) return absl::OkStatus();
  if (mount(m.source.c_str(), m.target.c_str(), m.fstype.c_str(), m.flags,
            m.data.empty() ? nullptr : m.data.c_str()) != 0) {
    if (errno == EBUSY) return absl::OkStatus();  // already mounted (e.g. devtmpfs by the kernel)
    return Errno(absl::StrCat("mount ", m.fstype, " on ", m.target));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out.flush()) return absl::InternalError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

absl::Status SetHostname(const std::string& name) {
  char current[65] = {};
  if (gethostname(current, sizeof current - 1) == 0 && name == current) return absl::OkStatus();
  if (sethostname(name.data(), name.size()) != 0) return Errno("sethostname");
  return absl::OkStatus();
}

absl::Status SetDataLimit(uint64_t bytes) {
  struct rlimit rl = {};
  if (getrlimit(RLIMIT_DATA, &rl) != 0) return Errno("getrlimit(RLIMIT_DATA)");
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? bytes : std::min<rlim_t>(bytes, rl.rlim_max);
  if (setrlimit(RLIMIT_DATA, &rl) != 0) return Errno("setrlimit(RLIMIT_DATA)");
  return absl::OkStatus();
}

absl::Status BringUpLoopback() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  absl::Status status = absl::OkStatus();
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    status = Errno("SIOCGIFFLAGS lo");
  } else if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) status = Errno("SIOCSIFFLAGS lo");
  }
  close(fd);
  return status;
}

absl::Status AttachConsole(const std::string& path) {
  int fd = open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("open ", path));
  setsid();  // fails harmlessly if we already lead a session
  ioctl(fd, TIOCSCTTY, 1);  // best effort: a console without a tty (hvc, null) still writes
  for (int target = 0; target <= 2; ++target) {
    if (dup2(fd, target) < 0) {
      absl::Status s = Errno(absl::StrCat("dup2 ", path));
      close(fd);
      return s;
    }
  }
  if (fd > 2) close(fd);
  // No signals from bytes: as the controlling tty with ISIG, a 0x03 on the serial line
  // was SIGINT to PID 1 (a stop request: power off) and 0x1c SIGQUIT (ERTS halts at
  // once). The rescue shell reads raw bytes and keeps ISIG off too.
  struct termios t;
  if (tcgetattr(STDIN_FILENO, &t) == 0) {
    t.c_lflag &= static_cast<tcflag_t>(~ISIG);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
  return absl::OkStatus();
}

absl::Status EnableDebugExitPort() {
  if (ioperm(kDebugExitPort, 1, 1) != 0) return Errno("ioperm isa-debug-exit port");
  return absl::OkStatus();
}

void WriteDebugExitPort(int status) { outb(static_cast<unsigned char>(status), kDebugExitPort); }

namespace {

// capget/capset for the calling thread (pid 0), version 3: two 32-bit words a set.
bool GetCapSets(uint64_t& permitted, uint64_t& effective, uint64_t& inheritable) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  permitted = data[0].permitted | uint64_t{data[1].permitted} << 32;
  effective = data[0].effective | uint64_t{data[1].effective} << 32;
  inheritable = data[0].inheritable | uint64_t{data[1].inheritable} << 32;
  return true;
}

bool SetCapSets(uint64_t permitted, uint64_t effective, uint64_t inheritable) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {
      {static_cast<uint32_t>(effective), static_cast<uint32_t>(permitted), static_cast<uint32_t>(inheritable)},
      {static_cast<uint32_t>(effective >> 32), static_cast<uint32_t>(permitted >> 32),
       static_cast<uint32_t>(inheritable >> 32)}};
  return syscall(SYS_capset, &header, data) == 0;
}

}  // namespace

ThreadCredentials CurrentThreadCredentials() {
  ThreadCredentials c;
  c.uid = static_cast<uid_t>(syscall(SYS_getuid));
  c.gid = static_cast<gid_t>(syscall(SYS_getgid));
  GetCapSets(c.permitted, c.effective, c.inheritable);
  for (int cap = 0; cap < 64; ++cap) {
    int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in < 0) break;  // past the kernel's last capability
    if (in == 1) c.bounding |= uint64_t{1} << cap;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) c.ambient |= uint64_t{1} << cap;
  }
  return c;
}

absl::Status ApplyThreadCredentials(const ThreadCredentials& c) {
  for (int cap = 0; cap < 64; ++cap) {
    int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in < 0) break;
    if (in == 1 && !(c.bounding >> cap & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return Errno(absl::StrCat("dropping capability ", cap, " from the bounding set"));
    }
  }
  // Keep the permitted set through the uid change; capset below trims it.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Errno("prctl(PR_SET_KEEPCAPS)");
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  syscall(SYS_getresuid, &ruid, &euid, &suid);
  syscall(SYS_getresgid, &rgid, &egid, &sgid);
  if (ruid != c.uid || euid != c.uid || suid != c.uid || rgid != c.gid || egid != c.gid || sgid != c.gid) {
    if (syscall(SYS_setgroups, 0, nullptr) != 0) return Errno("setgroups(0)");
    if (syscall(SYS_setresgid, c.gid, c.gid, c.gid) != 0) return Errno(absl::StrCat("setresgid ", c.gid));
    if (syscall(SYS_setresuid, c.uid, c.uid, c.uid) != 0) return Errno(absl::StrCat("setresuid ", c.uid));
  }
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (!SetCapSets(c.permitted, c.effective, c.inheritable)) return Errno("capset");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return Errno("clearing the ambient set");
  for (int cap = 0; cap < 64; ++cap) {
    if ((c.ambient >> cap & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) {
      return Errno(absl::StrCat("raising ambient capability ", cap));
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return Errno("prctl(PR_SET_NO_NEW_PRIVS)");
  return absl::OkStatus();
}

absl::Status DropAllCapabilities() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Errno("clearing the ambient set");
  }
  if (!SetCapSets(0, 0, 0)) return Errno("capset");
  return absl::OkStatus();
}

void ForEachProcess(absl::FunctionRef<void(const ProcStat&)> fn) {
  int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  char entries[4096];
  ForEachDirEntry(dir, entries, [&fn](const char* name) {
    if (name[0] < '1' || name[0] > '9') return;
    char path[32] = "/proc/";
    std::strncat(path, name, sizeof path - 12);
    std::strcat(path, "/stat");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char line[1024];
    ssize_t len = read(fd, line, sizeof line);
    close(fd);
    ProcStat p;
    if (len > 0 && ParseProcStat(std::string_view(line, static_cast<size_t>(len)), p)) fn(p);
  });
  close(dir);
}

}  // namespace microbeam::sys
