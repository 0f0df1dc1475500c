#pragma once

// Region processes as activekvctl sees them: pid files, liveness, detached start, signals.
//
// A region started by activekvctl keeps two files in its data_dir:
//   activekv.pid   the pid of its activekv-server process, as decimal text and a newline
//   server.log     the process's stdout and stderr, appended to across restarts
// A pid file is trusted only while it names a live (not zombie) process whose command line is
// activekv-server with `--region NAME`; anything else is a stale pid file, so a recycled pid is
// never signalled.
//
// Linux only (reads /proc). Thread-safety: the functions keep no state; they are safe to call
// from several threads as long as they do not act on the same files or processes.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "topology/topology.h"

namespace activekv::topology::ctl {

inline constexpr char kServerBinary[] = "activekv-server";
inline constexpr char kPidFileName[] = "activekv.pid";
inline constexpr char kLogFileName[] = "server.log";

std::string PidFilePath(const RegionConfig& region);
std::string LogFilePath(const RegionConfig& region);

// The folder holding the running executable (/proc/self/exe), without a trailing '/'.
absl::StatusOr<std::string> SelfDir();

// What a region's pid file says about it.
struct RegionProcess {
  enum class State { kNoPidFile, kStale, kRunning };
  State state = State::kNoPidFile;
  pid_t pid = 0;  // the pid named by the file (kStale, kRunning); 0 if unreadable
};
RegionProcess InspectRegion(const RegionConfig& region);

// True while `pid` exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// True if `pid` is alive and runs activekv-server with `--region region` (from /proc/PID/cmdline).
bool IsRegionServer(pid_t pid, std::string_view region);

// Writes the pid file atomically (temporary file + rename).
absl::Status WritePidFile(const std::string& path, pid_t pid);

// Removes the pid file if it still names `pid` (a concurrent start may have replaced it).
void RemovePidFileIfOwned(const std::string& path, pid_t pid);

// Starts `server_path --topology topology_path --region NAME` detached from this process: in a
// new session, stdin from /dev/null, stdout and stderr appended to the region's server.log, the
// working directory the region's data_dir (created if missing), default signal dispositions, no
// inherited descriptors beyond 0-2. Appends a "==== ... activekvctl: starting ..." line to the log
// first. The caller owns the child: ChildExit() reaps it if it dies while we wait.
struct Spawned {
  pid_t pid = 0;
  off_t log_offset = 0;  // size of server.log before this start: where its output begins
};
absl::StatusOr<Spawned> SpawnServer(const std::string& server_path,
                                    const std::string& topology_path, const RegionConfig& region);

// For a child of this process: if it has exited, reaps it and describes how ("exited with code
// 1", "killed by signal 9"); nullopt while it runs.
std::optional<std::string> ChildExit(pid_t pid);

// The last `max_lines` lines of the file from byte `from` on (at most the last 64 KiB).
std::string LogTail(const std::string& path, off_t from, int max_lines);

// Sends `sig` to every pid, then polls (every 20 ms) until none is alive or `timeout` passes.
// Returns the pids still alive.
std::vector<pid_t> SignalAndWait(const std::vector<pid_t>& pids, int sig, absl::Duration timeout);

}  // namespace activekv::topology::ctl
