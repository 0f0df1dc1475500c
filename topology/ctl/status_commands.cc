// status, wait-sync: reading the regions' Status service.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "topology/ctl/commands.h"
#include "topology/ctl/probe.h"
#include "topology/ctl/process.h"
#include "topology/ctl/report.h"

namespace activekv::topology::ctl {

int PrintStatus(const Topology& topology, bool json, bool with_digest) {
  StatusClient client(topology);
  StatusResults results = client.GetAll(with_digest, kStatusDeadline);
  bool all_up = true;
  for (const auto& r : results) all_up = all_up && r.ok();
  if (json) {
    fputs(FormatStatusJson(topology, results).c_str(), stdout);
  } else {
    // For regions that did not answer, say what their pid file says (meaningful when the
    // regions run on this machine, as `activekvctl up` starts them).
    std::vector<std::string> notes(topology.regions.size());
    for (size_t i = 0; i < topology.regions.size(); ++i) {
      if (results[i].ok()) continue;
      RegionProcess p = InspectRegion(topology.regions[i]);
      switch (p.state) {
        case RegionProcess::State::kNoPidFile:
          notes[i] = "no local process (no pid file)";
          break;
        case RegionProcess::State::kStale:
          notes[i] = absl::StrCat("no local process (stale pid file naming pid ", p.pid, ")");
          break;
        case RegionProcess::State::kRunning:
          notes[i] = absl::StrCat("its process (pid ", p.pid, ") is running");
          break;
      }
    }
    fputs(FormatStatusTable(topology, results, with_digest, notes).c_str(), stdout);
  }
  return all_up ? kExitOk : kExitFailure;
}

int WaitSync(const Topology& topology, absl::Duration timeout) {
  absl::Time begin = absl::Now();
  absl::Time deadline = begin + timeout;
  StatusClient client(topology);
  while (true) {
    absl::Duration left = std::max(deadline - absl::Now(), absl::Milliseconds(100));
    StatusResults results = client.GetAll(/*with_digest=*/true, std::min(left, kStatusDeadline));
    std::vector<std::string> diffs = SyncDifferences(topology, results);
    if (diffs.empty()) {
      const v1::RegionStatus& first = *results[0];
      printf("in sync: %zu region%s, version vector {%s}, digest %s (%.2f s)\n",
             topology.regions.size(), topology.regions.size() == 1 ? "" : "s",
             FormatVersionVector(topology, first.version_vector()).c_str(),
             first.digest().empty() ? "(none)" : first.digest().c_str(),
             absl::ToDoubleSeconds(absl::Now() - begin));
      return kExitOk;
    }
    if (absl::Now() >= deadline) {
      fprintf(stderr, "wait-sync: not in sync after %.2f s:\n  %s\n",
              absl::ToDoubleSeconds(absl::Now() - begin), absl::StrJoin(diffs, "\n  ").c_str());
      return kExitFailure;
    }
    absl::SleepFor(std::min(kPollInterval, deadline - absl::Now()));
  }
}

}  // namespace activekv::topology::ctl
