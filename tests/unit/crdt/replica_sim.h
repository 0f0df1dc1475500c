#pragma once

// A few in-process replicas with a hand-driven network, for CRDT tests. Deterministic: no
// clocks, no threads; every region's wall clock is a number the test sets.

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crdt/hlc.h"
#include "crdt/keyspace.h"
#include "crdt/op_builder.h"
#include "gtest/gtest.h"

namespace activekv::crdt::testing {

// The applied version vector of `ks` as proto entries (what a replication ack carries).
inline google::protobuf::RepeatedPtrField<v1::VersionEntry> ToEntries(const Keyspace& ks) {
  google::protobuf::RepeatedPtrField<v1::VersionEntry> out;
  for (RegionId r = 0; r < ks.applied().size(); ++r) {
    v1::VersionEntry* e = out.Add();
    e->set_region(ks.regions().Name(r));
    e->set_seq(ks.applied().Get(r));
  }
  return out;
}

// True when `removal` (a DEL or FLUSHALL with its observed context) observed op (origin, seq):
// the context's entry for that origin covers it, or it is an earlier op of the same origin.
// The whole snapshot of a small keyspace, in one chunk.
inline v1::Snapshot WholeSnapshot(Keyspace& ks) {
  ks.BeginSnapshot();
  v1::Snapshot chunk;
  ks.NextSnapshotChunk(1000, &chunk);
  EXPECT_TRUE(chunk.first() && chunk.last());
  return chunk;
}

inline bool Observed(const v1::Op& removal, const std::string& origin, uint64_t seq) {
  uint64_t seen = removal.origin() == origin ? removal.seq() - 1 : 0;
  for (const auto& e : removal.context()) {
    if (e.region() == origin) seen = e.seq();
  }
  return seq <= seen;
}

class Replica {
 public:
  Replica(const std::string& name, const std::vector<std::string>& all)
      : ks_(name, all), name_(name) {}

  Keyspace& ks() { return ks_; }
  const std::string& name() const { return name_; }
  int64_t wall_ms = 1'000'000;

  Hlc Tick() { return clock_.Now(wall_ms); }
  // Applies a locally built op and returns it (for delivery elsewhere).
  v1::Op Local(v1::Op op) {
    auto r = ks_.Apply(op);
    EXPECT_TRUE(r.ok()) << r.status();
    return op;
  }
  v1::Op Set(const std::string& k, const std::string& v) {
    v1::Op op;
    MakeSetOp(ks_, Tick(), k, v, v1::ExpiryChange::PERSIST, 0, &op);
    return Local(std::move(op));
  }
  v1::Op Del(const std::string& k) {
    v1::Op op;
    MakeDeleteOp(ks_, Tick(), k, &op);
    return Local(std::move(op));
  }
  v1::Op Incr(const std::string& k, int64_t d) {
    v1::Op op;
    MakeIncrementOp(ks_, Tick(), k, d, &op);
    return Local(std::move(op));
  }
  v1::Op IncrFloat(const std::string& k, const std::string& d) {
    v1::Op op;
    MakeFloatIncrementOp(ks_, Tick(), k, d, &op);
    return Local(std::move(op));
  }
  v1::Op Expire(const std::string& k, int64_t deadline) {
    v1::Op op;
    MakeExpireOp(ks_, Tick(), k, v1::ExpiryChange::DEADLINE, deadline, &op);
    return Local(std::move(op));
  }
  v1::Op Persist(const std::string& k) {
    v1::Op op;
    MakeExpireOp(ks_, Tick(), k, v1::ExpiryChange::PERSIST, 0, &op);
    return Local(std::move(op));
  }
  v1::Op Flush() {
    v1::Op op;
    MakeFlushOp(ks_, Tick(), &op);
    return Local(std::move(op));
  }

