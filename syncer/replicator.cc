#include "syncer/replicator.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <utility>

#include "absl/strings/numbers.h"
#include "grpcpp/grpcpp.h"
#include "persistence/aof_reader.h"
#include "persistence/mutex.h"
#include "syncer/tls.h"

namespace activekv::syncer {

// Pull streams of one Replicator still open, so its Shutdown() can wait for them.
struct Replicator::LiveStreams {
  persistence::Mutex mu;
  int count ABSL_GUARDED_BY(mu) = 0;
  void Add() {
    persistence::MutexLock lock(&mu);
    ++count;
  }
  void Remove() {
    persistence::MutexLock lock(&mu);
    --count;
  }
  // Waits up to `timeout` for every stream to close.
  void AwaitNone(absl::Duration timeout) {
    persistence::MutexLock lock(&mu);
    mu.AwaitWithTimeout([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return count == 0; }, timeout);
  }
};

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// gRPC's own reconnect backoff starts at 1 s: regions that start together would wait that long
// for the first link. Ours is shorter and bounded.
grpc::ChannelArguments ChannelArgs(const Replicator::Options& options, const std::string& peer) {
  grpc::ChannelArguments args;
  if (options.credentials != nullptr) VerifyServerName(peer, &args);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(options.min_backoff_ms));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(options.min_backoff_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options.max_backoff_ms));
  if (options.gzip) args.SetCompressionAlgorithm(GRPC_COMPRESS_GZIP);
  // A batch holds whole ops, and one op can carry a 512 MiB value (proto-max-bulk-len): gRPC's
  // default 4 MiB receive limit made every link drop (and retry forever) after a 5 MB SET.
  args.SetMaxReceiveMessageSize(-1);
  return args;
}

