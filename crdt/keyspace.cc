#include "crdt/keyspace.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crdt/digest.h"
#include "crdt/redis_number.h"
#include "crdt/values/tag.h"

namespace activekv::crdt {

bool ToMapping(const google::protobuf::RepeatedField<uint32_t>& in, DbMapping* out) {
  if (in.size() != static_cast<int>(kDatabases)) return false;
  uint32_t seen = 0;
  for (int i = 0; i < in.size(); ++i) {
    const uint32_t n = in.Get(i);
    if (n >= kDatabases || (seen & (1u << n)) != 0) return false;
    seen |= 1u << n;
    (*out)[static_cast<size_t>(i)] = n;
  }
  return true;
}

Keyspace::Keyspace(std::string_view local_region, const std::vector<std::string>& regions) {
  local_ = regions_.Intern(local_region);
  members_.push_back(MemberOf(local_));
  for (const std::string& name : regions) {
    RegionId id = MemberOf(regions_.Intern(name));
    if (std::find(members_.begin(), members_.end(), id) == members_.end()) {
      members_.push_back(id);
    }
  }
  RecomputeStable();
}

bool Keyspace::ResetLocal(std::string_view origin) {
  const RegionId id = regions_.Intern(origin);
  if (applied_.Get(id) != 0) return false;
  local_ = id;
  RegionId member = MemberOf(local_);
  if (std::find(members_.begin(), members_.end(), member) == members_.end()) {
    members_.push_back(member);
  }
  RecomputeStable();
  return true;
}

RegionId Keyspace::MemberOf(RegionId origin) {
  while (member_of_.size() <= origin) {
    RegionId id = static_cast<RegionId>(member_of_.size());
    // A copy: interning the base name may grow the table the name lives in.
    const std::string name = regions_.Name(id);
    size_t tilde = name.find(kIncarnationSeparator);
    // Interning the base name may add an id; the loop then maps it too.
    member_of_.push_back(id);
    if (tilde != std::string::npos) {
      member_of_[id] = regions_.Intern(std::string_view(name).substr(0, tilde));
    }
  }
  return member_of_[origin];
}

uint64_t Keyspace::KeyHash(std::string_view key) {
  uint64_t h = StableHash64(key, 0) & kKeyHashMask;
  return h == 0 ? 1 : h;
}

bool Keyspace::AckUsable(RegionId q, const VersionVector& ack) {
  for (RegionId o = 0; o < regions_.size(); ++o) {
    if (MemberOf(o) == q && applied_.Get(o) < ack.Get(o)) return false;
  }
  return true;
}

void Keyspace::RecomputeStable() {
  if (stability_held_) return;
  VersionVector stable = applied_;
  const RegionId local_member = MemberOf(local_);
  for (RegionId q : members_) {
    if (q == local_member) continue;
    auto it = known_.find(q);
    if (it == known_.end()) return;  // nothing is known about q yet: stable_ stays empty
    Known& known = it->second;
    while (!known.pending.empty() && AckUsable(q, known.pending.front())) {
      known.usable.Merge(known.pending.front());
      known.pending.pop_front();
    }
    for (RegionId r = 0; r < regions_.size(); ++r) {
      if (known.usable.Get(r) < stable.Get(r)) stable.Set(r, known.usable.Get(r));
    }
  }
  stable_ = std::move(stable);
}

void Keyspace::ObservePeerApplied(
    std::string_view region, const google::protobuf::RepeatedPtrField<v1::VersionEntry>& applied) {
  VersionVector ack;
  for (const v1::VersionEntry& e : applied) {
    RegionId r = regions_.Intern(e.region());
    if (e.seq() > ack.Get(r)) ack.Set(r, e.seq());
  }
  RegionId q = MemberOf(regions_.Intern(region));
  Known& known = known_[q];
  if (!known.pending.empty() && known.pending.size() >= kMaxPendingAcks) {
    known.pending.back().Merge(ack);  // the oldest still becomes usable first
  } else {
    known.pending.push_back(std::move(ack));
  }
  RecomputeStable();
}

void Keyspace::Reindex(uint32_t ns, std::string_view key, int64_t before, const Entry* entry) {
  int64_t after = entry == nullptr ? 0 : IndexedDeadline(*entry);
  if (before == after) return;
  auto& deadlines = ns_[ns].deadlines;
  if (before != 0) deadlines.erase({before, std::string(key)});
  if (after != 0) deadlines.insert({after, std::string(key)});
}

absl::Status Keyspace::DecodeObserved(const v1::Op& op, RegionId origin, VersionVector* out) {
  for (const v1::VersionEntry& e : op.context()) {
    if (e.region().empty()) return absl::InvalidArgumentError("op context: empty region name");
    RegionId r = regions_.Intern(e.region());
    if (r == origin) return absl::InvalidArgumentError("op context names the op's own origin");
    out->Set(r, e.seq());
  }
  out->Set(origin, op.seq() - 1);
  return absl::OkStatus();
}

namespace {

bool ValidLevel(const v1::ListLevel& l) { return !l.region().empty() && l.seq() != 0; }

bool ValidRef(const v1::ListRef& r) {
  if (!r.has_own() || !ValidLevel(r.own())) return false;
  for (const v1::ListLevel& l : r.prefix()) {
    if (!ValidLevel(l)) return false;
  }
  return true;
}

}  // namespace

absl::Status Keyspace::ValidateListOp(const v1::Op& op) {
  bool ok = true;
  if (op.has_linsert()) {
    for (const v1::ListLevel& l : op.linsert().prefix()) ok = ok && ValidLevel(l);
  } else if (op.has_lrem()) {
    for (const v1::ListRef& r : op.lrem().elements()) ok = ok && ValidRef(r);
  } else if (op.has_lset()) {
    ok = op.lset().has_element() && ValidRef(op.lset().element());
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError("list op names a level without a region or seq");
}

ListLevel Keyspace::LevelOf(const v1::ListLevel& l) {
  RegionId r = l.region() == local_name() ? local_ : regions_.Intern(l.region());
  return ListLevel{l.digit(), Tag{r, l.idx(), l.seq()}};
}

void Keyspace::ApplyListRemove(const v1::ListRemove& rem, Entry* entry, const Entry::Context& ctx) {
  ListValue* list = entry->mutable_list();
  const ValueContext vctx = entry->value_context(ctx);
  absl::InlinedVector<ListLevel, 4> prefix;
  for (const v1::ListRef& r : rem.elements()) {
    prefix.clear();
    for (const v1::ListLevel& l : r.prefix()) prefix.push_back(LevelOf(l));
    const ListLevel own = LevelOf(r.own());
    list->Remove(ListPos(prefix, own), vctx);
  }
  entry->Compact(ctx);
}

absl::StatusOr<Keyspace::Outcome> Keyspace::Apply(const v1::Op& op) {
  if (op.origin().empty() || op.seq() == 0) {
    return absl::InvalidArgumentError("op without a dot (origin, seq)");
  }
  if (op.body_case() == v1::Op::BODY_NOT_SET) {
    return absl::InvalidArgumentError(
        absl::StrCat("op ", op.origin(), ":", op.seq(), " has no body"));
  }
  long double float_delta = 0;
  const std::string* float_text = op.has_add()     ? &op.add().float_delta()
                                  : op.has_hincr() ? &op.hincr().float_delta()
                                                   : nullptr;
  if (float_text != nullptr && !float_text->empty() &&
      !ParseRedisLongDouble(*float_text, &float_delta)) {
    return absl::InvalidArgumentError("op float_delta is not a valid float");
  }
  if (op.has_zincr() && std::isnan(op.zincr().delta())) {
    return absl::InvalidArgumentError("op zincr delta is NaN");
  }
  if (op.has_zadd()) {
    for (const v1::ScoredElement& m : op.zadd().members()) {
      if (std::isnan(m.score())) return absl::InvalidArgumentError("op zadd score is NaN");
    }
  }
  if (absl::Status st = ValidateListOp(op); !st.ok()) return st;
  if (absl::Status st = ValidateStreamOp(op); !st.ok()) return st;
  if (op.db() >= kDatabases) {
    return absl::InvalidArgumentError(absl::StrCat("op db ", op.db(), " out of range"));
  }
  if (op.has_function() && op.function().name().empty()) {
    return absl::InvalidArgumentError("FUNCTION op without a library name");
  }
  DbMapping mapping;
  if (op.has_swapdb() && !ToMapping(op.swapdb().mapping(), &mapping)) {
    return absl::InvalidArgumentError("SWAPDB op mapping is not a permutation of 0..15");
  }
  RegionId origin = op.origin() == local_name() ? local_ : regions_.Intern(op.origin());
  uint64_t have = applied_.Get(origin);
  if (op.seq() <= have) return Outcome::kDuplicate;
  if (op.seq() != have + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("op ", op.origin(), ":", op.seq(), " out of order: have up to ", have));
  }
  VersionVector observed;
  absl::Status s = DecodeObserved(op, origin, &observed);
  if (!s.ok()) return s;
  applied_.Set(origin, op.seq());
  ++applied_ops_;
  RecomputeStable();

  Dot dot{origin, op.seq()};
  Entry::Context ctx{&regions_, &applied_, &stable_};

  if (op.has_swapdb()) {
    WriteMapping(mapping, op.hlc(), origin);
    return Outcome::kApplied;
  }
  if (op.has_function()) {
    WriteFunction(op.function().name(), op.function().code(), op.hlc(), origin);
    return Outcome::kApplied;
  }
  if (op.has_flush()) {
    ApplyFlush(op, observed, ctx);
    return Outcome::kApplied;
  }
  const uint32_t db = op.db();
  Namespace& ns = ns_[db];
  // Check before pruning: applied_ already includes this op.
  bool flushed = ns.flush_frontier.Covers(dot);  // a FLUSHALL or FLUSHDB observed it
  ns.flush_frontier.PruneCoveredBy(applied_);
  // A flushed op adds nothing, but what it removed stays removed: its context may cover
  // instances the FLUSHALL did not observe (found by the snapshot property test: a flushed SET's
  // removal of an expiry was skipped, and the expiry came back once the FLUSHALL removed the
  // SET's PERSIST). Increments remove nothing.
  if (flushed && (op.has_add() || op.has_hincr() || op.has_zincr() || op.has_linsert() ||
                  op.has_lset() || op.has_xadd() || op.has_xmeta())) {
    return Outcome::kApplied;
  }

  auto it = ns.table.find(op.key());
  if (it == ns.table.end()) {
    // A removal of an unknown key only matters if it observed ops not applied here yet: then
    // the entry keeps that removal knowledge for when they arrive.
    if ((op.has_del() || flushed) && observed.LessOrEqual(applied_)) return Outcome::kApplied;
    it = ns.table.try_emplace(op.key()).first;
    IndexAdd(db, KeyHash(op.key()), &*it);
    NoteCreated(db, it->first);
  } else {
    SaveForSnapshot(db, it->first, it->second);
  }
  Entry& entry = it->second;
  bool existed = entry.Exists();
  int64_t deadline = IndexedDeadline(entry);
  const uint64_t digest_seed = KeyDigestSeed(it->first, db);
  digest_.Sub(entry.Digest(digest_seed, regions_));
  if (flushed) {
    ApplyFlushedOp(op, observed, &entry, ctx);
  } else {
    ApplyToEntry(op, dot, observed, float_delta, &entry, ctx);
  }
  digest_.Add(entry.Digest(digest_seed, regions_));
  bool exists = entry.Exists();
  if (exists && !existed) {
    ++live_keys_;
    ++ns.live_keys;
  }
  if (!exists && existed) {
    --live_keys_;
    --ns.live_keys;
  }
  bool empty = entry.Empty();
  Reindex(db, it->first, deadline, empty ? nullptr : &entry);
  if (empty) Erase(db, it);
  return Outcome::kApplied;
}

void Keyspace::ApplyFlush(const v1::Op& op, const VersionVector& observed,
                          const Entry::Context& ctx) {
  const bool one = op.flush().one_db();
  for (uint32_t db = one ? op.db() : 0; db < (one ? op.db() + 1 : kDatabases); ++db) {
    Namespace& ns = ns_[db];
    for (auto it = ns.table.begin(); it != ns.table.end();) {
      SaveForSnapshot(db, it->first, it->second);
      bool existed = it->second.Exists();
      int64_t deadline = IndexedDeadline(it->second);
      const uint64_t seed = KeyDigestSeed(it->first, db);
      digest_.Sub(it->second.Digest(seed, regions_));
      it->second.ApplyDelete(observed, ctx);
      digest_.Add(it->second.Digest(seed, regions_));
      if (existed && !it->second.Exists()) {
        --live_keys_;
        --ns.live_keys;
      }
      bool empty = it->second.Empty();
      Reindex(db, it->first, deadline, empty ? nullptr : &it->second);
      if (empty) {
        Erase(db, it++);
      } else {
        ++it;
      }
    }
    ns.flush_frontier.Merge(observed);
    ns.flush_frontier.PruneCoveredBy(applied_);
  }
}

void Keyspace::WriteMapping(const DbMapping& mapping, Hlc hlc, RegionId origin) {
  if (mapping_.written && !LwwBefore(mapping_.hlc, mapping_.region, hlc, origin, regions_)) {
    return;
  }
  mapping_.ns = mapping;
  mapping_.written = true;
  mapping_.hlc = hlc;
  mapping_.region = origin;
}

void Keyspace::WriteFunction(const std::string& name, std::string_view code, Hlc hlc,
                             RegionId origin) {
  auto it = functions_.find(name);
  if (it != functions_.end() &&
      !LwwBefore(it->second.hlc, it->second.region, hlc, origin, regions_)) {
    return;
  }
  FunctionLibrary& lib = functions_[name];
  lib.code = std::string(code);
  lib.hlc = hlc;
  lib.region = origin;
  ++functions_generation_;
}

Digest128 Keyspace::FunctionsDigest() const {
  Digest128 d;
  for (const auto& [name, lib] : functions_) {
    if (lib.code.empty()) continue;
    // Names no key digest uses (a key's contribution goes through KeyDigest).
    d.Add(ElementDigest(std::string(std::string_view("\0function:", 10)) + name, lib.code));
  }
  return d;
}

Digest128 Keyspace::MappingDigest() const {
  if (mapping_.ns == IdentityMapping()) return Digest128{};
  std::string bytes;
  for (uint32_t n : mapping_.ns) bytes.push_back(static_cast<char>(n));
  // A name no key digest uses (a key's contribution goes through KeyDigest).
  return ElementDigest(std::string_view("\0db-mapping", 11), bytes);
}

void Keyspace::ApplyFlushedOp(const v1::Op& op, const VersionVector& observed, Entry* entry,
                              const Entry::Context& ctx) {
  switch (op.body_case()) {
    case v1::Op::kSet:
      entry->ApplyRemoval(observed, true, op.set().expiry().kind() != v1::ExpiryChange::KEEP, ctx);
      break;
    case v1::Op::kDel:
      entry->ApplyRemoval(observed, true, true, ctx);
      break;
    case v1::Op::kExpire:
      entry->ApplyRemoval(observed, false, op.expire().expiry().kind() != v1::ExpiryChange::KEEP,
                          ctx);
      break;
    case v1::Op::kHset:
    case v1::Op::kHdel: {
      const auto& fields = op.has_hset() ? op.hset().fields() : op.hdel().fields();
      HashValue* h = entry->mutable_hash();
      const ValueContext vctx = entry->value_context(ctx);
      for (const v1::Element& f : fields) h->Remove(f.name(), observed, vctx);
      entry->Compact(ctx);
      break;
    }
    case v1::Op::kSadd:
    case v1::Op::kSrem: {
      const auto& members = op.has_sadd() ? op.sadd().members() : op.srem().members();
      SetValue* set = entry->mutable_set();
      const ValueContext vctx = entry->value_context(ctx);
      for (const v1::Element& m : members) set->Remove(m.name(), observed, vctx);
      entry->Compact(ctx);
      break;
    }
    case v1::Op::kZadd:
    case v1::Op::kZrem: {
      ZsetValue* z = entry->mutable_zset();
      const ValueContext vctx = entry->value_context(ctx);
      if (op.has_zadd()) {
        for (const v1::ScoredElement& m : op.zadd().members()) z->Remove(m.name(), observed, vctx);
      } else {
        for (const v1::Element& m : op.zrem().members()) z->Remove(m.name(), observed, vctx);
      }
      entry->Compact(ctx);
      break;
    }
    case v1::Op::kLrem:
      ApplyListRemove(op.lrem(), entry, ctx);
      break;
    case v1::Op::kXdel:  // a removal's metadata is an add: skipped like the adds above
    case v1::Op::kXgroup:
      ApplyStreamOp(op, Dot{}, entry, ctx);
      break;
    default:
      break;
  }
}

void Keyspace::ApplyToEntry(const v1::Op& op, const Dot& dot, const VersionVector& observed,
                            long double float_delta, Entry* entry_ptr, const Entry::Context& ctx) {
  Entry& entry = *entry_ptr;
  const RegionId origin = dot.region;
  switch (op.body_case()) {
    case v1::Op::kSet: {
      const v1::SetValue& set = op.set();
      const v1::ExpiryChange::Kind kind = set.expiry().kind();
      entry.ApplySet(dot, op.hlc(), set.value(), kind != v1::ExpiryChange::KEEP,
                     kind == v1::ExpiryChange::DEADLINE ? set.expiry().deadline_ms() : kNoDeadline,
                     observed, ctx);
      break;
    }
    case v1::Op::kDel:
      entry.ApplyDelete(observed, ctx);
      break;
    case v1::Op::kAdd:
      if (op.add().float_delta().empty()) {
        entry.ApplyIncrement(dot, op.hlc(), op.add().delta(), ctx);
      } else {
        entry.ApplyFloatIncrement(dot, op.hlc(), float_delta, ctx);
      }
      break;
    case v1::Op::kExpire: {
      const v1::ExpiryChange& e = op.expire().expiry();
      int64_t deadline = e.kind() == v1::ExpiryChange::DEADLINE ? e.deadline_ms() : kNoDeadline;
      if (e.kind() != v1::ExpiryChange::KEEP) {
        entry.ApplyExpiry(dot, op.hlc(), deadline, observed, ctx);
      }
      break;
    }
    case v1::Op::kHset: {
      HashValue* h = entry.mutable_hash();
      if (op.hset().hashtable()) h->set_hashtable();
      const ValueContext vctx = entry.value_context(ctx);
      for (int i = 0; i < op.hset().fields_size(); ++i) {
        const v1::Element& f = op.hset().fields(i);
        h->Set(f.name(), f.value(), Tag{origin, static_cast<uint32_t>(i), op.seq()}, op.hlc(),
               observed, vctx);
      }
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kHdel: {
      HashValue* h = entry.mutable_hash();
      const ValueContext vctx = entry.value_context(ctx);
      for (int i = 0; i < op.hdel().fields_size(); ++i) {
        h->Remove(op.hdel().fields(i).name(), observed, vctx);
      }
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kHincr: {
      const v1::HashIncrement& inc = op.hincr();
      Register::Increment ri;
      ri.tag = Tag{origin, 0, op.seq()};
      ri.hlc = op.hlc();
      ri.is_float = !inc.float_delta().empty();
      ri.delta = inc.delta();
      ri.float_delta = float_delta;
      entry.mutable_hash()->Increment(inc.field(), ri, entry.value_context(ctx));
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kSadd: {
      SetValue* set = entry.mutable_set();
      if (op.sadd().hashtable()) set->set_hashtable();
      const ValueContext vctx = entry.value_context(ctx);
      for (int i = 0; i < op.sadd().members_size(); ++i) {
        set->Add(op.sadd().members(i).name(), Tag{origin, static_cast<uint32_t>(i), op.seq()},
                 op.hlc(), observed, vctx);
      }
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kSrem: {
      SetValue* set = entry.mutable_set();
      const ValueContext vctx = entry.value_context(ctx);
      for (int i = 0; i < op.srem().members_size(); ++i) {
        set->Remove(op.srem().members(i).name(), observed, vctx);
      }
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kZadd: {
      ZsetValue* z = entry.mutable_zset();
      if (op.zadd().skiplist()) z->set_skiplist();
      const ValueContext vctx = entry.value_context(ctx);
      for (int i = 0; i < op.zadd().members_size(); ++i) {
        const v1::ScoredElement& m = op.zadd().members(i);
        z->Add(m.name(), m.score(), Tag{origin, static_cast<uint32_t>(i), op.seq()}, op.hlc(),
               observed, vctx);
      }
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kZrem: {
      ZsetValue* z = entry.mutable_zset();
      const ValueContext vctx = entry.value_context(ctx);
      for (const v1::Element& m : op.zrem().members()) z->Remove(m.name(), observed, vctx);
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kZincr: {
      ZsetValue* z = entry.mutable_zset();
      if (op.zincr().skiplist()) z->set_skiplist();
      ScoreRegister::Increment inc;
      inc.tag = Tag{origin, 0, op.seq()};
      inc.hlc = op.hlc();
      inc.delta = op.zincr().delta();
      z->Increment(op.zincr().member(), inc, entry.value_context(ctx));
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kLinsert: {
      const v1::ListInsert& ins = op.linsert();
      ListValue* list = entry.mutable_list();
      const ValueContext vctx = entry.value_context(ctx);
      absl::InlinedVector<ListLevel, 4> prefix;
      for (const v1::ListLevel& l : ins.prefix()) prefix.push_back(LevelOf(l));
      for (int i = 0; i < ins.values_size(); ++i) {
        list->Insert(prefix, ins.digit(), Tag{origin, static_cast<uint32_t>(i), op.seq()},
                     ins.values(i), op.hlc(), vctx);
      }
      entry.Compact(ctx);
      break;
    }
    case v1::Op::kLrem:
      ApplyListRemove(op.lrem(), &entry, ctx);
      break;
    case v1::Op::kXadd:
    case v1::Op::kXdel:
    case v1::Op::kXmeta:
    case v1::Op::kXgroup:
      ApplyStreamOp(op, dot, &entry, ctx);
      break;
    case v1::Op::kLset: {
      const v1::ListRef& r = op.lset().element();
      absl::InlinedVector<ListLevel, 4> prefix;
      for (const v1::ListLevel& l : r.prefix()) prefix.push_back(LevelOf(l));
      const ListLevel own = LevelOf(r.own());
      entry.mutable_list()->Set(ListPos(prefix, own), op.lset().value(), op.hlc(), origin,
                                entry.value_context(ctx));
      entry.Compact(ctx);
      break;
    }
    default:
      break;
  }
}

void Keyspace::IndexAdd(uint32_t db, uint64_t hash, const Table::value_type* node) {
  Namespace& ns = ns_[db];
  if (ns.index_stale) return;
  const Indexed key{hash, node};
  if (!bulk_) {
    ns.index.insert(key);
  } else if (ns.index.empty() || IndexLess()(*ns.index.rbegin(), key)) {
    ns.index.insert(ns.index.end(), key);  // in order: appended
  } else {
    ns.index.clear();
    ns.index_stale = true;
  }
}

void Keyspace::Erase(uint32_t ns, Table::iterator it) {
  if (!ns_[ns].index_stale) ns_[ns].index.erase(KeyRef{KeyHash(it->first), it->first});
  ns_[ns].table.erase(it);
}

void Keyspace::BeginBulkLoad() {
  assert(snap_ == nullptr);
  bulk_ = true;
}

void Keyspace::EndBulkLoad() {
  bulk_ = false;
  std::vector<Indexed> sorted;
  for (Namespace& ns : ns_) {
    if (!ns.index_stale) continue;
    ns.index_stale = false;
    sorted.clear();
    sorted.reserve(ns.table.size());
    for (const auto& node : ns.table) sorted.push_back(Indexed{KeyHash(node.first.view()), &node});
    std::sort(sorted.begin(), sorted.end(), IndexLess());
    // Sorted input: each insert lands at the end of the tree, its nodes filled in order.
    ns.index = Index(sorted.begin(), sorted.end());
  }
}

std::string Keyspace::Digest() const {
  Digest128 d = digest_;
  d.Add(MappingDigest());
  d.Add(FunctionsDigest());
  return DigestHex(d);
}

std::string Keyspace::DigestByWalk() const {
  Digest128 d;
  for (uint32_t ns = 0; ns < kDatabases; ++ns) {
    for (const auto& [key, entry] : ns_[ns].table) {
      d.Add(entry.Digest(KeyDigestSeed(key, ns), regions_));
    }
  }
  d.Add(MappingDigest());
  d.Add(FunctionsDigest());
  return DigestHex(d);
}

}  // namespace activekv::crdt
