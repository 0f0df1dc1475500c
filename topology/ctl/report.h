#pragma once

// What activekvctl prints about regions, computed from their GetStatus answers. Pure: no I/O, no
// clock; the output formats are described (and are a user contract) in docs/ctl.md.
//
// Every function takes `results` with one entry per region of `topology`, in topology order: the
// region's RegionStatus, or the error that stood in for it (the region is "down").
//
// Thread-safety: the functions are reentrant and keep no state.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "activekv/v1/status.pb.h"
#include "topology/topology.h"

namespace activekv::topology::ctl {

using StatusResults = std::vector<absl::StatusOr<v1::RegionStatus>>;

// "us-east:12 eu-west:3": entries of regions of the topology in topology order, then any other
// region names sorted; "{}" when there is none. Entries with seq 0 are left out: "has applied no
// op of that region" is the same as no entry.
std::string FormatVersionVector(const Topology& topology,
                                const google::protobuf::RepeatedPtrField<v1::VersionEntry>& vv);

// The `activekvctl status` table: one row per region (name, RESP address, state up / loading /
// down, keys, version vector, and the digest when `show_digest`), then one row per peer link
// (connected, lag_ops, lag_ms), then one line per down region with the error and `notes[i]`
// (when not empty; e.g. what its pid file says).
std::string FormatStatusTable(const Topology& topology, const StatusResults& results,
                              bool show_digest, const std::vector<std::string>& notes);

// `activekvctl status --json`: an object keyed by region name, in topology order. A region that
// answered maps to its RegionStatus as protobuf's JSON mapping prints it (proto field names,
// every field present even when zero/empty; 64-bit integers as strings); one that did not maps to
// {"region": NAME, "down": true, "error": MESSAGE}.
std::string FormatStatusJson(const Topology& topology, const StatusResults& results);

// Peer links as the regions report them: a region with N-1 peers has N-1 links (its pull stream
// from each peer), so `total` is N*(N-1). A link counts as connected when the region answered and
// lists that peer as connected. `missing` names the others as "us-east<-eu-west" (us-east's pull
// from eu-west), in topology order.
struct LinkCount {
  int connected = 0;
  int total = 0;
  std::vector<std::string> missing;
};
LinkCount CountLinks(const Topology& topology, const StatusResults& results);

// Why the regions are not yet in sync; empty when they are: every region answered and is not
// loading, every version vector is equal, every peer's lag_ops is 0 and every digest is equal.
// One line per problem, e.g.
//   eu-west: down (no answer from 127.0.0.1:7102: ...)
//   version vectors differ: us-east {us-east:12 eu-west:3}, eu-west {us-east:10 eu-west:3}
//   lag: us-east -> eu-west lag_ops=2 lag_ms=140
//   digests differ: us-east 9f2c..., eu-west 41aa...
std::vector<std::string> SyncDifferences(const Topology& topology, const StatusResults& results);

}  // namespace activekv::topology::ctl