ReceiverCore::Options ReceiverOptions(const Replicator::Options& options) {
  ReceiverCore::Options out;
  out.database = options.database;
  out.region = options.region;
  for (const Replicator::Peer& p : options.peers) out.peers.push_back(p.name);
  out.heartbeat_ms = options.heartbeat_ms;
  out.min_backoff_ms = options.min_backoff_ms;
  out.max_backoff_ms = options.max_backoff_ms;
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// A peer pulling from us. gRPC callbacks only hand events to the executor; everything else runs
// there. Deleted on the executor after OnDone (tasks run in order, so none is left behind it).
class Replicator::Outgoing final
    : public grpc::ServerBidiReactor<v1::PullRequest, v1::PullResponse> {
 public:
  explicit Outgoing(Replicator* r) : r_(r) { StartRead(&request_); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // Half-close, or a request gRPC could not decode (reported as a failed read).
      r_->executor_([this] {
        End(peer_.empty() ? grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         "stream ended before a valid hello")
                          : grpc::Status::OK);
      });
      return;
    }
    v1::PullRequest request = std::move(request_);
    request_.Clear();
    StartRead(&request_);
    r_->executor_([this, request = std::move(request)] { Handle(request); });
  }
  void OnWriteDone(bool ok) override {
    if (ok && !pump_on_done_) {
      // Nothing urgent queued behind this write: the next pump (the server's, after its next
      // AOF flush or timer) sends what comes, so no wake-up of the event loop per batch --
      // unless pub/sub messages were queued meanwhile (Replicator::Publish): they go at once.
      // Publish sets messages_waiting_ then reads writing_; we clear writing_ then read
      // messages_waiting_ (both seq_cst): at least one of the two sees the other and pumps.
      writing_.store(false);
      if (!messages_waiting_.load()) return;
      r_->executor_([this] {
        if (!finished_) r_->PumpOutgoing(this);
      });
      return;
    }
    r_->executor_([this, ok] {
      writing_.store(false, std::memory_order_relaxed);
      if (!ok) {
        End(grpc::Status::CANCELLED);
      } else {
        r_->PumpOutgoing(this);
      }
    });
  }
  void OnCancel() override {
    r_->executor_([this] { End(grpc::Status::CANCELLED); });
  }
  void OnDone() override {
    r_->executor_([this] {
      if (!peer_.empty()) {
        auto it = r_->outgoing_.find(peer_);
        if (it != r_->outgoing_.end() && it->second == this) {
          r_->outgoing_.erase(it);
          r_->core_.OnDisconnect(peer_);
        }
      }
      delete this;
    });
  }

  // Executor thread.
  void Handle(const v1::PullRequest& request) {
    if (finished_) return;
    NamedVV applied = FromEntries(request.applied());
    crdt::Keyspace& ks = r_->host_->keyspace();
    if (peer_.empty()) {
      if (request.database() != r_->options_.database) {
        End(grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            "database '" + request.database() + "' is not '" + r_->options_.database + "'"));
        return;
      }
      bool known = false;
      for (const Peer& p : r_->options_.peers) known |= p.name == request.region();
      if (!known) {
        End(grpc::Status(
            grpc::StatusCode::PERMISSION_DENIED,
            "region '" + request.region() + "' is not a peer of " + r_->options_.region));
        return;
      }
      peer_ = request.region();
      auto it = r_->outgoing_.find(peer_);
      if (it != r_->outgoing_.end() && it->second != this) {
        // A reconnect: the old stream is stale.
        it->second->End(grpc::Status(grpc::StatusCode::ABORTED, "superseded by a new stream"));
      }
      r_->outgoing_[peer_] = this;
      r_->core_.OnPullStart(peer_, applied, DirectOf(request), request.hold());
      r_->OnPeerUp(peer_);
    } else {
      r_->core_.OnAck(peer_, applied, r_->host_->NowMs());
      if (request.has_direct()) r_->core_.SetSkip(peer_, DirectOf(request));
    }
    if (request.synced_size() > 0) ks.ObservePeerApplied(peer_, request.synced());
    r_->PumpOutgoing(this);
  }

  static std::vector<std::string> DirectOf(const v1::PullRequest& request) {
    return {request.direct().origins().begin(), request.direct().origins().end()};
  }

  void End(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  Replicator* r_;
  v1::PullRequest request_;
  v1::PullResponse response_;
  std::string peer_;
  NamedVV synced_sent_;  // the last sender_synced sent on this stream
  std::string batch_;    // the next batch's bytes (swapped into response_)
  bool origin_sent_ = false;
  // Full resync in progress: the AOF read from the start, ops the peer lacks sent in batches.
  std::unique_ptr<persistence::SequentialFile> resync_file_;
  std::unique_ptr<persistence::aof::Reader> resync_reader_;
  NamedVV resync_known_;
  std::vector<std::string> resync_skip_;  // origins the pass leaves out (the peer's skip at start)
  v1::OpBatch resync_record_;
  std::vector<std::string_view> resync_ops_;  // resync_record_'s ops, serialized
  int resync_pos_ = 0;
  std::string resync_payload_;
  // The unit being read (it may span records: Region::AppendRecord), sent whole or not at all:
  // its ops framed as an OpBatch, where each ends, its origin and first seq, and whether its
  // last op was read.
  std::string resync_unit_;
  std::vector<size_t> resync_unit_ends_;
  std::string resync_unit_origin_;
  uint64_t resync_unit_first_ = 0;
  bool resync_unit_done_ = false;
  void ClearResyncUnit() {
    resync_unit_.clear();
    resync_unit_ends_.clear();
    resync_unit_done_ = false;
  }
  // Snapshot records met in the AOF: the one just read (not sent yet), whether the peer needs
  // the snapshot it belongs to (it lacks some op its version covers), and that version.
  bool resync_chunk_pending_ = false;
  bool resync_send_snapshot_ = false;
  NamedVV resync_snapshot_version_;
  v1::Snapshot resync_chunk_;
  // Set by the executor before StartWrite, cleared when the write is done (on a gRPC thread when
  // nothing is urgent, see OnWriteDone).
  std::atomic<bool> writing_{false};
  bool pump_on_done_ = false;  // wake the executor when the write is done
  // Pub/sub messages published here, waiting for the next response (Replicator::Publish), and
  // their size; messages_waiting_ mirrors !messages_.empty() for OnWriteDone.
  // Each waits until the ops logged before it were sent (SyncerCore::ConsideredUpTo its `after`).
  struct PendingMessage {
    uint64_t after;  // the log's end when it was published
    v1::PubSubMessage message;
  };
  std::deque<PendingMessage> messages_;
  size_t messages_bytes_ = 0;
  std::atomic<bool> messages_waiting_{false};
  bool finished_ = false;
  int64_t last_write_ms_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Us pulling from one peer: a sequence of streams (one at a time), reconnecting with backoff.
class Replicator::Link {
 public:
  Link(Replicator* r, const Peer& peer)
      : r_(r),
        peer_(peer),
        channel_(grpc::CreateCustomChannel(peer.address,
                                           r->options_.credentials != nullptr
                                               ? r->options_.credentials
                                               : grpc::InsecureChannelCredentials(),
                                           ChannelArgs(r->options_, peer.name))),
        stub_(v1::Syncer::NewStub(channel_)) {}

  class Stream final : public grpc::ClientBidiReactor<v1::PullRequest, v1::PullResponse> {
   public:
    // The call is held open (AddHold) until the executor knows it will start no more reads or
    // writes (Release): otherwise gRPC could finish it (OnDone) while the executor is about to
    // StartWrite an ack on it.
    Stream(Link* link, const v1::PullRequest& hello) : link_(link), hello_(hello) {
      link_->r_->live_->Add();
      link_->stub_->async()->Pull(&ctx_, this);
      AddHold();
      StartWrite(&hello_);
      StartRead(&response_);
      StartCall();
    }
    void OnWriteDone(bool ok) override {
      // No wake-up of the event loop per ack: only when MaybeAck found this write in flight
      // and left an ack waiting. It sets ack_waiting_ then reads writing_; we clear writing_
      // then read ack_waiting_ (both seq_cst): at least one of the two sees the other. A failed
      // write means the stream is ending (OnReadDone / OnDone follow): nothing waits on it.
      writing_.store(false);
      if (!ok || !ack_waiting_.load()) return;
      link_->r_->executor_([this] { link_->MaybeAck(); });
    }
    void OnReadDone(bool ok) override {
      if (!ok) {  // the stream is ending
        link_->r_->executor_([this] { Release(); });
        return;
      }
      link_->r_->executor_([this] {
        link_->Handle(&response_);
        if (cancelled_) {
          Release();
        } else {
          response_.Clear();
          StartRead(&response_);
        }
      });
    }
    void OnDone(const grpc::Status& status) override {
      link_->r_->executor_([this, status] {
        link_->OnStreamDone(this, status);
        LiveStreams* live = link_->r_->live_.get();
        delete this;
        live->Remove();
      });
    }
    void Cancel() {
      if (!cancelled_) {
        cancelled_ = true;
        ctx_.TryCancel();
      }
    }
    // Executor thread: no more reads or writes will be started on this call.
    void Release() {
      if (released_) return;
      released_ = true;
      RemoveHold();
    }
    std::atomic<bool> writing_{true};  // the hello first
    // MaybeAck wanted to write while a write was in flight (OnWriteDone then calls it again).
    std::atomic<bool> ack_waiting_{false};
    bool cancelled_ = false;
    bool released_ = false;
    v1::PullRequest ack_;

   private:
    Link* link_;
    grpc::ClientContext ctx_;
    v1::PullRequest hello_;
    v1::PullResponse response_;
  };

  // Executor thread from here on.
  void MaybeConnect(int64_t now) {
    if (stream_ != nullptr || r_->shutting_down_ || r_->paused_) return;
    v1::PullRequest hello;
    if (!r_->receiver_.Connect(peer_.name, now, &hello)) return;
    stream_ = new Stream(this, hello);
  }

  void Handle(v1::PullResponse* response) {
    absl::StatusOr<ReceiverCore::AckCheck> check =
        r_->receiver_.Receive(peer_.name, response, r_->options_.steady_ms());
    if (!check.ok()) {
      stream_->Cancel();
      return;
    }
    // The response's ops are applied: its messages go to local subscribers after them.
    if (response->has_messages() && r_->options_.on_messages) {
      r_->options_.on_messages(response->messages());
    }
    if (*check == ReceiverCore::AckCheck::kEveryLink) {
      r_->AckAll();
    } else {
      MaybeAck();
    }
  }

  // One write in flight per stream; the core decides whether an ack is due and what it says.
  void MaybeAck() {
    if (stream_ == nullptr || stream_->cancelled_ || stream_->released_) {
      r_->receiver_.AckBlocked(peer_.name, "no-stream");
      return;
    }
    if (!r_->receiver_.AckMayBeDue(peer_.name)) {
      // Before the stream's first response (the hello's write may still be in flight): no
      // wake-up of the executor when that write is done.
      r_->receiver_.AckBlocked(peer_.name, "holding-first-ack");
      return;
    }
    if (stream_->writing_.load()) {
      stream_->ack_waiting_.store(true);
      r_->receiver_.AckBlocked(peer_.name, "write-in-flight");
      if (stream_->writing_.load()) return;  // OnWriteDone will see ack_waiting_
    }
    stream_->ack_waiting_.store(false);
    if (!r_->receiver_.TakeAck(peer_.name, r_->options_.steady_ms(), &stream_->ack_)) return;
    stream_->writing_.store(true);
    stream_->StartWrite(&stream_->ack_);
  }

  void OnStreamDone(Stream* stream, const grpc::Status& status) {
    if (stream != stream_) return;
    stream_ = nullptr;
    r_->receiver_.StreamDone(peer_.name, status.ok() ? "" : status.error_message(),
                             r_->options_.steady_ms());
    r_->AckAll();  // links holding their first ack for this one need not wait any longer
  }

  void Cancel() {
    if (stream_ != nullptr) stream_->Cancel();
  }
  const std::string& name() const { return peer_.name; }

 private:
  Replicator* r_;
  Peer peer_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Syncer::Stub> stub_;
  Stream* stream_ = nullptr;
};

// ---------------------------------------------------------------------------------------------

Replicator::Replicator(Options options, ReplicaHost* host, Executor executor)
    : options_(std::move(options)),
      host_(host),
      executor_(std::move(executor)),
      core_(&host->log(), options_.core),
      receiver_(ReceiverOptions(options_), host),
      live_(std::make_unique<LiveStreams>()) {
  if (!options_.steady_ms) options_.steady_ms = SteadyMs;
}

Replicator::~Replicator() = default;

void Replicator::Start() {
  for (const Peer& p : options_.peers) links_.push_back(std::make_unique<Link>(this, p));
  Pump();
}

void Replicator::AckAll() {
  for (auto& link : links_) link->MaybeAck();
}

void Replicator::OnPeerUp(const std::string& peer) {
  const LinkStats* stats = receiver_.stats(peer);
  if (stats == nullptr || stats->connected) return;
  receiver_.ResetBackoff(peer);
  for (auto& link : links_) {
    if (link->name() == peer) link->MaybeConnect(options_.steady_ms());
  }
}

void Replicator::CatchUpNow() { receiver_.CatchUpNow(); }

void Replicator::JoinNow(uint64_t floor) { receiver_.JoinNow(floor); }

const char* Replicator::SendState(const std::string& peer) const {
  auto it = outgoing_.find(peer);
  if (it == outgoing_.end()) return "none";
  const Outgoing& out = *it->second;
  if (core_.Held(peer)) return "held";
  return out.writing_.load() ? "writing" : "idle";
}

const Replicator::LinkStats* Replicator::link(const std::string& peer) const {
  return receiver_.stats(peer);
}

grpc::ServerBidiReactor<v1::PullRequest, v1::PullResponse>* Replicator::Pull(
    grpc::CallbackServerContext* ctx) {
  if (options_.allow_caller && !options_.allow_caller(CallerName(*ctx))) {
    return new RefusedBidi<v1::PullRequest, v1::PullResponse>(
        grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                     absl::StrCat("the certificate '", CallerName(*ctx), "' is not a region of ",
                                  options_.database)));
  }
  if (options_.gzip) ctx->set_compression_algorithm(GRPC_COMPRESS_GZIP);
  return new Outgoing(this);
}

