#include "sync_sender_side.h"

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "activekv/v1/sync.pb.h"
#include "fuzz_input.h"

namespace activekv::fuzz {
namespace {

using syncer::CoversAll;
using syncer::FromEntries;
using syncer::NamedVV;
using syncer::ReplicationLog;
using syncer::SplitBatch;
using syncer::SyncerCore;
using syncer::ToEntries;

// The sending side's log: ops of origins a and c (a unit among them), and at its end an
// unfinished unit that must never be sent.
struct LoggedOp {
  std::string origin;
  uint64_t seq;
  bool continues;
  std::string bytes;
};
const std::vector<LoggedOp>& LogOps() {
  static const auto* ops = [] {
    auto* out = new std::vector<LoggedOp>;
    const std::pair<const char*, bool> shape[] = {
        {"a", false}, {"c", false}, {"a", true},  {"a", false}, {"c", false},
        {"a", false}, {"c", true},  {"c", false}, {"a", false}, {"c", true}};
    std::map<std::string, uint64_t> seqs;
    for (const auto& [origin, continues] : shape) {
      v1::Op op;
      op.set_origin(origin);
      op.set_seq(++seqs[origin]);
      op.set_hlc((uint64_t{1000} + out->size()) << 16);
      op.set_key("k" + std::to_string(out->size() % 3));
      op.set_unit_continues(continues);
      op.mutable_set()->set_value("v" + std::to_string(out->size()));
      out->push_back(LoggedOp{origin, op.seq(), continues, op.SerializeAsString()});
    }
    return out;
  }();
  return *ops;
}

// The sending side's log, built once per variant (the core only reads it; a log allocates its
// storage in 1 MiB chunks, too much to build per input): `short_log` keeps the last 5 ops only,
// `hole`: c's ops up to 7 arrived in a snapshot, so the log can no longer serve c's ops.
struct SenderLog {
  SenderLog(bool short_log, bool hole) : log(short_log ? 5 : 64) {
    for (size_t i = 0; i < LogOps().size(); ++i) {
      const LoggedOp& op = LogOps()[i];
      log.Append(op.origin, op.seq, (1000 + i) << 16, op.bytes, i + 1, op.continues);
      everything[op.origin] = op.seq;
    }
    if (hole) {
      log.MarkUnavailable({{"c", 7}});
      everything["c"] = 7;
    }
  }
  ReplicationLog log;
  NamedVV everything;  // what the log was built from (a snapshot of the sender covers it)
};
const SenderLog& SenderLogOf(bool short_log, bool hole) {
  static const auto* logs =
      new SenderLog[4]{{false, false}, {false, true}, {true, false}, {true, true}};
  return logs[(short_log ? 2 : 0) + (hole ? 1 : 0)];
}

}  // namespace

SenderSide::SenderSide(bool short_log, bool hole, ObserveSynced observe)
    : log_(SenderLogOf(short_log, hole).log),
      everything_(SenderLogOf(short_log, hole).everything),
      core_(&log_, SyncerCore::Options{3, 120, 2}),
      observe_(std::move(observe)) {}

void SenderSide::StreamEnds(size_t stream) {
  if (incoming_[stream].open && !incoming_[stream].peer.empty()) {
    core_.OnDisconnect(incoming_[stream].peer);
  }
  incoming_[stream] = Incoming();
}

void SenderSide::Durable(uint64_t lsn, size_t stream) {
  durable_ = std::max<uint64_t>(durable_, lsn % (LogOps().size() + 1));
  Pump(stream);
}

void SenderSide::Request(size_t stream, std::string_view bytes, int64_t now) {
  Incoming& in = incoming_[stream];
  if (!in.open) return;
  v1::PullRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    // gRPC reports the read as failed: the stream ends.
    in.open = false;
    if (!in.peer.empty()) core_.OnDisconnect(in.peer);
    return;
  }
  const std::string encoded = request.SerializeAsString();
  v1::PullRequest again;
  FUZZ_CHECK(again.ParseFromString(encoded) && again.SerializeAsString() == encoded);
  const NamedVV applied = FromEntries(request.applied());
  for (const auto& [region, seq] : applied) FUZZ_CHECK(seq != 0);
  google::protobuf::RepeatedPtrField<v1::VersionEntry> entries;
  ToEntries(applied, &entries);
  FUZZ_CHECK(FromEntries(entries) == applied);
  std::vector<std::string> direct(request.direct().origins().begin(),
                                  request.direct().origins().end());
  if (in.peer.empty()) {
    // Replicator::Outgoing::Handle: a hello for another database or from a region that is not
    // a peer ends the stream before the core hears of it.
    const bool peer = request.region() == kSyncPeers[0] || request.region() == kSyncPeers[1];
    if (request.database() != kSyncDatabase || !peer) {
      in.open = false;
      return;
    }
    in.peer = request.region();
    Incoming& other = incoming_[1 - stream];
    if (other.peer == in.peer) other.open = false;  // superseded: this stream owns the peer now
    core_.OnPullStart(in.peer, applied, direct, request.hold());
    FUZZ_CHECK(core_.Held(in.peer) == request.hold());
    in.sent_since_ack = 0;
  } else {
    core_.OnAck(in.peer, applied, now);
    if (request.has_direct()) core_.SetSkip(in.peer, direct);
    FUZZ_CHECK(!core_.Held(in.peer));
    in.sent_since_ack = 0;
  }
  if (request.synced_size() > 0) observe_(in.peer, request.synced());
  Pump(stream);
}

