// up, down, kill, restart: starting and stopping region processes.
#include <signal.h>

#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "topology/ctl/commands.h"
#include "topology/ctl/probe.h"
#include "topology/ctl/process.h"
#include "topology/ctl/report.h"

namespace activekv::topology::ctl {
namespace {

constexpr absl::Duration kKillWait = absl::Seconds(5);
constexpr int kLogTailLines = 30;
// A region replaying its AOF: its progress is printed when the whole percent changes, at most
// this often.
constexpr absl::Duration kLoadingReportInterval = absl::Seconds(1);

std::string Seconds(absl::Duration d) {
  return absl::StrCat(absl::ToDoubleSeconds(absl::Trunc(d, absl::Milliseconds(10))), " s");
}

// A region this command started, and what it has shown of itself so far.
struct Starting {
  size_t index = 0;  // into topology.regions
  Spawned spawned;
  std::string password;  // its requirepass_file's, read once: sent with every readiness PING
  bool resp = false;
  bool status = false;
  std::string resp_error = "not tried yet";
  std::string status_error = "not tried yet";
  // The last replay progress printed (RESP answered -LOADING): whether any was, its whole
  // percent (-1: unknown) and when.
  bool loading_shown = false;
  int loading_percent = -1;
  absl::Time loading_shown_at;
};

// For a RespPing error saying that the region replays its AOF (probe.h: "loading the dataset
// (42.17% of the AOF replayed, ...)"), the whole percent replayed, or -1 when the message has no
// percentage. nullopt for any other error.
std::optional<int> LoadingPercent(absl::string_view ping_error) {
  constexpr absl::string_view kPrefix = "loading the dataset (";
  if (!absl::StartsWith(ping_error, kPrefix)) return std::nullopt;
  ping_error.remove_prefix(kPrefix.size());
  size_t sign = ping_error.find('%');
  double percent = 0;
  if (sign == absl::string_view::npos || !absl::SimpleAtod(ping_error.substr(0, sign), &percent) ||
      !(percent >= 0 && percent <= 100)) {
    return -1;
  }
  return static_cast<int>(percent);
}

// Prints the replay progress of a region that answers -LOADING: the first time, then when the
// whole percent has changed and kLoadingReportInterval has passed since the last line.
void ShowLoading(const RegionConfig& region, Starting& s, const std::string& ping_error) {
  std::optional<int> percent = LoadingPercent(ping_error);
  if (!percent) return;
  absl::Time now = absl::Now();
  if (s.loading_shown &&
      (*percent == s.loading_percent || now - s.loading_shown_at < kLoadingReportInterval)) {
    return;
  }
  printf("%s: %s\n", region.name.c_str(), ping_error.c_str());
  s.loading_shown = true;
  s.loading_percent = *percent;
  s.loading_shown_at = now;
}

// Starts one region (see SpawnServer) and writes its pid file. The caller has checked that it
// is not running.
absl::StatusOr<Starting> StartRegion(const Topology& topology, size_t index,
                                     const std::string& server_path) {
  const RegionConfig& region = topology.regions[index];
  RegionProcess before = InspectRegion(region);
  if (before.state == RegionProcess::State::kStale) {
    printf("%s: replacing stale pid file (pid %d is not this region's activekv-server)\n",
           region.name.c_str(), static_cast<int>(before.pid));
  }
  absl::StatusOr<Spawned> spawned = SpawnServer(server_path, topology.source_path, region);
  if (!spawned.ok()) return spawned.status();
  absl::Status written = WritePidFile(PidFilePath(region), spawned->pid);
  if (!written.ok()) {
    SignalAndWait({spawned->pid}, SIGKILL, kKillWait);
    return written;
  }
  printf("%s: started activekv-server, pid %d (log: %s)\n", region.name.c_str(),
         static_cast<int>(spawned->pid), LogFilePath(region).c_str());
  Starting s;
  s.index = index;
  s.spawned = *spawned;
  s.password = RegionPassword(region);
  return s;
}

// Polls the started regions until each serves RESP and Status (and, with `require_links`, every
// peer link of the topology is connected), one of them exits, or `deadline` passes.
int WaitReady(const Topology& topology, std::vector<Starting>& starting, bool require_links,
              absl::Time begin, absl::Time deadline, const char* command) {
  StatusClient client(topology);
  std::vector<size_t> indices;
  if (require_links) {
    for (size_t i = 0; i < topology.regions.size(); ++i) indices.push_back(i);
  } else {
    for (const Starting& s : starting) indices.push_back(s.index);
  }
  int shown_connected = -1;
  LinkCount links;
  while (true) {
    for (Starting& s : starting) {
      const RegionConfig& region = topology.regions[s.index];
      if (std::optional<std::string> exit = ChildExit(s.spawned.pid)) {
        fflush(stdout);
        fprintf(stderr, "%s: activekv-server (pid %d) %s during startup; end of %s:\n%s\n",
                region.name.c_str(), static_cast<int>(s.spawned.pid), exit->c_str(),
                LogFilePath(region).c_str(),
                LogTail(LogFilePath(region), s.spawned.log_offset, kLogTailLines).c_str());
        RemovePidFileIfOwned(PidFilePath(region), s.spawned.pid);
        fprintf(stderr, "%s: failed; regions that did start keep running (activekvctl down %s)\n",
                command, topology.source_path.c_str());
        return kExitFailure;
      }
      if (!s.resp) {
        absl::Duration left = std::max(deadline - absl::Now(), absl::Milliseconds(50));
        absl::Status ping =
            RespPing(region.resp, std::min(left, absl::Milliseconds(500)), s.password);
        if (ping.ok()) {
          s.resp = true;
          printf("%s: serving RESP on %s\n", region.name.c_str(), region.resp.ToString().c_str());
        } else {
          s.resp_error = std::string(ping.message());
          ShowLoading(region, s, s.resp_error);
        }
      }
    }

    absl::Duration left = std::max(deadline - absl::Now(), absl::Milliseconds(100));
    StatusResults got = client.Get(indices, false, std::min(left, absl::Seconds(1)));
    StatusResults all(topology.regions.size(), absl::UnavailableError("not asked"));
    for (size_t k = 0; k < indices.size(); ++k) all[indices[k]] = std::move(got[k]);
    bool ready = true;
    for (Starting& s : starting) {
      const RegionConfig& region = topology.regions[s.index];
      const absl::StatusOr<v1::RegionStatus>& r = all[s.index];
      if (!s.status) {
        if (r.ok() && !r->loading()) {
          s.status = true;
          printf("%s: Status answering on %s\n", region.name.c_str(),
                 region.sync.ToString().c_str());
        } else {
          s.status_error = r.ok() ? "loading" : std::string(r.status().message());
        }
      }
      ready = ready && s.resp && s.status;
      // A new data directory accepts writes once its peers answered (Region::joining).
      if (require_links && r.ok() && r->joining()) ready = false;
    }
    if (require_links && topology.regions.size() > 1) {
      links = CountLinks(topology, all);
      if (links.connected != shown_connected) {
        printf("links: %d/%d connected\n", links.connected, links.total);
        shown_connected = links.connected;
      }
      ready = ready && links.connected == links.total;
    }
    fflush(stdout);
    if (ready) {
      printf("%s: %zu region%s ready in %s\n", command, starting.size(),
             starting.size() == 1 ? "" : "s", Seconds(absl::Now() - begin).c_str());
      return kExitOk;
    }
    if (absl::Now() >= deadline) {
      fprintf(stderr, "%s: not ready after %s:\n", command, Seconds(absl::Now() - begin).c_str());
      for (const Starting& s : starting) {
        const RegionConfig& region = topology.regions[s.index];
        if (!s.resp) {
          fprintf(stderr, "  %s: RESP not answering on %s (%s)\n", region.name.c_str(),
                  region.resp.ToString().c_str(), s.resp_error.c_str());
        }
        if (!s.status) {
          fprintf(stderr, "  %s: Status not answering on %s (%s)\n", region.name.c_str(),
                  region.sync.ToString().c_str(), s.status_error.c_str());
        }
        if (!s.resp || !s.status) {
          fprintf(stderr, "  %s: log %s\n", region.name.c_str(), LogFilePath(region).c_str());
        }
      }
      if (require_links && links.connected != links.total) {
        fprintf(stderr, "  links: %d/%d connected; not connected: %s\n", links.connected,
                links.total, absl::StrJoin(links.missing, ", ").c_str());
      }
      fprintf(stderr, "%s: the regions keep running (activekvctl down %s)\n", command,
              topology.source_path.c_str());
      return kExitFailure;
    }
    absl::SleepFor(std::min(kPollInterval, deadline - absl::Now()));
  }
}

// SIGTERM, then SIGKILL after `timeout`; false if the process survived even that.
bool Stop(const RegionConfig& region, pid_t pid, absl::Duration timeout) {
  if (SignalAndWait({pid}, SIGTERM, timeout).empty()) return true;
  printf("%s: pid %d still running after %s, sending SIGKILL\n", region.name.c_str(),
         static_cast<int>(pid), Seconds(timeout).c_str());
  return SignalAndWait({pid}, SIGKILL, kKillWait).empty();
}

}  // namespace

int Up(const Topology& topology, const std::string& server_path, absl::Duration timeout) {
  absl::Time begin = absl::Now();
  std::vector<std::string> running;
  for (const RegionConfig& region : topology.regions) {
    RegionProcess p = InspectRegion(region);
    if (p.state == RegionProcess::State::kRunning) {
      running.push_back(absl::StrCat(region.name, " (pid ", p.pid, ")"));
    }
  }
  if (!running.empty()) {
    fprintf(stderr,
            "up: already running: %s; nothing started (use `activekvctl down %s` first, or "
            "`activekvctl restart %s REGION`)\n",
            absl::StrJoin(running, ", ").c_str(), topology.source_path.c_str(),
            topology.source_path.c_str());
    return kExitFailure;
  }
  std::vector<Starting> starting;
  for (size_t i = 0; i < topology.regions.size(); ++i) {
    absl::StatusOr<Starting> s = StartRegion(topology, i, server_path);
    if (!s.ok()) {
      fflush(stdout);
      fprintf(stderr, "%s: %s\n", topology.regions[i].name.c_str(),
              std::string(s.status().message()).c_str());
      if (!starting.empty()) {
        fprintf(stderr, "up: failed; regions that did start keep running (activekvctl down %s)\n",
                topology.source_path.c_str());
      }
      return kExitFailure;
    }
    starting.push_back(*s);
  }
  fflush(stdout);
  return WaitReady(topology, starting, /*require_links=*/true, begin, begin + timeout, "up");
}

int Down(const Topology& topology, absl::Duration timeout) {
  struct Target {
    const RegionConfig* region;
    pid_t pid;
  };
  std::vector<Target> targets;
  std::vector<pid_t> pids;
  for (const RegionConfig& region : topology.regions) {
    RegionProcess p = InspectRegion(region);
    switch (p.state) {
      case RegionProcess::State::kNoPidFile:
        printf("%s: not running\n", region.name.c_str());
        break;
      case RegionProcess::State::kStale:
        RemovePidFileIfOwned(PidFilePath(region), p.pid);
        printf("%s: not running (removed stale pid file naming pid %d)\n", region.name.c_str(),
               static_cast<int>(p.pid));
        break;
      case RegionProcess::State::kRunning:
        printf("%s: stopping pid %d (SIGTERM)\n", region.name.c_str(), static_cast<int>(p.pid));
        targets.push_back({&region, p.pid});
        pids.push_back(p.pid);
        break;
    }
  }
  fflush(stdout);
  std::vector<pid_t> survivors = SignalAndWait(pids, SIGTERM, timeout);
  if (!survivors.empty()) {
    for (const Target& t : targets) {
      if (std::find(survivors.begin(), survivors.end(), t.pid) == survivors.end()) continue;
      printf("%s: pid %d still running after %s, sending SIGKILL\n", t.region->name.c_str(),
             static_cast<int>(t.pid), Seconds(timeout).c_str());
    }
    fflush(stdout);
    survivors = SignalAndWait(survivors, SIGKILL, kKillWait);
  }
  int rc = kExitOk;
  for (const Target& t : targets) {
    if (std::find(survivors.begin(), survivors.end(), t.pid) != survivors.end()) {
      fprintf(stderr, "%s: pid %d survived SIGKILL for %s\n", t.region->name.c_str(),
              static_cast<int>(t.pid), Seconds(kKillWait).c_str());
      rc = kExitFailure;
      continue;
    }
    RemovePidFileIfOwned(PidFilePath(*t.region), t.pid);
    printf("%s: stopped\n", t.region->name.c_str());
  }
  return rc;
}

int Kill(const Topology&, const RegionConfig& region) {
  RegionProcess p = InspectRegion(region);
  if (p.state != RegionProcess::State::kRunning) {
    printf("%s: not running%s\n", region.name.c_str(),
           p.state == RegionProcess::State::kStale ? " (stale pid file)" : "");
    return kExitOk;
  }
  if (!SignalAndWait({p.pid}, SIGKILL, kKillWait).empty()) {
    fprintf(stderr, "%s: pid %d survived SIGKILL for %s\n", region.name.c_str(),
            static_cast<int>(p.pid), Seconds(kKillWait).c_str());
    return kExitFailure;
  }
  printf("%s: killed pid %d (SIGKILL)\n", region.name.c_str(), static_cast<int>(p.pid));
  return kExitOk;
}

int Restart(const Topology& topology, const RegionConfig& region, const std::string& server_path,
            absl::Duration stop_timeout, absl::Duration timeout) {
  absl::Time begin = absl::Now();
  RegionProcess p = InspectRegion(region);
  if (p.state == RegionProcess::State::kRunning) {
    printf("%s: stopping pid %d (SIGTERM)\n", region.name.c_str(), static_cast<int>(p.pid));
    fflush(stdout);
    if (!Stop(region, p.pid, stop_timeout)) {
      fprintf(stderr, "%s: pid %d survived SIGKILL for %s\n", region.name.c_str(),
              static_cast<int>(p.pid), Seconds(kKillWait).c_str());
      return kExitFailure;
    }
    RemovePidFileIfOwned(PidFilePath(region), p.pid);
    printf("%s: stopped\n", region.name.c_str());
  } else {
    printf("%s: not running\n", region.name.c_str());
  }
  size_t index = static_cast<size_t>(&region - topology.regions.data());
  absl::StatusOr<Starting> s = StartRegion(topology, index, server_path);
  if (!s.ok()) {
    fflush(stdout);
    fprintf(stderr, "%s: %s\n", region.name.c_str(), std::string(s.status().message()).c_str());
    return kExitFailure;
  }
  std::vector<Starting> starting = {*s};
  fflush(stdout);
  return WaitReady(topology, starting, /*require_links=*/false, begin, absl::Now() + timeout,
                   "restart");
}

}  // namespace activekv::topology::ctl
