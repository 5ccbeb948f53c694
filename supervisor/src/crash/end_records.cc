#include "crash/end_records.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>

#include "crash/fixed_line.h"
#include "lifecycle/crash_dump.h"
#include "records/dump_copies.h"
#include "records/exit_record.h"
#include "records/random_seed.h"
#include "sys/dir_entries.h"
#include "sys/kernel_log.h"

namespace microbeam {
namespace {

constexpr char kRecordsDir[] = "/data/microbeam";
constexpr char kDumpCopiesDir[] = "/data/microbeam/crash";

EndRecordsSetup g_setup;  // set before erl_start, read once at the end
uint8_t g_seed[kMaxSeedBytes];
char g_boot_id[40];
std::atomic<bool> g_saved{false};

// The first stop request's name, copied once.
std::atomic<int> g_stop_state{0};  // 0 none, 1 being written, 2 ready
char g_stop_what[64];

uint64_t ClockNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// DATA to NAME in DIR: NAME.new, fsync, rename over NAME, fsync DIR. Returns errno, 0.
int WriteAtomically(int dir, const char* name, const char* tmp, const char* data, size_t size, mode_t mode) {
  unlinkat(dir, tmp, 0);
  int fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return errno;
  for (size_t done = 0; done < size;) {
    ssize_t n = write(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      unlinkat(dir, tmp, 0);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  int e = fsync(fd) == 0 ? 0 : errno;
  close(fd);
  if (e == 0 && renameat(dir, tmp, dir, name) != 0) e = errno;
  if (e != 0) {
    unlinkat(dir, tmp, 0);
    return e;
  }
  fsync(dir);
  return 0;
}

// The copies in crash/, oldest first (at most kMaxEntries of them are seen).
constexpr size_t kMaxEntries = 64;
DumpEntry g_entries[kMaxEntries];

size_t ListDumpCopies() {
  int dir = openat(g_setup.crash_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  size_t count = 0;
  static char entries[4096];
  sys::ForEachDirEntry(dir, entries, [&count](const char* name) {
    std::optional<uint32_t> seq = DumpSequence(name);
    struct stat st;
    if (!seq || count == kMaxEntries || fstatat(g_setup.crash_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    g_entries[count++] = {*seq, static_cast<uint64_t>(st.st_size)};
  });
  close(dir);
  SortDumps(g_entries, count);
  return count;
}

// Copies the crash dump the BEAM left (if any) after the newest copy, the oldest ones
// deleted first (dump_copies.h); fills the record's crash fields.
void CopyCrashDump(ExitRecord& r) {
  static char head[4096];
  static char buf[65536];
  static FixedLine<96> copy_path;
  int in = open(kCrashDumpPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in < 0) return;
  struct stat st;
  if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) return (void)close(in);
  ssize_t h = pread(in, head, sizeof head, 0);
  r.crash_slogan = SloganOf(std::string_view(head, h > 0 ? static_cast<size_t>(h) : 0));
  r.crash_dump_bytes = static_cast<uint64_t>(st.st_size);
  size_t count = ListDumpCopies();
  DumpPlan plan = PlanDumpCopy(g_entries, count, r.crash_dump_bytes, DumpLimits{});
  char name[32];
  for (size_t i = 0; i < plan.delete_oldest; ++i) {
    DumpName(g_entries[i].seq, name);
    unlinkat(g_setup.crash_dir, name, 0);
  }
  DumpName(plan.seq, name);
  const char* tmp = ".erl_crash.tmp";
  unlinkat(g_setup.crash_dir, tmp, 0);
  int out = openat(g_setup.crash_dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  uint64_t copied = 0;
  bool ok = out >= 0;
  while (ok && copied < plan.copy_bytes) {
    size_t want = plan.copy_bytes - copied < sizeof buf ? plan.copy_bytes - copied : sizeof buf;
    ssize_t n = pread(in, buf, want, static_cast<off_t>(copied));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t w = 0; ok && w < n;) {
      ssize_t k = write(out, buf + w, static_cast<size_t>(n - w));
      if (k < 0 && errno == EINTR) continue;
      ok = k > 0;
      w += k > 0 ? k : 0;
    }
    if (ok) copied += static_cast<uint64_t>(n);
  }
  close(in);
  ok = ok && fsync(out) == 0;
  if (out >= 0) close(out);
  if (!ok || renameat(g_setup.crash_dir, tmp, g_setup.crash_dir, name) != 0) {
    unlinkat(g_setup.crash_dir, tmp, 0);
    LogAlways("microbeam: records: the crash dump could not be copied to /data/microbeam/crash");
    return;
  }
  fsync(g_setup.crash_dir);
  copy_path.Clear();
  copy_path << kDumpCopiesDir << "/" << name;
  r.crash_dump = copy_path.view();
  r.crash_dump_copied = copied;
}

// Random bytes; true if the kernel's pool was ready (the seed may be credited).
bool DrawRandom(uint8_t* buf, size_t len) {
  if (getrandom(buf, len, GRND_NONBLOCK) == static_cast<ssize_t>(len)) return true;
  if (getrandom(buf, len, 0x0004 /* GRND_INSECURE, Linux 5.6 */) != static_cast<ssize_t>(len)) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (read(fd, buf, len) < 0) {
        // Whatever the buffer holds is mixed with the old seed and the clocks, never credited.
      }
      close(fd);
    }
  }
  return false;
}

// A fresh seed into the file opened at boot: the seed first (the file still says N),
// then the mark C if the pool was ready, each step fdatasync'd: a cut between leaves N.
const char* SaveSeed() {
  int fd = g_setup.seed_fd;
  if (fd < 0) return "";
  size_t len = g_setup.seed_len;
  static uint8_t fresh[kMaxSeedBytes];
  bool creditable = DrawRandom(fresh, len);
  MixSeed(fresh, len, g_seed, len, ClockNs(CLOCK_REALTIME), ClockNs(CLOCK_BOOTTIME));
  bool ok = pwrite(fd, fresh, len, kSeedHeaderBytes) == static_cast<ssize_t>(len) && fdatasync(fd) == 0;
  if (ok && creditable) ok = pwrite(fd, "C", 1, kSeedCreditOffset) == 1 && fdatasync(fd) == 0;
  if (!ok) return "; the random seed could not be saved";
  return creditable ? "; a fresh random seed saved" : "; a fresh random seed saved, not creditable (the pool was not ready)";
}

}  // namespace

void PrepareEndRecords(const EndRecordsSetup& setup) {
  g_setup = setup;
  g_setup.seed_len = setup.seed_len <= kMaxSeedBytes ? setup.seed_len : kMaxSeedBytes;
  if (setup.seed != nullptr) std::memcpy(g_seed, setup.seed, g_setup.seed_len);
  g_setup.seed = g_seed;
  size_t n = setup.boot_id.size() < sizeof g_boot_id - 1 ? setup.boot_id.size() : sizeof g_boot_id - 1;
  std::memcpy(g_boot_id, setup.boot_id.data(), n);
  g_boot_id[n] = '\0';
  g_setup.boot_id = std::string_view(g_boot_id, n);
}

void NoteStopRequest(std::string_view what) {
  int expected = 0;
  if (!g_stop_state.compare_exchange_strong(expected, 1)) return;
  size_t n = what.size() < sizeof g_stop_what - 1 ? what.size() : sizeof g_stop_what - 1;
  std::memcpy(g_stop_what, what.data(), n);
  g_stop_what[n] = '\0';
  g_stop_state.store(2);
}

void SaveRecords(const char* how, int status, std::string_view policy) {
  // microbeam.cwd may be on /data: PID 1's working directory must not keep it busy either.
  if (chdir("/") != 0) {
  }
  if (g_setup.records_dir < 0 || g_saved.exchange(true)) return;
  ExitRecord r;
  r.how = how;
  r.status = status;
  if (g_stop_state.load() == 2) r.stop_request = g_stop_what;
  r.policy = policy;
  r.time_unix = static_cast<int64_t>(ClockNs(CLOCK_REALTIME) / 1'000'000'000u);
  r.uptime_ms = static_cast<int64_t>(ClockNs(CLOCK_BOOTTIME) / 1'000'000u);
  r.boot_id = g_setup.boot_id;
  if (g_setup.crash_dir >= 0) CopyCrashDump(r);
  static char json[8192];
  size_t size = FormatExitRecord(r, json, sizeof json);
  int e = size == 0 ? ENOSPC
                    : WriteAtomically(g_setup.records_dir, "last-exit.json", "last-exit.json.tmp", json, size, 0644);
  const char* seed = SaveSeed();
  static FixedLine<400> line;
  line.Clear();
  line << "microbeam: records: ";
  if (e == 0) {
    line << "shutdown report written to " << kRecordsDir << "/last-exit.json";
  } else {
    line << kRecordsDir << "/last-exit.json: " << strerror(e);  // musl's: a static table
  }
  if (!r.crash_dump.empty()) line << "; crash dump copied to " << r.crash_dump;
  line << seed;
  LogAlways(line.view());
  // Nothing of PID 1's may keep /data busy for its unmount.
  for (int fd : {g_setup.seed_fd, g_setup.crash_dir, g_setup.records_dir}) {
    if (fd >= 0) close(fd);
  }
  g_setup.seed_fd = g_setup.crash_dir = g_setup.records_dir = -1;
}

}  // namespace microbeam