  // Element ops: each element observes the instances this replica holds.
  v1::Op HSet(const std::string& k, const std::vector<std::pair<std::string, std::string>>& fv) {
    v1::Op op;
    MakeHashSetOp(ks_, Tick(), k, &op);
    for (const auto& [f, v] : fv) AddHashElement(f, v, &op);
    return Local(std::move(op));
  }
  v1::Op HDel(const std::string& k, const std::vector<std::string>& fields) {
    v1::Op op;
    MakeHashDelOp(ks_, Tick(), k, &op);
    for (const auto& f : fields) AddHashElement(f, "", &op);
    return Local(std::move(op));
  }
  v1::Op HIncr(const std::string& k, const std::string& f, int64_t d) {
    v1::Op op;
    MakeHashIncrementOp(ks_, Tick(), k, f, d, "", &op);
    return Local(std::move(op));
  }
  v1::Op SAdd(const std::string& k, const std::vector<std::string>& members) {
    v1::Op op;
    MakeSetAddOp(ks_, Tick(), k, &op);
    for (const auto& m : members) AddSetElement(m, &op);
    return Local(std::move(op));
  }
  v1::Op SRem(const std::string& k, const std::vector<std::string>& members) {
    v1::Op op;
    MakeSetRemoveOp(ks_, Tick(), k, &op);
    for (const auto& m : members) AddSetElement(m, &op);
    return Local(std::move(op));
  }

  v1::Op ZAdd(const std::string& k, const std::vector<std::pair<std::string, double>>& ms) {
    v1::Op op;
    MakeZsetAddOp(ks_, Tick(), k, &op);
    for (const auto& [m, score] : ms) AddZsetElement(m, score, &op);
    return Local(std::move(op));
  }
  v1::Op ZRem(const std::string& k, const std::vector<std::string>& members) {
    v1::Op op;
    MakeZsetRemoveOp(ks_, Tick(), k, &op);
    for (const auto& m : members) AddZsetElement(m, 0, &op);
    return Local(std::move(op));
  }
  v1::Op ZIncr(const std::string& k, const std::string& m, double d) {
    v1::Op op;
    MakeZsetIncrementOp(ks_, Tick(), k, m, d, &op);
    return Local(std::move(op));
  }

  // Lists: the key's list value here (null when it has none).
  const ListValue* List(const std::string& k) {
    const Entry* e = ks_.Find(k, 0);
    return e == nullptr ? nullptr : e->list();
  }
  // LPUSH (left) / RPUSH of `values`, one op: the list then reads as Redis's would.
  v1::Op Push(const std::string& k, const std::vector<std::string>& values, bool left) {
    static const ListValue kEmpty;
    const ListValue* l = List(k);
    if (l == nullptr) l = &kEmpty;
    const Hlc hlc = Tick();
    v1::Op op;
    MakeListInsertOp(ks_, hlc, k, left ? l->PlaceAtHead(hlc) : l->PlaceAtTail(hlc), &op);
    if (left) {
      for (size_t i = values.size(); i-- > 0;) AddListValue(values[i], &op);
    } else {
      for (const auto& v : values) AddListValue(v, &op);
    }
    return Local(std::move(op));
  }
  // LINSERT of `value` before element i (i == size: after the tail).
  v1::Op InsertAt(const std::string& k, size_t i, const std::string& value) {
    static const ListValue kEmpty;
    const ListValue* l = List(k);
    if (l == nullptr) l = &kEmpty;
    ListValue::Placement p;
    EXPECT_TRUE(l->PlaceBefore(i, &p).ok());
    v1::Op op;
    MakeListInsertOp(ks_, Tick(), k, p, &op);
    AddListValue(value, &op);
    return Local(std::move(op));
  }
  // Removes the elements at `indices` (a pop, LREM, LTRIM); the list must have them.
  v1::Op RemoveAt(const std::string& k, const std::vector<size_t>& indices) {
    const ListValue* l = List(k);
    v1::Op op;
    MakeListRemoveOp(ks_, Tick(), k, &op);
    for (size_t i : indices) AddListRef(ks_, l->at(i), &op);
    return Local(std::move(op));
  }
  v1::Op SetAt(const std::string& k, size_t i, const std::string& value) {
    v1::Op op;
    MakeListSetOp(ks_, Tick(), k, List(k)->at(i), value, &op);
    return Local(std::move(op));
  }

