#include "topology/ctl/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

extern char** environ;

namespace activekv::topology::ctl {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Reads up to `limit` bytes of a file from `offset`; nullopt if it cannot be opened.
std::optional<std::string> ReadFileRange(const std::string& path, off_t offset, size_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[16 * 1024];
  while (out.size() < limit) {
    ssize_t n = ::pread(fd, buf, std::min(sizeof(buf), limit - out.size()), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  ::close(fd);
  return out;
}

std::optional<pid_t> ReadPid(const std::string& path) {
  std::optional<std::string> text = ReadFileRange(path, 0, 64);
  if (!text) return std::nullopt;
  int64_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &pid) || pid <= 1 || pid > INT32_MAX) {
    return pid_t{0};
  }
  return static_cast<pid_t>(pid);
}

}  // namespace

std::string PidFilePath(const RegionConfig& region) {
  return absl::StrCat(region.data_dir, "/", kPidFileName);
}

std::string LogFilePath(const RegionConfig& region) {
  return absl::StrCat(region.data_dir, "/", kLogFileName);
}

absl::StatusOr<std::string> SelfDir() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot read /proc/self/exe: ", ec.message()));
  return exe.parent_path().string();
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // /proc/PID/stat: "pid (comm) S ..."; comm may hold spaces and parentheses, so find the last ')'.
  std::optional<std::string> stat = ReadFileRange(absl::StrCat("/proc/", pid, "/stat"), 0, 4096);
  if (!stat) return false;
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 2 >= stat->size()) return true;
  char state = (*stat)[close + 2];
  return state != 'Z' && state != 'X';
}

bool IsRegionServer(pid_t pid, std::string_view region) {
  if (!ProcessAlive(pid)) return false;
  std::optional<std::string> cmdline =
      ReadFileRange(absl::StrCat("/proc/", pid, "/cmdline"), 0, size_t{64} * 1024);
  if (!cmdline || cmdline->empty()) return false;
  std::vector<std::string> argv = absl::StrSplit(*cmdline, '\0');
  if (std::filesystem::path(argv[0]).filename() != kServerBinary) return false;
  for (size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--region" && argv[i + 1] == region) return true;
  }
  return false;
}

RegionProcess InspectRegion(const RegionConfig& region) {
  RegionProcess p;
  std::optional<pid_t> pid = ReadPid(PidFilePath(region));
  if (!pid) return p;
  p.pid = *pid;
  p.state = (*pid > 0 && IsRegionServer(*pid, region.name)) ? RegionProcess::State::kRunning
                                                            : RegionProcess::State::kStale;
  return p;
}

absl::Status WritePidFile(const std::string& path, pid_t pid) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", ErrnoText(errno)));
  }
  std::string text = absl::StrCat(pid, "\n");
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", ErrnoText(err)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, ": ", ErrnoText(err)));
  }
  return absl::OkStatus();
}

void RemovePidFileIfOwned(const std::string& path, pid_t pid) {
  std::optional<pid_t> current = ReadPid(path);
  if (current && (*current == pid || *current == 0)) ::unlink(path.c_str());
}

absl::StatusOr<Spawned> SpawnServer(const std::string& server_path,
                                    const std::string& topology_path, const RegionConfig& region) {
  std::error_code ec;
  std::filesystem::create_directories(region.data_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create data_dir ", region.data_dir, ": ", ec.message()));
  }
  std::vector<std::string> args = {server_path, "--topology", topology_path, "--region",
                                   region.name};
  const std::string log_path = LogFilePath(region);

  // The header line, which also tells where this start's output begins.
  Spawned spawned;
  {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::InternalError(absl::StrCat("cannot open ", log_path, ": ", ErrnoText(errno)));
    }
    struct stat st;
    spawned.log_offset = ::fstat(fd, &st) == 0 ? st.st_size : 0;
    char when[32];
    time_t now = ::time(nullptr);
    struct tm tm;
    ::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", ::localtime_r(&now, &tm));
    std::string header =
        absl::StrCat("==== ", when, " activekvctl: starting ", absl::StrJoin(args, " "), "\n");
    if (::write(fd, header.data(), header.size()) < 0) {
      // Not fatal: the server's own output still goes to the log.
    }
    ::close(fd);
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawn_file_actions_addchdir_np(&actions, region.data_dir.c_str());
  sigset_t defaults, empty;
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);
  sigdelset(&defaults, SIGSTOP);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, server_path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", server_path, ": ", ErrnoText(rc)));
  }
  spawned.pid = pid;
  return spawned;
}

std::optional<std::string> ChildExit(pid_t pid) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  if (r < 0) return ProcessAlive(pid) ? std::nullopt : std::optional<std::string>("exited");
  if (WIFEXITED(status)) return absl::StrCat("exited with code ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)),
                        ")");
  }
  return "exited";
}

std::string LogTail(const std::string& path, off_t from, int max_lines) {
  constexpr off_t kMaxBytes = off_t{64} * 1024;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return "";
  off_t start = std::max(from, st.st_size - kMaxBytes);
  std::optional<std::string> text = ReadFileRange(path, start, static_cast<size_t>(kMaxBytes));
  if (!text) return "";
  std::vector<std::string> lines = absl::StrSplit(*text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (static_cast<int>(lines.size()) > max_lines) {
    lines.erase(lines.begin(), lines.end() - max_lines);
  }
  return absl::StrJoin(lines, "\n");
}

std::vector<pid_t> SignalAndWait(const std::vector<pid_t>& pids, int sig, absl::Duration timeout) {
  for (pid_t pid : pids) ::kill(pid, sig);
  absl::Time deadline = absl::Now() + timeout;
  std::vector<pid_t> alive = pids;
  while (true) {
    std::vector<pid_t> still;
    for (pid_t pid : alive) {
      // Reap it if it is our own child (restart within one activekvctl run), then look.
      int status;
      ::waitpid(pid, &status, WNOHANG);
      if (ProcessAlive(pid)) still.push_back(pid);
    }
    alive.swap(still);
    if (alive.empty() || absl::Now() >= deadline) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace activekv::topology::ctl
