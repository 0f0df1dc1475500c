// One property suite run by every collection value type (crdt/values/value_type.h): HashValue,
// SetValue and ZsetValue, driven directly (no keyspace) by seeded random histories of element
// ops from three origins, with removals arriving before the adds they observed, whole-key
// removals and, in half the seeds, folding of stable increments. A small adapter per type says how
// to add an element, increment one (where the type has increments) and read an element's visible
// bytes; the properties are the same for every type:
//  (a) the same ops replayed in two orders (each origin's ops in seq order) give equal digests
//      and equal visible contents;
//  (b) ToState -> FromState keeps the digest, the size, every element's visible value, the newest
//      element and the encoding flag, and so does joining the state into an empty value;
//  (c) state merge: B's state joined into A equals A's joined into B equals replaying the union
//      of their ops; joining an equal state changes nothing;
//  (d) RemoveObserved of a context that covers every op empties the value (Empty() after
//      PruneFrontiers);
//  (e) the incremental digest equals the sum of ElementDigest over the visible elements, after
//      every op, round trip and join.
// 200 seeds per property and type; a failure prints its seed (replay with VALUE_TYPE_SEED=<seed>).
#include "crdt/values/value_type.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crdt/digest.h"
#include "crdt/redis_number.h"
#include "crdt/region_table.h"
#include "crdt/values/hash_value.h"
#include "crdt/values/set_value.h"
#include "crdt/values/zset_value.h"
#include "crdt/version_vector.h"
#include "gtest/gtest.h"

namespace activekv::crdt {
namespace {

constexpr int kSeeds = 200;
constexpr RegionId kOrigins = 3;
// Element names: integers (a set stays an intset), words, and one longer than Redis's 64-byte
// limit for the small encodings.
const std::vector<std::string>& Names() {
  static const std::vector<std::string> names{"1", "2", "-7", "a", "b", std::string(70, 'x')};
  return names;
}

enum class Kind { kAdd, kRemove, kIncrement, kClear };

struct Element {
  std::string name;
  int64_t v = 0;  // the payload, as the type's adapter reads it
};

// One op of a history, the same for every type.
struct Op {
  RegionId origin = 0;
  uint64_t seq = 0;
  Hlc hlc = 0;
  VersionVector observed;  // what the origin had applied when it made the op
  Kind kind = Kind::kAdd;
  std::vector<Element> elems;
  bool large = false;  // an add asking for the large encoding (as HashSet.hashtable)
};

// Every op of a history, and the causal stability that knowing them all gives.
struct History {
  std::vector<Op> ops;
  std::vector<std::vector<size_t>> by_origin = std::vector<std::vector<size_t>>(kOrigins);
  bool fold = false;  // replicas consider ops stable (increments fold) or never do

