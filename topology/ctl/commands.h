#pragma once

// The commands of activekvctl (docs/ctl.md is the user contract). Each prints progress and
// results to stdout, problems to stderr, and returns the process exit code:
//   0  done (for `status`: every region answered)
//   1  failed (a region did not start, a timeout passed, a region is down for `status`)
//   2  usage or configuration error (returned by main(), not by these functions)
//
// Thread-safety: one command at a time per process (they reap child processes).

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "topology/topology.h"

namespace activekv::topology::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

inline constexpr absl::Duration kDefaultUpTimeout = absl::Seconds(30);
inline constexpr absl::Duration kDefaultStopTimeout = absl::Seconds(10);
inline constexpr absl::Duration kDefaultWaitSyncTimeout = absl::Seconds(60);
inline constexpr absl::Duration kStatusDeadline = absl::Seconds(2);
inline constexpr absl::Duration kPollInterval = absl::Milliseconds(50);

// `server_path` is the activekv-server executable (activekvctl uses the one next to itself).
// A `region` argument must be an element of `topology.regions`.

// Starts every region (refusing if any is already running), then waits up to `timeout` until
// every region serves RESP and Status and every peer link is connected.
int Up(const Topology& topology, const std::string& server_path, absl::Duration timeout);

// SIGTERM to every running region, SIGKILL to those still alive after `timeout`; removes the pid
// files. Regions that are not running are fine.
int Down(const Topology& topology, absl::Duration timeout);

// SIGKILL to the region's process; leaves its pid file (now stale) and everything else.
int Kill(const Topology& topology, const RegionConfig& region);

// Stops the region if it runs (SIGTERM, then SIGKILL after `stop_timeout`), starts it again and
// waits up to `timeout` until it serves RESP and Status.
int Restart(const Topology& topology, const RegionConfig& region, const std::string& server_path,
            absl::Duration stop_timeout, absl::Duration timeout);

// One GetStatus per region (deadline kStatusDeadline each), printed as a table or as JSON.
int PrintStatus(const Topology& topology, bool json, bool with_digest);

// Polls every region's GetStatus (with digests) every kPollInterval until they are in sync (see
// SyncDifferences in report.h) or `timeout` passes; then prints what still differs.
int WaitSync(const Topology& topology, absl::Duration timeout);

// activekvctl backup create FILE --to LOCATION [--region R] | list LOCATION |
// verify LOCATION [--backup ID] | validate LOCATION, each with [--credentials-file PATH
// [--profile P]] for s3:// locations (docs/ctl.md, docs/backup-format.md). `args` follow
// "backup". Also `restore --from LOCATION [--backup ID] --into FILE` (args[0] "restore").
int Backup(const std::vector<std::string>& args);

// certs FILE [--out DIR] (certs.cc): a CA, and a certificate and key per region and for the
// operator (CN and DNS SAN = the name), into DIR (default: certs/ beside FILE).
int Certs(const Topology& topology, const std::string& out_dir);

}  // namespace activekv::topology::ctl
