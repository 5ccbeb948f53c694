#include "sys/kernel_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "crash/crash_path.h"

namespace microbeam {
namespace {

int g_kmsg = -1;

bool IsKmsg(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 11;
}

void Write(const char* level, std::string_view line) {
  if (g_kmsg >= 0) {
    // One write() is one record. The newline ends it: the kernel keeps a record without
    // one open for continuation (printk's LOG_CONT), and an open record is neither printed
    // nor read by dmesg until another message follows (which the last line before a long
    // quiet spell may never get: the lines that reached the console seconds late).
    struct iovec iov[3] = {{const_cast<char*>(level), 3},
                           {const_cast<char*>(line.data()), line.size()},
                           {const_cast<char*>("\n"), 1}};
    if (writev(g_kmsg, iov, 3) >= 0) return;
  }
  struct iovec iov[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  (void)!writev(STDERR_FILENO, iov, 2);
}

}  // namespace

void OpenKernelLog() {
  if (g_kmsg >= 0) return;
  // A restarted PID 1 runs as the app's user, which may not open /dev/kmsg: it keeps
  // its predecessor's fd.
  int inherited = -1;
  if (const char* v = std::getenv(kKernelLogFdEnv); v && absl::SimpleAtoi(v, &inherited) && inherited > 2 &&
                                                     IsKmsg(inherited)) {
    fcntl(inherited, F_SETFD, FD_CLOEXEC);
    g_kmsg = inherited;
    return;
  }
  g_kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NONBLOCK);
  // Best effort: "on" when the kernel command line fixed printk.devkmsg otherwise fails.
  int fd = open("/proc/sys/kernel/printk_devkmsg", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)!write(fd, "on\n", 3);
    close(fd);
  }
}

int KernelLogFd() { return g_kmsg; }

void LogLine(std::string_view line) { Write("<5>", line); }    // KERN_NOTICE
void LogAlways(std::string_view line) { Write("<0>", line); }  // KERN_EMERG

}  // namespace microbeam
