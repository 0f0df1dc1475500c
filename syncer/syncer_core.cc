#include "syncer/syncer_core.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "crdt/types.h"

namespace activekv::syncer {
namespace {

uint64_t Get(const NamedVV& vv, std::string_view region) {
  auto it = vv.find(region);
  return it == vv.end() ? 0 : it->second;
}

void Raise(NamedVV* vv, std::string_view region, uint64_t seq) {
  if (seq == 0) return;
  auto it = vv->find(region);
  if (it == vv->end()) {
    vv->emplace(std::string(region), seq);
  } else if (seq > it->second) {
    it->second = seq;
  }
}

}  // namespace

bool Covers(const NamedVV& vv, std::string_view origin, uint64_t seq) {
  return seq <= Get(vv, origin);
}

bool CoversAll(const NamedVV& vv, const NamedVV& need) {
  for (const auto& [region, seq] : need) {
    if (!Covers(vv, region, seq)) return false;
  }
  return true;
}

NamedVV FromEntries(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& entries) {
  NamedVV vv;
  for (const v1::VersionEntry& e : entries) Raise(&vv, e.region(), e.seq());
  return vv;
}

void ToEntries(const NamedVV& vv, google::protobuf::RepeatedPtrField<v1::VersionEntry>* out) {
  out->Clear();
  for (const auto& [region, seq] : vv) {
    if (seq == 0) continue;
    v1::VersionEntry* e = out->Add();
    e->set_region(region);
    e->set_seq(seq);
  }
}

NamedVV FromKeyspace(const crdt::Keyspace& ks) {
  NamedVV vv;
  const crdt::VersionVector& applied = ks.applied();
  for (crdt::RegionId r = 0; r < applied.size(); ++r) {
    Raise(&vv, ks.regions().Name(r), applied.Get(r));
  }
  return vv;
}

void MergeInto(NamedVV* into, const NamedVV& from) {
  for (const auto& [region, seq] : from) Raise(into, region, seq);
}

// ---------------------------------------------------------------------------------------------
// ReplicationLog
//
// Each origin's ops in the log are indexed by seq: `indices[i]` is the log index of seq
// floor+1+i. Entries an origin no longer indexes (MarkUnavailable put a hole after them) stay in
// `entries_` until trimmed; SyncerCore may still send them (they are valid ops, in seq order),
// but StartFor never relies on them.

void AppendOpToBatch(std::string_view op_bytes, std::string* batch) {
  batch->push_back(static_cast<char>(0x0a));  // field 1, length-delimited
  uint64_t n = op_bytes.size();
  while (n >= 0x80) {
    batch->push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  batch->push_back(static_cast<char>(n));
  batch->append(op_bytes);
}

bool SplitBatch(std::string_view batch, std::vector<std::string_view>* ops) {
  ops->clear();
  size_t pos = 0;
  while (pos < batch.size()) {
    if (batch[pos++] != 0x0a) return false;
    uint64_t n = 0;
    for (int shift = 0;; shift += 7) {
      if (pos >= batch.size() || shift > 28) return false;
      const uint8_t b = static_cast<uint8_t>(batch[pos++]);
      n |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (n > batch.size() - pos) return false;
    ops->push_back(batch.substr(pos, n));
    pos += n;
  }
  return true;
}

uint32_t ReplicationLog::OriginId(std::string_view name) {
  auto it = origin_ids_.find(name);
  if (it != origin_ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(origins_.size());
  origins_.push_back(Origin{std::string(name), 0, {}});
  origin_ids_.emplace(std::string(name), id);
  return id;
}

const char* ReplicationLog::Store(std::string_view bytes) {
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().used < bytes.size()) {
    Chunk chunk;
    if (spare_.capacity >= bytes.size()) {
      chunk = std::move(spare_);
      spare_ = Chunk();
    } else {
      chunk.capacity = std::max(kChunkBytes, bytes.size());
      chunk.data.reset(new char[chunk.capacity]);  // not zeroed: every byte is written first
    }
    chunk.used = 0;
    chunk.end = end();
    chunks_.push_back(std::move(chunk));
  }
  Chunk& c = chunks_.back();
  char* out = c.data.get() + c.used;
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
  c.used += bytes.size();
  return out;
}

void ReplicationLog::Append(std::string_view origin, uint64_t seq, uint64_t hlc,
                            std::string_view op_bytes, uint64_t lsn, bool unit_continues) {
  const uint32_t id = OriginId(origin);
  Origin& o = origins_[id];
  const uint64_t last = o.floor + o.indices.size();
  if (seq <= last) {
    assert(false && "ReplicationLog::Append: op already logged");
    return;
  }
  if (seq != last + 1) {
    assert(false && "ReplicationLog::Append: seq gap");
    o.floor = seq - 1;
    o.indices.clear();
  }
  const char* data = Store(op_bytes);
  o.indices.push_back(end());
  entries_.push_back(Entry{data, static_cast<uint32_t>(op_bytes.size()), id,
                           unit_continues ? 1u : 0u, seq, hlc, lsn});
  chunks_.back().end = end();
  TrimFront();
}

void ReplicationLog::Append(const v1::Op& op, uint64_t lsn) {
  scratch_.clear();
  op.SerializeToString(&scratch_);
  Append(op.origin(), op.seq(), op.hlc(), scratch_, lsn, op.unit_continues());
}

void ReplicationLog::TrimFront() {
  while (entries_.size() > max_ops_) {
    Origin& o = origins_[entries_.front().origin];
    if (!o.indices.empty() && o.indices.front() == begin_) {
      o.indices.pop_front();
      ++o.floor;
    }
    entries_.pop_front();
    ++begin_;
  }
  while (chunks_.size() > 1 && chunks_.front().end <= begin_) {
    if (chunks_.front().capacity == kChunkBytes) spare_ = std::move(chunks_.front());
    chunks_.pop_front();
  }
}

void ReplicationLog::MarkUnavailable(const NamedVV& upto) {
  for (const auto& [region, seq] : upto) {
    Origin& o = origins_[OriginId(region)];
    if (seq <= o.floor + o.indices.size()) continue;  // the log reaches it already
    o.floor = seq;
    o.indices.clear();
  }
}

std::optional<uint64_t> ReplicationLog::StartFor(const NamedVV& have,
                                                 const std::vector<std::string>& skip) const {
  uint64_t start = end();
  for (const Origin& o : origins_) {
    if (std::find(skip.begin(), skip.end(), o.name) != skip.end()) continue;
    const uint64_t last = o.floor + o.indices.size();
    const uint64_t h = Get(have, o.name);
    if (h >= last) continue;               // nothing of this origin to send
    if (h < o.floor) return std::nullopt;  // it lacks seq h+1, which the log no longer holds
    start = std::min(start, o.indices[h - o.floor]);
  }
  return start;
}

// ---------------------------------------------------------------------------------------------
// SyncerCore

SyncerCore::Peer& SyncerCore::GetPeer(const std::string& peer) { return peers_[peer]; }

bool SyncerCore::UnitAt(uint64_t index, uint64_t* end, size_t* bytes) const {
  *bytes = 0;
  for (uint64_t i = index;; ++i) {
    *bytes += log_->bytes(i).size();
    const uint64_t next = i + 1;
    if (!log_->unit_continues(i)) {
      *end = next;
      return true;
    }
    if (next == log_->end()) return false;  // the rest of the unit is still to come
    if (log_->origin_id(next) != log_->origin_id(i) || log_->seq(next) != log_->seq(i) + 1) {
      // Not the unit's next op: the unit was never finished where this log got it from (e.g.
      // a batch refused halfway). Waiting would stall the stream forever; it ends here.
      *end = next;
      return true;
    }
  }
}

bool SyncerCore::Skipped(const Peer& p, std::string_view origin) {
  for (const std::string& o : p.skip) {
    if (o == origin) return true;
  }
  return false;
}

const SyncerCore::PeerStats* SyncerCore::stats(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second.stats;
}

void SyncerCore::MergeAck(Peer* p, const NamedVV& applied) const {
  MergeInto(&p->stats.acked, applied);
  const NamedVV& acked = p->stats.acked;
  p->unacked.erase(std::remove_if(p->unacked.begin(), p->unacked.end(),
                                  [&](const NamedVV& need) { return CoversAll(acked, need); }),
                   p->unacked.end());
  p->inflight = p->unacked.size();
  p->ack_index = std::max(p->ack_index, log_->begin());
  uint32_t cached_id = UINT32_MAX;  // runs of one origin: one lookup per run
  uint64_t cached_acked = 0;
  while (p->ack_index < log_->end()) {
    const uint32_t id = log_->origin_id(p->ack_index);
    if (id != cached_id) {
      cached_id = id;
      cached_acked = Get(acked, log_->origin(p->ack_index));
    }
    if (log_->seq(p->ack_index) > cached_acked) break;
    ++p->ack_index;
  }
}

void SyncerCore::OnPullStart(const std::string& peer, const NamedVV& have,
                             std::vector<std::string> skip, bool hold) {
  Peer& p = GetPeer(peer);
  p.held = hold;
  std::sort(skip.begin(), skip.end());
  p.skip = std::move(skip);
  // What the peer announces it has applied replaces what it acked before; sending starts from
  // `have` itself (at least once): a peer that lost ops it had acked gets them again.
  p.unacked.clear();
  // What the peer has *now* is the truth: after a power loss it may lack ops it acked before,
  // and merging the old acks in would skip them forever.
  p.stats.acked = have;
  p.ack_index = 0;
  MergeAck(&p, have);
  p.known = have;
  std::optional<uint64_t> start = log_->StartFor(have, p.skip);
  p.cursor = start.value_or(log_->end());
  p.needs_snapshot = !start.has_value();
  p.snapshot_pending = false;
  p.stats.streaming = true;
}

void SyncerCore::SetSkip(const std::string& peer, std::vector<std::string> skip) {
  Peer& p = GetPeer(peer);
  std::sort(skip.begin(), skip.end());
  if (skip == p.skip) return;
  bool dropped = false;  // an origin that was skipped is relayed again
  for (const std::string& o : p.skip) {
    dropped |= !std::binary_search(skip.begin(), skip.end(), o);
  }
  p.skip = std::move(skip);
  if (!dropped || !p.stats.streaming || p.snapshot_pending) return;
  // The cursor passed the ops of the origins skipped so far: go back to the first op the peer
  // lacks (ops already sent on this stream are in `known` and are not sent twice).
  std::optional<uint64_t> start = log_->StartFor(p.known, p.skip);
  if (start.has_value()) {
    p.cursor = std::min(p.cursor, *start);
  } else {
    p.needs_snapshot = true;
  }
}

void SyncerCore::OnAck(const std::string& peer, const NamedVV& applied, int64_t now_ms) {
  Peer& p = GetPeer(peer);
  MergeAck(&p, applied);
  MergeInto(&p.known, p.stats.acked);
  p.stats.last_ack_unix_ms = now_ms;
  p.held = false;
}

void SyncerCore::OnDisconnect(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return;
  Peer& p = it->second;
  p.stats.streaming = false;
  p.unacked.clear();
  p.inflight = 0;
  p.needs_snapshot = false;
  p.snapshot_pending = false;
  p.known = p.stats.acked;
}

SyncerCore::Next SyncerCore::Poll(const std::string& peer, uint64_t durable_lsn, std::string* out) {
  out->clear();
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.stats.streaming) return Next::kNothing;
  Peer& p = it->second;
  if (p.held || p.snapshot_pending || p.inflight >= options_.window) return Next::kNothing;

  if (!p.needs_snapshot) {
    // Cheap (one lookup per origin) and catches both ways the log can lose what the peer
    // lacks: trimmed under the cursor, or a snapshot installed here (MarkUnavailable) that
    // brought ops the peer does not have; no later op need come along to reveal it.
    std::optional<uint64_t> start = log_->StartFor(p.known, p.skip);
    if (!start.has_value()) {
      p.needs_snapshot = true;
    } else if (p.cursor < log_->begin()) {
      p.cursor = *start;  // trimmed under the cursor, but only ops the peer has
    }
  }
  if (p.needs_snapshot) {
    p.snapshot_pending = true;
    return Next::kSnapshot;
  }

  size_t bytes = 0;
  size_t ops = 0;
  NamedVV need;
  // Runs of one origin are the rule: its lookups are done once per run.
  uint32_t cached_id = UINT32_MAX;
  bool cached_skipped = false;
  uint64_t* have_slot = nullptr;  // p.known's entry of the cached origin (null: none, i.e. 0)
  absl::InlinedVector<std::pair<uint32_t, uint64_t>, 4> sent;  // per origin id: last seq sent
  while (p.cursor < log_->end() && ops < options_.max_batch_ops) {
    const std::string_view origin = log_->origin(p.cursor);
    const uint64_t seq = log_->seq(p.cursor);
    const uint32_t id = log_->origin_id(p.cursor);
    if (id != cached_id) {
      cached_id = id;
      cached_skipped = Skipped(p, origin);
      auto it = p.known.find(origin);
      have_slot = it == p.known.end() ? nullptr : &it->second;
    }
    const uint64_t have = have_slot == nullptr ? 0 : *have_slot;
    if (cached_skipped || seq <= have) {
      ++p.cursor;  // the peer has it (acked, announced or sent on this stream), or gets it direct
      continue;
    }
    if (log_->lsn(p.cursor) > durable_lsn) break;  // log order is LSN order: wait
    if (seq != have + 1) {
      // The peer lacks ops of this origin that precede this one and are not ahead of the
      // cursor: MarkUnavailable left a hole in the log. Never send past a gap.
      if (ops > 0) break;
      std::optional<uint64_t> start = log_->StartFor(p.known, p.skip);
      if (!start.has_value() || *start >= p.cursor) {
        p.needs_snapshot = true;
        p.snapshot_pending = true;
        return Next::kSnapshot;
      }
      p.cursor = *start;
      continue;
    }
    // The unit starting here goes whole or not at all: [p.cursor, unit_end).
    uint64_t unit_end = 0;
    size_t unit_bytes = 0;
    if (!UnitAt(p.cursor, &unit_end, &unit_bytes)) break;  // not all in the log yet
    if (log_->lsn(unit_end - 1) > durable_lsn) break;      // its last op is not durable yet
    const size_t unit_ops = static_cast<size_t>(unit_end - p.cursor);
    if (ops > 0 && (ops + unit_ops > options_.max_batch_ops ||
                    bytes + unit_bytes > options_.max_batch_bytes)) {
      break;  // the next batch starts with it (alone if it is larger than a batch)
    }
    for (uint64_t i = p.cursor; i < unit_end; ++i) AppendOpToBatch(log_->bytes(i), out);
    bytes += unit_bytes;
    ops += unit_ops;
    const uint64_t last_seq = log_->seq(unit_end - 1);
    if (have_slot == nullptr) have_slot = &p.known.emplace(std::string(origin), 0).first->second;
    *have_slot = last_seq;
    if (sent.empty() || sent.back().first != id) {
      auto s =
          std::find_if(sent.begin(), sent.end(), [id](const auto& e) { return e.first == id; });
      if (s == sent.end()) {
        sent.emplace_back(id, last_seq);
      } else {
        std::iter_swap(s, sent.end() - 1);
        sent.back().second = last_seq;
      }
    } else {
      sent.back().second = last_seq;
    }
    p.cursor = unit_end;
  }
  for (const auto& [sid, sseq] : sent) Raise(&need, log_->origin_name(sid), sseq);
  if (ops == 0) return Next::kNothing;
  p.unacked.push_back(std::move(need));
  p.inflight = p.unacked.size();
  p.stats.ops_sent += ops;
  p.stats.bytes_sent += bytes;
  ++p.stats.batches_sent;
  return Next::kBatch;
}

void SyncerCore::OnSnapshotSent(const std::string& peer, const NamedVV& vv) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.stats.streaming) return;  // the stream ended meanwhile
  Peer& p = it->second;
  MergeInto(&p.known, vv);
  std::optional<uint64_t> start = log_->StartFor(p.known, p.skip);
  p.cursor = start.value_or(log_->end());
  // Still lacking ops the log cannot serve (the snapshot predates them): another resync.
  p.needs_snapshot = !start.has_value();
  p.snapshot_pending = false;
  // A window slot until an ack covers it -- unless one did already: a resync pass that found
  // nothing new to send prompts no ack, and its slot would never be freed (after `window` such
  // passes the stream stalled for good).
  if (!CoversAll(p.stats.acked, vv)) p.unacked.push_back(vv);
  p.inflight = p.unacked.size();
  ++p.stats.full_resyncs_sent;
}

