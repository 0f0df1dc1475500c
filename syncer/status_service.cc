#include "syncer/status_service.h"

#include <atomic>
#include <fstream>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "persistence/mutex.h"
#include "syncer/tls.h"

namespace activekv::syncer {
namespace {

// Runs `f` on `executor` and waits for its result. nullopt once `cancelled()` says so while
// waiting: the executor may never run it (the server is stopping).
template <typename T, typename F, typename C>
std::optional<T> WaitOnExecutor(const Executor& executor, F f, C cancelled) {
  // Shared with the task: it may run after this call gave up.
  struct Result {
    persistence::Mutex mu;
    std::optional<T> value ABSL_GUARDED_BY(mu);
  };
  auto result = std::make_shared<Result>();
  executor([f = std::move(f), result]() mutable {
    T value = f();
    persistence::MutexLock lock(&result->mu);
    result->value = std::move(value);
  });
  persistence::MutexLock lock(&result->mu);
  while (!result->mu.AwaitWithTimeout(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(result->mu) { return result->value.has_value(); },
      absl::Milliseconds(100))) {
    if (cancelled()) return std::nullopt;
  }
  return std::move(result->value);
}

// A call whose work runs on a thread of its own (Backuper, Importer): the thread waits for the
// executor (OnExecutor) and for the call's events on mu_; cancellation -- gRPC's, or the reactor
// going away -- wakes it. Derived classes start worker_ last in their constructor and
// call Join() first in their destructor (the thread uses their members).
class CallThread {
 protected:
  explicit CallThread(const Executor* executor) : executor_(executor) {}
  ~CallThread() = default;

  void Cancel() {
    persistence::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void Join() {
    Cancel();
    if (worker_.joinable()) worker_.join();
  }
  bool Cancelled() {
    persistence::MutexLock lock(&mu_);
    return cancelled_;
  }
  // Waits up to `timeout` for a cancellation (a poll interval).
  void AwaitCancelled(absl::Duration timeout) {
    persistence::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return cancelled_; },
                         timeout);
  }
  // Runs `f` on the executor and waits for its result (nullopt: cancelled meanwhile).
  template <typename T, typename F>
  std::optional<T> OnExecutor(F f) {
    return WaitOnExecutor<T>(*executor_, std::move(f), [this] { return Cancelled(); });
  }

