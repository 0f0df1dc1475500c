// libFuzzer target for what a region does with the Pull messages of its peers
// (docs/replication-protocol.md, docs/fuzzing.md): arbitrary bytes as serialized
// v1::PullResponse (the receiving side: syncer::ReceiverCore over a keyspace) and
// v1::PullRequest (the sending side: syncer::SyncerCore over a replication log), no network.
//
// The region is "a" of database "db" (regions a, b, c). The first input byte sets the scene
// (bit 0: the region is joining, 1: catching up, 2: a short replication log, 3: a hole in it);
// the rest is a program of records, each a tag byte (bits 0-2: the kind; bit 3: which peer or
// stream) and, for kinds 0-4, a payload (2-byte length):
//   0, 1  a PullResponse from peer b / c, as the bytes gRPC hands over (undecodable: the stream
//         ends, as a failed read does)
//   2     an OpBatch from a peer, wrapped as PullResponse.ops
//   3     a Snapshot chunk from a peer, wrapped as PullResponse.snapshot (bit 4: delivered
//         without an open stream when none is open)
//   4     a PullRequest on one of two incoming streams: the first of a stream is its hello
//         (database and region checked as Replicator does), later ones acks; the stream is
//         then pumped (SyncerCore::Poll until it has nothing to send)
//   5     an event (bits 4-5; one argument byte): a link's stream ends, an incoming stream ends
//         (a new one starts), time passes, durability moves
//   6, 7  every link is asked for its ack
// The host applies batches as Region::ApplyRemote does (parse the OpBatch, split it into its
// ops' bytes with SplitBatch, refuse a batch that cuts a unit, crdt::Keyspace::Apply each op in
// order, keep what was applied before a refused op) and snapshots as Region::ApplySnapshot does
// (crdt::Keyspace::MergeSnapshot of the whole snapshot); the AOF is left out.
//
// Invariants (FUZZ_CHECK aborts):
//   - an accepted message re-encodes stably: parse(serialize(m)) serializes to the same bytes;
//     an accepted OpBatch's ops re-framed with AppendOpToBatch split and parse back the same;
//   - a refused op (Keyspace::Apply error) or duplicate changes nothing (digest, applied()); a
//     batch refused before any op applied, a refused snapshot, a response without an open stream
//     leave the whole state (StateOf: the keyspace's snapshot) as it was; every refusal of
//     Receive is the link's last_error;
//   - an applied op moves applied() to exactly its seq; re-applying an accepted batch finds only
//     duplicates and changes nothing; re-merging an accepted snapshot adds no op and changes
//     nothing visible (VisibleOf: digest, applied(), key count);
//   - the incremental digest always equals DigestByWalk;
//   - convergence: when no snapshot was merged and no stability was announced, replaying every
//     applied op in a fresh keyspace, in arrival order and in another order allowed by the
//     rules (each origin's ops in seq order), gives the same digest and applied();
//   - hellos and acks carry durable_applied() (normalised: FromEntries(ToEntries(v)) == v), the
//     database and region, and sorted `direct` origins that include our own;
//   - a join picks an incarnation above every one a peer holds ops of, or 0 if none;
//   - SyncerCore's batches: well-formed (SplitBatch, each op parses, bytes as logged), each
//     origin's ops contiguous from what the peer is known to have, never a skipped origin, never
//     an op whose LSN is not durable, whole units only (never the unfinished one at the log's
//     end), at most max_batch_ops ops unless one unit, nothing while held, no more than `window`
//     messages without an ack in between.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "activekv/v1/op.pb.h"
#include "activekv/v1/sync.pb.h"
#include "crdt/keyspace.h"
#include "fuzz_input.h"
#include "google/protobuf/stubs/logging.h"
#include "keyspace_checks.h"
#include "persistence/aof_format.h"
#include "sync_sender_side.h"
#include "syncer/receiver_core.h"
#include "syncer/syncer_core.h"

