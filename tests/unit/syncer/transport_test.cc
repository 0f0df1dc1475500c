// Robustness of the replication transport (syncer/replicator.*) and the Status service
// (syncer/status_service.*) over real gRPC on loopback, in-process: refused hellos, malformed
// protobufs, garbage on the TCP port, a peer that sends a seq gap, Status/WatchStatus, and two
// regions replicating both ways. Each region is a real server::Region on a MemEnv, driven by a
// single-thread task queue (the executor). Tests wait for conditions with deadlines, never sleep
// for a fixed time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activekv/v1/status.grpc.pb.h"
#include "activekv/v1/sync.grpc.pb.h"
#include "crdt/op_builder.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "persistence/aof_reader.h"
#include "persistence/aof_writer.h"
#include "persistence/mem_env.h"
#include "region-server/region.h"
#include "region-server/server.h"
#include "syncer/replicator.h"
#include "syncer/status_service.h"
#include "topology/topology.h"

namespace activekv::syncer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr char kDatabase[] = "db";
constexpr auto kDeadline = seconds(10);  // generous: the machine is shared

// Polls `condition` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition, Clock::duration timeout = kDeadline) {
  auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(2));  // poll interval, not a wait for an effect
  }
  return true;
}

// The executor: one thread running tasks in submission order, plus an optional periodic tick
// (the server's cron: heartbeats, reconnects, AOF flushes).
class TaskLoop {
 public:
  TaskLoop() : thread_([this] { Run(); }) {}
  ~TaskLoop() { Stop(); }

  Executor executor() {
    return [this](std::function<void()> task) { Post(std::move(task)); };
  }
  void Post(std::function<void()> task) {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }
  // Runs `fn` on the loop and returns its result. Not from the loop thread.
  template <typename F>
  auto Call(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    Post([&task] { task(); });
    return result.get();
  }
  void SetTick(std::function<void()> tick, milliseconds period = milliseconds(10)) {
    std::lock_guard<std::mutex> lock(mu_);
    tick_ = std::move(tick);
    period_ = period;
  }
  // Tasks posted but not started yet.
  size_t pending() {
    std::lock_guard<std::mutex> lock(mu_);
    return tasks_.size();
  }
  // Runs what is queued, then ends the thread.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    auto next_tick = Clock::now() + period_;
    while (true) {
      if (!tasks_.empty()) {
        std::function<void()> task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        lock.lock();
      } else if (stop_) {
        return;
      }
      if (!stop_ && tick_ && Clock::now() >= next_tick) {
        std::function<void()> tick = tick_;
        lock.unlock();
        tick();
        lock.lock();
        next_tick = Clock::now() + period_;
      }
      if (tasks_.empty() && !stop_) cv_.wait_until(lock, next_tick);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::function<void()> tick_;
  milliseconds period_{10};
  bool stop_ = false;
  std::thread thread_;
};

// Serves activekv.v1.Syncer for a Replicator created after the server has bound its port (the
// peers' ports are only known then). Until then streams are refused with UNAVAILABLE.
class SyncerFront final : public v1::Syncer::CallbackService {
 public:
  void set_target(Replicator* r) { target_.store(r); }
  grpc::ServerBidiReactor<v1::PullRequest, v1::PullResponse>* Pull(
      grpc::CallbackServerContext* ctx) override {
    if (Replicator* r = target_.load()) return r->Pull(ctx);
    return new Refuse;
  }

 private:
  class Refuse final : public grpc::ServerBidiReactor<v1::PullRequest, v1::PullResponse> {
   public:
    Refuse() { Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "not serving yet")); }
    void OnDone() override { delete this; }
  };
  std::atomic<Replicator*> target_{nullptr};
};

