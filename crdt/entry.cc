#include "crdt/entry.h"

#include <algorithm>
#include <utility>

namespace activekv::crdt {

Entry::Extra& Entry::extra() {
  if (!extra_) extra_ = std::make_unique<Extra>();
  return *extra_;
}

HashValue* Entry::mutable_hash() {
  Extra& x = extra();
  if (!x.hash) x.hash = std::make_unique<HashValue>();
  return x.hash.get();
}

SetValue* Entry::mutable_set() {
  Extra& x = extra();
  if (!x.set) x.set = std::make_unique<SetValue>();
  return x.set.get();
}

ZsetValue* Entry::mutable_zset() {
  Extra& x = extra();
  if (!x.zset) x.zset = std::make_unique<ZsetValue>();
  return x.zset.get();
}

ListValue* Entry::mutable_list() {
  Extra& x = extra();
  if (!x.list) x.list = std::make_unique<ListValue>();
  return x.list.get();
}

StreamValue* Entry::mutable_stream() {
  Extra& x = extra();
  if (!x.stream) x.stream = std::make_unique<StreamValue>();
  return x.stream.get();
}

ValueContext Entry::value_context(const Context& ctx) const {
  static const VersionVector kNone;
  return ValueContext{ctx.regions, ctx.applied, ctx.stable,
                      extra_ ? &extra_->value_frontier : &kNone};
}

void Entry::MaybeFreeExtra() {
  if (!extra_) return;
  if (extra_->hash && extra_->hash->Empty()) extra_->hash.reset();
  if (extra_->set && extra_->set->Empty()) extra_->set.reset();
  if (extra_->zset && extra_->zset->Empty()) extra_->zset.reset();
  if (extra_->list && extra_->list->Empty()) extra_->list.reset();
  if (extra_->stream && extra_->stream->Empty()) extra_->stream.reset();
  if (extra_->expiries.empty() && extra_->value_frontier.empty() &&
      extra_->expiry_frontier.empty() && !extra_->hash && !extra_->set && !extra_->zset &&
      !extra_->list && !extra_->stream) {
    extra_.reset();
  }
}

bool Entry::ValueRemoved(const Dot& dot) const {
  return extra_ && extra_->value_frontier.Covers(dot);
}

void Entry::RemoveObservedValue(const VersionVector& observed, const Context& ctx) {
  str_.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
  if (extra_) {
    if (extra_->hash) extra_->hash->RemoveObserved(observed, value_context(ctx));
    if (extra_->set) extra_->set->RemoveObserved(observed, value_context(ctx));
    if (extra_->zset) extra_->zset->RemoveObserved(observed, value_context(ctx));
    if (extra_->list) extra_->list->RemoveObserved(observed, value_context(ctx));
    if (extra_->stream) extra_->stream->RemoveObserved(observed, value_context(ctx));
  }
  if (!observed.LessOrEqual(*ctx.applied)) extra().value_frontier.Merge(observed);
  if (extra_) extra_->value_frontier.PruneCoveredBy(*ctx.applied);
}

void Entry::RemoveObservedExpiry(const VersionVector& observed, const Context& ctx) {
  if (extra_) {
    auto& exp = extra_->expiries;
    exp.erase(std::remove_if(exp.begin(), exp.end(),
                             [&](const ExpiryWrite& e) { return observed.Covers(e.dot); }),
              exp.end());
  }
  if (!observed.LessOrEqual(*ctx.applied)) extra().expiry_frontier.Merge(observed);
  if (extra_) extra_->expiry_frontier.PruneCoveredBy(*ctx.applied);
}

void Entry::ApplySet(const Dot& dot, Hlc hlc, std::string_view value, bool set_expiry,
                     int64_t deadline_ms, const VersionVector& observed, const Context& ctx) {
  // Both halves before Compact: between them, a stable lone PERSIST would look unbeaten and be
  // dropped although this op's concurrent deadline is about to join it (found by the snapshot
  // property test, SNAPSHOT_HISTORY_SEED=251871797).
  AddWrite(dot, hlc, value, observed, ctx);
  if (set_expiry) AddExpiry(dot, hlc, deadline_ms, observed, ctx);
  Compact(ctx);
}

void Entry::AddWrite(const Dot& dot, Hlc hlc, std::string_view value, const VersionVector& observed,
                     const Context& ctx) {
  // Check before pruning: the keyspace's applied vector already includes this op.
  bool removed = ValueRemoved(dot);
  RemoveObservedValue(observed, ctx);
  if (!removed) {
    str_.AddWrite(Register::Write{Tag{dot.region, 0, dot.seq}, hlc, CompactString(value), 0},
                  *ctx.stable);
  }
}

void Entry::ApplyIncrement(const Dot& dot, Hlc hlc, int64_t delta, const Context& ctx) {
  if (!ValueRemoved(dot)) {
    str_.AddIncrement(Register::Increment{Tag{dot.region, 0, dot.seq}, hlc, false, delta, 0},
                      *ctx.stable, *ctx.regions);
  }
  Compact(ctx);
}

void Entry::ApplyFloatIncrement(const Dot& dot, Hlc hlc, long double delta, const Context& ctx) {
  if (!ValueRemoved(dot)) {
    str_.AddIncrement(Register::Increment{Tag{dot.region, 0, dot.seq}, hlc, true, 0, delta},
                      *ctx.stable, *ctx.regions);
  }
  Compact(ctx);
}

void Entry::ApplyExpiry(const Dot& dot, Hlc hlc, int64_t deadline_ms, const VersionVector& observed,
                        const Context& ctx) {
  AddExpiry(dot, hlc, deadline_ms, observed, ctx);
  Compact(ctx);
}

void Entry::AddExpiry(const Dot& dot, Hlc hlc, int64_t deadline_ms, const VersionVector& observed,
                      const Context& ctx) {
  bool removed = extra_ && extra_->expiry_frontier.Covers(dot);
  RemoveObservedExpiry(observed, ctx);
  // A stable PERSIST with nothing concurrent to beat is the same as no expiry at all.
  bool redundant = deadline_ms == kNoDeadline && ctx.stable->Covers(dot) &&
                   (!extra_ || extra_->expiries.empty());
  if (!removed && !redundant) extra().expiries.push_back(ExpiryWrite{dot, hlc, deadline_ms});
}

void Entry::ApplyRemoval(const VersionVector& observed, bool value, bool expiry,
                         const Context& ctx) {
  if (value) RemoveObservedValue(observed, ctx);
  if (expiry) RemoveObservedExpiry(observed, ctx);
  Compact(ctx);
}

ValueType Entry::Type(const RegionTable& regions) const {
  const bool s = str_.Exists();
  const bool h = extra_ && extra_->hash && !extra_->hash->empty();
  const bool t = extra_ && extra_->set && !extra_->set->empty();
  const bool z = extra_ && extra_->zset && !extra_->zset->empty();
  const bool l = extra_ && extra_->list && !extra_->list->empty();
  const bool x = extra_ && extra_->stream && !extra_->stream->empty();
  const int n = int{s} + int{h} + int{t} + int{z} + int{l} + int{x};
  if (n == 0) return ValueType::kNone;
  if (n == 1) {
    return s   ? ValueType::kString
           : h ? ValueType::kHash
           : t ? ValueType::kSet
           : z ? ValueType::kZset
           : l ? ValueType::kList
               : ValueType::kStream;
  }
  // A type conflict (docs/crdt-semantics.md): the type whose newest element is latest wins.
  // O(elements) while the conflict lasts.
  ValueType best = ValueType::kNone;
  Stamp best_stamp;
  auto consider = [&](ValueType type, const Stamp& stamp) {
    if (best == ValueType::kNone ||
        LwwBefore(best_stamp.hlc, best_stamp.region, stamp.hlc, stamp.region, regions)) {
      best = type;
      best_stamp = stamp;
    }
  };
  if (s) consider(ValueType::kString, str_.Newest(regions));
  if (h) consider(ValueType::kHash, extra_->hash->Newest(regions));
  if (t) consider(ValueType::kSet, extra_->set->Newest(regions));
  if (z) consider(ValueType::kZset, extra_->zset->Newest(regions));
  if (l) consider(ValueType::kList, extra_->list->Newest(regions));
  if (x) consider(ValueType::kStream, extra_->stream->Newest(regions));
  return best;
}

int64_t Entry::DeadlineMs() const {
  if (!extra_) return kNoDeadline;
  int64_t deadline = kNoDeadline;
  for (const ExpiryWrite& e : extra_->expiries) {
    if (e.deadline_ms == kNoDeadline) return kNoDeadline;  // PERSIST wins
    deadline = std::max(deadline, e.deadline_ms);
  }
  return deadline;
}

Digest128 Entry::Digest(uint64_t key_seed, const RegionTable& regions) const {
  const ValueType type = Type(regions);
  Digest128 value;
  switch (type) {
    case ValueType::kNone:
      return Digest128();
    case ValueType::kString:
      value = ElementDigest(str_.Value(regions), "");
      break;
    case ValueType::kHash:
      value = extra_->hash->digest();
      break;
    case ValueType::kSet:
      value = extra_->set->digest();
      break;
    case ValueType::kZset:
      value = extra_->zset->digest();
      break;
    case ValueType::kList:
      value = extra_->list->digest();
      break;
    case ValueType::kStream:
      value = extra_->stream->digest();
      break;
  }
  return KeyDigest(key_seed, static_cast<int>(type), DeadlineMs(), value);
}

void Entry::Compact(const Context& ctx) {
  str_.Compact(*ctx.stable);
  if (extra_ && extra_->hash) extra_->hash->PruneFrontiers(*ctx.applied);
  if (extra_ && extra_->set) extra_->set->PruneFrontiers(*ctx.applied);
  if (extra_ && extra_->zset) extra_->zset->PruneFrontiers(*ctx.applied);
  if (extra_ && extra_->list) extra_->list->PruneFrontiers(*ctx.applied);
  if (extra_ && extra_->stream) extra_->stream->PruneFrontiers(*ctx.applied);
  if (extra_ && extra_->expiries.size() == 1 && extra_->expiries[0].deadline_ms == kNoDeadline &&
      ctx.stable->Covers(extra_->expiries[0].dot)) {
    extra_->expiries.clear();
  }
  MaybeFreeExtra();
}

}  // namespace activekv::crdt