namespace activekv::syncer {
namespace {

using fuzz::CheckDigest;
using fuzz::FuzzInput;
using fuzz::StateOf;

const std::vector<std::string>& Regions() {
  static const auto* regions = new std::vector<std::string>{"a", "b", "c"};
  return *regions;
}
constexpr const char* kLocal = fuzz::kSyncLocal;
constexpr const char* kDatabase = fuzz::kSyncDatabase;
const std::string (&kPeers)[2] = fuzz::kSyncPeers;

// What the peers' first responses said of our origins, for the join check.
struct JoinModel {
  bool replied[2] = {false, false};
  bool held = false;
  uint64_t max_incarnation = 0;
};

// The receiving region: a keyspace fed as Region::ApplyRemote / ApplySnapshot feed it.
class FuzzHost final : public ReceiverHost {
 public:
  FuzzHost(bool joining, bool catching_up, const JoinModel* join)
      : ks_(kLocal, Regions()), joining_(joining), catching_up_(catching_up), join_(join) {}

  crdt::Keyspace& keyspace() override { return ks_; }
  absl::StatusOr<uint64_t> ApplyRemote(std::string_view bytes, size_t* ops) override;
  absl::StatusOr<uint64_t> ApplySnapshot(const std::vector<v1::Snapshot>& chunks) override;
  uint64_t durable_lsn() override { return lsn_; }  // everything is durable at once
  const NamedVV& durable_applied() override { return durable_ = FromKeyspace(ks_); }
  const NamedVV& synced_applied() override { return synced_ = FromKeyspace(ks_); }
  bool joining() const override { return joining_; }
  absl::Status FinishJoin(uint64_t incarnation) override;
  bool catching_up() const override { return catching_up_; }
  absl::Status FinishCatchUp() override {
    FUZZ_CHECK(catching_up_ && !joining_);
    catching_up_ = false;
    return absl::OkStatus();
  }

  std::vector<v1::Op> history;  // every op applied (kApplied), in order
  bool merged_snapshot = false;