// One region: a Region (appendfsync always) on `env`, its gRPC server on 127.0.0.1:<ephemeral>
// (Syncer + Status), and, once StartReplicator is called, a Replicator.
class Node {
 public:
  Node(persistence::MemEnv* env, std::string name, std::vector<std::string> regions)
      : name_(std::move(name)) {
    server::Region::Options ro;
    ro.name = name_;
    ro.all_regions = std::move(regions);
    ro.data_dir = "/mem/" + name_;
    ro.fsync = persistence::FsyncPolicy::kAlways;
    ro.env = env;
    ro.replication_log_ops = 1 << 16;
    ro.on_commit = [this] { loop_.Post([this] { (void)region_->aof()->Flush(); }); };
    ro.on_durable = [this](uint64_t) {
      loop_.Post([this] {
        if (replicator_) replicator_->Pump();
      });
    };
    // Not a new data directory (Region::joining): these tests write before their links are up,
    // as regions with an AOF do. The join has its own test (test_rewrite.py).
    const std::string aof = "/mem/" + name_ + "/appendonly.aof";
    if (!env->FileExists(aof)) {
      EXPECT_TRUE(env->CreateDirs("/mem/" + name_).ok());
      EXPECT_TRUE(
          persistence::WriteStringToFile(env, persistence::aof::FileHeader(), aof, true).ok());
    }
    region_ = std::make_unique<server::Region>(std::move(ro));
    absl::Status open = loop_.Call([this] {
      persistence::RecoveryResult recovery;
      return region_->Open(&recovery);
    });
    EXPECT_TRUE(open.ok()) << open;
    status_ = std::make_unique<StatusService>(loop_.executor(), [this](bool) {
      v1::RegionStatus st;
      st.set_database(kDatabase);
      st.set_region(name_);
      ToEntries(FromKeyspace(region_->ks()), st.mutable_version_vector());
      st.set_keys(region_->ks().key_count());
      return st;
    });
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&front_);
    builder.RegisterService(status_.get());
    server_ = builder.BuildAndStart();
    EXPECT_NE(server_, nullptr);
    EXPECT_NE(port_, 0);
  }
  ~Node() { Stop(); }

  const std::string& name() const { return name_; }
  int port() const { return port_; }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  TaskLoop& loop() { return loop_; }
  Replicator* replicator() { return replicator_.get(); }

  void StartReplicator(std::vector<Replicator::Peer> peers) {
    CreateReplicator(std::move(peers));
    StartLinks();
  }
  // Serves Pull from now on; StartLinks() then starts pulling.
  void CreateReplicator(std::vector<Replicator::Peer> peers) {
    Replicator::Options o;
    o.database = kDatabase;
    o.region = name_;
    o.peers = std::move(peers);
    o.min_backoff_ms = 20;
    o.max_backoff_ms = 200;
    loop_.Call([this, &o] {
      replicator_ = std::make_unique<Replicator>(o, region_.get(), loop_.executor());
      front_.set_target(replicator_.get());
    });
  }
  void StartLinks() {
    loop_.Call([this] { replicator_->Start(); });
    loop_.SetTick([this] {
      region_->RefreshClock();
      (void)region_->aof()->Flush();
      replicator_->Pump();
    });
  }

  // A local write (SET key value), as a client's command.
  void Set(const std::string& key, const std::string& value) {
    loop_.Call([&] { SetHere(key, value); });
  }
  // The same, on the loop thread.
  void SetHere(const std::string& key, const std::string& value) {
    region_->RefreshClock();
    region_->EmitSet(key, value, v1::ExpiryChange::PERSIST);
    region_->Commit();
  }
  std::optional<std::string> Get(const std::string& key) {
    return loop_.Call([&]() -> std::optional<std::string> {
      const crdt::Entry* e = region_->ks().Find(key);
      if (e == nullptr || !e->Exists()) return std::nullopt;
      return std::string(region_->ValueOf(*e));
    });
  }
  NamedVV Applied() {
    return loop_.Call([this] { return FromKeyspace(region_->ks()); });
  }
  // Every record appended so far is durable.
  bool AofCaughtUp() {
    return loop_.Call([this] { return region_->durable_lsn() >= region_->aof()->appended_lsn(); });
  }
  Replicator::LinkStats Link(const std::string& peer) {
    return loop_.Call([&] {
      const Replicator::LinkStats* s = replicator_->link(peer);
      return s == nullptr ? Replicator::LinkStats{} : *s;
    });
  }

  // Shuts the replicator and the gRPC server down while the loop runs, then the region.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    loop_.SetTick(nullptr);
    loop_.Call([] {});  // no tick is running after this
    if (replicator_) replicator_->Shutdown();
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + seconds(2));
    loop_.Call([] {});  // the reactors' OnDone tasks ran
    server_.reset();
    front_.set_target(nullptr);
    loop_.Call([this] {
      replicator_.reset();
      (void)region_->aof()->SyncAll();
      region_.reset();
    });
    loop_.Stop();
  }

 private:
  std::string name_;
  TaskLoop loop_;  // declared before what its tasks touch: destroyed after it
  std::unique_ptr<server::Region> region_;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<StatusService> status_;
  SyncerFront front_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

// What a region recovers from its AOF after a restart.
struct Recovered {
  NamedVV applied;
  std::vector<std::string> keys;  // existing keys, sorted
};
Recovered Recover(persistence::MemEnv* env, const std::string& name,
                  const std::vector<std::string>& regions) {
  server::Region::Options ro;
  ro.name = name;
  ro.all_regions = regions;
  ro.data_dir = "/mem/" + name;
  ro.fsync = persistence::FsyncPolicy::kNo;
  ro.env = env;
  server::Region region(std::move(ro));
  persistence::RecoveryResult recovery;
  absl::Status s = region.Open(&recovery);
  EXPECT_TRUE(s.ok()) << s;
  Recovered out;
  out.applied = FromKeyspace(region.ks());
  for (const crdt::Keyspace::Indexed& i : region.ks().entries()) {
    if (i.entry().Exists()) out.keys.emplace_back(i.key());
  }
  std::sort(out.keys.begin(), out.keys.end());
  return out;
}

