#include "records/records.h"

#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "crash/end_records.h"
#include "records/last_exit.h"
#include "records/random_seed.h"
#include "sys/kernel_log.h"
#include "sys/read_file.h"

namespace microbeam {
namespace {

constexpr char kRecordsDir[] = "/data/microbeam";
constexpr char kSeedPath[] = "/data/microbeam/random-seed";

void Say(std::string_view line) { LogLine(line); }

uint64_t ClockNs(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Opens (making it if missing) the directory NAME under PARENT (AT_FDCWD: NAME is
// absolute), the app user's with mode 0700; *CREATED says whether it was made now.
// Never follows a symbolic link: the app's user may write /data.
int OpenOwnDir(int parent, const char* name, const AppUser& user, bool* created, std::string* error) {
  *created = mkdirat(parent, name, 0700) == 0;
  if (!*created && errno != EEXIST) return *error = absl::StrCat("mkdir ", name, ": ", strerror(errno)), -1;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return *error = absl::StrCat(name, ": ", strerror(errno)), -1;
  struct stat st;
  if (fstat(fd, &st) == 0 && (st.st_uid != user.uid || st.st_gid != user.gid) &&
      fchown(fd, user.uid, user.gid) != 0) {
    *error = absl::StrCat("chown ", name, ": ", strerror(errno));
    close(fd);
    return -1;
  }
  if (fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0700) fchmod(fd, 0700);
  return fd;
}

// CONTENT to NAME in DIR: NAME.tmp, fsync, rename over NAME, fsync DIR.
absl::Status WriteAtomically(int dir, const std::string& name, std::string_view content, mode_t mode) {
  std::string tmp = name + ".tmp";
  unlinkat(dir, tmp.c_str(), 0);
  int fd = openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return absl::ErrnoToStatus(errno, tmp);
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && fsync(fd) == 0;
  int e = errno;
  close(fd);
  if (!ok || renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    e = ok ? errno : e;
    unlinkat(dir, tmp.c_str(), 0);
    return absl::ErrnoToStatus(e, name);
  }
  fsync(dir);
  return absl::OkStatus();
}

// The last exit: one line, the app's copy in /run, then kept as previous-exit.json.
void ReportLastExit(int dir, bool new_dir) {
  std::string json;
  if (int fd = openat(dir, "last-exit.json", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK); fd >= 0) {
    std::string buf(65536, '\0');
    ssize_t n = read(fd, buf.data(), buf.size());
    close(fd);
    json = buf.substr(0, n > 0 ? static_cast<size_t>(n) : 0);
    Say(LastExitLine(json));
    if (renameat(dir, "last-exit.json", dir, "previous-exit.json") == 0) fsync(dir);
  } else if (new_dir) {
    Say("microbeam: last exit: none recorded yet (a new data disk)");
    return;
  } else {
    constexpr char kWhy[] = "the run before this one did not shut down (a power cut, a kernel panic or a killed VMM)";
    Say(absl::StrCat("microbeam: last exit: no record: ", kWhy));
    json = absl::StrCat("{\"version\":1,\"record\":\"missing\",\"why\":\"", kWhy, "\"}\n");
  }
  int run = open("/run/microbeam", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (run < 0) return;
  if (absl::Status s = WriteAtomically(run, "last-exit.json", json, 0644); !s.ok()) {
    Say(absl::StrCat("microbeam: last exit: /run/microbeam/", s.message()));
  }
  close(run);
}

// Random bytes for a seed (its credit is decided at the end, not here).
void Draw(uint8_t* buf, size_t len) {
  if (getrandom(buf, len, GRND_NONBLOCK) == static_cast<ssize_t>(len)) return;
  if (getrandom(buf, len, 0x0004 /* GRND_INSECURE */) == static_cast<ssize_t>(len)) return;
  if (int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC); fd >= 0) {
    if (read(fd, buf, len) < 0) {
      // Mixed with the old seed and the clocks below, and never credited.
    }
    close(fd);
  }
}

std::string SeedVerdict(const SeedFile& file, bool credit, bool credit_allowed) {
  if (credit) return "credited (saved at a clean shutdown)";
  if (!credit_allowed) return "not credited (microbeam.seed_credit=0)";
  switch (file.kind) {
    case SeedKind::kForeign: return "not credited (not a seed file of ours)";
    case SeedKind::kNotCreditable: return "not credited (not saved by a clean shutdown)";
    default: break;
  }
  if (file.seed.size() < kMinSeedBytes) return "not credited (too short)";
  return "not credited (not root's file alone)";
}

// Feeds the seed on /data to the kernel's pool and replaces it at once by a fresh one
// marked not creditable. Fills SETUP with that file, kept open for the end.
void FeedAndReplaceSeed(int dir, const Config& config, bool in_container, EndRecordsSetup& setup) {
  static uint8_t fresh[kMaxSeedBytes];
  absl::StatusOr<std::string> poolsize = ReadFile("/proc/sys/kernel/random/poolsize");
  size_t len = SeedLength(poolsize.ok() ? *poolsize : "");
  std::string old;
  SeedFileStat st;
  if (int fd = openat(dir, "random-seed", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK); fd >= 0) {
    struct stat s;
    if (fstat(fd, &s) == 0 && S_ISREG(s.st_mode)) {
      st = {true, s.st_uid, s.st_mode & 07777u, s.st_nlink};
      old.resize(kSeedHeaderBytes + kMaxSeedBytes);
      ssize_t n = read(fd, old.data(), old.size());
      old.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    close(fd);
  }
  SeedFile file = ParseSeedFile(old);
  if (file.kind != SeedKind::kNone) {
    bool credit = CreditSeed(file, st, config.seed_credit);
    std::string verdict = SeedVerdict(file, credit, config.seed_credit);
    if (credit && in_container) {
      verdict = "creditable (saved at a clean shutdown), not credited: in a container the pool is the host's";
      credit = false;
    }
    // struct rand_pool_info: entropy_count (bits credited), buf_size (bytes), buf[].
    std::string req(sizeof(rand_pool_info) + file.seed.size(), '\0');
    int counts[2] = {credit ? static_cast<int>(file.seed.size() * 8) : 0, static_cast<int>(file.seed.size())};
    static_assert(sizeof counts == offsetof(rand_pool_info, buf));
    std::memcpy(req.data(), counts, sizeof counts);
    std::memcpy(req.data() + offsetof(rand_pool_info, buf), file.seed.data(), file.seed.size());
    int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (rnd < 0 || ioctl(rnd, RNDADDENTROPY, req.data()) != 0) {
      Say(absl::StrCat("microbeam: random seed: ", kSeedPath, ": RNDADDENTROPY: ", strerror(errno), "; not fed"));
    } else {
      Say(absl::StrCat("microbeam: random seed: ", file.seed.size(), " bytes from ", kSeedPath,
                       " fed to the kernel's pool, ", verdict));
    }
    if (rnd >= 0) close(rnd);
  }
  Draw(fresh, len);
  MixSeed(fresh, len, reinterpret_cast<const uint8_t*>(file.seed.data()), file.seed.size(), ClockNs(CLOCK_REALTIME),
          ClockNs(CLOCK_BOOTTIME));
  std::string text(kSeedHeaderBytes + len, '\0');
  FormatSeedFile(false, fresh, len, text.data());
  if (absl::Status s = WriteAtomically(dir, "random-seed", text, 0600); !s.ok()) {
    Say(absl::StrCat("microbeam: random seed: ", kRecordsDir, "/", s.message(), "; none kept for the next boot"));
    return;
  }
  setup.seed_fd = openat(dir, "random-seed", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  setup.seed = fresh;
  setup.seed_len = len;
  if (file.kind == SeedKind::kNone) {
    Say(absl::StrCat("microbeam: random seed: none on /data yet; ", len, " fresh bytes saved to ", kSeedPath));
  }
}

}  // namespace

void OpenRecords(const Config& config, bool in_container, bool restarted) {
  absl::StatusOr<std::string> mountinfo = ReadFile("/proc/self/mountinfo");
  MountState data = MountAt(mountinfo.ok() ? *mountinfo : "", "/data");
  if (!data.mounted) return;
  if (data.read_only) {
    Say("microbeam: records: /data is read-only: no shutdown report, crash dump copies or random seed kept there");
    return;
  }
  EndRecordsSetup setup;
  bool new_dir = false, new_crash = false;
  std::string error;
  setup.records_dir = OpenOwnDir(AT_FDCWD, kRecordsDir, config.user, &new_dir, &error);
  if (setup.records_dir >= 0) setup.crash_dir = OpenOwnDir(setup.records_dir, "crash", config.user, &new_crash, &error);
  if (setup.crash_dir < 0) {
    Say(absl::StrCat("microbeam: records: ", kRecordsDir, ": ", error, "; nothing is kept on /data"));
    if (setup.records_dir >= 0) close(setup.records_dir);
    return;
  }
  absl::StatusOr<std::string> boot_id = ReadFile("/proc/sys/kernel/random/boot_id");
  std::string id = boot_id.ok() ? std::string(absl::StripAsciiWhitespace(*boot_id)) : "";
  setup.boot_id = id;
  ReportLastExit(setup.records_dir, new_dir);
  if (!restarted && geteuid() == 0) FeedAndReplaceSeed(setup.records_dir, config, in_container, setup);
  PrepareEndRecords(setup);  // copies what it keeps
}

}  // namespace microbeam