 private:
  crdt::Keyspace ks_;
  bool joining_;
  bool catching_up_;
  const JoinModel* join_;
  uint64_t lsn_ = 0;
  NamedVV durable_;
  NamedVV synced_;
  v1::OpBatch batch_;
  std::vector<std::string_view> op_bytes_;
};

absl::StatusOr<uint64_t> FuzzHost::ApplyRemote(std::string_view bytes, size_t* ops) {
  *ops = 0;
  const std::string before = StateOf(ks_);
  const bool parsed = batch_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  const bool split = SplitBatch(bytes, &op_bytes_);
  if (parsed && split) {
    // A well-formed sequence of field-1 records that protobuf parses holds one op per record.
    FUZZ_CHECK(op_bytes_.size() == static_cast<size_t>(batch_.ops_size()));
    for (size_t i = 0; i < op_bytes_.size(); ++i) {
      v1::Op op;
      FUZZ_CHECK(op.ParseFromArray(op_bytes_[i].data(), static_cast<int>(op_bytes_[i].size())));
      FUZZ_CHECK(op.SerializeAsString() == batch_.ops(static_cast<int>(i)).SerializeAsString());
    }
  }
  if (!parsed || !split || op_bytes_.size() != static_cast<size_t>(batch_.ops_size())) {
    FUZZ_CHECK(fuzz::SameState(StateOf(ks_), before));
    return absl::InvalidArgumentError("undecodable op batch");
  }
  *ops = op_bytes_.size();
  for (int i = 0; i < batch_.ops_size(); ++i) {
    const v1::Op& op = batch_.ops(i);
    if (!op.unit_continues()) continue;
    if (i + 1 == batch_.ops_size() || batch_.ops(i + 1).origin() != op.origin() ||
        batch_.ops(i + 1).seq() != op.seq() + 1) {
      FUZZ_CHECK(fuzz::SameState(StateOf(ks_), before));
      return absl::InvalidArgumentError("op batch cuts a unit");
    }
  }
  absl::Status error;
  size_t applied = 0;
  for (const v1::Op& op : batch_.ops()) {
    const std::string digest = ks_.Digest();
    const auto named = fuzz::Named(ks_);
    absl::StatusOr<crdt::Keyspace::Outcome> r = ks_.Apply(op);
    if (!r.ok() || *r == crdt::Keyspace::Outcome::kDuplicate) {
      FUZZ_CHECK(ks_.Digest() == digest && fuzz::Named(ks_) == named);
    }
    if (!r.ok()) {
      error = r.status();
      break;
    }
    if (*r == crdt::Keyspace::Outcome::kApplied) {
      crdt::RegionId origin;
      FUZZ_CHECK(ks_.regions().Find(op.origin(), &origin));
      FUZZ_CHECK(ks_.applied().Get(origin) == op.seq());
      history.push_back(op);
      ++applied;
    }
  }
  CheckDigest(ks_);
  if (applied == 0 && !error.ok()) FUZZ_CHECK(fuzz::SameState(StateOf(ks_), before));
  if (error.ok()) {
    // Delivery is at-least-once: the same batch again holds only duplicates.
    const std::string state = StateOf(ks_);
    for (const v1::Op& op : batch_.ops()) {
      absl::StatusOr<crdt::Keyspace::Outcome> r = ks_.Apply(op);
      FUZZ_CHECK(r.ok() && *r == crdt::Keyspace::Outcome::kDuplicate);
    }
    FUZZ_CHECK(fuzz::SameState(StateOf(ks_), state));
  }
  if (applied > 0) ++lsn_;
  if (!error.ok()) return error;
  return applied > 0 ? lsn_ : 0;
}

absl::StatusOr<uint64_t> FuzzHost::ApplySnapshot(const std::vector<v1::Snapshot>& chunks) {
  FUZZ_CHECK(!chunks.empty() && chunks.front().first() && chunks.back().last());
  for (const v1::Snapshot& chunk : chunks) {
    if (chunk.ByteSizeLong() > persistence::aof::kMaxPayloadSize) {
      return absl::InvalidArgumentError("snapshot chunk larger than an AOF record");
    }
  }
  const std::string before = StateOf(ks_);
  absl::StatusOr<uint64_t> added = ks_.MergeSnapshot(fuzz::Ptrs(chunks));
  CheckDigest(ks_);
  if (!added.ok()) {
    FUZZ_CHECK(fuzz::SameState(StateOf(ks_), before));
    return added.status();
  }
  merged_snapshot = true;
  const std::string after = fuzz::VisibleOf(ks_);
  absl::StatusOr<uint64_t> again = ks_.MergeSnapshot(fuzz::Ptrs(chunks));
  FUZZ_CHECK(again.ok() && *again == 0);
  FUZZ_CHECK(fuzz::SameVisible(fuzz::VisibleOf(ks_), after));
  return ++lsn_;
}

absl::Status FuzzHost::FinishJoin(uint64_t incarnation) {
  FUZZ_CHECK(joining_);
  // Every peer answered (only JoinNow, not driven here, forces a join earlier).
  FUZZ_CHECK(join_->replied[0] && join_->replied[1]);
  if (!join_->held) {
    FUZZ_CHECK(incarnation == 0);
  } else {
    // Never reuses a dot a peer holds (docs/fuzzing.md, finding 7: a peer holding ops of
    // "a~18446744073709551615" leaves no incarnation to take; the region stays joining).
    FUZZ_CHECK(incarnation > join_->max_incarnation);
  }
  if (incarnation > 0 && !ks_.ResetLocal(std::string(kLocal) + "~" + std::to_string(incarnation))) {
    return absl::FailedPreconditionError("origin has ops already");
  }
  joining_ = false;
  return absl::OkStatus();
}

class Harness {
 public:
  explicit Harness(uint8_t control)
      : host_((control & 1) != 0, (control & 2) != 0, &join_),
        receiver_(ReceiverOptions(), &host_),
        sender_((control & 4) != 0, (control & 8) != 0,
                [this](const std::string& peer,
                       const google::protobuf::RepeatedPtrField<v1::VersionEntry>& synced) {
                  host_.keyspace().ObservePeerApplied(peer, synced);
                  stability_ = true;
                }) {}