  // Streams: the key's stream value here (null when it has none).
  const StreamValue* Stream(const std::string& k) {
    const Entry* e = ks_.Find(k, 0);
    return e == nullptr ? nullptr : e->stream();
  }
  // XADD of entry `id` with `fields` (field, value, ...): the metadata as the command sets it.
  v1::Op XAdd(const std::string& k, StreamId id, const std::vector<std::string>& fields) {
    const StreamValue* s = Stream(k);
    StreamMeta m = s != nullptr ? s->meta() : StreamMeta{};
    m.last_id = std::max(m.last_id, id);
    ++m.entries_added;
    v1::Op op;
    MakeStreamOp(ks_, Tick(), k, &op);
    v1::StreamEntry* e = op.mutable_xadd()->add_entries();
    e->mutable_id()->set_ms(id.ms);
    e->mutable_id()->set_seq(id.seq);
    for (const auto& f : fields) e->add_fields(f);
    SetStreamMeta(m, op.mutable_xadd()->mutable_meta());
    return Local(std::move(op));
  }
  // XDEL / trimming of the entries `ids` (every instance of each this replica holds).
  v1::Op XDel(const std::string& k, const std::vector<StreamId>& ids) {
    const StreamValue* s = Stream(k);
    StreamMeta m = s != nullptr ? s->meta() : StreamMeta{};
    v1::Op op;
    MakeStreamOp(ks_, Tick(), k, &op);
    v1::StreamRemove* rem = op.mutable_xdel();
    for (const StreamId& id : ids) {
      if (s == nullptr || s->items().count(id) == 0) continue;
      m.max_deleted = std::max(m.max_deleted, id);
      for (const auto& in : s->items().at(id).instances) {
        v1::StreamRef* r = rem->add_entries();
        r->mutable_id()->set_ms(id.ms);
        r->mutable_id()->set_seq(id.seq);
        r->set_region(ks_.regions().Name(in.tag.region));
        r->set_seq(in.tag.seq);
        r->set_idx(in.tag.idx);
      }
    }
    SetStreamMeta(m, rem->mutable_meta());
    return Local(std::move(op));
  }
  // XSETID: last id `last` (the rest as the replica sees it).
  v1::Op XSetId(const std::string& k, StreamId last) {
    const StreamValue* s = Stream(k);
    StreamMeta m = s != nullptr ? s->meta() : StreamMeta{};
    m.last_id = last;
    v1::Op op;
    MakeStreamOp(ks_, Tick(), k, &op);
    SetStreamMeta(m, op.mutable_xmeta()->mutable_meta());
    return Local(std::move(op));
  }
  // Consumer groups: one group op built as the commands build them (stream_group_family.cc).
  const StreamGroups::Group* Group(const std::string& k, const std::string& g) {
    const StreamValue* s = Stream(k);
    return s == nullptr ? nullptr : s->groups().Find(g);
  }
  void SetGroupTag(const Tag& t, v1::StreamTag* out) {
    out->set_region(ks_.regions().Name(t.region));
    out->set_seq(t.seq);
    out->set_idx(t.idx);
  }
  v1::Op GroupOp(const std::string& k, const std::string& g,
                 const std::function<void(v1::StreamGroupChange*)>& fill) {
    v1::Op op;
    MakeStreamOp(ks_, Tick(), k, &op);
    op.mutable_xgroup()->set_group(g);
    fill(op.mutable_xgroup());
    return Local(std::move(op));
  }
  v1::Op XGroupCreate(const std::string& k, const std::string& g, StreamId id) {
    return GroupOp(k, g, [&](v1::StreamGroupChange* out) {
      out->set_create(true);
      out->set_set_last(true);
      out->mutable_last_id()->set_ms(id.ms);
      out->mutable_last_id()->set_seq(id.seq);
      out->set_entries_read(-1);
    });
  }
  v1::Op XGroupDestroy(const std::string& k, const std::string& g) {
    const StreamGroups::Group* grp = Group(k, g);
    return GroupOp(k, g, [&](v1::StreamGroupChange* out) {
      if (grp == nullptr) return;
      for (const Tag& t : grp->created) SetGroupTag(t, out->add_destroyed());
    });
  }
  v1::Op XGroupSetId(const std::string& k, const std::string& g, StreamId id) {
    const StreamGroups::Group* grp = Group(k, g);
    return GroupOp(k, g, [&](v1::StreamGroupChange* out) {
      out->set_set_last(true);
      out->mutable_last_id()->set_ms(id.ms);
      out->mutable_last_id()->set_seq(id.seq);
      out->set_entries_read(-1);
      if (grp == nullptr) return;
      for (const auto& [r, v] : grp->views) SetGroupTag(Tag{r, 0, v.seq}, out->add_views_removed());
    });
  }
  // XREADGROUP ... > of up to `n` entries for `consumer` (NOACK: no pending entries).
  v1::Op XReadGroup(const std::string& k, const std::string& g, const std::string& consumer,
                    size_t n, bool noack) {
    const StreamValue* s = Stream(k);
    const StreamGroups::Group* grp = Group(k, g);
    return GroupOp(k, g, [&](v1::StreamGroupChange* out) {
      v1::StreamConsumerChange* c = out->add_consumers();
      c->set_name(consumer);
      c->set_add(true);
      c->set_seen_ms(wall_ms);
      if (grp == nullptr) return;
      if (grp->consumers.count(consumer)) {
        for (const Tag& t : grp->consumers.at(consumer).tags) SetGroupTag(t, c->add_removed());
      }
      const StreamGroups::View last = grp->last();
      StreamId last_id{last.last_ms, last.last_seq};
      for (auto it = s->items().upper_bound(last_id); it != s->items().end() && n > 0; ++it, --n) {
        last_id = it->first;
        if (noack) continue;
        v1::StreamPendingChange* p = out->add_pending();
        p->mutable_id()->set_ms(it->first.ms);
        p->mutable_id()->set_seq(it->first.seq);
        p->set_add(true);
        p->set_consumer(consumer);
        p->set_delivery_ms(wall_ms);
        p->set_delivery_count(1);
        auto pe = grp->pel.find({it->first.ms, it->first.seq});
        if (pe == grp->pel.end()) continue;
        for (const auto& in : pe->second.instances) SetGroupTag(in.tag, p->add_removed());
      }
      out->set_set_last(true);
      out->mutable_last_id()->set_ms(last_id.ms);
      out->mutable_last_id()->set_seq(last_id.seq);
      out->set_entries_read(last.entries_read);
    });
  }
  // XACK of `ids` (DELCONSUMER's pending part is the same removal).
  v1::Op XAck(const std::string& k, const std::string& g, const std::vector<StreamId>& ids) {
    const StreamGroups::Group* grp = Group(k, g);
    return GroupOp(k, g, [&](v1::StreamGroupChange* out) {
      if (grp == nullptr) return;
      for (const StreamId& id : ids) {
        auto pe = grp->pel.find({id.ms, id.seq});
        if (pe == grp->pel.end()) continue;
        v1::StreamPendingChange* p = out->add_pending();
        p->mutable_id()->set_ms(id.ms);
        p->mutable_id()->set_seq(id.seq);
        for (const auto& in : pe->second.instances) SetGroupTag(in.tag, p->add_removed());
      }
    });
  }
  v1::Op XDelConsumer(const std::string& k, const std::string& g, const std::string& consumer) {
    const StreamGroups::Group* grp = Group(k, g);
    return GroupOp(k, g, [&](v1::StreamGroupChange* out) {
      if (grp == nullptr || !grp->consumers.count(consumer)) return;
      v1::StreamConsumerChange* c = out->add_consumers();
      c->set_name(consumer);
      for (const Tag& t : grp->consumers.at(consumer).tags) SetGroupTag(t, c->add_removed());
      for (const auto& [id, pe] : grp->pel) {
        if (pe.shown().consumer != consumer) continue;
        v1::StreamPendingChange* p = out->add_pending();
        p->mutable_id()->set_ms(id.first);
        p->mutable_id()->set_seq(id.second);
        for (const auto& in : pe.instances) {
          if (in.consumer == consumer) SetGroupTag(in.tag, p->add_removed());
        }
      }
    });
  }