bool SyncerCore::LogServesAfter(const std::string& peer, const NamedVV& vv) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return false;
  NamedVV known = it->second.known;
  MergeInto(&known, vv);
  return log_->StartFor(known, it->second.skip).has_value();
}

void SyncerCore::DeferSnapshot(const std::string& peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end()) it->second.snapshot_pending = false;
}

bool SyncerCore::NeedsResync(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.needs_snapshot;
}

uint64_t SyncerCore::LagOps(const std::string& peer, const NamedVV& local_applied) const {
  const PeerStats* s = stats(peer);
  uint64_t lag = 0;
  for (const auto& [region, seq] : local_applied) {
    const uint64_t acked = s == nullptr ? 0 : Get(s->acked, region);
    if (seq > acked) lag += seq - acked;
  }
  return lag;
}

uint64_t SyncerCore::LagMs(const std::string& peer, int64_t now_ms) const {
  auto it = peers_.find(peer);
  uint64_t index = log_->begin();
  if (it != peers_.end()) index = std::max(index, it->second.ack_index);
  for (; index < log_->end(); ++index) {
    if (it != peers_.end() &&
        Covers(it->second.stats.acked, log_->origin(index), log_->seq(index))) {
      continue;
    }
    const int64_t age = now_ms - crdt::HlcPhysicalMs(log_->hlc(index));
    return age > 0 ? static_cast<uint64_t>(age) : 0;
  }
  return 0;
}

bool ReplicationLog::Holds(std::string_view origin, uint64_t seq) const {
  auto it = origin_ids_.find(origin);
  if (it == origin_ids_.end()) return false;
  const Origin& o = origins_[it->second];
  return seq > o.floor && seq <= o.floor + o.indices.size();
}

uint64_t SyncerCore::Pending(const std::string& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return 0;
  const uint64_t from = std::max(it->second.cursor, log_->begin());
  return log_->end() > from ? log_->end() - from : 0;
}

bool SyncerCore::ConsideredUpTo(const std::string& peer, uint64_t index) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.stats.streaming && !it->second.needs_snapshot &&
         it->second.cursor >= index;
}

std::vector<std::string> SyncerCore::Skip(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? std::vector<std::string>() : it->second.skip;
}

bool SyncerCore::Held(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it != peers_.end() && it->second.held;
}

NamedVV SyncerCore::Known(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? NamedVV() : it->second.known;
}

}  // namespace activekv::syncer