  void Run(FuzzInput* in);
  void CheckConvergence();

 private:
  static ReceiverCore::Options ReceiverOptions() {
    ReceiverCore::Options o;
    o.database = kDatabase;
    o.region = kLocal;
    o.peers = {kPeers[0], kPeers[1]};
    return o;
  }
  void Respond(size_t link, v1::PullResponse* response);
  void CheckRequest(const v1::PullRequest& r, bool hello);
  void EnsureOpen(size_t link);
  void TakeAcks();

  JoinModel join_;
  FuzzHost host_;
  ReceiverCore receiver_;
  fuzz::SenderSide sender_;  // our sending half: peers pulling from us
  int64_t now_ = 1'000'000;
  bool stability_ = false;  // a peer announced what it fsynced
};

void Harness::CheckRequest(const v1::PullRequest& r, bool hello) {
  const NamedVV& applied = host_.durable_applied();
  FUZZ_CHECK(FromEntries(r.applied()) == applied);
  google::protobuf::RepeatedPtrField<v1::VersionEntry> entries;
  ToEntries(applied, &entries);
  FUZZ_CHECK(FromEntries(entries) == applied);
  if (hello) FUZZ_CHECK(r.database() == kDatabase && r.region() == kLocal && r.hold());
  if (hello || r.has_direct()) {
    const auto& o = r.direct().origins();
    FUZZ_CHECK(std::is_sorted(o.begin(), o.end()));
    FUZZ_CHECK(std::find(o.begin(), o.end(), host_.keyspace().local_name()) != o.end());
  }
}

void Harness::EnsureOpen(size_t link) {
  if (receiver_.open(kPeers[link])) return;
  receiver_.ResetBackoff(kPeers[link]);
  v1::PullRequest hello;
  FUZZ_CHECK(receiver_.Connect(kPeers[link], now_, &hello));
  CheckRequest(hello, /*hello=*/true);
}

void Harness::TakeAcks() {
  for (const std::string& peer : kPeers) {
    v1::PullRequest ack;
    if (receiver_.TakeAck(peer, now_, &ack)) CheckRequest(ack, /*hello=*/false);
  }
}

void Harness::Respond(size_t link, v1::PullResponse* response) {
  const std::string& peer = kPeers[link];
  // Accepted bytes re-encode stably.
  const std::string bytes = response->SerializeAsString();
  v1::PullResponse again;
  FUZZ_CHECK(again.ParseFromString(bytes) && again.SerializeAsString() == bytes);
  if (response->has_ops()) {
    v1::OpBatch batch;
    if (batch.ParseFromString(response->ops())) {
      std::string framed;
      for (const v1::Op& op : batch.ops()) AppendOpToBatch(op.SerializeAsString(), &framed);
      std::vector<std::string_view> split;
      FUZZ_CHECK(SplitBatch(framed, &split) &&
                 split.size() == static_cast<size_t>(batch.ops_size()));
      // (Fields of the batch other than its ops, unknown to this build, are not re-framed.)
      v1::OpBatch reparsed;
      FUZZ_CHECK(reparsed.ParseFromString(framed) && reparsed.ops_size() == batch.ops_size());
      for (int i = 0; i < batch.ops_size(); ++i) {
        FUZZ_CHECK(reparsed.ops(i).SerializeAsString() == batch.ops(i).SerializeAsString());
      }
    }
  }
  if (!join_.replied[link]) {
    // The first response since the core was made: what it holds of our origins.
    join_.replied[link] = true;
    for (const v1::VersionEntry& e : response->sender_applied()) {
      if (e.seq() == 0 || !crdt::IsOriginOf(e.region(), kLocal)) continue;
      join_.held = true;
      uint64_t n = 0;
      if (e.region().size() > 1 && !absl::SimpleAtoi(e.region().substr(2), &n)) n = 0;
      join_.max_incarnation = std::max(join_.max_incarnation, n);
    }
  }
  if (response->sender_synced_size() > 0) stability_ = true;
  absl::StatusOr<ReceiverCore::AckCheck> r = receiver_.Receive(peer, response, now_);
  CheckDigest(host_.keyspace());
  if (!r.ok()) {
    FUZZ_CHECK(receiver_.stats(peer)->last_error == r.status().message());
    // The transport ends the stream.
    receiver_.StreamDone(peer, std::string(r.status().message()), now_);
  }
  TakeAcks();
}

void Harness::Run(FuzzInput* in) {
  while (!in->empty()) {
    const uint8_t tag = in->Byte();
    const size_t which = (tag >> 3) & 1;
    switch (tag & 7) {
      case 0:
      case 1: {
        const size_t link = tag & 1;
        const std::string_view bytes = in->Framed();
        EnsureOpen(link);
        v1::PullResponse response;
        if (!response.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          receiver_.StreamDone(kPeers[link], "undecodable response", now_);
          break;
        }
        Respond(link, &response);
        break;
      }
      case 2: {
        v1::PullResponse response;
        response.set_ops(std::string(in->Framed()));
        EnsureOpen(which);
        Respond(which, &response);
        break;
      }
      case 3: {
        const std::string_view bytes = in->Framed();
        v1::PullResponse response;
        if (!response.mutable_snapshot()->ParseFromArray(bytes.data(),
                                                         static_cast<int>(bytes.size()))) {
          break;
        }
        if ((tag & 0x10) != 0 && !receiver_.open(kPeers[which])) {
          // No open stream: refused, nothing changes.
          const std::string before = StateOf(host_.keyspace());
          FUZZ_CHECK(!receiver_.Receive(kPeers[which], &response, now_).ok());
          FUZZ_CHECK(fuzz::SameState(StateOf(host_.keyspace()), before));
          break;
        }
        EnsureOpen(which);
        Respond(which, &response);
        break;
      }
      case 4:
        sender_.Request(which, in->Framed(), now_);
        break;
      case 5: {
        const uint8_t arg = in->Byte();
        switch ((tag >> 4) % 4) {
          case 0:
            receiver_.StreamDone(kPeers[which], arg % 2 ? "cancelled" : "", now_);
            break;
          case 1:
            sender_.StreamEnds(which);
            break;
          case 2:
            now_ += 10 * arg;
            break;
          default:
            sender_.Durable(arg, which);
        }
        break;
      }
      default:
        TakeAcks();
    }
  }
}

void Harness::CheckConvergence() {
  crdt::Keyspace& ks = host_.keyspace();
  if (host_.merged_snapshot || stability_) return;
  // Replayed in arrival order, and with each origin's ops together (a different order that
  // keeps every origin's seq order): the same state.
  std::vector<v1::Op> reordered = host_.history;
  std::stable_sort(reordered.begin(), reordered.end(),
                   [](const v1::Op& x, const v1::Op& y) { return x.origin() > y.origin(); });
  for (const std::vector<v1::Op>* ops : {&host_.history, &reordered}) {
    crdt::Keyspace replay(kLocal, Regions());
    for (const v1::Op& op : *ops) {
      absl::StatusOr<crdt::Keyspace::Outcome> r = replay.Apply(op);
      FUZZ_CHECK(r.ok() && *r == crdt::Keyspace::Outcome::kApplied);
    }
    CheckDigest(replay);
    FUZZ_CHECK(replay.Digest() == ks.Digest());
    FUZZ_CHECK(fuzz::Named(replay) == fuzz::Named(ks));
  }
}

}  // namespace
}  // namespace activekv::syncer

// Invalid UTF-8 in a string field makes parsing fail, as it should, and protobuf log it: quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using activekv::syncer::Harness;
  activekv::fuzz::FuzzInput in(data, size);
  Harness harness(in.Byte());
  harness.Run(&in);
  harness.CheckConvergence();
  return 0;
}