void Replicator::SetPaused(bool paused) {
  paused_ = paused;
  if (paused) {
    for (auto& link : links_) link->Cancel();
    for (auto& [name, out] : outgoing_) {
      out->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "replication paused"));
    }
  } else {
    for (const Peer& p : options_.peers) receiver_.ResetBackoff(p.name);
    Pump();
  }
}

void Replicator::PumpOutgoing(Outgoing* out) {
  if (paused_) {
    out->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "replication paused"));
    return;
  }
  if (out->writing_.load(std::memory_order_acquire) || out->finished_ || out->peer_.empty()) {
    return;
  }
  v1::PullResponse& resp = out->response_;
  // The batch buffer moves into the response and back, so its capacity is reused.
  std::string& batch = out->batch_;
  if (resp.has_ops()) batch.swap(*resp.mutable_ops());
  resp.Clear();
  batch.clear();
  int64_t now = options_.steady_ms();
  SyncerCore::Next next = SyncerCore::Next::kNothing;
  if (out->resync_reader_ == nullptr) {
    next = core_.Poll(out->peer_, host_->durable_lsn(), &batch);
  }
  std::string resync_path;
  if (next == SyncerCore::Next::kSnapshot) {
    // The peer lacks ops the log no longer holds: serve them from the AOF, which holds every op
    // this region applied, then go on from the log.
    // Without an AOF, the newest snapshot file serves -- if the log holds every op after it;
    // else a fresh one is asked for, and the pass waits for it (polled again each pump; the
    // stream meanwhile sends heartbeats and messages as an idle one does).
    NamedVV covers;
    bool complete = true;
    resync_path = host_->ResyncFile(&covers, &complete);
    if (!complete && (resync_path.empty() || !core_.LogServesAfter(out->peer_, covers))) {
      host_->RequestResyncSnapshot();
      core_.DeferSnapshot(out->peer_);
      next = SyncerCore::Next::kNothing;
    }
  }
  if (next == SyncerCore::Next::kSnapshot) {
    absl::StatusOr<std::unique_ptr<persistence::SequentialFile>> file =
        host_->env()->NewSequentialFile(resync_path);
    if (!file.ok()) {
      out->End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "full resync: " + std::string(file.status().message())));
      return;
    }
    out->resync_file_ = std::move(*file);
    out->resync_reader_ =
        std::make_unique<persistence::aof::Reader>(out->resync_file_.get(), nullptr);
    out->resync_known_ = core_.Known(out->peer_);
    // Fixed for the whole pass: an origin relayed again halfway would reach the peer with a gap.
    out->resync_skip_ = core_.Skip(out->peer_);
    out->resync_record_.Clear();
    out->resync_ops_.clear();
    out->resync_pos_ = 0;
    out->ClearResyncUnit();
    out->resync_chunk_pending_ = false;
    out->resync_send_snapshot_ = false;
  }
  bool is_chunk = false;
  if (out->resync_reader_ != nullptr) {
    bool more = FillResyncBatch(out, &batch, &is_chunk);
    if (!more) {
      out->resync_reader_.reset();
      out->resync_file_.reset();
      core_.OnSnapshotSent(out->peer_, out->resync_known_);
      if (batch.empty()) {
        // Straight on with the log -- unless the peer still lacks ops that neither the log nor
        // the AOF file had (trimmed from the log before the AOF buffer reached the file): then
        // the next pump (after the AOF flush) tries again. Passing again at once would spin.
        if (!core_.NeedsResync(out->peer_)) PumpOutgoing(out);
        return;
      }
    }
    next = batch.empty() ? SyncerCore::Next::kNothing : SyncerCore::Next::kBatch;
    if (is_chunk) {
      resp.mutable_snapshot()->Swap(&out->resync_chunk_);
      next = SyncerCore::Next::kSnapshot;
    }
  }
  if (next == SyncerCore::Next::kBatch) resp.mutable_ops()->swap(batch);
  // The messages whose preceding ops are sent (at the latest in this response: the receiver
  // applies its ops first), in publish order.
  bool messages = false;
  while (!out->messages_.empty() &&
         core_.ConsideredUpTo(out->peer_, out->messages_.front().after)) {
    Outgoing::PendingMessage& m = out->messages_.front();
    out->messages_bytes_ -= m.message.channel().size() + m.message.message().size();
    resp.mutable_messages()->add_messages()->Swap(&m.message);
    out->messages_.pop_front();
    messages = true;
  }
  if (out->messages_.empty()) out->messages_waiting_.store(false);
  if (next == SyncerCore::Next::kNothing && !messages) {
    if (now - out->last_write_ms_ < options_.heartbeat_ms) return;
    resp.mutable_heartbeat()->set_unix_ms(host_->NowMs());
  }
  if (!out->origin_sent_) {
    out->origin_sent_ = true;
    resp.set_sender_origin(host_->keyspace().local_name());
    ToEntries(FromKeyspace(host_->keyspace()), resp.mutable_sender_applied());
  }
  if (const NamedVV* synced = receiver_.SyncedToAnnounce();
      synced != nullptr && *synced != out->synced_sent_) {
    out->synced_sent_ = *synced;
    ToEntries(*synced, resp.mutable_sender_synced());
  }
  // More than a batch is waiting, or an AOF resync is streaming: send on as soon as this write
  // is done. Otherwise the next pump will do.
  out->pump_on_done_ =
      out->resync_reader_ != nullptr || core_.Pending(out->peer_) >= options_.core.max_batch_ops;
  out->writing_.store(true, std::memory_order_relaxed);
  out->last_write_ms_ = now;
  out->StartWrite(&resp);
}