// The dots (origin:seq) of every op in a region's AOF, read without touching the file.
std::vector<std::string> AofDots(persistence::MemEnv* env, const std::string& name) {
  std::vector<std::string> dots;
  auto file = env->NewSequentialFile("/mem/" + name + "/appendonly.aof");
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return dots;
  persistence::aof::Reader reader(file->get(), nullptr);
  std::string payload;
  persistence::aof::Reader::Result r;
  while ((r = reader.ReadRecord(&payload)) == persistence::aof::Reader::Result::kRecord) {
    v1::OpBatch batch;
    EXPECT_TRUE(batch.ParseFromString(payload));
    for (const v1::Op& op : batch.ops()) dots.push_back(absl::StrCat(op.origin(), ":", op.seq()));
  }
  EXPECT_EQ(r, persistence::aof::Reader::Result::kEof);
  return dots;
}

v1::PullRequest Hello(const std::string& database, const std::string& region) {
  v1::PullRequest hello;
  hello.set_database(database);
  hello.set_region(region);
  return hello;
}

// A peer's side of one Pull stream (blocking stub): sends `hello`, reads until `enough` says so
// (then cancels) or the stream ends.
struct PullResult {
  grpc::Status status;
  std::vector<v1::PullResponse> responses;
  bool enough = false;
};
PullResult PullFrom(const std::string& address, const v1::PullRequest& hello,
                    const std::function<bool(const v1::PullResponse&)>& enough) {
  auto stub = v1::Syncer::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  PullResult out;
  auto stream = stub->Pull(&ctx);
  stream->Write(hello);
  v1::PullResponse response;
  while (stream->Read(&response)) {
    out.responses.push_back(response);
    if (!out.enough && enough(response)) {
      out.enough = true;
      ctx.TryCancel();
    }
  }
  out.status = stream->Finish();
  return out;
}

bool HasKey(const v1::PullResponse& r, const std::string& key) {
  v1::OpBatch batch;
  EXPECT_TRUE(batch.ParseFromString(r.ops()));
  for (const v1::Op& op : batch.ops()) {
    if (op.key() == key) return true;
  }
  return false;
}

// A correct peer ("b") can still pull the region's data.
void ExpectPeerCanPull(Node& node, const std::string& key) {
  PullResult r = PullFrom(node.address(), Hello(kDatabase, "b"),
                          [&](const v1::PullResponse& resp) { return HasKey(resp, key); });
  EXPECT_TRUE(r.enough) << "status " << r.status.error_code() << " " << r.status.error_message();
}

// A fake peer "b": a scripted Syncer that streams crafted batches and records hellos and acks.
class FakePeer final : public v1::Syncer::Service {
 public:
  // Stream i (0-based) sends scripts[i] (if any) after its hello; stream `gated` first waits for
  // Release(). With `finish_after_send`, stream i instead sends its batch together with the end
  // of the stream (UNAVAILABLE), as a peer shutting down right after a write does.
  FakePeer(std::vector<v1::OpBatch> scripts, int gated, bool finish_after_send = false)
      : scripts_(std::move(scripts)), gated_(gated), finish_after_send_(finish_after_send) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakePeer() {
    Release();
    server_->Shutdown(std::chrono::system_clock::now() + seconds(2));
  }
  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  grpc::Status Pull(grpc::ServerContext* ctx,
                    grpc::ServerReaderWriter<v1::PullResponse, v1::PullRequest>* stream) override {
    v1::PullRequest hello;
    if (!stream->Read(&hello)) return grpc::Status::OK;
    size_t index;
    {
      std::unique_lock<std::mutex> lock(mu_);
      index = hellos_.size();
      hellos_.push_back(hello);
      cv_.notify_all();
      if (static_cast<int>(index) == gated_) {
        while (!released_ && !ctx->IsCancelled()) cv_.wait_for(lock, milliseconds(5));
      }
    }
    if (finish_after_send_) {
      if (index < scripts_.size()) {
        v1::PullResponse response;
        scripts_[index].SerializeToString(response.mutable_ops());
        stream->WriteLast(response, grpc::WriteOptions());  // goes out with the status
      }
      std::lock_guard<std::mutex> lock(mu_);
      ++finished_;
      cv_.notify_all();
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake peer goes away");
    }
    if (index < scripts_.size()) {
      v1::PullResponse response;
      scripts_[index].SerializeToString(response.mutable_ops());
      stream->Write(response);
    }
    v1::PullRequest ack;
    while (stream->Read(&ack)) {
      std::lock_guard<std::mutex> lock(mu_);
      acks_.emplace_back(index, FromEntries(ack.applied()));
      cv_.notify_all();
    }
    return grpc::Status::OK;
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Waits until `pred` (called under the lock) holds.
  bool WaitUntil(const std::function<bool()>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kDeadline, pred);
  }
  std::vector<v1::PullRequest> hellos_;           // guarded by mu_
  std::vector<std::pair<size_t, NamedVV>> acks_;  // (stream, applied), guarded by mu_
  int finished_ = 0;                              // guarded by mu_
  std::mutex mu_;

