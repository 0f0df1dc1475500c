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

google::protobuf::RepeatedPtrField<v1::VersionEntry> Entries(const NamedVV& vv) {
  google::protobuf::RepeatedPtrField<v1::VersionEntry> out;
  ToEntries(vv, &out);
  return out;
}

std::string Str(const NamedVV& vv) {
  std::string out;
  for (const auto& [region, seq] : vv)
    absl::StrAppend(&out, out.empty() ? "" : ",", region, ":", seq);
  return "{" + out + "}";
}

}  // namespace

Sim::Sim(uint32_t seed, SimOptions options) : rng_(seed), options_(std::move(options)) {
  static const char* const kNames[] = {"ap", "eu", "us", "sa", "af", "me", "au"};
  std::vector<std::string> names;
  for (size_t i = 0; i < options_.regions; ++i) names.push_back(kNames[i % 7]);
  for (size_t i = 0; i < options_.regions; ++i) {
    size_t max_ops = i < options_.log_max_ops.size() ? options_.log_max_ops[i] : 1'000'000;
    regions_.push_back(std::make_unique<SimRegion>(names[i], names, max_ops, options_.core));
    regions_.back()->log_max_ops = max_ops;
    regions_.back()->wall_ms += static_cast<int64_t>(Pick(50));  // clocks disagree a little
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
  if (!options_.delayed_durability) r.durable_lsn = r.next_lsn;
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

bool Sim::Receive(SimRegion& r, const v1::Op& op, bool log_it, const Stream& from, uint64_t lsn,
                  bool* applied) {
  r.clock.Observe(op.hlc());
  auto res = r.ks.Apply(op);
  if (!res.ok()) {
    ADD_FAILURE() << (absl::IsFailedPrecondition(res.status()) ? "gap on a FIFO stream ("
                                                               : "apply failed (")
                  << Describe(from) << "): " << res.status();
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
    r.durable_lsn += Pick(r.next_lsn - r.durable_lsn + 1);
  } else {
    SetSynced(r, r.synced_lsn + Pick(r.durable_lsn - r.synced_lsn + 1));
  }
}

void Sim::SetSynced(SimRegion& r, uint64_t lsn) {
  if (r.sync_held) return;
  r.synced_lsn = lsn;
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
  auto fresh = std::make_unique<SimRegion>(old.name, names, old.log_max_ops, options_.core);
  fresh->log_max_ops = old.log_max_ops;
  fresh->wall_ms = old.wall_ms;
  fresh->incarnation = old.incarnation + 1;
  fresh->gated = true;
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
  fresh->next_lsn = fresh->durable_lsn = old.synced_lsn;
  SetSynced(*fresh, old.synced_lsn);
  regions_[i] = std::move(fresh);
  ++counters_.power_losses;
  ExpectWholeUnits(i, "after a power loss");
}

// --- streams -----------------------------------------------------------------------------------

bool Sim::Reconnect(Stream& s) {
  if (s.open || Cutoff(s)) return false;
  s.open = true;
  s.hello_delivered = false;
  s.last_direct = DirectFor(s);
  s.last_vv = FromKeyspace(regions_[s.to]->ks);
  s.replied = false;
  s.up.push_back(Up{true, FromKeyspace(regions_[s.to]->ks), SyncedFor(s.to), s.last_direct});
  return true;
}

void Sim::Break(Stream& s) {
  if (!s.open) return;
  s.open = false;
  s.replied = false;
  s.down.clear();
  s.up.clear();
  s.last_down.reset();
  s.ack_owed = false;
  // Half the time the sender notices; otherwise the next stream's OnPullStart supersedes it.
  if (s.hello_delivered && Pick(2) == 0) regions_[s.from]->core.OnDisconnect(regions_[s.to]->name);
  s.hello_delivered = false;
  ++counters_.breaks;
}

bool Sim::PollStream(Stream& s) {
  if (!s.open || !s.hello_delivered) return false;
  SimRegion& from = *regions_[s.from];
  const std::string& peer = regions_[s.to]->name;
  Down d;
  std::string bytes;
  switch (from.core.Poll(peer, from.durable_lsn, &bytes)) {
    case SyncerCore::Next::kNothing:
      return false;
    case SyncerCore::Next::kBatch:
      EXPECT_TRUE(d.batch.ParseFromString(bytes)) << "undecodable batch";
      for (const v1::Op& op : d.batch.ops()) {  // the durability gate
        const uint64_t lsn = from.lsn_of[{op.origin(), op.seq()}];
        EXPECT_LE(lsn, from.durable_lsn)
            << from.name << " sent " << op.origin() << ":" << op.seq() << " before it was durable";
      }
      // Whole units: the batch does not end inside one; a unit's ops follow each other.
      EXPECT_FALSE(d.batch.ops(d.batch.ops_size() - 1).unit_continues())
          << from.name << " cut a unit at the end of a batch";
      for (int k = 0; k + 1 < d.batch.ops_size(); ++k) {
        const v1::Op& op = d.batch.ops(k);
        if (!op.unit_continues()) continue;
        EXPECT_TRUE(d.batch.ops(k + 1).origin() == op.origin() &&
                    d.batch.ops(k + 1).seq() == op.seq() + 1)
            << from.name << " cut unit " << op.origin() << ":" << op.seq();
      }
      if (static_cast<size_t>(d.batch.ops_size()) > options_.core.max_batch_ops) {
        ++counters_.oversized_batches;
      }
      s.down.push_back(std::move(d));
      return true;
    case SyncerCore::Next::kSnapshot:
      // State transfer of the durable state: its ops, in apply order (LSN order).
      d.snapshot = true;
      for (const SimRegion::Applied& a : from.history) {
        if (a.lsn > from.durable_lsn) break;
        d.snapshot_ops.push_back(a.op);
        MergeInto(&d.snapshot_vv, {{a.op.origin(), a.op.seq()}});
      }
      from.core.OnSnapshotSent(peer, d.snapshot_vv);
      s.down.push_back(std::move(d));
      return true;
  }
  return false;
}

void Sim::PushAck(Stream& s) {
  s.last_direct = DirectFor(s);
  s.last_vv = FromKeyspace(regions_[s.to]->ks);
  s.up.push_back(Up{false, FromKeyspace(regions_[s.to]->ks), SyncedFor(s.to), s.last_direct});
  s.ack_owed = false;
}

NamedVV Sim::SyncedFor(size_t i) {
  SimRegion& r = *regions_[i];
  if (r.gated) {
    const NamedVV have = FromKeyspace(r.ks);
    for (const Stream& s : streams_) {
      if (s.to != i) continue;
      if (!s.replied || !CoversAll(have, s.required)) return {};
    }
    r.gated = false;
    r.ks.HoldStability(false);
  }
  return r.synced_vv;
}

std::vector<std::string> Sim::DirectFor(const Stream& s) const {
  std::vector<std::string> out{regions_[s.to]->ks.local_name()};  // its own: it made them
  for (const Stream& o : streams_) {
    if (o.to != s.to || o.from == s.from) continue;
    if (o.open && o.hello_delivered && !Cutoff(o)) {
      out.push_back(regions_[o.from]->ks.local_name());
    }
  }
  return out;
}

bool Sim::DeliverDown(Stream& s, bool ack_now) {
  if (!s.open || Cutoff(s) || s.down.empty()) return false;
  Down d = std::move(s.down.front());
  s.down.pop_front();
  SimRegion& to = *regions_[s.to];
  if (d.hello_reply) {
    s.replied = true;
    s.required.clear();
    for (const auto& [origin, seq] : d.sender_applied) {
      if (crdt::IsOriginOf(origin, to.name) && origin != to.ks.local_name()) {
        s.required[origin] = seq;
      }
    }
    return true;
  }
  // Applied in one step and persisted as one record (one LSN), like Region::ApplyRemote.
  const uint64_t lsn = to.next_lsn + 1;
  bool applied = false;
  if (d.snapshot) {
    for (const v1::Op& op : d.snapshot_ops) {
      if (!Receive(to, op, /*log_it=*/false, s, lsn, &applied)) break;
    }
    to.log.MarkUnavailable(d.snapshot_vv);
    ++counters_.snapshots_delivered;
  } else {
    for (const v1::Op& op : d.batch.ops()) {
      if (!Receive(to, op, /*log_it=*/true, s, lsn, &applied)) break;
    }
    ++counters_.batches_delivered;
  }
  if (applied) {
    to.next_lsn = lsn;
    if (!options_.delayed_durability) to.durable_lsn = lsn;
  }
  ExpectWholeUnits(s.to, d.snapshot ? "after a snapshot" : "after a batch");
  s.last_down = std::move(d);
  if (ack_now) {
    PushAck(s);
  } else {
    s.ack_owed = true;  // coalesced with a later one
  }
  return true;
}

bool Sim::DeliverUp(Stream& s) {
  if (!s.open || Cutoff(s) || s.up.empty()) return false;
  Up u = std::move(s.up.front());
  s.up.pop_front();
  SimRegion& from = *regions_[s.from];
  const std::string& peer = regions_[s.to]->name;
  if (u.hello) {
    from.core.OnPullStart(peer, u.vv, u.direct);
    s.hello_delivered = true;
    Down reply;
    reply.hello_reply = true;
    reply.sender_applied = FromKeyspace(from.ks);
    s.down.push_back(std::move(reply));
  } else {
    from.core.OnAck(peer, u.vv, from.wall_ms);
    from.core.SetSkip(peer, u.direct);
    ++counters_.acks;
  }
  from.ks.ObservePeerApplied(peer, Entries(u.synced));
  return true;
}

void Sim::Duplicate(Stream& s) {
  if (!s.open || !s.last_down.has_value()) return;
  s.down.push_back(*s.last_down);
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
    if ((s = PickStream([](const Stream& x) { return x.open && x.ack_owed; }))) PushAck(*s);
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
    if ((s = PickStream([](const Stream& x) { return x.open && x.last_down; }))) Duplicate(*s);
  } else {
    if ((s = PickStream([](const Stream& x) { return x.open; }))) PushAck(*s);  // unprompted
  }
}

bool Sim::Quiesce(int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    bool progress = false;
    for (auto& r : regions_) {
      progress |= r->durable_lsn != r->next_lsn || (r->synced_lsn != r->next_lsn && !r->sync_held);
      r->durable_lsn = r->next_lsn;
      SetSynced(*r, r->next_lsn);
    }
    for (Stream& s : streams_) progress |= Reconnect(s);
    for (Stream& s : streams_) {
      while (DeliverUp(s)) progress = true;
    }
    for (Stream& s : streams_) {
      for (int i = 0; i < 1000 && PollStream(s); ++i) progress = true;
    }
    for (Stream& s : streams_) {
      while (DeliverDown(s, /*ack_now=*/true)) progress = true;
      if (s.open && !Cutoff(s) &&
          (s.ack_owed || DirectFor(s) != s.last_direct ||
           FromKeyspace(regions_[s.to]->ks) != s.last_vv)) {
        PushAck(s);
        progress = true;
      }
    }
    if (::testing::Test::HasFatalFailure()) return false;
    if (!progress) return true;
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