bool Replicator::FillResyncBatch(Outgoing* out, std::string* batch, bool* is_chunk) {
  const ReplicationLog& log = host_->log();
  size_t ops = 0;
  *is_chunk = false;
  while (true) {
    if (out->resync_unit_done_) {
      // A whole unit: sent if the peer lacks it, the log does not hold it (it comes from the log
      // afterwards, with its durability gate) and the peer does not get its origin directly.
      const std::string& origin = out->resync_unit_origin_;
      auto known = out->resync_known_.find(origin);
      const uint64_t have = known == out->resync_known_.end() ? 0 : known->second;
      const uint64_t last = out->resync_unit_first_ + out->resync_unit_ends_.size() - 1;
      const uint64_t from = std::max(out->resync_unit_first_, have + 1);
      if (have >= last || log.Holds(origin, from) ||
          std::find(out->resync_skip_.begin(), out->resync_skip_.end(), origin) !=
              out->resync_skip_.end()) {
        out->ClearResyncUnit();
        continue;
      }
      // Only ops the peer lacks (all of them, unless it got part of the unit some other way).
      const size_t skip = static_cast<size_t>(from - out->resync_unit_first_);
      const size_t begin = skip == 0 ? 0 : out->resync_unit_ends_[skip - 1];
      const size_t n = out->resync_unit_ends_.size() - skip;
      const size_t size = out->resync_unit_.size() - begin;
      if (ops > 0 && (ops + n > options_.core.max_batch_ops ||
                      batch->size() + size > options_.core.max_batch_bytes)) {
        return true;  // the next batch starts with it (alone if it is larger than a batch)
      }
      batch->append(out->resync_unit_, begin, size);
      ops += n;
      out->resync_known_[origin] = last;
      out->ClearResyncUnit();
      if (ops >= options_.core.max_batch_ops || batch->size() >= options_.core.max_batch_bytes) {
        return true;
      }
      continue;
    }
    if (out->resync_chunk_pending_) {
      if (!batch->empty()) return true;  // the ops before it go first
      out->resync_chunk_pending_ = false;
      v1::Snapshot& chunk = out->resync_chunk_;
      if (!chunk.ParseFromString(out->resync_payload_)) return false;
      if (chunk.first()) {
        out->resync_snapshot_version_ = FromEntries(chunk.version());
        out->resync_send_snapshot_ = !CoversAll(out->resync_known_, out->resync_snapshot_version_);
      }
      if (!out->resync_send_snapshot_) continue;  // the peer has everything it covers
      if (chunk.last()) MergeInto(&out->resync_known_, out->resync_snapshot_version_);
      *is_chunk = true;
      return true;
    }
    if (out->resync_pos_ < out->resync_record_.ops_size()) {
      const int i = out->resync_pos_;
      const v1::Op& op = out->resync_record_.ops(i);
      if (!out->resync_unit_ends_.empty() &&
          (op.origin() != out->resync_unit_origin_ ||
           op.seq() != out->resync_unit_first_ + out->resync_unit_ends_.size())) {
        // The unit in hand was never finished (the region applied it so: replay does the
        // same); it ends here, and this op starts the next one.
        out->resync_unit_done_ = true;
        continue;
      }
      ++out->resync_pos_;
      if (out->resync_unit_ends_.empty()) {
        out->resync_unit_origin_ = op.origin();
        out->resync_unit_first_ = op.seq();
      }
      AppendOpToBatch(out->resync_ops_[static_cast<size_t>(i)], &out->resync_unit_);
      out->resync_unit_ends_.push_back(out->resync_unit_.size());
      out->resync_unit_done_ = !op.unit_continues();
      continue;
    }
    // The rest of a unit may be in the next record. At the end of the file, a unit still open is
    // not sent (its last record is not written yet: the log serves it, or the next pass).
    persistence::aof::Reader::Result r = out->resync_reader_->ReadRecord(&out->resync_payload_);
    if (r == persistence::aof::Reader::Result::kCorruption) continue;
    if (r != persistence::aof::Reader::Result::kRecord) return false;  // end of what is there
    out->resync_pos_ = 0;
    if (out->resync_reader_->record_type() == persistence::aof::kSnapshotType) {
      out->resync_record_.Clear();
      out->resync_ops_.clear();
      // A unit is never interrupted by a snapshot; if one were, it ends here.
      if (!out->resync_unit_ends_.empty()) out->resync_unit_done_ = true;
      out->resync_chunk_pending_ = true;
      continue;
    }
    if (!out->resync_record_.ParseFromString(out->resync_payload_) ||
        !SplitBatch(out->resync_payload_, &out->resync_ops_) ||
        out->resync_ops_.size() != static_cast<size_t>(out->resync_record_.ops_size())) {
      return false;
    }
  }
}

