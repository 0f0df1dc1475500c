#pragma once

#include <functional>

#include "activekv/v1/status.grpc.pb.h"
#include "syncer/executor.h"

namespace activekv::syncer {

// activekv.v1.Status over gRPC's callback API. The status itself is built by `snapshot` on the
// executor's thread (it reads region state); this class only moves messages.
class StatusService final : public v1::Status::CallbackService {
 public:
  using Snapshot = std::function<v1::RegionStatus(bool with_digest)>;

  StatusService(Executor executor, Snapshot snapshot)
      : executor_(std::move(executor)), snapshot_(std::move(snapshot)) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::GetStatusRequest* request,
                                      v1::RegionStatus* response) override;
  grpc::ServerWriteReactor<v1::RegionStatus>* WatchStatus(
      grpc::CallbackServerContext* ctx, const v1::WatchStatusRequest* request) override;

 private:
  class Watcher;
  Executor executor_;
  Snapshot snapshot_;
};

}  // namespace activekv::syncer
