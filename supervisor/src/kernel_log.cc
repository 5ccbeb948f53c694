#include "kernel_log.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

namespace microbeam {
namespace {

int g_kmsg = -1;

}  // namespace

void OpenKernelLog() {
  if (g_kmsg < 0) g_kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NONBLOCK);
}

void LogLine(std::string_view line) {
  if (g_kmsg >= 0) {
    // "<5>": notice. One write() is one record. The newline ends it: the kernel keeps a
    // record without one open for continuation (printk's LOG_CONT), and an open record is
    // neither printed nor read by dmesg until another message follows (which the last
    // line before a long quiet spell may never get).
    struct iovec iov[3] = {{const_cast<char*>("<5>"), 3},
                           {const_cast<char*>(line.data()), line.size()},
                           {const_cast<char*>("\n"), 1}};
    if (writev(g_kmsg, iov, 3) >= 0) return;
  }
  struct iovec iov[2] = {{const_cast<char*>(line.data()), line.size()}, {const_cast<char*>("\n"), 1}};
  (void)!writev(STDERR_FILENO, iov, 2);
}

}  // namespace microbeam
