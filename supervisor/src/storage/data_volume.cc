#include "storage/data_volume.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "crash/crash_path.h"
#include "crash/fixed_line.h"
#include "guard/privileges.h"
#include "lifecycle/processes.h"
#include "storage/mount_spec.h"
#include "storage/storage_sys.h"
#include "sys/kernel_log.h"
#include "sys/system.h"

namespace microbeam {
namespace {

// Filled before the keeper starts; read-only afterwards (the end path reads it).
constexpr size_t kMaxVolumes = 16;
constexpr size_t kMaxPath = 256;
char g_targets[kMaxVolumes][kMaxPath] = {};
size_t g_target_count = 0;
pid_t g_keeper = -1;

// A disk's driver may still be probing when PID 1 starts (PCI on q35): wait this long.
constexpr int kDeviceWaitMs = 1000;

void AddTarget(const std::string& target) {
  for (size_t i = 0; i < g_target_count; ++i) {
    if (target == g_targets[i]) return;
  }
  if (g_target_count >= kMaxVolumes || target.size() >= kMaxPath) return;
  memcpy(g_targets[g_target_count++], target.c_str(), target.size() + 1);
}

void Nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1'000'000};
  nanosleep(&ts, nullptr);
}

// One line for how TARGET ended. Async-signal-safe.
sys::Closed CloseOne(const char* target) {
  int err = 0;
  sys::Closed how = sys::CloseMount(target, err);
  static FixedLine<320> line;
  line.Clear();
  line << "microbeam: " << target << ": ";
  switch (how) {
    case sys::Closed::kUnmounted: line << "synced and unmounted"; break;
    case sys::Closed::kReadOnly: line << "busy; synced and remounted read-only"; break;
    case sys::Closed::kFrozen: line << "busy with files open for writing; synced and frozen (journal clean)"; break;
    case sys::Closed::kFailed: line << "cannot unmount (" << strerror(err) << "); synced only"; break;
  }
  LogAlways(line.view());
  return how;
}

// The keeper process: the app's user plus CAP_SYS_ADMIN, waiting for PID 1's SIGUSR1.
[[noreturn]] void KeeperMain(const ThreadCredentials& creds) {
  prctl(PR_SET_NAME, std::string(kVolumeKeeper).c_str(), 0, 0, 0);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);  // only the request below, taken synchronously
  // Nothing of PID 1's but the console and the kernel log: no socket, device or pipe of
  // the BEAM's stays open in here.
  for (int fd = 3; fd < 1024; ++fd) {
    if (fd != KernelLogFd()) close(fd);
  }
  if (absl::Status s = sys::ApplyThreadCredentials(creds); !s.ok()) {
    LogLine(absl::StrCat("microbeam: the volume keeper: ", s.message(), "; the volumes will only be synced at the end"));
    _exit(1);
  }
  sigset_t request;
  sigemptyset(&request);
  sigaddset(&request, SIGUSR1);
  while (true) {
    siginfo_t info = {};
    if (sigwaitinfo(&request, &info) == SIGUSR1 && info.si_pid == 1) break;  // only PID 1 may ask
  }
  sync();
  int worst = 0;
  for (size_t i = g_target_count; i-- > 0;) {
    int how = static_cast<int>(CloseOne(g_targets[i]));
    if (how > worst) worst = how;
  }
  _exit(worst);
}

// The keeper a restarted PID 1 inherited: the child the previous PID 1 named in
// kVolumeKeeperEnv, if it still is a keeper (a name alone could be any orphan's).
pid_t FindKeeper() {
  const char* named = std::getenv(kVolumeKeeperEnv);
  int pid = 0;
  if (named == nullptr || !absl::SimpleAtoi(named, &pid) || pid <= 1) return -1;
  pid_t found = -1;
  sys::ForEachProcess([&](const ProcStat& p) {
    if (p.pid == pid && IsVolumeKeeper(p) && p.state != 'Z') found = p.pid;
  });
  return found;
}

}  // namespace

