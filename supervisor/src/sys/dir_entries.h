// The names in an open directory, read with getdents64 into the caller's buffer: no
// allocation and no lock (opendir/readdir allocate), so the crash path and the end of
// PID 1 may use it.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <span>

namespace microbeam::sys {

// Calls fn(name) for every entry of DIR ("." and ".." included), in the kernel's order.
template <typename Fn>
void ForEachDirEntry(int dir, std::span<char> buf, Fn&& fn) {
  // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[]
  constexpr size_t kReclen = 16, kName = 19;
  long n;
  while ((n = syscall(SYS_getdents64, dir, buf.data(), buf.size())) > 0) {
    for (long off = 0; off < n;) {
      unsigned short reclen;
      std::memcpy(&reclen, buf.data() + off + kReclen, sizeof reclen);  // no alignment assumed
      const char* name = buf.data() + off + kName;
      off += reclen;
      fn(name);
    }
  }
}

}  // namespace microbeam::sys