  // The ops every origin had seen before making any op not in `applied`: stable knowledge for a
  // replica that applied `applied`, since no other op exists.
  VersionVector StableFor(const VersionVector& applied) const {
    if (!fold) return VersionVector();
    VersionVector stable = applied;
    for (const Op& o : ops) {
      if (o.seq <= applied.Get(o.origin)) continue;
      for (RegionId r = 0; r < kOrigins; ++r) {
        const uint64_t seen = r == o.origin ? o.seq - 1 : o.observed.Get(r);
        if (seen < stable.Get(r)) stable.Set(r, seen);
      }
    }
    return stable;
  }
  VersionVector All() const {
    VersionVector all;
    for (RegionId r = 0; r < kOrigins; ++r) all.Set(r, by_origin[r].size());
    return all;
  }
};

const RegionTable& Regions() {
  static const RegionTable* regions = [] {
    auto* t = new RegionTable();
    for (const char* name : {"a", "b", "c"}) t->Intern(name);
    return t;
  }();
  return *regions;
}

// The snapshot dictionary: the region table in id order.
const std::vector<RegionId>& Dict() {
  static const std::vector<RegionId> dict{0, 1, 2};
  return dict;
}

// Per type: how an op's element becomes an add or an increment, and an element's visible bytes
// (what its digest covers).
template <typename T>
struct Adapter;

template <>
struct Adapter<HashValue> {
  static constexpr bool kIncrements = true;
  static std::string Text(int64_t v) { return v == 99 ? std::string(80, 'v') : absl::StrCat(v); }
  static void Add(HashValue* h, const Element& e, const Tag& tag, Hlc hlc,
                  const VersionVector& observed, const ValueContext& ctx) {
    h->Set(e.name, Text(e.v), tag, hlc, observed, ctx);
  }
  // HINCRBY is refused at the origin on a field that is not an integer.
  static bool CanIncrement(const HashValue& h, const std::string& name) {
    const HashValue::Field* f = h.Find(name);
    int64_t x;
    return f == nullptr || ParseRedisInt(h.ValueOf(*f, Regions()), &x);
  }
  static void Increment(HashValue* h, const Element& e, const Tag& tag, Hlc hlc,
                        const ValueContext& ctx) {
    Register::Increment inc;
    inc.tag = tag;
    inc.hlc = hlc;
    inc.delta = e.v;
    h->Increment(e.name, inc, ctx);
  }
  static std::string Visible(const HashValue& h, const HashValue::Field& f) {
    return std::string(h.ValueOf(f, Regions()));
  }
};

template <>
struct Adapter<SetValue> {
  static constexpr bool kIncrements = false;
  static void Add(SetValue* s, const Element& e, const Tag& tag, Hlc hlc,
                  const VersionVector& observed, const ValueContext& ctx) {
    s->Add(e.name, tag, hlc, observed, ctx);
  }
  static bool CanIncrement(const SetValue&, const std::string&) { return false; }
  static void Increment(SetValue*, const Element&, const Tag&, Hlc, const ValueContext&) {}
  static std::string Visible(const SetValue&, const SetValue::Member&) { return ""; }
};

template <>
struct Adapter<ZsetValue> {
  static constexpr bool kIncrements = true;
  static void Add(ZsetValue* z, const Element& e, const Tag& tag, Hlc hlc,
                  const VersionVector& observed, const ValueContext& ctx) {
    z->Add(e.name, static_cast<double>(e.v) / 2, tag, hlc, observed, ctx);
  }
  static bool CanIncrement(const ZsetValue&, const std::string&) { return true; }
  static void Increment(ZsetValue* z, const Element& e, const Tag& tag, Hlc hlc,
                        const ValueContext& ctx) {
    z->Increment(e.name, ScoreRegister::Increment{tag, hlc, static_cast<double>(e.v)}, ctx);
  }
  static std::string Visible(const ZsetValue& z, const ZsetValue::Member& m) {
    const double score = z.Score(m, Regions());
    char bytes[sizeof(double)];
    std::memcpy(bytes, &score, sizeof(bytes));
    return std::string(bytes, sizeof(bytes));
  }
};

template <typename T>
bool SmallEncoding(const T& v) {
  return (v.*ValueTraits<T>::kSmallEncoding)();
}

// The digest recomputed from the public accessors: the sum of ElementDigest(name, visible bytes).
template <typename T>
Digest128 DigestByWalk(const T& v) {
  Digest128 d;
  for (size_t i = 0; i < v.size(); ++i) {
    d.Add(ElementDigest(v.at(i).name, Adapter<T>::Visible(v, v.at(i))));
  }
  return d;
}

// One key's value in one replica, with what Entry keeps around it (the applied ops, the key's
// whole-value removal frontier), applied and joined as Entry and Keyspace do.
template <typename T>
class Replica {
 public:
  // `history` null: never anything stable.
  explicit Replica(const History* history) : history_(history) {}

  const T* value() const { return value_.get(); }
  T* mutable_value() { return value_.get(); }
  const VersionVector& applied() const { return applied_; }
  const VersionVector& frontier() const { return frontier_; }
  VersionVector Stable() const {
    return history_ != nullptr ? history_->StableFor(applied_) : VersionVector();
  }