void Replicator::Publish(std::string_view channel, std::string_view message, bool shard) {
  if (paused_) return;
  const size_t size = channel.size() + message.size();
  for (auto& [name, out] : outgoing_) {
    if (out->finished_) continue;
    // A peer that does not read its stream: what it cannot take is lost (at most once).
    if (out->messages_bytes_ + size > options_.max_pending_message_bytes) {
      ++messages_dropped_;
      continue;
    }
    Outgoing::PendingMessage& pending = out->messages_.emplace_back();
    pending.after = host_->log().end();
    v1::PubSubMessage* m = &pending.message;
    m->set_channel(channel.data(), channel.size());
    m->set_message(message.data(), message.size());
    if (shard) m->set_shard(true);
    out->messages_bytes_ += size;
    out->messages_waiting_.store(true);
    ++messages_sent_;
    PumpOutgoing(out);
  }
}

void Replicator::Pump() {
  int64_t now = options_.steady_ms();
  for (auto& [name, out] : outgoing_) PumpOutgoing(out);
  for (auto& link : links_) {
    link->MaybeConnect(now);
    link->MaybeAck();
  }
}

void Replicator::Shutdown() {
  persistence::Mutex mu;
  bool cancelled = false;  // guarded by mu
  executor_([&] {
    shutting_down_ = true;
    for (auto& link : links_) link->Cancel();
    persistence::MutexLock lock(&mu);
    cancelled = true;
  });
  {
    persistence::MutexLock lock(&mu);
    mu.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return cancelled; });
  }
  live_->AwaitNone(absl::Seconds(5));
}

}  // namespace activekv::syncer
