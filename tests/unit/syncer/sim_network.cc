#include "sim_network.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "crdt/op_builder.h"
#include "gtest/gtest.h"

namespace activekv::syncer::testing {
namespace {

const std::vector<std::string>& Keys() {
  static const auto* keys = new std::vector<std::string>{"k1", "k2", "k3", "k4"};
  return *keys;
}
// Only ever incremented: their value must be the sum of the increments applied.
const std::vector<std::string>& CounterKeys() {
  static const auto* keys = new std::vector<std::string>{"c1", "c2"};
  return *keys;
}

std::string Str(const NamedVV& vv) {
  std::string out;
  for (const auto& [region, seq] : vv)
    absl::StrAppend(&out, out.empty() ? "" : ",", region, ":", seq);
  return "{" + out + "}";
}

}  // namespace

crdt::Keyspace& SimHost::keyspace() { return r_->ks; }
absl::StatusOr<uint64_t> SimHost::ApplyRemote(std::string_view batch, size_t* ops) {
  return sim_->ApplyBatch(*r_, batch, ops);
}
absl::StatusOr<uint64_t> SimHost::ApplySnapshot(const std::vector<v1::Snapshot>& chunks) {
  return sim_->ApplySnapshot(*r_, chunks);
}
uint64_t SimHost::durable_lsn() { return r_->durable_lsn; }
const NamedVV& SimHost::durable_applied() { return r_->durable_vv; }
const NamedVV& SimHost::synced_applied() { return r_->synced_vv; }

namespace {
ReceiverCore::Options ReceiverOptionsFor(const std::string& region,
                                         const std::vector<std::string>& all,
                                         int64_t heartbeat_ms) {
  ReceiverCore::Options o;
  o.database = "sim";
  o.region = region;
  for (const std::string& r : all) {
    if (r != region) o.peers.push_back(r);
  }
  if (heartbeat_ms > 0) o.heartbeat_ms = heartbeat_ms;
  return o;  // otherwise the server's timer defaults
}
}  // namespace

SimRegion::SimRegion(Sim* sim, const std::string& region, const std::vector<std::string>& all,
                     size_t log_max_ops, SyncerCore::Options options, int64_t now_ms)
    : name(region),
      ks(region, all),
      log(log_max_ops),
      core(&log, options),
      host(sim, this),
      receiver(ReceiverOptionsFor(region, all, sim->options().heartbeat_ms), &host),
      wall_ms(now_ms) {}

Sim::Sim(uint32_t seed, SimOptions options) : rng_(seed), options_(std::move(options)) {
  static const char* const kNames[] = {"ap", "eu", "us", "sa", "af", "me", "au"};
  std::vector<std::string> names;
  for (size_t i = 0; i < options_.regions; ++i) names.push_back(kNames[i % 7]);
  for (size_t i = 0; i < options_.regions; ++i) {
    size_t max_ops = i < options_.log_max_ops.size() ? options_.log_max_ops[i] : 1'000'000;
    // Clocks disagree a little.
    const int64_t now = 1'000'000 + static_cast<int64_t>(Pick(50));
    regions_.push_back(
        std::make_unique<SimRegion>(this, names[i], names, max_ops, options_.core, now));
    regions_.back()->log_max_ops = max_ops;
  }
  cut_.assign(options_.regions, std::vector<bool>(options_.regions, false));
  for (size_t from = 0; from < options_.regions; ++from) {
    for (size_t to = 0; to < options_.regions; ++to) {
      if (from == to) continue;
      Stream s;
      s.from = from;
      s.to = to;
      streams_.push_back(std::move(s));
    }
  }
  for (Stream& s : streams_) Reconnect(s);
}

std::vector<size_t> Sim::All() const {
  std::vector<size_t> all;
  for (size_t i = 0; i < regions_.size(); ++i) all.push_back(i);
  return all;
}

std::string Sim::Describe(const Stream& s) const {
  return absl::StrCat(regions_[s.to]->name, " pulling from ", regions_[s.from]->name);
}

template <typename Pred>
Sim::Stream* Sim::PickStream(Pred pred) {
  std::vector<Stream*> ok;
  for (Stream& s : streams_) {
    if (pred(s)) ok.push_back(&s);
  }
  return ok.empty() ? nullptr : ok[Pick(ok.size())];
}

// --- regions -----------------------------------------------------------------------------------

void Sim::CommitLocal(SimRegion& r, std::vector<v1::Op> unit) {
  const uint64_t lsn = ++r.next_lsn;
  for (size_t k = 0; k < unit.size(); ++k) {
    v1::Op& op = unit[k];
    if (k + 1 < unit.size()) {
      op.set_unit_continues(true);
      continuing_[op.origin()].insert(op.seq());
    }
    ++r.applied_count[{op.origin(), op.seq()}];
    r.history.push_back({op, lsn});
    r.lsn_of[{op.origin(), op.seq()}] = lsn;
    r.log.Append(op, lsn);
    ++counters_.local_ops;
  }
  if (unit.size() > 1) ++counters_.multi_op_units;
  ++changes_;
  if (!options_.delayed_durability) SetDurable(r, r.next_lsn);
}

v1::Op Sim::MakeRandomOp(SimRegion& r) {
  r.wall_ms += static_cast<int64_t>(Pick(5));
  const crdt::Hlc hlc = r.clock.Now(r.wall_ms);
  const std::string& key = Keys()[Pick(Keys().size())];
  v1::Op op;
  size_t kind = Pick(100);
  if (kind < 30) {
    const std::string& c = CounterKeys()[Pick(CounterKeys().size())];
    int64_t delta = static_cast<int64_t>(Pick(21)) - 10;
    crdt::MakeIncrementOp(r.ks, hlc, c, delta, &op);
    increments_.push_back({op.origin(), op.seq(), c, delta});
  } else if (kind < 55) {
    crdt::MakeSetOp(r.ks, hlc, key, absl::StrCat("v", ++value_counter_), v1::ExpiryChange::PERSIST,
                    0, &op);
  } else if (kind < 65) {
    crdt::MakeIncrementOp(r.ks, hlc, key, static_cast<int64_t>(Pick(7)), &op);
  } else if (kind < 80) {
    crdt::MakeDeleteOp(r.ks, hlc, key, &op);
  } else if (kind < 92) {
    crdt::MakeExpireOp(r.ks, hlc, key, v1::ExpiryChange::DEADLINE,
                       5'000'000 + static_cast<int64_t>(Pick(1000)), &op);
  } else {
    crdt::MakeExpireOp(r.ks, hlc, key, v1::ExpiryChange::PERSIST, 0, &op);
  }
  auto res = r.ks.Apply(op);
  EXPECT_TRUE(res.ok() && *res == crdt::Keyspace::Outcome::kApplied) << res.status();
  return op;
}

v1::Op Sim::LocalWrite(size_t i) {
  SimRegion& r = *regions_[i];
  const size_t n = options_.max_unit_ops > 1 ? 1 + Pick(options_.max_unit_ops) : 1;
  std::vector<v1::Op> unit;
  for (size_t k = 0; k < n; ++k) unit.push_back(MakeRandomOp(r));
  v1::Op last = unit.back();
  CommitLocal(r, std::move(unit));
  return last;
}

v1::Op Sim::LocalOp(size_t i, const OpMaker& make) {
  SimRegion& r = *regions_[i];
  r.wall_ms += 1;
  v1::Op op;
  make(r.ks, r.clock.Now(r.wall_ms), &op);
  if (op.has_add()) increments_.push_back({op.origin(), op.seq(), op.key(), op.add().delta()});
  auto res = r.ks.Apply(op);
  EXPECT_TRUE(res.ok() && *res == crdt::Keyspace::Outcome::kApplied) << res.status();
  CommitLocal(r, {op});
  return op;
}

bool Sim::Receive(SimRegion& r, const v1::Op& op, bool log_it, uint64_t lsn, bool* applied) {
  r.clock.Observe(op.hlc());
  auto res = r.ks.Apply(op);
  if (!res.ok()) {
    ADD_FAILURE() << (absl::IsFailedPrecondition(res.status()) ? "gap on a FIFO stream ("
                                                               : "apply failed (")
                  << Describe(*delivering_) << "): " << res.status();
    return false;
  }
  if (*res == crdt::Keyspace::Outcome::kDuplicate) {
    ++counters_.duplicate_ops_received;
    return true;
  }
  ++r.applied_count[{op.origin(), op.seq()}];
  r.history.push_back({op, lsn});
  r.lsn_of[{op.origin(), op.seq()}] = lsn;
  if (log_it) r.log.Append(op, lsn);
  *applied = true;
  return true;
}

// Applied in one step and persisted as one record (one LSN), like Region::ApplyRemote.
absl::StatusOr<uint64_t> Sim::ApplyBatch(SimRegion& r, std::string_view bytes, size_t* ops) {
  v1::OpBatch batch;
  if (!batch.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    ADD_FAILURE() << "undecodable batch (" << Describe(*delivering_) << ")";
    return absl::DataLossError("undecodable batch");
  }
  *ops = static_cast<size_t>(batch.ops_size());
  const uint64_t lsn = r.next_lsn + 1;
  bool applied = false;
  for (const v1::Op& op : batch.ops()) {
    if (!Receive(r, op, /*log_it=*/true, lsn, &applied)) {
      return absl::FailedPreconditionError("apply failed");
    }
  }
  ++counters_.batches_delivered;
  if (!applied) return 0;
  r.next_lsn = lsn;
  ++changes_;
  if (!options_.delayed_durability) SetDurable(r, lsn);
  return lsn;
}

absl::StatusOr<uint64_t> Sim::ApplySnapshot(SimRegion& r, const std::vector<v1::Snapshot>& chunks) {
  // The core hands over a whole snapshot: its first chunk to its last, one version.
  EXPECT_TRUE(!chunks.empty() && chunks.front().first() && chunks.back().last());
  const SnapshotPayload& payload = *delivering_down_->snapshot;
  for (const v1::Snapshot& c : chunks) {
    EXPECT_EQ(FromEntries(c.version()), payload.vv) << "chunks of different snapshots merged";
  }
  const uint64_t lsn = r.next_lsn + 1;
  bool applied = false;
  for (const v1::Op& op : payload.ops) {
    if (!Receive(r, op, /*log_it=*/false, lsn, &applied)) {
      return absl::FailedPreconditionError("apply failed");
    }
  }
  r.log.MarkUnavailable(payload.vv);
  ++counters_.snapshots_delivered;
  ++changes_;
  r.next_lsn = lsn;  // snapshot records are written even when every op was known
  if (!options_.delayed_durability) SetDurable(r, lsn);
  return lsn;
}

void Sim::ExpectWholeUnits(size_t i, const char* when) {
  const SimRegion& r = *regions_[i];
  for (const auto& [origin, seq] : FromKeyspace(r.ks)) {
    ++counters_.unit_checks;
    auto it = continuing_.find(origin);
    if (it != continuing_.end() && it->second.count(seq) > 0) {
      ADD_FAILURE() << r.name << " observes half a unit " << when << ": it applied " << origin
                    << " up to " << seq << ", which the unit's next op follows";
    }
  }
}

void Sim::AdvanceDurability(SimRegion& r) {
  if (Pick(2) == 0) {
    SetDurable(r, r.durable_lsn + Pick(r.next_lsn - r.durable_lsn + 1));
  } else {
    SetSynced(r, r.synced_lsn + Pick(r.durable_lsn - r.synced_lsn + 1));
  }
}

void Sim::SetDurable(SimRegion& r, uint64_t lsn) {
  if (lsn <= r.durable_lsn) return;
  r.durable_lsn = lsn;
  ++changes_;
  while (r.durable_count < r.history.size() && r.history[r.durable_count].lsn <= lsn) {
    const v1::Op& op = r.history[r.durable_count++].op;
    MergeInto(&r.durable_vv, {{op.origin(), op.seq()}});
  }
}

void Sim::SetSynced(SimRegion& r, uint64_t lsn) {
  if (r.sync_held || lsn == r.synced_lsn) return;
  r.synced_lsn = lsn;
  ++changes_;
  while (r.synced_count < r.history.size() && r.history[r.synced_count].lsn <= lsn) {
    const v1::Op& op = r.history[r.synced_count++].op;
    MergeInto(&r.synced_vv, {{op.origin(), op.seq()}});
  }
}

void Sim::PowerLoss(size_t i) {
  for (Stream& s : streams_) {
    if (s.from == i || s.to == i) Break(s);
  }
  std::vector<std::string> names;
  for (const auto& r : regions_) names.push_back(r->name);
  const SimRegion& old = *regions_[i];
  auto fresh = std::make_unique<SimRegion>(this, old.name, names, old.log_max_ops, options_.core,
                                           old.wall_ms);
  fresh->log_max_ops = old.log_max_ops;
  fresh->incarnation = old.incarnation + 1;
  // As Region::Open after an unclean stop: stability waits for the ReceiverCore's gate.
  fresh->ks.HoldStability(true);
  ASSERT_TRUE(fresh->ks.ResetLocal(absl::StrCat(old.name, "~", fresh->incarnation)));
  // Restart: replay what was fsynced (the AOF after a power loss), in apply order.
  for (const SimRegion::Applied& a : old.history) {
    if (a.lsn > old.synced_lsn) {
      ++counters_.ops_lost;
      continue;
    }
    fresh->clock.Observe(a.op.hlc());
    auto res = fresh->ks.Apply(a.op);
    ASSERT_TRUE(res.ok()) << res.status();
    ASSERT_EQ(*res, crdt::Keyspace::Outcome::kApplied);
    fresh->history.push_back(a);
    fresh->lsn_of[{a.op.origin(), a.op.seq()}] = a.lsn;
    fresh->applied_count[{a.op.origin(), a.op.seq()}] = 1;
    fresh->log.Append(a.op, a.lsn);
  }
  fresh->next_lsn = old.synced_lsn;
  SetDurable(*fresh, old.synced_lsn);
  SetSynced(*fresh, old.synced_lsn);
  regions_[i] = std::move(fresh);
  ++counters_.power_losses;
  ExpectWholeUnits(i, "after a power loss");
}

// --- streams -----------------------------------------------------------------------------------

bool Sim::Reconnect(Stream& s) {
  if (s.open) return false;
  SimRegion& to = *regions_[s.to];
  const std::string& peer = regions_[s.from]->name;
  v1::PullRequest hello;
  if (!to.receiver.Connect(peer, to.wall_ms, &hello)) return false;  // its backoff runs
  if (Cutoff(s)) {
    to.receiver.StreamDone(peer, "unreachable", to.wall_ms);
    return false;
  }
  s.open = true;
  s.hello_delivered = false;
  s.synced_sent.clear();
  s.last_batch.reset();
  s.up.push_back(std::move(hello));
  ++changes_;
  return true;
}

void Sim::Break(Stream& s) {
  if (!s.open) return;
  s.open = false;
  s.down.clear();
  s.up.clear();
  s.last_batch.reset();
  SimRegion& to = *regions_[s.to];
  to.receiver.StreamDone(regions_[s.from]->name, "broken", to.wall_ms);
  // Half the time the sender notices; otherwise the next stream's OnPullStart supersedes it.
  if (s.hello_delivered && Pick(2) == 0) regions_[s.from]->core.OnDisconnect(to.name);
  s.hello_delivered = false;
  ++counters_.breaks;
  ++changes_;
  TryAckAll(s.to);  // first acks held for this stream's answer need not wait
}

v1::PullResponse Sim::NewResponse(Stream& s) {
  SimRegion& from = *regions_[s.from];
  v1::PullResponse r;
  if (const NamedVV* synced = from.receiver.SyncedToAnnounce();
      synced != nullptr && *synced != s.synced_sent) {
    s.synced_sent = *synced;
    ToEntries(*synced, r.mutable_sender_synced());
  }
  s.last_sent_ms = from.wall_ms;
  return r;
}

bool Sim::PollStream(Stream& s) {
  if (!s.open || !s.hello_delivered) return false;
  SimRegion& from = *regions_[s.from];
  const std::string& peer = regions_[s.to]->name;
  std::string bytes;
  switch (from.core.Poll(peer, from.durable_lsn, &bytes)) {
    case SyncerCore::Next::kNothing:
      if (from.wall_ms - s.last_sent_ms >= 250) {  // the transport's heartbeat interval
        Down d{NewResponse(s), nullptr};
        d.response.mutable_heartbeat()->set_unix_ms(from.wall_ms);
        s.down.push_back(std::move(d));
      }
      return false;
    case SyncerCore::Next::kBatch: {
      v1::OpBatch batch;
      EXPECT_TRUE(batch.ParseFromString(bytes)) << "undecodable batch";
      for (const v1::Op& op : batch.ops()) {  // the durability gate
        const uint64_t lsn = from.lsn_of[{op.origin(), op.seq()}];
        EXPECT_LE(lsn, from.durable_lsn)
            << from.name << " sent " << op.origin() << ":" << op.seq() << " before it was durable";
      }
      // Whole units: the batch does not end inside one; a unit's ops follow each other.
      EXPECT_FALSE(batch.ops(batch.ops_size() - 1).unit_continues())
          << from.name << " cut a unit at the end of a batch";
      for (int k = 0; k + 1 < batch.ops_size(); ++k) {
        const v1::Op& op = batch.ops(k);
        if (!op.unit_continues()) continue;
        EXPECT_TRUE(batch.ops(k + 1).origin() == op.origin() &&
                    batch.ops(k + 1).seq() == op.seq() + 1)
            << from.name << " cut unit " << op.origin() << ":" << op.seq();
      }
      if (static_cast<size_t>(batch.ops_size()) > options_.core.max_batch_ops) {
        ++counters_.oversized_batches;
      }
      Down d{NewResponse(s), nullptr};
      d.response.set_ops(std::move(bytes));
      s.down.push_back(std::move(d));
      ++changes_;
      return true;
    }
    case SyncerCore::Next::kSnapshot: {
      // State transfer of the durable state: its ops, in apply order (LSN order), in 1-3 chunks.
      auto payload = std::make_shared<SnapshotPayload>();
      for (const SimRegion::Applied& a : from.history) {
        if (a.lsn > from.durable_lsn) break;
        payload->ops.push_back(a.op);
        MergeInto(&payload->vv, {{a.op.origin(), a.op.seq()}});
      }
      from.core.OnSnapshotSent(peer, payload->vv);
      const size_t chunks = 1 + Pick(3);
      for (size_t c = 0; c < chunks; ++c) {
        Down d{NewResponse(s), payload};
        v1::Snapshot* chunk = d.response.mutable_snapshot();
        ToEntries(payload->vv, chunk->mutable_version());
        chunk->set_first(c == 0);
        chunk->set_last(c + 1 == chunks);
        s.down.push_back(std::move(d));
      }
      ++changes_;
      return true;
    }
  }
  return false;
}

bool Sim::TryAck(Stream& s) {
  if (!s.open) return false;
  SimRegion& to = *regions_[s.to];
  v1::PullRequest ack;
  if (!to.receiver.TakeAck(regions_[s.from]->name, to.wall_ms, &ack)) return false;
  s.up.push_back(std::move(ack));
  ++changes_;
  return true;
}

void Sim::TryAckAll(size_t receiver) {
  for (Stream& s : streams_) {
    if (s.to == receiver) TryAck(s);
  }
}

bool Sim::DeliverDown(Stream& s, bool ack_now) {
  if (!s.open || Cutoff(s) || s.down.empty()) return false;
  Down d = std::move(s.down.front());
  s.down.pop_front();
  SimRegion& to = *regions_[s.to];
  delivering_ = &s;
  delivering_down_ = &d;
  absl::StatusOr<ReceiverCore::AckCheck> check =
      to.receiver.Receive(regions_[s.from]->name, &d.response, to.wall_ms);
  delivering_ = nullptr;
  delivering_down_ = nullptr;
  if (!check.ok()) {
    ADD_FAILURE() << Describe(s) << ": " << check.status();
    Break(s);
    return true;
  }
  if (d.response.has_ops()) {
    ExpectWholeUnits(s.to, "after a batch");
    s.last_batch = std::move(d);
  } else if (d.response.has_snapshot()) {
    ExpectWholeUnits(s.to, "after a snapshot");
  }
  if (ack_now) {
    if (*check == ReceiverCore::AckCheck::kEveryLink) {
      TryAckAll(s.to);
    } else {
      TryAck(s);
    }
  }
  return true;
}

bool Sim::DeliverUp(Stream& s) {
  if (!s.open || Cutoff(s) || s.up.empty()) return false;
  v1::PullRequest u = std::move(s.up.front());
  s.up.pop_front();
  SimRegion& from = *regions_[s.from];
  const std::string& peer = regions_[s.to]->name;
  std::vector<std::string> direct(u.direct().origins().begin(), u.direct().origins().end());
  if (!s.hello_delivered) {
    from.core.OnPullStart(peer, FromEntries(u.applied()), direct, u.hold());
    s.hello_delivered = true;
    // The first response: the sender's origin and what it has applied.
    Down reply{NewResponse(s), nullptr};
    reply.response.set_sender_origin(from.ks.local_name());
    ToEntries(FromKeyspace(from.ks), reply.response.mutable_sender_applied());
    reply.response.mutable_heartbeat()->set_unix_ms(from.wall_ms);
    s.down.push_back(std::move(reply));
  } else {
    from.core.OnAck(peer, FromEntries(u.applied()), from.wall_ms);
    if (u.has_direct()) from.core.SetSkip(peer, direct);
    ++counters_.acks;
  }
  if (u.synced_size() > 0) from.ks.ObservePeerApplied(peer, u.synced());
  ++changes_;
  return true;
}

void Sim::Duplicate(Stream& s) {
  if (!s.open || !s.last_batch.has_value()) return;
  s.down.push_back(*s.last_batch);
  ++counters_.duplicates_queued;
}

// --- partitions --------------------------------------------------------------------------------

void Sim::Cut(size_t a, size_t b) {
  if (a == b || cut_[a][b]) return;
  cut_[a][b] = cut_[b][a] = true;
  ++counters_.cuts;
  for (Stream& s : streams_) {
    bool between = (s.from == a && s.to == b) || (s.from == b && s.to == a);
    if (between && Pick(2) == 0) Break(s);  // else it stalls until the heal
  }
}

void Sim::Heal(size_t a, size_t b) {
  if (!cut_[a][b]) return;
  cut_[a][b] = cut_[b][a] = false;
  for (Stream& s : streams_) {
    bool between = (s.from == a && s.to == b) || (s.from == b && s.to == a);
    if (between && Pick(3) == 0) Break(s);  // timed out meanwhile
  }
}

void Sim::HealAll() {
  for (size_t a = 0; a < regions_.size(); ++a) {
    for (size_t b = a + 1; b < regions_.size(); ++b) Heal(a, b);
  }
}

void Sim::Isolate(size_t r) {
  for (size_t o = 0; o < regions_.size(); ++o) {
    if (o == r) continue;
    Cut(r, o);
    for (Stream& s : streams_) {
      if ((s.from == r && s.to == o) || (s.from == o && s.to == r)) Break(s);
    }
  }
}

// --- scheduling --------------------------------------------------------------------------------

void Sim::RandomStep() {
  size_t a = Pick(1000);
  Stream* s = nullptr;
  if (a < 120) {
    LocalWrite(Pick(regions_.size()));
  } else if (a < 350) {
    if ((s = PickStream([](const Stream& x) { return x.open && x.hello_delivered; }))) {
      PollStream(*s);
    }
  } else if (a < 600) {
    if ((s = PickStream([&](const Stream& x) { return !x.down.empty() && !Cutoff(x); }))) {
      DeliverDown(*s, /*ack_now=*/Pick(3) != 0);
    }
  } else if (a < 780) {
    if ((s = PickStream([&](const Stream& x) { return !x.up.empty() && !Cutoff(x); }))) {
      DeliverUp(*s);
    }
  } else if (a < 820) {
    if ((s = PickStream([](const Stream& x) { return x.open; }))) TryAck(*s);  // a later ask
  } else if (a < 860) {
    AdvanceDurability(*regions_[Pick(regions_.size())]);
  } else if (a < 900) {
    if ((s = PickStream([&](const Stream& x) { return !x.open && !Cutoff(x); }))) Reconnect(*s);
  } else if (a < 920) {
    for (auto& r : regions_) r->wall_ms += static_cast<int64_t>(Pick(50));
  } else if (!options_.faults) {
    // no faults: another delivery
    if ((s = PickStream([&](const Stream& x) { return !x.down.empty() && !Cutoff(x); }))) {
      DeliverDown(*s, true);
    }
  } else if (options_.power_loss && a < 925) {
    PowerLoss(Pick(regions_.size()));
  } else if (a < 945) {
    if ((s = PickStream([](const Stream& x) { return x.open; }))) Break(*s);  // DROP
  } else if (a < 952) {
    size_t x = Pick(regions_.size()), y = Pick(regions_.size());
    Cut(x, y);  // PARTITION
  } else if (a < 970) {
    size_t x = Pick(regions_.size()), y = Pick(regions_.size());
    Heal(x, y);
  } else if (a < 990) {
    if ((s = PickStream([](const Stream& x) { return x.open && x.last_batch; }))) Duplicate(*s);
  } else {
    for (auto& r : regions_) r->wall_ms += static_cast<int64_t>(Pick(300));  // a pause
  }
}

bool Sim::Quiesce(int max_rounds) {
  int idle = 0;
  for (int round = 0; round < max_rounds; ++round) {
    const uint64_t before = changes_;
    for (auto& r : regions_) {
      SetDurable(*r, r->next_lsn);
      SetSynced(*r, r->next_lsn);
    }
    for (Stream& s : streams_) Reconnect(s);
    for (Stream& s : streams_) {
      while (DeliverUp(s)) {
      }
    }
    for (Stream& s : streams_) {
      for (int i = 0; i < 1000 && PollStream(s); ++i) {
      }
    }
    for (Stream& s : streams_) {
      while (DeliverDown(s, /*ack_now=*/true)) {
      }
      TryAck(s);
    }
    if (::testing::Test::HasFatalFailure()) return false;
    if (changes_ != before) {
      idle = 0;
      continue;
    }
    if (++idle == 30) return true;
    for (auto& r : regions_) r->wall_ms += 100;
  }
  return false;
}

// --- checks ------------------------------------------------------------------------------------

void Sim::ExpectConverged(const std::vector<size_t>& members) {
  ASSERT_FALSE(members.empty());
  const SimRegion& first = *regions_[members[0]];
  const std::string digest = first.ks.Digest();
  const NamedVV vv = FromKeyspace(first.ks);
  uint64_t total = 0;
  for (const auto& [region, seq] : vv) total += seq;
  for (size_t m : members) {
    SimRegion& r = *regions_[m];
    EXPECT_EQ(FromKeyspace(r.ks), vv)
        << r.name << " vs " << first.name << ": " << Str(FromKeyspace(r.ks)) << " vs " << Str(vv);
    EXPECT_EQ(r.ks.Digest(), digest) << r.name << " diverged from " << first.name;
    EXPECT_EQ(r.ks.key_count(), first.ks.key_count()) << r.name;
    EXPECT_EQ(r.applied_count.size(), total) << r.name << " applied a different set of ops";
    for (const auto& [dot, count] : r.applied_count) {
      EXPECT_EQ(count, 1) << r.name << " applied " << dot.first << ":" << dot.second << " " << count
                          << " times";
    }
    for (const std::string& c : CounterKeys()) {
      int64_t want = 0;
      for (const Increment& i : increments_) {
        if (i.key == c && Covers(vv, i.origin, i.seq)) want += i.delta;
      }
      const crdt::Entry* e = r.ks.Find(c);
      std::string scratch;
      std::string got = e == nullptr || !e->Exists() ? "0" : std::string(e->Value(r.ks.regions()));
      EXPECT_EQ(got, absl::StrCat(want)) << "counter " << c << " in " << r.name;
    }
    for (size_t o : members) {
      if (o == m || cut_[m][o]) continue;  // no lag is expected across a cut link
      const std::string& peer = regions_[o]->name;
      const SyncerCore::PeerStats* stats = r.core.stats(peer);
      EXPECT_EQ(r.core.LagOps(peer, FromKeyspace(r.ks)), 0u)
          << peer << " lags behind " << r.name << ": acked "
          << (stats == nullptr ? "nothing" : Str(stats->acked)) << " of "
          << Str(FromKeyspace(r.ks));
      EXPECT_EQ(r.core.LagMs(peer, r.wall_ms), 0u) << peer << " lags behind " << r.name;
    }
  }
}

}  // namespace activekv::syncer::testing