 private:
  std::vector<v1::OpBatch> scripts_;
  int gated_;
  bool finish_after_send_;
  bool released_ = false;
  std::condition_variable cv_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Ops b:1..n, SETs of k<i> to v<i>, as region "b" would emit them.
std::vector<v1::Op> OpsOfB(int n) {
  crdt::Keyspace ks("b", {"a", "b"});
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  std::vector<v1::Op> ops;
  for (int i = 1; i <= n; ++i) {
    v1::Op op;
    crdt::MakeSetOp(ks, crdt::HlcFromMs(now_ms) + i, absl::StrCat("k", i), absl::StrCat("v", i),
                    v1::ExpiryChange::PERSIST, 0, &op);
    EXPECT_TRUE(ks.Apply(op).ok());
    ops.push_back(op);
  }
  return ops;
}
v1::OpBatch Batch(const std::vector<v1::Op>& ops, std::initializer_list<int> seqs) {
  v1::OpBatch batch;
  for (int seq : seqs) *batch.add_ops() = ops[seq - 1];
  return batch;
}

// A region "a" whose only peer, "b", is played by test clients; a's own link to b goes to a
// quiet fake that sends nothing, so the link holds one stream instead of cycling through failing
// ones in the background.
class OneRegion : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<Node>(&env_, "a", std::vector<std::string>{"a", "b"});
    node_->StartReplicator({{"b", quiet_b_.address()}});
    node_->Set("k0", "v0");
    ASSERT_TRUE(Eventually([&] { return node_->AofCaughtUp(); }));
  }
  void TearDown() override { node_->Stop(); }

  persistence::MemEnv env_;
  FakePeer quiet_b_{{}, /*gated=*/-1};
  std::unique_ptr<Node> node_;
};