  void Apply(const Op& op) {
    ASSERT_EQ(applied_.Get(op.origin) + 1, op.seq) << "out of order";
    applied_.Set(op.origin, op.seq);
    const VersionVector stable = Stable();
    const ValueContext ctx{&Regions(), &applied_, &stable, &frontier_};
    if (!value_) value_ = std::make_unique<T>();
    T* v = value_.get();
    switch (op.kind) {
      case Kind::kAdd:
        if (op.large) (v->*ValueTraits<T>::kSetLargeEncoding)();
        for (uint32_t i = 0; i < op.elems.size(); ++i) {
          Adapter<T>::Add(v, op.elems[i], Tag{op.origin, i, op.seq}, op.hlc, op.observed, ctx);
        }
        break;
      case Kind::kRemove:
        for (const Element& e : op.elems) v->Remove(e.name, op.observed, ctx);
        break;
      case Kind::kIncrement:
        Adapter<T>::Increment(v, op.elems[0], Tag{op.origin, 0, op.seq}, op.hlc, ctx);
        break;
      case Kind::kClear:  // a whole-key removal (Entry::RemoveObservedValue)
        v->RemoveObserved(op.observed, ctx);
        if (!op.observed.LessOrEqual(applied_)) frontier_.Merge(op.observed);
        frontier_.PruneCoveredBy(applied_);
        break;
    }
    Compact();
  }

  // Entry::Join: `remote`'s value goes through its snapshot form first, as in MergeSnapshot.
  void JoinFrom(const Replica& remote) {
    static const VersionVector kNone;
    static const T kEmpty;
    std::unique_ptr<T> theirs;
    if (remote.value_) {
      typename ValueTraits<T>::State state;
      remote.value_->ToState(&state);
      theirs = std::make_unique<T>();
      const absl::Status s = T::FromState(state, Dict(), Regions(), theirs.get());
      ASSERT_TRUE(s.ok()) << s;
    }
    const VersionVector local_applied = applied_;
    const VersionVector local_frontier = frontier_;
    applied_.Merge(remote.applied_);
    const VersionVector stable = Stable();
    const JoinSide here{&local_applied, &kNone, &local_frontier};
    const JoinSide there{&remote.applied_, &kNone, &remote.frontier_};
    if (theirs || value_) {
      if (!value_) value_ = std::make_unique<T>();
      value_->Join(theirs ? *theirs : kEmpty, here, there,
                   ValueContext{&Regions(), &applied_, &stable, &kNone});
    }
    frontier_.Merge(remote.frontier_);
    frontier_.PruneCoveredBy(applied_);
    Compact();
  }

 private:
  // Entry::Compact and MaybeFreeExtra.
  void Compact() {
    if (!value_) return;
    value_->PruneFrontiers(applied_);
    if (value_->Empty()) value_.reset();
  }

