#pragma once

// Asking regions whether they serve: RESP PING on the `resp` address and activekv.v1.Status on
// the `sync` address (plaintext gRPC for now; TLS comes later).
//
// Thread-safety: RespPing is reentrant. A StatusClient may be used from one thread at a time.

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "activekv/v1/status.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "topology/topology.h"

namespace activekv::topology::ctl {

// Connects to `endpoint`, sends PING and expects +PONG, all within `timeout`. Unavailable with the
// reason otherwise ("connect: Connection refused", "no reply to PING: timed out", "PING replied
// '-ERR ...'"). A region replaying its AOF answers -LOADING (docs/operations.md): RespPing then
// asks `INFO persistence` on the same connection (allowed while loading) and the message reads
// "loading the dataset (42.17% of the AOF replayed, about 3 s left)" from its
// loading_loaded_perc and loading_eta_seconds, or "loading the dataset (PING replied -LOADING)"
// when INFO gives no progress. Callers (activekvctl up / restart) rely on that
// "loading the dataset (" prefix and the "P%" that follows it.
// With `password` (the region's requirepass_file), AUTH first.
absl::Status RespPing(const Endpoint& endpoint, absl::Duration timeout,
                      const std::string& password = "");
// The first line of the region's requirepass_file; empty without one.
std::string RegionPassword(const RegionConfig& region);
// A channel to the region's Status service: with the topology's `tls`, mutual TLS presenting the
// operator's certificate and checking the region's name (docs/security.md).
std::shared_ptr<grpc::Channel> OperatorChannel(const Topology& topology, const RegionConfig& region,
                                               grpc::ChannelArguments args);

// One gRPC channel per region of a topology, kept across calls so that polling reuses
// connections. Channels reconnect quickly (100 ms initial backoff, 1 s at most) so a region
// that starts while we poll is seen within a poll or two, and ignore http(s)_proxy variables.
class StatusClient {
 public:
  // `topology` must outlive this object.
  explicit StatusClient(const Topology& topology);
  StatusClient(const StatusClient&) = delete;
  StatusClient& operator=(const StatusClient&) = delete;

  // Calls GetStatus on the regions at `indices` (into topology.regions) in parallel, each with
  // deadline `timeout`, and returns the answers in the same order. A region that does not answer
  // gives Unavailable (or DeadlineExceeded) with gRPC's message. An answer from a process that
  // says it is another region or database is an error too (FailedPrecondition): two topologies
  // are sharing a port.
  std::vector<absl::StatusOr<v1::RegionStatus>> Get(const std::vector<size_t>& indices,
                                                    bool with_digest, absl::Duration timeout);
  // Get() for every region, in topology order.
  std::vector<absl::StatusOr<v1::RegionStatus>> GetAll(bool with_digest, absl::Duration timeout);

 private:
  const Topology& topology_;
  std::vector<std::unique_ptr<v1::Status::Stub>> stubs_;
};

}  // namespace activekv::topology::ctl