TEST_F(OneRegion, RefusedHellosLeaveTheServerServingCorrectPeers) {
  PullResult wrong_db =
      PullFrom(node_->address(), Hello("other", "b"), [](const v1::PullResponse&) { return true; });
  EXPECT_EQ(wrong_db.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << wrong_db.status.error_message();
  EXPECT_TRUE(wrong_db.responses.empty());

  PullResult stranger = PullFrom(node_->address(), Hello(kDatabase, "mallory"),
                                 [](const v1::PullResponse&) { return true; });
  EXPECT_EQ(stranger.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << stranger.status.error_message();
  EXPECT_TRUE(stranger.responses.empty());

  // The region naming itself is no peer either.
  PullResult itself = PullFrom(node_->address(), Hello(kDatabase, "a"),
                               [](const v1::PullResponse&) { return true; });
  EXPECT_EQ(itself.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  ExpectPeerCanPull(*node_, "k0");
}

TEST_F(OneRegion, AMessageOfAnotherTypeIsReadAsAHelloAndRefused) {
  // A well-formed protobuf of another type parses as a PullRequest: Op.origin lands in
  // `database`, the rest is unknown fields. The hello check refuses it.
  v1::Op op;
  op.set_origin("b");
  op.set_seq(7);
  v1::PullRequest as_hello;
  ASSERT_TRUE(as_hello.ParseFromString(op.SerializeAsString()));
  PullResult r = PullFrom(node_->address(), as_hello, [](const v1::PullResponse&) { return true; });
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ExpectPeerCanPull(*node_, "k0");
}

// A raw bidi stream: writes one message of raw bytes, reads whatever comes back.
class RawBidi final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // `last`: half-close after the message (as a server-streaming call does).
  RawBidi(grpc::GenericStub* stub, const std::string& method, const std::string& bytes,
          bool last = false) {
    ctx_.set_deadline(std::chrono::system_clock::now() + kDeadline);
    grpc::Slice slice(bytes);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub->PrepareBidiStreamingCall(&ctx_, method, grpc::StubOptions(), this);
    if (last) {
      StartWriteLast(&request_, grpc::WriteOptions());
    } else {
      StartWrite(&request_);
    }
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    ++responses_;
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override { done_.set_value(status); }
  // The final status (the stream must end by itself well before the deadline).
  grpc::Status Await() { return done_.get_future().get(); }
  int responses() const { return responses_; }

 private:
  grpc::ClientContext ctx_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::atomic<int> responses_{0};
  std::promise<grpc::Status> done_;
};

// Bytes no PullRequest / GetStatusRequest parser accepts: field 1, length-delimited, claims 16
// bytes but 5 follow.
const std::string kNotAProto = std::string("\x0a\x10short", 7);

TEST_F(OneRegion, MalformedPullRequestEndsTheStreamAndServingGoesOn) {
  ASSERT_FALSE(v1::PullRequest().ParseFromString(kNotAProto));
  grpc::GenericStub stub(grpc::CreateChannel(node_->address(), grpc::InsecureChannelCredentials()));
  auto started = Clock::now();
  RawBidi call(&stub, "/activekv.v1.Syncer/Pull", kNotAProto);
  grpc::Status status = call.Await();
  EXPECT_LT(Clock::now() - started, kDeadline / 2) << "the server did not end the stream";
  EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(call.responses(), 0);
  ExpectPeerCanPull(*node_, "k0");
}

// BUG (syncer/replicator.cc, Outgoing::OnReadDone): a read that fails before any hello -- which
// is how gRPC reports a request it cannot decode -- is taken for a clean half-close and the
// stream is finished with OK. A version-skewed or broken peer then sees a successful, empty
// stream and reconnects forever with no error anywhere. Disabled until a stream that ends
// without a valid hello is refused (INVALID_ARGUMENT).
TEST_F(OneRegion, MalformedPullRequestIsRefusedWithAnError) {
  grpc::GenericStub stub(grpc::CreateChannel(node_->address(), grpc::InsecureChannelCredentials()));
  RawBidi call(&stub, "/activekv.v1.Syncer/Pull", kNotAProto);
  grpc::Status status = call.Await();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << "code " << status.error_code() << " '" << status.error_message() << "'";
}

TEST_F(OneRegion, MalformedStatusRequestsFailAndStatusStillServes) {
  ASSERT_FALSE(v1::GetStatusRequest().ParseFromString(kNotAProto));
  ASSERT_FALSE(v1::WatchStatusRequest().ParseFromString(kNotAProto));
  auto channel = grpc::CreateChannel(node_->address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  grpc::Slice slice(kNotAProto);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/activekv.v1.Status/GetStatus", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  grpc::Status status = done.get_future().get();
  // gRPC 1.51's callback server answers a request it cannot decode with UNIMPLEMENTED and an
  // empty message (grpcpp/impl/codegen/server_callback_handlers.h); the method never runs.
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << status.error_code() << " " << status.error_message();

  RawBidi watch(&stub, "/activekv.v1.Status/WatchStatus", kNotAProto, /*last=*/true);
  grpc::Status watch_status = watch.Await();
  EXPECT_EQ(watch_status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(watch.responses(), 0);

  // A correct client on the same channel, then the Syncer.
  auto status_stub = v1::Status::NewStub(channel);
  grpc::ClientContext ok_ctx;
  ok_ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  v1::RegionStatus st;
  grpc::Status ok = status_stub->GetStatus(&ok_ctx, v1::GetStatusRequest(), &st);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(st.region(), "a");
  EXPECT_EQ(st.keys(), 1u);
  ExpectPeerCanPull(*node_, "k0");
}

// Connects to 127.0.0.1:port, sends `bytes`, and reads until the server closes the connection.
// True if it did before the deadline.
bool ServerClosesConnectionAfter(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{0, 50'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool closed = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    auto deadline = Clock::now() + kDeadline;
    char buf[4096];
    while (Clock::now() < deadline) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closed = true;
        break;
      }
    }
  }
  close(fd);
  return closed;
}

TEST_F(OneRegion, GarbageOnTheTcpPortIsDroppedAndServingGoesOn) {
  const unsigned seed = static_cast<unsigned>(::testing::UnitTest::GetInstance()->random_seed());
  std::printf("random seed: %u (replay with --gtest_random_seed=%u)\n", seed, seed);
  std::mt19937 rng(seed);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xff);
  const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  // A frame header claiming a 16 MiB DATA frame on stream 1 (over the 16 KiB default limit).
  const std::string huge_frame("\xff\xff\xff\x00\x00\x00\x00\x00\x01", 9);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"random bytes", noise},
      {"HTTP/1.1 request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"preface then random bytes", preface + noise},
      {"preface then an oversized frame", preface + huge_frame + noise.substr(0, 64)},
  };
  for (const auto& [what, bytes] : cases) {
    EXPECT_TRUE(ServerClosesConnectionAfter(node_->port(), bytes))
        << what << " (seed " << seed << "): the connection stayed open";
  }
  ExpectPeerCanPull(*node_, "k0");
}

TEST(TransportGap, ASeqGapCancelsTheStreamKeepsThePrefixAndReconnects) {
  const std::vector<std::string> regions = {"a", "b"};
  std::vector<v1::Op> ops = OpsOfB(4);
  // Stream 0: b:1, b:2, b:4 (gap). Stream 1 (after the test looked): b:3, b:4.
  FakePeer fake({Batch(ops, {1, 2, 4}), Batch(ops, {3, 4})}, /*gated=*/1);
  persistence::MemEnv env;
  {
    Node a(&env, "a", regions);
    a.StartReplicator({{"b", fake.address()}});

    ASSERT_TRUE(fake.WaitUntil([&] { return fake.hellos_.size() >= 2; }))
        << "the puller did not reconnect after the gap";
    {
      std::lock_guard<std::mutex> lock(fake.mu_);
      EXPECT_EQ(fake.hellos_[0].database(), kDatabase);
      EXPECT_EQ(fake.hellos_[0].region(), "a");
      EXPECT_EQ(FromEntries(fake.hellos_[0].applied()), NamedVV{});
      // The reconnect resumes after the prefix it applied.
      EXPECT_EQ(FromEntries(fake.hellos_[1].applied()), (NamedVV{{"b", 2}}));
      // Nothing was acknowledged on the broken stream.
      EXPECT_TRUE(fake.acks_.empty());
    }
    // State between the streams: the prefix applied, nothing after the gap.
    EXPECT_EQ(a.Applied(), (NamedVV{{"b", 2}}));
    EXPECT_EQ(a.Get("k1"), "v1");
    EXPECT_EQ(a.Get("k2"), "v2");
    EXPECT_EQ(a.Get("k3"), std::nullopt);
    EXPECT_EQ(a.Get("k4"), std::nullopt);
    Replicator::LinkStats link = a.Link("b");
    EXPECT_EQ(link.batches_received, 1u);
    EXPECT_EQ(link.ops_received, 3u);
    EXPECT_GE(link.reconnects, 1u);
    // ... and persisted: exactly the prefix is in the AOF.
    ASSERT_TRUE(Eventually([&] { return a.AofCaughtUp(); }));
    EXPECT_EQ(AofDots(&env, "a"), (std::vector<std::string>{"b:1", "b:2"}));

    // The rest arrives on the new stream and is acknowledged once durable.
    fake.Release();
    ASSERT_TRUE(fake.WaitUntil([&] {
      for (const auto& [stream, vv] : fake.acks_) {
        if (stream == 1 && Covers(vv, "b", 4)) return true;
      }
      return false;
    }));
    EXPECT_EQ(a.Applied(), (NamedVV{{"b", 4}}));
    EXPECT_EQ(a.Get("k3"), "v3");
    EXPECT_EQ(a.Get("k4"), "v4");
    a.Stop();
  }
  Recovered r = Recover(&env, "a", regions);
  EXPECT_EQ(r.applied, (NamedVV{{"b", 4}}));
  EXPECT_EQ(r.keys, (std::vector<std::string>{"k1", "k2", "k3", "k4"}));
  EXPECT_EQ(AofDots(&env, "a"), (std::vector<std::string>{"b:1", "b:2", "b:3", "b:4"}));
}

// The client reactor starts reads (the task posted by OnReadDone) and ack writes (MaybeAck) from
// the executor, outside gRPC reactions. Without a hold (AddHold until the executor is done with
// the call), once a read has completed and the peer's status has arrived no operation is pending,
// so gRPC runs OnDone and destroys the call while the task that will StartRead on it is still
// queued. Here the executor is held while a fake peer sends one batch together with the end of
// the stream: OnDone's task must not show up before the executor let go. (Checked against the
// replicator without the hold: this fails, and the ACTIVEKV_ASAN build also reports "member call
// on address ... which does not point to an object of type 'ClientCallbackReaderWriter'".)
TEST(TransportGap, APeerEndingTheStreamRightAfterABatchIsSafe) {
  std::vector<v1::Op> ops = OpsOfB(1);
  FakePeer fake({Batch(ops, {1})}, /*gated=*/0, /*finish_after_send=*/true);
  persistence::MemEnv env;
  Node a(&env, "a", {"a", "b"});
  a.CreateReplicator({{"b", fake.address()}});
  bool message_read = false;
  bool done_early = false;
  a.loop().Call([&] {
    a.replicator()->Start();  // opens the stream; its events queue behind this task
    EXPECT_TRUE(fake.WaitUntil([&] { return fake.hellos_.size() >= 1; }));
    // (The hello's write completing posts nothing: a finished write wakes the executor only
    // when an ack waits behind it.)
    size_t before = a.loop().pending();
    fake.Release();  // the batch and the end of the stream
    EXPECT_TRUE(fake.WaitUntil([&] { return fake.finished_ >= 1; }));
    message_read = Eventually([&] { return a.loop().pending() >= before + 1; }, seconds(2));
    done_early = Eventually([&] { return a.loop().pending() >= before + 2; }, milliseconds(300));
  });
  EXPECT_TRUE(message_read);
  EXPECT_FALSE(done_early) << "OnDone ran (the call is gone) before the executor re-armed the read";
  ASSERT_TRUE(Eventually([&] { return a.Applied() == NamedVV{{"b", 1}}; }));
  a.Stop();
}

// The Status service over the real server's BuildStatus (region-server/status.cc), on the
// server's own event loop.
class StatusOverGrpc : public ::testing::Test {
 protected:
  void SetUp() override {
    auto topo = topology::ParseTopology(
        "name: statusdb\npersistence: { appendfsync: everysec }\nregions:\n"
        "  - { name: r1, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: /mem/r1 }\n"
        "  - { name: r2, resp: 127.0.0.1:3, sync: 127.0.0.1:4, data_dir: /mem/r2 }\n",
        "test.yaml", "/");
    ASSERT_TRUE(topo.ok()) << topo.status();
    server::Server::Options options;
    options.topology = *topo;
    options.region = "r1";
    options.env = &env_;
    options.listen = false;
    server_ = std::make_unique<server::Server>(std::move(options));
    ASSERT_TRUE(server_->Start().ok());
    // Three keys, written and synced before the loop runs.
    Write("a", "1");
    Write("b", "2");
    Write("c", "3");
    ASSERT_TRUE(server_->region().aof()->SyncAll().ok());
    digest_ = server_->region().ks().Digest();

    auto executor = [this](std::function<void()> task) {
      asio::post(server_->io(), std::move(task));
    };
    service_ = std::make_unique<StatusService>(
        executor, [this](bool with_digest) { return server_->BuildStatus(with_digest); });
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    grpc_ = builder.BuildAndStart();
    ASSERT_NE(grpc_, nullptr);
    work_.emplace(asio::make_work_guard(server_->io()));
    io_thread_ = std::thread([this] { server_->io().run(); });
    stub_ = v1::Status::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + seconds(2));
    work_.reset();
    server_->io().stop();
    if (io_thread_.joinable()) io_thread_.join();
  }
  // Event-loop thread (or before the loop runs).
  void Write(const std::string& key, const std::string& value) {
    server::Region& region = server_->region();
    region.RefreshClock();
    region.EmitSet(key, value, v1::ExpiryChange::PERSIST);
    region.Commit();
  }
  // Shuts the gRPC server down; true if every call had ended by itself (no forced cancel).
  bool ShutdownQuickly() {
    auto started = Clock::now();
    grpc_->Shutdown(std::chrono::system_clock::now() + seconds(3));
    grpc_.reset();
    return Clock::now() - started < milliseconds(1500);
  }

  persistence::MemEnv env_;
  std::unique_ptr<server::Server> server_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::unique_ptr<StatusService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<v1::Status::Stub> stub_;
  std::thread io_thread_;
  std::string digest_;
  int port_ = 0;
};