void SenderSide::Pump(size_t stream) {
  Incoming& in = incoming_[stream];
  if (!in.open || in.peer.empty()) return;
  std::string out;
  for (int i = 0; i < 16; ++i) {
    const NamedVV known = core_.Known(in.peer);
    const std::vector<std::string> skip = core_.Skip(in.peer);
    const bool held = core_.Held(in.peer);
    const SyncerCore::Next next = core_.Poll(in.peer, durable_, &out);
    if (next == SyncerCore::Next::kNothing) return;
    FUZZ_CHECK(!held);
    if (next == SyncerCore::Next::kSnapshot) {
      FUZZ_CHECK(core_.NeedsResync(in.peer));
      // The transport streams a snapshot of everything, or (every third time) cannot yet. It
      // takes a window slot unless an ack covers it already.
      if (++in.snapshots % 3 != 0) {
        if (!CoversAll(core_.stats(in.peer)->acked, everything_)) {
          FUZZ_CHECK(++in.sent_since_ack <= 2);
        }
        core_.OnSnapshotSent(in.peer, everything_);
      } else {
        core_.DeferSnapshot(in.peer);
        return;
      }
      continue;
    }
    FUZZ_CHECK(++in.sent_since_ack <= 2);  // the window
    std::vector<std::string_view> ops;
    FUZZ_CHECK(SplitBatch(out, &ops) && !ops.empty());
    NamedVV next_seq = known;
    std::map<std::string, bool> open_unit;
    for (std::string_view bytes : ops) {
      v1::Op op;
      FUZZ_CHECK(op.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())));
      FUZZ_CHECK(std::find(skip.begin(), skip.end(), op.origin()) == skip.end());
      FUZZ_CHECK(op.seq() == next_seq[op.origin()] + 1);  // contiguous from what it has
      next_seq[op.origin()] = op.seq();
      size_t index = 0;
      while (LogOps()[index].origin != op.origin() || LogOps()[index].seq != op.seq()) ++index;
      FUZZ_CHECK(LogOps()[index].bytes == bytes);
      FUZZ_CHECK(index + 1 <= durable_);         // its LSN is durable
      FUZZ_CHECK(index + 1 != LogOps().size());  // the unfinished unit stays
      open_unit[op.origin()] = op.unit_continues();
    }
    for (const auto& [origin, continues] : open_unit) FUZZ_CHECK(!continues);  // whole units
    if (ops.size() > 3) FUZZ_CHECK(open_unit.size() == 1);  // only a unit larger than a batch
    const NamedVV after = core_.Known(in.peer);
    FUZZ_CHECK(CoversAll(after, known));
  }
}

}  // namespace activekv::fuzz