  static void SetStreamMeta(const StreamMeta& m, v1::StreamMeta* out) {
    out->mutable_last_id()->set_ms(m.last_id.ms);
    out->mutable_last_id()->set_seq(m.last_id.seq);
    out->set_entries_added(m.entries_added);
    out->mutable_max_deleted_id()->set_ms(m.max_deleted.ms);
    out->mutable_max_deleted_id()->set_seq(m.max_deleted.seq);
  }

  // Receives a remote op; returns false if it had to be refused (out of order).
  bool Receive(const v1::Op& op) {
    clock_.Observe(op.hlc());
    auto r = ks_.Apply(op);
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
      return false;
    }
    return true;
  }

  // Visible value, "(nil)" when the key does not exist.
  std::string Get(const std::string& k, uint32_t ns = 0) {
    const Entry* e = ks_.Find(k, ns);
    if (e == nullptr || !e->Exists()) return "(nil)";
    std::string scratch;
    return std::string(e->Value(ks_.regions()));
  }
  // The key's visible type and value in a canonical text form: "string:v", "hash:f=v,f=v"
  // (fields sorted), "set:a,b" (sorted), "zset:m=score,..." (sorted), "(nil)". Of physical
  // namespace `ns`.
  std::string Show(const std::string& k, uint32_t ns = 0) {
    const Entry* e = ks_.Find(k, ns);
    if (e == nullptr || !e->Exists()) return "(nil)";
    std::vector<std::string> items;
    switch (e->Type(ks_.regions())) {
      case ValueType::kString:
        return "string:" + std::string(e->Value(ks_.regions()));
      case ValueType::kHash:
        for (size_t i = 0; i < e->hash()->size(); ++i) {
          const HashValue::Field& f = e->hash()->at(i);
          items.push_back(std::string(f.name) + "=" +
                          std::string(e->hash()->ValueOf(f, ks_.regions())));
        }
        break;
      case ValueType::kSet:
        for (size_t i = 0; i < e->set()->size(); ++i)
          items.push_back(std::string(e->set()->at(i).name));
        break;
      case ValueType::kZset:
        for (size_t i = 0; i < e->zset()->size(); ++i) {
          const ZsetValue::Member& m = e->zset()->at(i);
          char score[32];
          std::snprintf(score, sizeof(score), "%.17g", e->zset()->Score(m, ks_.regions()));
          items.push_back(std::string(m.name) + "=" + score);
        }
        break;
      case ValueType::kList: {
        std::string out = "list:";
        for (size_t i = 0; i < e->list()->size(); ++i) {
          out += (i ? "," : "") + std::string(e->list()->at(i).value.view());
        }
        return out;
      }
      case ValueType::kStream: {
        const StreamValue& s = *e->stream();
        const StreamMeta m = s.meta();
        std::string out = "stream(" + std::to_string(m.last_id.ms) + "-" +
                          std::to_string(m.last_id.seq) + "," + std::to_string(m.entries_added) +
                          "," + std::to_string(m.max_deleted.ms) + "-" +
                          std::to_string(m.max_deleted.seq) + "):";
        for (const auto& [id, item] : s.items()) {
          out += std::to_string(id.ms) + "-" + std::to_string(id.seq) + "=";
          for (const auto& f : item.shown().fields) out += f + ";";
          out += ",";
        }
        for (const auto& [name, g] : s.groups().groups()) {
          if (!g.exists()) continue;
          const StreamGroups::View v = g.last();
          out += " group " + name + "@" + std::to_string(v.last_ms) + "-" +
                 std::to_string(v.last_seq) + "/" + std::to_string(v.entries_read) + "[";
          for (const auto& [c, x] : g.consumers) out += c + ":" + std::to_string(x.seen_ms) + ",";
          out += "]{";
          for (const auto& [id, p] : g.pel) {
            out += std::to_string(id.first) + "-" + std::to_string(id.second) + ":" +
                   p.shown().consumer + ":" + std::to_string(p.shown().delivery_ms) + ":" +
                   std::to_string(p.shown().count) + ",";
          }
          out += "}";
        }
        return out;
      }
      case ValueType::kNone:
        return "(none)";
    }
    std::sort(items.begin(), items.end());
    const ValueType type = e->Type(ks_.regions());
    std::string out = type == ValueType::kHash  ? "hash:"
                      : type == ValueType::kSet ? "set:"
                                                : "zset:";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out;
  }
  int64_t Deadline(const std::string& k) {
    const Entry* e = ks_.Find(k);
    return e == nullptr ? kNoDeadline : e->DeadlineMs();
  }

 private:
  Keyspace ks_;
  std::string name_;
  HybridClock clock_;
};

}  // namespace activekv::crdt::testing