TEST_F(StatusOverGrpc, GetStatusReportsTheRegion) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  v1::RegionStatus st;
  grpc::Status s = stub_->GetStatus(&ctx, v1::GetStatusRequest(), &st);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(st.database(), "statusdb");
  EXPECT_EQ(st.region(), "r1");
  EXPECT_EQ(st.sync_address(), "127.0.0.1:2");
  EXPECT_EQ(FromEntries(st.version_vector()), (NamedVV{{"r1", 3}}));
  EXPECT_EQ(st.keys(), 3u);
  EXPECT_EQ(st.applied_ops(), 3u);
  EXPECT_EQ(st.aof().appendfsync(), "everysec");
  EXPECT_GT(st.aof().size_bytes(), 0u);
  EXPECT_GT(st.aof().last_fsync_unix_ms(), 0);
  EXPECT_TRUE(st.aof().healthy());
  EXPECT_TRUE(st.aof().last_error().empty());
  ASSERT_EQ(st.peers_size(), 1);
  EXPECT_EQ(st.peers(0).region(), "r2");
  EXPECT_FALSE(st.peers(0).connected());
  EXPECT_TRUE(st.digest().empty()) << "the digest is only computed on request";
  EXPECT_FALSE(st.loading());
  EXPECT_GT(st.unix_ms(), 0);

  grpc::ClientContext ctx2;
  ctx2.set_deadline(std::chrono::system_clock::now() + kDeadline);
  v1::GetStatusRequest with_digest;
  with_digest.set_with_digest(true);
  ASSERT_TRUE(stub_->GetStatus(&ctx2, with_digest, &st).ok());
  EXPECT_EQ(st.digest(), digest_);
  EXPECT_EQ(st.digest().size(), 34u);  // format byte + 128 bits
}

