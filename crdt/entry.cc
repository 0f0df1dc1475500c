#include "crdt/entry.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "crdt/redis_number.h"

namespace activekv::crdt {
namespace {

// (hlc, region name) total order used by last-writer-wins and by increment folding.
bool Before(Hlc a_hlc, RegionId a_region, Hlc b_hlc, RegionId b_region,
            const RegionTable& regions) {
  if (a_hlc != b_hlc) return a_hlc < b_hlc;
  return regions.Name(a_region) < regions.Name(b_region);
}

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
void AddStep(Number* n, bool is_float, int64_t delta, long double float_delta) {
  if (n->is_int && !is_float) {
    int64_t sum;
    if (!__builtin_add_overflow(n->i, delta, &sum)) {
      n->i = sum;
      return;
    }
  }
  long double base = n->is_int ? static_cast<long double>(n->i) : n->f;
  long double sum = base + (is_float ? float_delta : static_cast<long double>(delta));
  std::string text = FormatLongDoubleHuman(sum);
  if (!ParseNumber(text, n)) {  // inf: keep it as is
    n->is_int = false;
    n->f = sum;
    n->text = std::move(text);
  }
}

}  // namespace

Entry::Extra& Entry::extra() {
  if (!extra_) extra_ = std::make_unique<Extra>();
  return *extra_;
}

void Entry::MaybeFreeExtra() {
  if (extra_ && extra_->increments.empty() && extra_->expiries.empty() &&
      extra_->value_frontier.empty() && extra_->expiry_frontier.empty()) {
    extra_.reset();
  }
}

bool Entry::ValueRemoved(const Dot& dot) const {
  return extra_ && extra_->value_frontier.Covers(dot);
}

void Entry::RemoveObservedValue(const VersionVector& observed, const Context& ctx) {
  writes_.erase(std::remove_if(writes_.begin(), writes_.end(),
                               [&](const ValueWrite& w) { return observed.Covers(w.dot); }),
                writes_.end());
  if (extra_) {
    auto& incs = extra_->increments;
    incs.erase(std::remove_if(incs.begin(), incs.end(),
                              [&](const Increment& i) { return observed.Covers(i.dot); }),
               incs.end());
    extra_->cache_valid = false;
  }
  if (!observed.LessOrEqual(*ctx.applied)) {
    extra().value_frontier.Merge(observed);
  }
  if (extra_) extra_->value_frontier.PruneCoveredBy(*ctx.applied);
}

void Entry::RemoveObservedExpiry(const VersionVector& observed, const Context& ctx) {
  if (extra_) {
    auto& exp = extra_->expiries;
    exp.erase(std::remove_if(exp.begin(), exp.end(),
                             [&](const ExpiryWrite& e) { return observed.Covers(e.dot); }),
              exp.end());
  }
  if (!observed.LessOrEqual(*ctx.applied)) {
    extra().expiry_frontier.Merge(observed);
  }
  if (extra_) extra_->expiry_frontier.PruneCoveredBy(*ctx.applied);
}

void Entry::ApplyWrite(const Dot& dot, Hlc hlc, std::string value, const VersionVector& observed,
                       const Context& ctx) {
  // Check before pruning: the keyspace's applied vector already includes this op.
  bool removed = ValueRemoved(dot);
  RemoveObservedValue(observed, ctx);
  if (!removed) writes_.push_back(ValueWrite{dot, hlc, std::move(value)});
  if (extra_) extra_->cache_valid = false;
  Compact(ctx);
}

void Entry::InsertIncrement(Increment inc, const Context& ctx) {
  if (ValueRemoved(inc.dot)) return;
  if ((!extra_ || extra_->increments.empty()) && ctx.stable->Covers(inc.dot) &&
      writes_.size() <= 1 && (writes_.empty() || ctx.stable->Covers(writes_[0].dot))) {
    // Fast path (always taken in a single region): the increment and its base are stable and
    // nothing is pending, so Compact() would fold it at once; fold it without the detour.
    Number num;
    if (!writes_.empty() && !ParseNumber(writes_[0].value, &num)) {
      ++writes_[0].folds;  // the base wins as is
      return;
    }
    AddStep(&num, inc.is_float, inc.delta, inc.float_delta);
    std::string folded = num.is_int ? FormatInt(num.i) : std::move(num.text);
    if (writes_.empty()) {
      writes_.push_back(ValueWrite{inc.dot, inc.hlc, std::move(folded), 1});
    } else {
      writes_[0].value = std::move(folded);
      ++writes_[0].folds;
    }
    return;
  }
  Extra& x = extra();
  auto& incs = x.increments;
  auto pos =
      std::upper_bound(incs.begin(), incs.end(), inc, [&](const Increment& a, const Increment& b) {
        return Before(a.hlc, a.dot.region, b.hlc, b.dot.region, *ctx.regions);
      });
  if (pos == incs.end() && x.cache_valid) {
    // Last in the order: one more step on top of the cached value (a non-numeric cached value
    // is a winning non-numeric write, which stays as it is).
    Number num;
    if (ParseNumber(x.cached_value, &num)) {
      AddStep(&num, inc.is_float, inc.delta, inc.float_delta);
      x.cached_value = num.is_int ? FormatInt(num.i) : std::move(num.text);
    }
  } else {
    x.cache_valid = false;
  }
  incs.insert(pos, inc);
  Compact(ctx);
}

void Entry::ApplyIncrement(const Dot& dot, Hlc hlc, int64_t delta, const Context& ctx) {
  InsertIncrement(Increment{dot, hlc, false, delta, 0}, ctx);
}

void Entry::ApplyFloatIncrement(const Dot& dot, Hlc hlc, long double delta, const Context& ctx) {
  InsertIncrement(Increment{dot, hlc, true, 0, delta}, ctx);
}

void Entry::ApplyExpiry(const Dot& dot, Hlc hlc, int64_t deadline_ms, const VersionVector& observed,
                        const Context& ctx) {
  bool removed = extra_ && extra_->expiry_frontier.Covers(dot);
  RemoveObservedExpiry(observed, ctx);
  // A stable PERSIST with nothing concurrent to beat is the same as no expiry at all.
  bool redundant = deadline_ms == kNoDeadline && ctx.stable->Covers(dot) &&
                   (!extra_ || extra_->expiries.empty());
  if (!removed && !redundant) extra().expiries.push_back(ExpiryWrite{dot, hlc, deadline_ms});
  Compact(ctx);
}

void Entry::ApplyDelete(const VersionVector& observed, const Context& ctx) {
  RemoveObservedValue(observed, ctx);
  RemoveObservedExpiry(observed, ctx);
  Compact(ctx);
}

const Entry::ValueWrite* Entry::Winner(const RegionTable& regions) const {
  const ValueWrite* best = nullptr;
  for (const ValueWrite& w : writes_) {
    if (best == nullptr || Before(best->hlc, best->dot.region, w.hlc, w.dot.region, regions)) {
      best = &w;
    }
  }
  return best;
}

std::string_view Entry::Value(const RegionTable& regions) const {
  const ValueWrite* winner = Winner(regions);
  if (!extra_ || extra_->increments.empty()) {
    return winner != nullptr ? std::string_view(winner->value) : std::string_view();
  }
  if (extra_->cache_valid) return extra_->cached_value;
  Number n;
  if (winner != nullptr && !ParseNumber(winner->value, &n)) {
    // A non-numeric value written concurrently with increments: the value wins as it is.
    extra_->cached_value = winner->value;
  } else {
    for (const Increment& inc : extra_->increments) {
      AddStep(&n, inc.is_float, inc.delta, inc.float_delta);
    }
    extra_->cached_value = n.is_int ? FormatInt(n.i) : n.text;
  }
  extra_->cache_valid = true;
  return extra_->cached_value;
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

void Entry::Compact(const Context& ctx) {
  if (extra_ && !extra_->increments.empty() && writes_.size() <= 1 &&
      (writes_.empty() || ctx.stable->Covers(writes_[0].dot))) {
    // Fold the causally stable prefix of the increments into the base write. Every op still to
    // arrive observed both, so it would either remove all of them or add on top of the result:
    // folding changes no visible value, now or later.
    auto& incs = extra_->increments;
    size_t n = 0;
    while (n < incs.size() && ctx.stable->Covers(incs[n].dot)) ++n;
    if (n > 0) {
      Number num;
      bool numeric = writes_.empty() || ParseNumber(writes_[0].value, &num);
      std::string folded;
      if (numeric) {
        for (size_t i = 0; i < n; ++i) {
          AddStep(&num, incs[i].is_float, incs[i].delta, incs[i].float_delta);
        }
        folded = num.is_int ? FormatInt(num.i) : num.text;
      } else {
        folded = writes_[0].value;
      }
      if (writes_.empty()) {
        // The first folded increment names the result: regions that fold the same increments
        // in different steps agree on it (a state merge matches writes by dot).
        writes_.push_back(
            ValueWrite{incs[0].dot, incs[0].hlc, std::move(folded), static_cast<uint32_t>(n)});
      } else {
        writes_[0].value = std::move(folded);
        writes_[0].folds += static_cast<uint32_t>(n);
      }
      incs.erase(incs.begin(), incs.begin() + static_cast<std::ptrdiff_t>(n));
    }
  }
  if (extra_ && extra_->expiries.size() == 1 && extra_->expiries[0].deadline_ms == kNoDeadline &&
      ctx.stable->Covers(extra_->expiries[0].dot)) {
    extra_->expiries.clear();
  }
  MaybeFreeExtra();
}

bool Entry::Empty() const { return writes_.empty() && !extra_; }

}  // namespace activekv::crdt
