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
// streamed from a thread of the call's own (one write in flight, 1 MiB a chunk). Import likewise
// runs on a thread of its own, one message at a time.
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

  // Import (restore --merge): the region's part, each on the executor. The call reads a message,
  // hands its chunk to `chunk` and reads the next only after it returned (so memory stays one
  // chunk), then waits for `durable`.
  // Each call names its merge by a token of its own: end() with a token the region does not hold
  // (begin() refused it, or never ran) changes nothing.
  struct ImportHooks {
    std::string database;  // a backup of another database is refused
    // Starts a merge; an error when none can start (another one runs, the region is loading).
    std::function<absl::Status(const std::string& backup_id, uint64_t token)> begin;
    // Merges the next snapshot chunk.
    std::function<absl::Status(uint64_t token, const v1::Snapshot& chunk)> chunk;
    // Ends the merge begin() started (`complete`: the client sent every message): fills the
    // reply and returns the LSN to wait for; an error when the snapshot ended before its last
    // chunk.
    std::function<absl::StatusOr<uint64_t>(uint64_t token, bool complete, v1::ImportReply* reply)>
        end;
    // True once `lsn` is durable (the region's appendfsync).
    std::function<bool(uint64_t lsn)> durable;
  };

  StatusService(Executor executor, Snapshot snapshot, BackupHooks backup = {},
                ImportHooks import = {})
      : executor_(std::move(executor)),
        snapshot_(std::move(snapshot)),
        backup_(std::move(backup)),
        import_(std::move(import)) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::GetStatusRequest* request,
                                      v1::RegionStatus* response) override;
  grpc::ServerWriteReactor<v1::RegionStatus>* WatchStatus(
      grpc::CallbackServerContext* ctx, const v1::WatchStatusRequest* request) override;
  grpc::ServerWriteReactor<v1::BackupChunk>* Backup(grpc::CallbackServerContext* ctx,
                                                    const v1::BackupRequest* request) override;
  grpc::ServerReadReactor<v1::ImportRequest>* Import(grpc::CallbackServerContext* ctx,
                                                     v1::ImportReply* reply) override;

  // Who may call (the caller's certificate name, syncer/tls.h); unset: anyone.
  void set_allow_caller(std::function<bool(const std::string& caller)> allow) {
    allow_caller_ = std::move(allow);
  }

 private:
  bool Allowed(const grpc::CallbackServerContext& ctx) const;
  grpc::Status Refusal(const grpc::CallbackServerContext& ctx) const;
  std::function<bool(const std::string& caller)> allow_caller_;
  class Watcher;
  class Backuper;
  class Importer;
  Executor executor_;
  Snapshot snapshot_;
  BackupHooks backup_;
  ImportHooks import_;
};

}  // namespace activekv::syncer