TEST_F(StatusOverGrpc, WatchStatusStreamsUpdatesAndEndsWhenTheClientCancels) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDeadline);
  v1::WatchStatusRequest request;
  request.set_interval_ms(20);
  auto reader = stub_->WatchStatus(&ctx, request);
  std::vector<int64_t> stamps;  // the server's unix_ms of each update
  std::vector<uint64_t> keys;
  v1::RegionStatus st;
  // After the first update a key is written on the loop; later updates must show it.
  while (reader->Read(&st)) {
    stamps.push_back(st.unix_ms());
    keys.push_back(st.keys());
    EXPECT_EQ(st.region(), "r1");
    if (stamps.size() == 1) {
      asio::post(server_->io(), [this] { Write("d", "4"); });
    }
    if (stamps.size() >= 3 && st.keys() == 4) ctx.TryCancel();
    if (stamps.size() > 500) break;  // bounded even if the write never shows
  }
  grpc::Status s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED) << s.error_message();
  ASSERT_GE(stamps.size(), 3u);
  EXPECT_EQ(keys.front(), 3u);
  EXPECT_EQ(keys.back(), 4u);
  // Paced by the interval: each update is built at least 20 ms after the previous one was
  // written (stamps are whole milliseconds).
  for (size_t i = 1; i < stamps.size(); ++i) EXPECT_GE(stamps[i] - stamps[i - 1], 19) << i;
  // The watcher ended by itself: shutting down needs no forced cancellation.
  EXPECT_TRUE(ShutdownQuickly());
}

