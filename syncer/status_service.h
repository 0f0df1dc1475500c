#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "activekv/v1/status.grpc.pb.h"
#include "syncer/executor.h"

namespace activekv::syncer {

// activekv.v1.Status over gRPC's callback API. The status itself is built by `snapshot` on the
// executor's thread (it reads region state); this class only moves messages.
//
// Backup: the region's part runs on the executor through BackupHooks; the file is read and
// streamed from a thread of the call's own (one write in flight, 1 MiB a chunk).
class StatusService final : public v1::Status::CallbackService {
 public:
  using Snapshot = std::function<v1::RegionStatus(bool with_digest)>;
  struct BackupHooks {
    // On the executor: makes sure a save starts now or after the running one (so the snapshot's
    // moment follows the request); returns how many saves must have completed, or why none can.
    std::function<absl::StatusOr<uint64_t>()> begin;
    // On the executor: true once `target` saves completed; an error once the save it waits for
    // failed.
    std::function<absl::StatusOr<bool>(uint64_t target)> finished;
    std::string path;  // the snapshot file
    std::string database;
    std::string region;
    // On the executor, once the save finished: sets the first chunk's saved_unix_ms and version.
    std::function<void(v1::BackupChunk* first)> describe;
  };

  StatusService(Executor executor, Snapshot snapshot, BackupHooks backup = {})
      : executor_(std::move(executor)),
        snapshot_(std::move(snapshot)),
        backup_(std::move(backup)) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::GetStatusRequest* request,
                                      v1::RegionStatus* response) override;
  grpc::ServerWriteReactor<v1::RegionStatus>* WatchStatus(
      grpc::CallbackServerContext* ctx, const v1::WatchStatusRequest* request) override;
  grpc::ServerWriteReactor<v1::BackupChunk>* Backup(grpc::CallbackServerContext* ctx,
                                                    const v1::BackupRequest* request) override;

 private:
  class Watcher;
  class Backuper;
  Executor executor_;
  Snapshot snapshot_;
  BackupHooks backup_;
};

}  // namespace activekv::syncer