  const Executor* executor_;
  persistence::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace

bool StatusService::Allowed(const grpc::CallbackServerContext& ctx) const {
  return !allow_caller_ || allow_caller_(CallerName(ctx));
}

grpc::Status StatusService::Refusal(const grpc::CallbackServerContext& ctx) const {
  return grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED,
      "the Status service answers the operator's certificate only (got '" + CallerName(ctx) + "')");
}

grpc::ServerUnaryReactor* StatusService::GetStatus(grpc::CallbackServerContext* ctx,
                                                   const v1::GetStatusRequest* request,
                                                   v1::RegionStatus* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (!Allowed(*ctx)) {
    reactor->Finish(Refusal(*ctx));
    return reactor;
  }
  bool with_digest = request->with_digest();
  executor_([this, reactor, response, with_digest] {
    *response = snapshot_(with_digest);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

// Streams a status every interval: one write in flight at a time; the next one is produced on
// the executor after the previous write completed and the interval elapsed.
class StatusService::Watcher final : public grpc::ServerWriteReactor<v1::RegionStatus> {
 public:
  Watcher(StatusService* service, const v1::WatchStatusRequest& request)
      : service_(service),
        interval_(absl::Milliseconds(request.interval_ms() == 0 ? 1000 : request.interval_ms())),
        with_digest_(request.with_digest()),
        ticker_([this] { Tick(); }) {}

  ~Watcher() override {
    {
      persistence::MutexLock lock(&mu_);
      done_ = true;
    }
    ticker_.join();
  }

  void OnWriteDone(bool ok) override {
    persistence::MutexLock lock(&mu_);
    if (!ok) {
      cancelled_ = true;
    } else {
      writing_ = false;
    }
  }
  void OnCancel() override {
    persistence::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  void OnDone() override { delete this; }

 private:
  // A small thread per watcher paces the stream; watchers are few (operators, activekvctl).
  void Tick() {
    mu_.Lock();
    while (!done_ && !cancelled_) {
      writing_ = true;
      in_executor_ = true;
      mu_.Unlock();
      service_->executor_([this] {
        status_ = service_->snapshot_(with_digest_);
        StartWrite(&status_);
        persistence::MutexLock guard(&mu_);
        in_executor_ = false;
      });
      mu_.Lock();
      mu_.Await(
          [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ || cancelled_ || !writing_; });
      if (done_ || cancelled_) break;
      mu_.AwaitWithTimeout(
          [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ || cancelled_; }, interval_);
    }
    // The task on the executor refers to this watcher: let it finish first.
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !in_executor_; });
    const bool finish = cancelled_ && !finished_;
    finished_ = finished_ || finish;
    mu_.Unlock();
    if (finish) Finish(grpc::Status::CANCELLED);
  }

  StatusService* service_;
  absl::Duration interval_;
  bool with_digest_;
  v1::RegionStatus status_;
  persistence::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool in_executor_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

grpc::ServerWriteReactor<v1::RegionStatus>* StatusService::WatchStatus(
    grpc::CallbackServerContext* ctx, const v1::WatchStatusRequest* request) {
  if (!Allowed(*ctx)) return new RefusedWriter<v1::RegionStatus>(Refusal(*ctx));
  return new Watcher(this, *request);
}

// A backup call: waits (polling the executor) for a save that started after the request, then
// streams the snapshot file.
class StatusService::Backuper final : public grpc::ServerWriteReactor<v1::BackupChunk>,
                                      private CallThread {
 public:
  explicit Backuper(StatusService* service) : CallThread(&service->executor_), service_(service) {
    worker_ = std::thread([this] { Run(); });
  }

  ~Backuper() override { Join(); }

  void OnWriteDone(bool ok) override {
    persistence::MutexLock lock(&mu_);
    if (!ok) cancelled_ = true;
    writing_ = false;
  }
  void OnCancel() override { Cancel(); }
  void OnDone() override { delete this; }

 private:
  static constexpr size_t kChunkBytes = 1 << 20;
  static constexpr absl::Duration kPoll = absl::Milliseconds(20);

  void Run() {
    const BackupHooks& hooks = service_->backup_;
    if (!hooks.begin) return End(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no backups here"));
    std::optional<absl::StatusOr<uint64_t>> target =
        OnExecutor<absl::StatusOr<uint64_t>>(hooks.begin);
    if (!target) return End(grpc::Status::CANCELLED);
    if (!target->ok()) return End(Error(target->status(), "cannot start a snapshot"));
    while (true) {
      if (Cancelled()) return End(grpc::Status::CANCELLED);
      const uint64_t want = **target;
      std::optional<absl::StatusOr<bool>> done =
          OnExecutor<absl::StatusOr<bool>>([&hooks, want] { return hooks.finished(want); });
      if (!done) return End(grpc::Status::CANCELLED);
      if (!done->ok()) return End(Error(done->status(), "the snapshot failed"));
      if (**done) break;
      AwaitCancelled(kPoll);
    }
    const std::optional<v1::BackupChunk> described = OnExecutor<v1::BackupChunk>([&hooks] {
      v1::BackupChunk first;
      hooks.describe(&first);
      return first;
    });
    if (!described) return End(grpc::Status::CANCELLED);
    // Opened once: a later save renames a new file into place, this one stays readable.
    std::ifstream in(hooks.path, std::ios::binary);
    if (!in) return End(grpc::Status(grpc::StatusCode::INTERNAL, "cannot open " + hooks.path));
    in.seekg(0, std::ios::end);
    const auto total = static_cast<uint64_t>(in.tellg());
    in.seekg(0, std::ios::beg);
    chunk_ = *described;
    chunk_.set_database(hooks.database);
    chunk_.set_region(hooks.region);
    chunk_.set_total_bytes(total);
    std::string buf(kChunkBytes, '\0');
    uint64_t sent = 0;
    do {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<size_t>(in.gcount());
      if (n == 0 && sent < total) {
        return End(grpc::Status(grpc::StatusCode::INTERNAL, "short read of " + hooks.path));
      }
      chunk_.set_data(buf.data(), n);
      sent += n;
      if (!BeginWrite()) return End(grpc::Status::CANCELLED);
      StartWrite(&chunk_);
      if (!AwaitWritten()) return End(grpc::Status::CANCELLED);
      chunk_.Clear();
    } while (sent < total);
    End(grpc::Status::OK);
  }

  static grpc::Status Error(const absl::Status& s, absl::string_view what) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat(what, ": ", s.message()));
  }

  void End(const grpc::Status& status) { Finish(status); }

  // Marks a write in flight; false once cancelled.
  bool BeginWrite() {
    persistence::MutexLock lock(&mu_);
    if (cancelled_) return false;
    writing_ = true;
    return true;
  }
  // Waits for the write in flight; false once cancelled.
  bool AwaitWritten() {
    persistence::MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_ || cancelled_; });
    return !cancelled_;
  }

  StatusService* service_;
  v1::BackupChunk chunk_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerWriteReactor<v1::BackupChunk>* StatusService::Backup(
    grpc::CallbackServerContext* ctx, const v1::BackupRequest* /*request*/) {
  if (!Allowed(*ctx)) return new RefusedWriter<v1::BackupChunk>(Refusal(*ctx));
  return new Backuper(this);
}

// An import call (restore --merge): one message read, merged on the executor, then the next;
// at the end the reply waits (polling the executor) until the merge's writes are durable.
class StatusService::Importer final : public grpc::ServerReadReactor<v1::ImportRequest>,
                                      private CallThread {
 public:
  Importer(StatusService* service, v1::ImportReply* reply)
      : CallThread(&service->executor_), service_(service), reply_(reply) {
    reading_ = true;
    StartRead(&request_);  // the first read starts here, as the reactor is made
    worker_ = std::thread([this] { Run(); });
  }

  ~Importer() override { Join(); }

  void OnReadDone(bool ok) override {
    persistence::MutexLock lock(&mu_);
    reading_ = false;
    read_ok_ = ok;
  }
  void OnCancel() override { Cancel(); }
  void OnDone() override { delete this; }

 private:
  static constexpr absl::Duration kPoll = absl::Milliseconds(5);
  // The next message into request_; false at the end of the stream or once cancelled.
  bool Read() {
    {
      persistence::MutexLock lock(&mu_);
      if (cancelled_) return false;
      reading_ = true;
    }
    StartRead(&request_);
    return ReadDone();
  }
  // Waits for the read in flight.
  bool ReadDone() {
    persistence::MutexLock lock(&mu_);
    mu_.Await([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !reading_ || cancelled_; });
    return !reading_ && read_ok_ && !cancelled_;
  }

  // Every task handed to the executor captures values only (never `this` or a local): once the
  // call is cancelled the thread stops waiting and the reactor goes, while the task still runs.
  void Run() {
    const ImportHooks* hooks = &service_->import_;
    if (!hooks->begin) return Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no imports"));
    if (!ReadDone()) return Finish(grpc::Status::CANCELLED);
    if (request_.database() != hooks->database) {
      return Finish(grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("backup ", request_.backup_id(), " is of database '", request_.database(),
                       "'; this region serves database '", hooks->database, "'")));
    }
    static std::atomic<uint64_t> last_token{0};
    const uint64_t token = ++last_token;
    std::optional<absl::Status> began = OnExecutor<absl::Status>(
        [hooks, token, id = request_.backup_id()] { return hooks->begin(id, token); });
    if (!began) {
      // begin may still run: end what it would start (end ignores a token it does not hold).
      service_->executor_([hooks, token] {
        v1::ImportReply ignored;
        (void)hooks->end(token, false, &ignored);
      });
      return Finish(grpc::Status::CANCELLED);
    }
    if (!began->ok()) return Finish(Error(*began));
    absl::Status merged;
    bool more = true;
    while (more) {
      if (request_.has_chunk()) {
        auto chunk = std::make_shared<v1::Snapshot>();
        chunk->Swap(request_.mutable_chunk());
        std::optional<absl::Status> s =
            OnExecutor<absl::Status>([hooks, token, chunk] { return hooks->chunk(token, *chunk); });
        if (!s) break;
        merged = *s;
        if (!merged.ok()) break;
      }
      more = Read();
    }
    const bool complete = merged.ok() && !more && !Cancelled();
    auto reply = std::make_shared<v1::ImportReply>();
    std::optional<absl::StatusOr<uint64_t>> lsn = OnExecutor<absl::StatusOr<uint64_t>>(
        [hooks, token, complete, reply] { return hooks->end(token, complete, reply.get()); });
    if (!lsn || Cancelled()) return Finish(grpc::Status::CANCELLED);
    *reply_ = *reply;
    if (!merged.ok()) return Finish(Error(merged));
    if (!lsn->ok()) return Finish(Error(lsn->status()));
    const uint64_t want = **lsn;
    while (true) {
      std::optional<bool> durable =
          OnExecutor<bool>([hooks, want] { return hooks->durable(want); });
      if (!durable) return Finish(grpc::Status::CANCELLED);
      if (*durable) break;
      AwaitCancelled(kPoll);
    }
    Finish(grpc::Status::OK);
  }

  static grpc::Status Error(const absl::Status& s) {
    const grpc::StatusCode code = s.code() == absl::StatusCode::kInvalidArgument
                                      ? grpc::StatusCode::INVALID_ARGUMENT
                                      : grpc::StatusCode::FAILED_PRECONDITION;
    return grpc::Status(code, std::string(s.message()));
  }

  StatusService* service_;
  v1::ImportReply* reply_;
  v1::ImportRequest request_;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool read_ok_ ABSL_GUARDED_BY(mu_) = false;
};

grpc::ServerReadReactor<v1::ImportRequest>* StatusService::Import(grpc::CallbackServerContext* ctx,
                                                                  v1::ImportReply* reply) {
  if (!Allowed(*ctx)) return new RefusedReader<v1::ImportRequest>(Refusal(*ctx));
  return new Importer(this, reply);
}

}  // namespace activekv::syncer