TEST_F(StatusOverGrpc, ManyWatchersCancelledAtOnceAllEnd) {
  constexpr int kWatchers = 8;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::RegionStatus>>> readers;
  v1::WatchStatusRequest request;
  request.set_interval_ms(1);
  for (int i = 0; i < kWatchers; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    contexts.back()->set_deadline(std::chrono::system_clock::now() + kDeadline);
    readers.push_back(stub_->WatchStatus(contexts.back().get(), request));
  }
  v1::RegionStatus st;
  for (auto& reader : readers) ASSERT_TRUE(reader->Read(&st));
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& reader : readers) {
    while (reader->Read(&st)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  EXPECT_TRUE(ShutdownQuickly());
}

// Two regions, each pulling from the other over real gRPC.
class TwoRegions : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::vector<std::string> regions = {"a", "b"};
    a_ = std::make_unique<Node>(&env_, "a", regions);
    b_ = std::make_unique<Node>(&env_, "b", regions);
    a_->CreateReplicator({{"b", b_->address()}});
    b_->CreateReplicator({{"a", a_->address()}});
    a_->StartLinks();
    b_->StartLinks();
  }
  void TearDown() override {
    // Both at once, as a server shutting down with peers that do too.
    std::thread t([this] { a_->replicator()->Shutdown(); });
    b_->replicator()->Shutdown();
    t.join();
    a_->Stop();
    b_->Stop();
  }

  persistence::MemEnv env_;
  std::unique_ptr<Node> a_;
  std::unique_ptr<Node> b_;
};

TEST_F(TwoRegions, ReplicateBothWaysAndShutDownPromptly) {
  for (int i = 0; i < 20; ++i) {
    a_->Set(absl::StrCat("from-a-", i), absl::StrCat("x", i));
    b_->Set(absl::StrCat("from-b-", i), absl::StrCat("y", i));
  }
  const NamedVV both = {{"a", 20}, {"b", 20}};
  ASSERT_TRUE(Eventually([&] { return a_->Applied() == both && b_->Applied() == both; }))
      << "a has " << a_->Applied().size() << " origins, b " << b_->Applied().size();
  EXPECT_EQ(a_->Get("from-b-19"), "y19");
  EXPECT_EQ(b_->Get("from-a-19"), "x19");
  EXPECT_EQ(a_->loop().Call([&] { return a_->replicator()->paused(); }), false);
  // Acks flow back: each side learns that the other has everything.
  ASSERT_TRUE(Eventually([&] {
    return a_->loop().Call([&] {
      const SyncerCore::PeerStats* s = a_->replicator()->core().stats("b");
      return s != nullptr && s->acked == both;
    });
  }));
  EXPECT_TRUE(a_->Link("b").connected);
  EXPECT_TRUE(b_->Link("a").connected);

  // Shutdown of both (concurrently) returns promptly while the executors keep running.
  auto started = Clock::now();
  std::thread t([this] { a_->replicator()->Shutdown(); });
  b_->replicator()->Shutdown();
  t.join();
  auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
  EXPECT_LT(ms, 2000) << "Shutdown took " << ms << " ms";
  EXPECT_FALSE(a_->Link("b").connected);
  EXPECT_FALSE(b_->Link("a").connected);
  // The loops still run tasks, and no link reconnects.
  a_->Set("after", "shutdown");
  EXPECT_EQ(a_->Get("after"), "shutdown");
  EXPECT_EQ(b_->Get("after"), std::nullopt);
}

// BUG (syncer/replicator.cc: LiveStreams / Live() and Replicator::Shutdown): the count of open
// pull streams is process-wide, so one Replicator's Shutdown() waits for the streams of every
// other Replicator in the process and returns only after its 5 s timeout when another region
// keeps pulling. Disabled: takes ~5 s until the count is per Replicator.
TEST_F(TwoRegions, ShutdownDoesNotWaitForAnotherReplicatorsStreams) {
  a_->Set("k", "v");
  ASSERT_TRUE(Eventually([&] { return b_->Get("k") == "v"; }));
  ASSERT_TRUE(Eventually([&] { return a_->Link("b").connected && b_->Link("a").connected; }));
  auto started = Clock::now();
  a_->replicator()->Shutdown();  // b keeps running and pulling from a
  auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
  EXPECT_LT(ms, 2000) << "Shutdown took " << ms << " ms";
}

}  // namespace
}  // namespace activekv::syncer