VolumesMounted MountDataVolume(const Config& config) {
  VolumesMounted out;
  if (config.data_device.empty()) return out;
  absl::StatusOr<MountSpec> data = DataMount(config.data_device);
  auto fail = [&](std::string what) {
    out.data_missing = true;
    out.why = absl::StrCat("/data: ", config.data_device, ": ", what);
    out.lines.push_back(DataMountFailure(config.data_device, what, config.data_required));
    return out;
  };
  if (!data.ok()) return fail(std::string(data.status().message()));  // config.cc checked it already
  if (sys::IsMountPointPath(kDataDir)) {
    AddTarget(kDataDir);
    out.lines.push_back("microbeam: /data: still mounted (kept across the restart)");
    return out;
  }
  absl::Time start = absl::Now();
  if (!sys::WaitForPath(data->source, kDeviceWaitMs)) return fail("no such device");
  int err = sys::MountErrno(*data);
  bool read_only = false;
  if (err != 0 && RetryReadOnly(err)) {
    MountSpec ro = *data;
    ro.flags |= MS_RDONLY;
    if (sys::MountErrno(ro) == 0) err = 0, read_only = true;
  }
  if (err != 0) {
    sys::RemoveEmptyDir(kDataDir);  // no /data at all, so the app sees there is no volume
    return fail(absl::StrCat("cannot mount (", kDataFsType, "): ", strerror(err)));
  }
  AddTarget(kDataDir);
  if (read_only) {
    out.lines.push_back(absl::StrCat("microbeam: /data: ", data->source, " is read-only; mounted read-only"));
    return out;
  }
  // The BEAM runs as microbeam.user without CAP_CHOWN or CAP_DAC_OVERRIDE (guard/
  // privileges.h): it can only create files in /data if /data is its own. The root of
  // the volume is enough: what the app creates below is its own anyway (files an earlier
  // boot made as another microbeam.user keep their owner).
  std::string owner;
  sys::Owner now = sys::OwnerOf(kDataDir);
  if (now.uid != static_cast<long>(config.user.uid) || now.gid != static_cast<long>(config.user.gid)) {
    if (absl::Status s = sys::Chown(kDataDir, config.user.uid, config.user.gid); !s.ok()) {
      owner = absl::StrCat("; ", s.message(), ": the app may not write there");
    }
  }
  out.lines.push_back(absl::StrCat("microbeam: /data: mounted ", data->source, " (", kDataFsType, ", ", kDataOptions,
                                   ") for ", config.user.uid, ":", config.user.gid, " in ",
                                   absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Microseconds(100))),
                                   owner));
  return out;
}

VolumesMounted MountVolumes(const Config& config) {
  VolumesMounted out = MountDataVolume(config);
  for (const MountSpec& m : config.mounts) {
    if (sys::IsMountPointPath(m.target)) {
      AddTarget(m.target);
      continue;  // a restart keeps it
    }
    if (int err = sys::MountErrno(m); err != 0) {
      out.lines.push_back(absl::StrCat("microbeam: microbeam.mount: ", m.source, " on ", m.target, " (", m.fstype,
                                       "): ", strerror(err), "; not mounted"));
      continue;
    }
    AddTarget(m.target);
    out.lines.push_back(absl::StrCat("microbeam: mounted ", m.source, " on ", m.target, " (", m.fstype, ")"));
  }
  return out;
}

std::string StartVolumeKeeper(const Config& config) {
  if (g_target_count == 0 || g_keeper > 0) return "";
  if (pid_t inherited = FindKeeper(); inherited > 0) {
    g_keeper = inherited;
    KeepVolumeKeeperAcrossReExec(g_keeper);
    return "";
  }
  constexpr uint64_t kSysAdmin = uint64_t{1} << 21;
  ThreadCredentials creds = HelperThreadCredentials(config.user, CapabilityMask(config.keep_caps), kSysAdmin);
  pid_t pid = fork();
  if (pid == 0) KeeperMain(creds);
  if (pid < 0) return absl::StrCat("microbeam: the volume keeper: fork: ", strerror(errno),
                                   "; the volumes will only be synced at the end");
  g_keeper = pid;
  KeepVolumeKeeperAcrossReExec(g_keeper);
  return "";
}

void SyncVolumes() {
  if (g_target_count > 0) sync();
}

void CloseVolumes() {
  static std::atomic<bool> closed{false};
  if (g_target_count == 0 || closed.exchange(true)) return;  // once, whichever path comes first
  sync();
  for (size_t i = 0; i < g_target_count; ++i) sys::CloseFdsUnder(g_targets[i]);
  if (g_keeper > 0 && kill(g_keeper, SIGUSR1) == 0) {
    for (int i = 0; i < 500; ++i) {  // 10 s
      int status = 0;
      pid_t r = waitpid(g_keeper, &status, WNOHANG);
      // ECHILD: gone and reaped already (ERTS may have SIGCHLD ignored, which reaps at exit).
      if (r == g_keeper || (r < 0 && errno == ECHILD)) return;
      Nap(20);
    }
    LogAlways("microbeam: the volume keeper did not finish in 10 s; going on with the volumes synced");
    return;
  }
  // No keeper (it could not start, or died): here, which works while PID 1 still holds
  // CAP_SYS_ADMIN (an end before the drop), else says why not.
  for (size_t i = g_target_count; i-- > 0;) CloseOne(g_targets[i]);
}

}  // namespace microbeam
