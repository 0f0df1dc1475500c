#include "crdt/values/register.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "crdt/redis_number.h"

namespace activekv::crdt {
namespace {

// A number in the text form redis-server would hold: an int64 when the text parses as one,
// otherwise a long double.
struct Number {
  bool is_int = true;
  int64_t i = 0;
  long double f = 0;
  std::string text;  // set after a floating-point step
};

bool ParseNumber(std::string_view text, Number* n) {
  int64_t i;
  if (ParseRedisInt(text, &i)) {
    n->is_int = true;
    n->i = i;
    return true;
  }
  long double f;
  if (ParseRedisLongDouble(text, &f)) {
    n->is_int = false;
    n->f = f;
    n->text = std::string(text);
    return true;
  }
  return false;
}

// One increment, as INCRBY / INCRBYFLOAT would do it on redis-server: integer arithmetic while
// both sides are integers and it does not overflow, otherwise long double arithmetic whose result
// is stored as text (and re-read as an integer when it is one).
void AddStep(Number* n, const StringArith::Increment& inc) {
  if (n->is_int && !inc.is_float) {
    int64_t sum;
    if (!__builtin_add_overflow(n->i, inc.delta, &sum)) {
      n->i = sum;
      return;
    }
  }
  long double base = n->is_int ? static_cast<long double>(n->i) : n->f;
  long double sum = base + (inc.is_float ? inc.float_delta : static_cast<long double>(inc.delta));
  std::string text = FormatLongDoubleHuman(sum);
  if (!ParseNumber(text, n)) {  // inf: keep it as is
    n->is_int = false;
    n->f = sum;
    n->text = std::move(text);
  }
}

std::string NumberText(Number* n) { return n->is_int ? FormatInt(n->i) : std::move(n->text); }

// The arithmetic of each register kind: an accumulator `Acc` (zero when default-constructed),
// Load (false: a non-numeric base, which wins over increments as it is), Step and Store.
template <typename Arith>
struct Ops;

template <>
struct Ops<StringArith> {
  using Acc = Number;
  static bool Load(const CompactString& v, Acc* n) { return ParseNumber(v.view(), n); }
  static void Step(Acc* n, const StringArith::Increment& inc) { AddStep(n, inc); }
  static CompactString Store(Acc* n) { return CompactString(NumberText(n)); }
  static std::string_view View(const CompactString& v) { return v.view(); }
};

template <>
struct Ops<ScoreArith> {
  struct Acc {
    double v = 0;
    bool set = false;  // no base yet: the first step sets the score (-0 stays -0, as in Redis)
  };
  static bool Load(double v, Acc* a) {
    a->v = v;
    a->set = true;
    return true;
  }
  static void Step(Acc* a, const ScoreArith::Increment& inc) {
    if (!a->set) {
      a->v = inc.delta;
      a->set = true;
      return;
    }
    const double sum = a->v + inc.delta;
    if (!std::isnan(sum)) a->v = sum;  // +inf + -inf: skipped (see ScoreArith)
  }
  static double Store(Acc* a) { return a->v; }
  static double View(double v) { return v; }
};

template <typename Inc>
bool IncBefore(const Inc& a, const Inc& b, const RegionTable& regions) {
  if (a.hlc != b.hlc || a.tag.region != b.tag.region) {
    return LwwBefore(a.hlc, a.tag.region, b.hlc, b.tag.region, regions);
  }
  // One region's ops have distinct HLCs, so this tie is a test's; still a total order: every
  // region sorts any set of increments the same way, whatever order they arrived in (an
  // unstable sort of ties could give two regions different values once an order matters:
  // int64 overflow, floats).
  return a.tag.seq != b.tag.seq ? a.tag.seq < b.tag.seq : a.tag.idx < b.tag.idx;
}

}  // namespace

std::string HexFloat(long double v) {
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%La", v);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

bool ParseHexFloat(const std::string& text, long double* out) {
  if (text.size() < 3 || text.size() > 64) return false;
  const size_t sign = text[0] == '-' ? 1 : 0;
  if (text.compare(sign, 2, "0x") != 0) return false;  // "%La" text only (no nan, inf, decimal)
  errno = 0;
  char* end = nullptr;
  *out = std::strtold(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno == 0 && std::isfinite(*out);
}

template <typename Arith>
BasicRegister<Arith>& BasicRegister<Arith>::operator=(const BasicRegister& other) {
  if (this == &other) return *this;
  writes_ = other.writes_;
  pending_.reset();
  if (other.pending_) pending_ = std::make_unique<Pending>(*other.pending_);
  return *this;
}

template <typename Arith>
void BasicRegister<Arith>::AddWrite(Write w, const VersionVector& stable) {
  writes_.push_back(std::move(w));
  Invalidate();
  Compact(stable);
}

template <typename Arith>
void BasicRegister<Arith>::AddIncrement(const Increment& inc, const VersionVector& stable,
                                        const RegionTable& regions) {
  if (!pending_ && stable.Covers(inc.tag.dot()) && writes_.size() <= 1 &&
      (writes_.empty() || stable.Covers(writes_[0].tag.dot()))) {
    // Fast path (always taken in a single region): the increment and its base are stable and
    // nothing is pending, so Compact() would fold it at once; fold it without the detour.
    typename Ops<Arith>::Acc num;
    if (!writes_.empty() && !Ops<Arith>::Load(writes_[0].value, &num)) {
      ++writes_[0].folds;  // the base wins as is
      return;
    }
    Ops<Arith>::Step(&num, inc);
    if (writes_.empty()) {
      writes_.push_back(Write{inc.tag, inc.hlc, Ops<Arith>::Store(&num), 1});
    } else {
      writes_[0].value = Ops<Arith>::Store(&num);
      ++writes_[0].folds;
    }
    return;
  }
  if (!pending_) pending_ = std::make_unique<Pending>();
  Pending& p = *pending_;
  auto pos = std::upper_bound(
      p.incs.begin(), p.incs.end(), inc,
      [&](const Increment& a, const Increment& b) { return IncBefore(a, b, regions); });
  if (pos == p.incs.end() && p.cache_valid) {
    // Last in the order: one more step on top of the cached value (a non-numeric cached value
    // is a winning non-numeric write, which stays as it is).
    typename Ops<Arith>::Acc num;
    if (Ops<Arith>::Load(p.cached, &num)) {
      Ops<Arith>::Step(&num, inc);
      p.cached = Ops<Arith>::Store(&num);
    }
  } else if (!CachedAddAnywhere(inc, regions)) {
    p.cache_valid = false;
  }
  p.incs.insert(pos, inc);
  p.Count(inc, /*add=*/true);
  Compact(stable);
}

template <typename Arith>
void BasicRegister<Arith>::Pending::Count(const Increment& inc, bool add) {
  if constexpr (std::is_same_v<Arith, StringArith>) {
    if (inc.is_float) {
      floats = add ? floats + 1 : floats - 1;
      return;
    }
    const uint64_t m = inc.delta < 0 ? uint64_t{0} - static_cast<uint64_t>(inc.delta)
                                     : static_cast<uint64_t>(inc.delta);
    if (abs_sum == UINT64_MAX) return;  // saturated: stays so until Recount
    if (add) {
      abs_sum = m > UINT64_MAX - abs_sum ? UINT64_MAX : abs_sum + m;
    } else {
      abs_sum -= m;
    }
  }
}

template <typename Arith>
void BasicRegister<Arith>::Pending::Recount() {
  floats = 0;
  abs_sum = 0;
  for (const Increment& inc : incs) Count(inc, /*add=*/true);
}

template <typename Arith>
bool BasicRegister<Arith>::CachedAddAnywhere(const Increment& inc, const RegionTable& regions) {
  if constexpr (std::is_same_v<Arith, StringArith>) {
    const Pending& p = *pending_;
    if (!p.cache_valid || inc.is_float || p.floats > 0) return false;
    Number cached;
    if (!ParseNumber(p.cached.view(), &cached) || !cached.is_int) return false;
    Number base;  // the winning write, or 0
    if (const Write* w = Winner(regions); w != nullptr) {
      if (!ParseNumber(w->value.view(), &base) || !base.is_int) return false;
    }
    auto magnitude = [](int64_t v) {
      return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    };
    const uint64_t limit = static_cast<uint64_t>(INT64_MAX);
    uint64_t bound = magnitude(base.i);
    for (uint64_t m : {p.abs_sum, magnitude(inc.delta)}) {
      if (m > limit || bound > limit - m) return false;
      bound += m;
    }
    // Every partial sum, in any order, is within the bound: each step was an exact int64 add,
    // and so is this one.
    pending_->cached = CompactString(FormatInt(cached.i + inc.delta));
    return true;
  } else {
    (void)inc;
    (void)regions;
    return false;
  }
}

template <typename Arith>
void BasicRegister<Arith>::Compact(const VersionVector& stable) {
  if (!pending_ || writes_.size() > 1 ||
      (!writes_.empty() && !stable.Covers(writes_[0].tag.dot()))) {
    return;
  }
  // Fold the causally stable prefix of the increments into the base write. Every op still to
  // arrive observed both, so it would either remove all of them or add on top of the result:
  // folding changes no visible value, now or later.
  auto& incs = pending_->incs;
  size_t n = 0;
  while (n < incs.size() && stable.Covers(incs[n].tag.dot())) ++n;
  if (n == 0) return;
  typename Ops<Arith>::Acc num;
  const bool numeric = writes_.empty() || Ops<Arith>::Load(writes_[0].value, &num);
  Stored folded{};
  if (numeric) {
    for (size_t i = 0; i < n; ++i) Ops<Arith>::Step(&num, incs[i]);
    folded = Ops<Arith>::Store(&num);
  } else {
    folded = writes_[0].value;
  }
  if (writes_.empty()) {
    // The first folded increment names the result: regions that fold the same increments in
    // different steps agree on it (a state merge matches writes by tag).
    writes_.push_back(Write{incs[0].tag, incs[0].hlc, std::move(folded), static_cast<uint32_t>(n)});
  } else {
    writes_[0].value = std::move(folded);
    writes_[0].folds += static_cast<uint32_t>(n);
  }
  for (size_t i = 0; i < n; ++i) pending_->Count(incs[i], /*add=*/false);
  incs.erase(incs.begin(), incs.begin() + static_cast<std::ptrdiff_t>(n));
  if (incs.empty()) {
    pending_.reset();
  } else {
    // The fold changed no visible value: the base plus the rest is the same sequence of steps.
    // Only the saturated count needs a fresh look.
    if (pending_->abs_sum == UINT64_MAX) pending_->Recount();
  }
}

template <typename Arith>
const typename BasicRegister<Arith>::Write* BasicRegister<Arith>::Winner(
    const RegionTable& regions) const {
  const Write* best = nullptr;
  // clang-analyzer loses InlinedVector's inline storage and reports a null begin(); an empty
  // vector's begin() == end() is never dereferenced.
  // NOLINTNEXTLINE(clang-analyzer-core.NullDereference)
  for (const Write& w : writes_) {
    if (best == nullptr || LwwBefore(best->hlc, best->tag.region, w.hlc, w.tag.region, regions)) {
      best = &w;
    }
  }
  return best;
}

template <typename Arith>
typename BasicRegister<Arith>::View BasicRegister<Arith>::Value(const RegionTable& regions) const {
  const Write* winner = Winner(regions);
  if (!pending_) return winner != nullptr ? Ops<Arith>::View(winner->value) : View();
  if (pending_->cache_valid) return Ops<Arith>::View(pending_->cached);
  typename Ops<Arith>::Acc n;
  if (winner != nullptr && !Ops<Arith>::Load(winner->value, &n)) {
    // A non-numeric value written concurrently with increments: the value wins as it is.
    pending_->cached = winner->value;
  } else {
    for (const Increment& inc : pending_->incs) Ops<Arith>::Step(&n, inc);
    pending_->cached = Ops<Arith>::Store(&n);
  }
  pending_->cache_valid = true;
  return Ops<Arith>::View(pending_->cached);
}

template <typename Arith>
Stamp BasicRegister<Arith>::Newest(const RegionTable& regions) const {
  // Increments do not count, except the first when there is no write: folding turns exactly
  // that one into a write with its tag and HLC, so the stamp does not depend on how much a
  // region has folded (type conflicts must resolve alike everywhere).
  Stamp s;
  for (const Write& w : writes_) s.Raise(w.hlc, w.tag.region, regions);
  if (!s.set && pending_ && !pending_->incs.empty()) {
    s = Stamp{true, pending_->incs.front().hlc, pending_->incs.front().tag.region};
  }
  return s;
}

template <typename Arith>
bool BasicRegister<Arith>::HasWrite(const Tag& tag) const {
  for (const Write& w : writes_) {
    if (w.tag == tag) return true;
  }
  return false;
}

template <typename Arith>
bool BasicRegister<Arith>::HasIncrement(const Tag& tag) const {
  if (!pending_) return false;
  for (const Increment& i : pending_->incs) {
    if (i.tag == tag) return true;
  }
  return false;
}

template <typename Arith>
void BasicRegister<Arith>::Assign(absl::InlinedVector<Write, 1> writes, std::vector<Increment> incs,
                                  const RegionTable& regions) {
  writes_ = std::move(writes);
  pending_.reset();
  if (incs.empty()) return;
  std::sort(incs.begin(), incs.end(),
            [&](const Increment& a, const Increment& b) { return IncBefore(a, b, regions); });
  pending_ = std::make_unique<Pending>();
  pending_->incs.assign(incs.begin(), incs.end());
  pending_->Recount();
}

template <typename Arith>
void BasicRegister<Arith>::Join(const BasicRegister& remote,
                                absl::FunctionRef<bool(const Tag&)> removed_here,
                                absl::FunctionRef<bool(const Tag&)> removed_there,
                                const RegionTable& regions, const VersionVector& stable) {
  // Writes. A write one side has as a pending increment is the other side's fold of it.
  absl::InlinedVector<Write, 1> writes;
  for (const Write& w : writes_) {
    const Write* theirs = nullptr;
    for (const Write& r : remote.writes_) {
      if (r.tag == w.tag) theirs = &r;
    }
    if (theirs != nullptr) {
      writes.push_back(theirs->folds > w.folds ? *theirs : w);
    } else if (remote.HasIncrement(w.tag) || !removed_there(w.tag)) {
      writes.push_back(w);
    }
  }
  for (const Write& r : remote.writes_) {
    if (HasWrite(r.tag)) continue;
    if (HasIncrement(r.tag) || !removed_here(r.tag)) writes.push_back(r);
  }
  // Increments: dropped where the other side folded them into a write. (A hot counter can hold
  // thousands: membership through hash sets.)
  auto tags_of = [](const BasicRegister& r) {
    absl::flat_hash_set<Tag> set;
    if (r.pending_) {
      for (const Increment& i : r.pending_->incs) set.insert(i.tag);
    }
    return set;
  };
  const absl::flat_hash_set<Tag> local_incs = tags_of(*this);
  const absl::flat_hash_set<Tag> remote_incs = tags_of(remote);
  std::vector<Increment> incs;
  if (pending_) {
    for (const Increment& i : pending_->incs) {
      if (remote.HasWrite(i.tag)) continue;
      if (remote_incs.contains(i.tag) || !removed_there(i.tag)) incs.push_back(i);
    }
  }
  if (remote.pending_) {
    for (const Increment& i : remote.pending_->incs) {
      if (HasWrite(i.tag) || local_incs.contains(i.tag)) continue;
      if (!removed_here(i.tag)) incs.push_back(i);
    }
  }
  Assign(std::move(writes), std::move(incs), regions);
  Compact(stable);
}

template <typename Arith>
bool BasicRegister<Arith>::DistinctTags(const absl::InlinedVector<Write, 1>& writes,
                                        const std::vector<Increment>& incs) {
  const size_t n = writes.size() + incs.size();
  if (n <= 1) return true;  // almost every register: no allocation on a snapshot's load
  auto tag = [&](size_t i) -> const Tag& {
    return i < writes.size() ? writes[i].tag : incs[i - writes.size()].tag;
  };
  if (n <= 16) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (tag(i) == tag(j)) return false;
      }
    }
    return true;
  }
  absl::flat_hash_set<Tag> seen;
  seen.reserve(n);
  for (const Write& w : writes) {
    if (!seen.insert(w.tag).second) return false;
  }
  for (const Increment& i : incs) {
    if (!seen.insert(i.tag).second) return false;
  }
  return true;
}

template class BasicRegister<StringArith>;
template class BasicRegister<ScoreArith>;

}  // namespace activekv::crdt
