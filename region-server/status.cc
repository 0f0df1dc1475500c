// The gRPC side of a region: the Status service (and, with replication, the Syncer service) on
// the region's `sync` address, and what GetStatus reports.
#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "region-server/backup_merge.h"
#include "region-server/backup_scheduler.h"
#include "region-server/info.h"
#include "region-server/server.h"
#include "spdlog/spdlog.h"
#include "syncer/replicator.h"
#include "syncer/status_service.h"
#include "syncer/tls.h"

namespace activekv::server {
namespace {

constexpr int kMaxImportMessageBytes = 512 << 20;

}  // namespace
absl::StatusOr<uint64_t> Server::BeginFreshSave() {
  if (loading_) return absl::UnavailableError("the region is loading");
  const Region::SaveStats& st = region_->save_stats();
  // A save already running took its moment before this request: wait for the next one.
  if (st.in_progress || region_->snapshot_busy()) {
    ScheduleBgSave();
    return st.saves + (st.in_progress ? 2 : 1);
  }
  absl::Status s = StartBgSave();
  if (!s.ok()) return s;
  return st.saves + 1;
}

absl::StatusOr<bool> Server::FreshSaveDone(uint64_t target) {
  const Region::SaveStats& st = region_->save_stats();
  if (st.saves >= target) return true;
  if (!st.in_progress && !bgsave_scheduled_ && !region_->snapshot_busy()) {
    return st.last_status.ok() ? absl::InternalError("the save did not run") : st.last_status;
  }
  return false;
}

v1::RegionStatus Server::BuildStatus(bool with_digest) {
  Region& region = *region_;
  region.RefreshClock();
  const crdt::Keyspace& ks = region.ks();
  const topology::RegionConfig* rc = options_.topology.FindRegion(options_.region);
  v1::RegionStatus st;
  st.set_database(options_.topology.name);
  st.set_region(options_.region);
  st.set_resp_address(rc->resp.ToString());
  st.set_sync_address(rc->sync.ToString());
  syncer::ToEntries(syncer::FromKeyspace(ks), st.mutable_version_vector());
  st.set_keys(ks.key_count());
  st.set_applied_ops(ks.applied_ops());
  persistence::Aof::Stats aof = region.aof()->stats();
  absl::Status health = region.aof()->health();
  v1::AofStatus* a = st.mutable_aof();
  a->set_appendfsync(config_.appendfsync);
  a->set_size_bytes(aof.file_size);
  a->set_last_fsync_unix_ms(static_cast<int64_t>(aof.last_fsync_unix_ms));
  a->set_healthy(health.ok());
  if (!health.ok()) a->set_last_error(std::string(health.message()));
  if (with_digest) st.set_digest(ks.Digest());
  int64_t now = region.NowMs();
  syncer::NamedVV local = syncer::FromKeyspace(ks);
  for (const auto& peer : options_.topology.regions) {
    if (peer.name == options_.region) continue;
    v1::PeerStatus* p = st.add_peers();
    p->set_region(peer.name);
    if (!replicator_) continue;
    const syncer::SyncerCore& core = replicator_->core();
    p->set_lag_ops(core.LagOps(peer.name, local));
    p->set_lag_ms(core.LagMs(peer.name, now));
    if (const syncer::SyncerCore::PeerStats* out = core.stats(peer.name)) {
      p->set_last_ack_unix_ms(out->last_ack_unix_ms);
      p->set_bytes_sent(out->bytes_sent);
      p->set_ops_sent(out->ops_sent);
      p->set_full_resyncs_sent(out->full_resyncs_sent);
      syncer::ToEntries(out->acked, p->mutable_acked());
    }
    if (const syncer::Replicator::LinkStats* in = replicator_->link(peer.name)) {
      p->set_connected(in->connected);
      p->set_bytes_received(in->bytes_received);
      p->set_ops_received(in->ops_received);
      p->set_full_resyncs_received(in->full_resyncs_received);
      p->set_last_error(in->last_error);
    }
  }
  st.set_unix_ms(now);
  st.set_uptime_ms(now - start_ms_);
  st.set_loading(loading_);
  st.set_joining(!loading_ && region_->rejoining());
  if (backups_) *st.mutable_backup() = backups_->status();
  return st;
}

absl::Status Server::StartGrpc() {
  const topology::RegionConfig* rc = options_.topology.FindRegion(options_.region);
  auto executor = [this](std::function<void()> task) { asio::post(io_, std::move(task)); };
  syncer::StatusService::BackupHooks backup;
  backup.path = region_->dump_path();
  backup.database = options_.topology.name;
  backup.region = options_.region;
  backup.begin = [this] { return BeginFreshSave(); };
  backup.finished = [this](uint64_t target) { return FreshSaveDone(target); };
  backup.describe = [this](v1::BackupChunk* first) {
    const Region::SaveStats& st = region_->save_stats();
    first->set_saved_unix_ms(st.last_save_unix_s * 1000);
    syncer::ToEntries(st.version, first->mutable_version());
  };
  // (Not named `import`: clang-format takes that for the C++20 keyword.)
  syncer::StatusService::ImportHooks merging;
  merging.database = options_.topology.name;
  merging.begin = [this](const std::string& backup_id, uint64_t token) -> absl::Status {
    if (merge_ != nullptr) {
      return absl::FailedPreconditionError("another restore --merge into this region is running");
    }
    merge_ = std::make_unique<BackupMerge>(this, backup_id);
    merge_token_ = token;
    return absl::OkStatus();
  };
  // The merge of the call named by `token`, or an error (it never began, or has ended).
  auto merge_of = [this](uint64_t token) -> absl::StatusOr<BackupMerge*> {
    if (merge_ == nullptr || merge_token_ != token) {
      return absl::FailedPreconditionError("no restore --merge of this call is running");
    }
    return merge_.get();
  };
  merging.chunk = [merge_of](uint64_t token, const v1::Snapshot& chunk) -> absl::Status {
    absl::StatusOr<BackupMerge*> merge = merge_of(token);
    return merge.ok() ? (*merge)->Add(chunk) : merge.status();
  };
  merging.end = [this, merge_of](uint64_t token, bool complete,
                                 v1::ImportReply* reply) -> absl::StatusOr<uint64_t> {
    if (absl::StatusOr<BackupMerge*> held = merge_of(token); !held.ok()) return held.status();
    std::unique_ptr<BackupMerge> merge = std::move(merge_);
    *reply = merge->counts();
    if (complete && !merge->done()) {
      return absl::InvalidArgumentError("the backup ended before its snapshot's last chunk");
    }
    return merge->lsn();
  };
  merging.durable = [this](uint64_t lsn) { return region_->durable_lsn() >= lsn; };
  status_service_ = std::make_unique<syncer::StatusService>(
      executor, [this](bool with_digest) { return BuildStatus(with_digest); }, std::move(backup),
      std::move(merging));
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int bound_port = 0;
  // Mutual TLS when the topology has `tls` (docs/security.md): only certificates signed by its
  // CA get in; the Status service answers the operator's, the Syncer other regions'.
  std::shared_ptr<grpc::ServerCredentials> server_credentials = grpc::InsecureServerCredentials();
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials;
  if (rc->tls.enabled()) {
    const syncer::TlsFiles files{rc->tls.ca_file, rc->tls.cert_file, rc->tls.key_file};
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> sc =
        syncer::MutualTlsServerCredentials(files);
    if (!sc.ok()) return sc.status();
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> cc =
        syncer::MutualTlsChannelCredentials(files);
    if (!cc.ok()) return cc.status();
    server_credentials = *std::move(sc);
    channel_credentials = *std::move(cc);
    status_service_->set_allow_caller(
        [](const std::string& caller) { return caller == syncer::kOperatorName; });
  }
  builder.AddListeningPort(rc->sync.ToString(), server_credentials, &bound_port);
  builder.RegisterService(status_service_.get());
  // An import message carries one snapshot chunk, which holds at least one whole key: as large
  // as Redis lets one value be (proto-max-bulk-len's default).
  builder.SetMaxReceiveMessageSize(kMaxImportMessageBytes);
  if (options_.topology.regions.size() > 1) {
    syncer::Replicator::Options ro;
    ro.database = options_.topology.name;
    ro.gzip = options_.topology.replication.compression ==
              topology::ReplicationConfig::Compression::kGzip;
    ro.region = options_.region;
    for (const auto& r : options_.topology.regions) {
      if (r.name != options_.region) ro.peers.push_back({r.name, r.sync.ToString()});
    }
    ro.on_messages = [this](const v1::PubSubMessages& messages) { DeliverRemote(messages); };
    if (channel_credentials != nullptr) {
      ro.credentials = channel_credentials;
      ro.allow_caller = [this](const std::string& caller) {
        return caller != options_.region && options_.topology.FindRegion(caller) != nullptr;
      };
    }
    replicator_ = std::make_unique<syncer::Replicator>(ro, region_.get(), executor);
    builder.RegisterService(replicator_.get());
  }
  grpc_server_ = builder.BuildAndStart();
  if (grpc_server_ == nullptr || bound_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve gRPC on ", rc->sync.ToString(), " (address in use?)"));
  }
  spdlog::info("region {}: serving Syncer/Status gRPC on {}", rc->name, rc->sync.ToString());
  if (replicator_) replicator_->Start();
  return absl::OkStatus();
}

}  // namespace activekv::server