  const History* history_;
  std::unique_ptr<T> value_;
  VersionVector applied_;
  VersionVector frontier_;
};

using Content = std::vector<std::pair<std::string, std::string>>;

template <typename T>
Content ContentOf(const Replica<T>& r) {
  Content out;
  if (const T* v = r.value()) {
    for (size_t i = 0; i < v->size(); ++i) {
      out.emplace_back(v->at(i).name, Adapter<T>::Visible(*v, v->at(i)));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <typename T>
std::string DigestOf(const Replica<T>& r) {
  return DigestHex(r.value() != nullptr ? r.value()->digest() : Digest128());
}

template <typename T>
void ExpectDigestByWalk(const Replica<T>& r, const std::string& where) {
  if (r.value() == nullptr) return;
  EXPECT_EQ(DigestHex(r.value()->digest()), DigestHex(DigestByWalk(*r.value())))
      << where << ": the incremental digest drifted";
}

// A random history: three origins make ops against what they have applied, and receive each
// other's ops at random points (each origin's in order, no causal delivery across origins).
template <typename T>
History Generate(std::mt19937& rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  History h;
  h.fold = pick(2) == 0;
  std::vector<std::unique_ptr<Replica<T>>> origin;
  for (RegionId r = 0; r < kOrigins; ++r) origin.push_back(std::make_unique<Replica<T>>(nullptr));
  std::vector<std::vector<size_t>> delivered(kOrigins, std::vector<size_t>(kOrigins, 0));
  std::vector<Hlc> clock(kOrigins);
  for (Hlc& c : clock) c = 1000 + pick(3);
  auto random_name = [&] { return Names()[pick(Names().size())]; };
  auto payload = [&] { return pick(25) == 0 ? int64_t{99} : static_cast<int64_t>(pick(13)) - 3; };

  const int steps = 10 + static_cast<int>(pick(40));
  for (int step = 0; step < steps; ++step) {
    const RegionId r = static_cast<RegionId>(pick(kOrigins));
    Replica<T>& rep = *origin[r];
    for (RegionId q = 0; q < kOrigins; ++q) {
      for (size_t n = pick(4); q != r && n > 0 && delivered[r][q] < h.by_origin[q].size(); --n) {
        const Op& o = h.ops[h.by_origin[q][delivered[r][q]++]];
        rep.Apply(o);
        clock[r] = std::max(clock[r], o.hlc);
      }
    }
    Op op;
    op.origin = r;
    op.seq = rep.applied().Get(r) + 1;
    op.observed = rep.applied();
    clock[r] += 1 + pick(2);
    op.hlc = clock[r];
    size_t k = pick(20);  // 10 in 20 adds, 5 element removals, 3 increments, 2 whole-key removals
    if (k >= 15 && k < 18 && !Adapter<T>::kIncrements) k = 0;
    if (k < 10) {
      op.kind = Kind::kAdd;
      for (size_t i = 0, n = 1 + pick(3); i < n; ++i) {
        op.elems.push_back({random_name(), payload()});
      }
      op.large = pick(15) == 0;
    } else if (k < 15) {
      op.kind = Kind::kRemove;
      for (size_t i = 0, n = 1 + pick(2); i < n; ++i) {
        const T* v = rep.value();
        const bool visible = v != nullptr && v->size() > 0 && pick(3) != 0;
        op.elems.push_back({visible ? std::string(v->at(pick(v->size())).name) : random_name(), 0});
      }
    } else if (k < 18) {
      const std::string name = random_name();
      const bool can = rep.value() == nullptr || Adapter<T>::CanIncrement(*rep.value(), name);
      op.kind = can ? Kind::kIncrement : Kind::kAdd;
      op.elems.push_back({name, can ? static_cast<int64_t>(pick(9)) - 4 : payload()});
    } else {
      op.kind = Kind::kClear;
    }
    h.by_origin[r].push_back(h.ops.size());
    h.ops.push_back(op);
    rep.Apply(h.ops.back());
  }
  return h;
}

// A random order of the first counts[r] ops of each origin r, each origin's in seq order.
std::vector<size_t> RandomOrder(const History& h, const std::vector<size_t>& counts,
                                std::mt19937& rng) {
  std::vector<size_t> next(kOrigins, 0), order;
  for (;;) {
    std::vector<RegionId> open;
    for (RegionId r = 0; r < kOrigins; ++r) {
      if (next[r] < counts[r]) open.push_back(r);
    }
    if (open.empty()) return order;
    const RegionId r = open[std::uniform_int_distribution<size_t>(0, open.size() - 1)(rng)];
    order.push_back(h.by_origin[r][next[r]++]);
  }
}

std::vector<size_t> AllCounts(const History& h) {
  std::vector<size_t> counts;
  for (const auto& ops : h.by_origin) counts.push_back(ops.size());
  return counts;
}

std::vector<size_t> RandomCounts(const History& h, std::mt19937& rng) {
  std::vector<size_t> counts;
  for (const auto& ops : h.by_origin) {
    counts.push_back(std::uniform_int_distribution<size_t>(0, ops.size())(rng));
  }
  return counts;
}

// Applies the ops of `order`, checking the incremental digest after each.
template <typename T>
std::unique_ptr<Replica<T>> Replay(const History& h, const std::vector<size_t>& order) {
  auto rep = std::make_unique<Replica<T>>(&h);
  for (size_t idx : order) {
    rep->Apply(h.ops[idx]);
    ExpectDigestByWalk(*rep, absl::StrCat("after op ", idx));
  }
  return rep;
}

// Runs `body` over kSeeds seeds (from GoogleTest's random seed), or the one in VALUE_TYPE_SEED.
void ForEachSeed(const char* type, const std::function<void(std::mt19937&)>& body) {
  std::vector<uint32_t> seeds;
  if (const char* s = std::getenv("VALUE_TYPE_SEED")) {
    seeds.push_back(static_cast<uint32_t>(std::strtoul(s, nullptr, 10)));
  } else {
    std::mt19937 gen(static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed()));
    for (int i = 0; i < kSeeds; ++i) seeds.push_back(gen());
  }
  for (uint32_t seed : seeds) {
    SCOPED_TRACE(absl::StrCat(type, " VALUE_TYPE_SEED=", seed));
    std::mt19937 rng(seed);
    body(rng);
    if (::testing::Test::HasFailure()) return;  // one failing seed is enough to report
  }
}

template <typename T>
const char* TypeName() {
  if (std::is_same_v<T, HashValue>) return "HashValue";
  if (std::is_same_v<T, SetValue>) return "SetValue";
  return "ZsetValue";
}

class TypeNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return TypeName<T>();
  }
};

template <typename T>
class ValueType : public ::testing::Test {};
using CollectionTypes = ::testing::Types<HashValue, SetValue, ZsetValue>;
TYPED_TEST_SUITE(ValueType, CollectionTypes, TypeNames);

TYPED_TEST(ValueType, OpsInAnyOrderGiveTheSameDigestAndContent) {
  using T = TypeParam;
  ForEachSeed(TypeName<T>(), [](std::mt19937& rng) {
    const History h = Generate<T>(rng);
    const auto x = Replay<T>(h, RandomOrder(h, AllCounts(h), rng));
    const auto y = Replay<T>(h, RandomOrder(h, AllCounts(h), rng));
    EXPECT_EQ(DigestOf(*x), DigestOf(*y));
    EXPECT_EQ(ContentOf(*x), ContentOf(*y));
  });
}

TYPED_TEST(ValueType, IncrementalDigestEqualsTheSumOverVisibleElements) {
  using T = TypeParam;
  ForEachSeed(TypeName<T>(), [](std::mt19937& rng) {
    const History h = Generate<T>(rng);
    // Replay checks after every op; a join changes many elements at once.
    auto r = Replay<T>(h, RandomOrder(h, RandomCounts(h, rng), rng));
    r->JoinFrom(*Replay<T>(h, RandomOrder(h, RandomCounts(h, rng), rng)));
    ExpectDigestByWalk(*r, "after a join");
  });
}

template <typename T>
void ExpectRoundTrip(const T& v) {
  typename ValueTraits<T>::State state;
  v.ToState(&state);
  T back;
  const absl::Status s = T::FromState(state, Dict(), Regions(), &back);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(DigestHex(back.digest()), DigestHex(v.digest()));
  EXPECT_EQ(DigestHex(back.digest()), DigestHex(DigestByWalk(back)));
  ASSERT_EQ(back.size(), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const auto* e = back.Find(v.at(i).name);
    ASSERT_NE(e, nullptr) << v.at(i).name;
    EXPECT_EQ(Adapter<T>::Visible(back, *e), Adapter<T>::Visible(v, v.at(i))) << v.at(i).name;
  }
  EXPECT_EQ(SmallEncoding(back), SmallEncoding(v)) << "the encoding flag";
  EXPECT_EQ(back.Empty(), v.Empty());
  const Stamp a = v.Newest(Regions()), b = back.Newest(Regions());
  EXPECT_TRUE(a.set == b.set && a.hlc == b.hlc && a.region == b.region) << "the newest element";
}

TYPED_TEST(ValueType, SnapshotRoundTripKeepsTheValue) {
  using T = TypeParam;
  ForEachSeed(TypeName<T>(), [](std::mt19937& rng) {
    const History h = Generate<T>(rng);
    for (const auto& counts : {RandomCounts(h, rng), AllCounts(h)}) {
      const auto r = Replay<T>(h, RandomOrder(h, counts, rng));
      if (r->value() == nullptr) continue;
      ExpectRoundTrip(*r->value());
      // What MergeSnapshot makes of it in a region that lacks the key: a join into nothing.
      Replica<T> fresh(&h);
      fresh.JoinFrom(*r);
      ASSERT_NE(fresh.value(), nullptr);
      EXPECT_EQ(DigestOf(fresh), DigestOf(*r));
      EXPECT_EQ(ContentOf(fresh), ContentOf(*r));
      EXPECT_EQ(SmallEncoding(*fresh.value()), SmallEncoding(*r->value()))
          << "the encoding flag, joined into an empty value";
    }
  });
}

TYPED_TEST(ValueType, JoinIsCommutativeIdempotentAndEqualsReplayingTheUnion) {
  using T = TypeParam;
  ForEachSeed(TypeName<T>(), [](std::mt19937& rng) {
    const History h = Generate<T>(rng);
    const std::vector<size_t> ca = RandomCounts(h, rng), cb = RandomCounts(h, rng);
    const std::vector<size_t> oa = RandomOrder(h, ca, rng), ob = RandomOrder(h, cb, rng);
    std::vector<size_t> cu(kOrigins);
    for (RegionId r = 0; r < kOrigins; ++r) cu[r] = std::max(ca[r], cb[r]);
    const auto u = Replay<T>(h, RandomOrder(h, cu, rng));

    auto ab = Replay<T>(h, oa);
    ab->JoinFrom(*Replay<T>(h, ob));
    ExpectDigestByWalk(*ab, "B joined into A");
    auto ba = Replay<T>(h, ob);
    ba->JoinFrom(*Replay<T>(h, oa));
    ExpectDigestByWalk(*ba, "A joined into B");
    EXPECT_EQ(DigestOf(*ab), DigestOf(*ba)) << "join is not commutative";
    EXPECT_EQ(ContentOf(*ab), ContentOf(*ba)) << "join is not commutative";
    EXPECT_EQ(DigestOf(*ab), DigestOf(*u)) << "join differs from replaying the union";
    EXPECT_EQ(ContentOf(*ab), ContentOf(*u)) << "join differs from replaying the union";

    auto a = Replay<T>(h, oa);
    const std::string digest = DigestOf(*a);
    const Content content = ContentOf(*a);
    const size_t size = a->value() != nullptr ? a->value()->size() : 0;
    a->JoinFrom(*Replay<T>(h, oa));
    EXPECT_EQ(DigestOf(*a), digest) << "joining an equal state changed the value";
    EXPECT_EQ(ContentOf(*a), content) << "joining an equal state changed the value";
    EXPECT_EQ(a->value() != nullptr ? a->value()->size() : 0, size);
  });
}

TYPED_TEST(ValueType, RemoveObservedOfEveryOpEmptiesTheValue) {
  using T = TypeParam;
  ForEachSeed(TypeName<T>(), [](std::mt19937& rng) {
    const History h = Generate<T>(rng);
    const VersionVector all = h.All();
    for (const auto& counts : {RandomCounts(h, rng), AllCounts(h)}) {
      auto r = Replay<T>(h, RandomOrder(h, counts, rng));
      T* v = r->mutable_value();
      if (v == nullptr) continue;
      const VersionVector stable = h.StableFor(all);
      v->RemoveObserved(all, ValueContext{&Regions(), &all, &stable, &r->frontier()});
      EXPECT_EQ(v->size(), 0u);
      EXPECT_TRUE(v->empty());
      EXPECT_EQ(DigestHex(v->digest()), DigestHex(Digest128()));
      v->PruneFrontiers(all);
      EXPECT_TRUE(v->Empty()) << "removal knowledge left after every op was applied";
    }
  });
}

}  // namespace
}  // namespace activekv::crdt
