// The packed form of a list's elements (crdt/values/list_packing.h): seeded round trips, every
// truncation and a hostile depth refused without reading past the input, and a snapshot whose
// list uses the message form (what earlier builds wrote) merging to the same state as the packed
// one. Failing seeds are printed (replay with LIST_PACKING_SEED=<seed>).
#include "crdt/values/list_packing.h"

#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "replica_sim.h"

namespace activekv::crdt {
namespace {

using testing::Replica;
using testing::WholeSnapshot;

struct Elem {
  std::vector<PackedListLevel> levels;
  uint64_t hlc = 0;
  uint32_t writer = 0;
  std::string value;
};

uint64_t Seed() {
  if (const char* s = std::getenv("LIST_PACKING_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

Elem RandomElem(std::mt19937_64& rng) {
  const int64_t digits[] = {0,
                            1,
                            -1,
                            std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max(),
                            int64_t{1} << 61};
  Elem e;
  e.levels.resize(1 + (rng() % 8 == 0 ? rng() % 40 : rng() % 4));  // deep ones too
  for (PackedListLevel& l : e.levels) {
    l.digit = rng() % 2 ? digits[rng() % 6] : static_cast<int64_t>(rng());
    l.region = static_cast<uint32_t>(rng() % 3 == 0 ? rng() : rng() % 8);
    l.seq = rng() % 2 ? rng() : 1 + rng() % 1000;
    l.idx = static_cast<uint32_t>(rng() % 3 == 0 ? rng() : rng() % 4);
  }
  e.hlc = rng();
  e.writer = static_cast<uint32_t>(rng() % 8);
  const size_t len = rng() % 4 == 0 ? 300 + rng() % 5000 : rng() % 20;
  for (size_t i = 0; i < len; ++i) e.value.push_back(static_cast<char>(rng()));
  return e;
}

std::string Pack(const std::vector<Elem>& elems) {
  std::string out;
  ListPackWriter w(&out);
  for (const Elem& e : elems) {
    w.Add(e.levels.data(), static_cast<uint32_t>(e.levels.size()), e.hlc, e.writer, e.value);
  }
  return out;
}

bool SameLevels(const std::vector<PackedListLevel>& a, const std::vector<PackedListLevel>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].digit != b[i].digit || a[i].region != b[i].region || a[i].seq != b[i].seq ||
        a[i].idx != b[i].idx) {
      return false;
    }
  }
  return true;
}

TEST(ListPacking, SeededElementsRoundTrip) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(::testing::Message() << "LIST_PACKING_SEED=" << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    std::vector<Elem> elems(rng() % 50);
    for (Elem& e : elems) e = RandomElem(rng);
    const std::string packed = Pack(elems);
    ListPackReader r(packed);
    size_t n = 0;
    while (r.Next()) {
      ASSERT_LT(n, elems.size());
      const Elem& want = elems[n++];
      EXPECT_TRUE(SameLevels(r.levels(), want.levels)) << "element " << n - 1;
      EXPECT_EQ(r.hlc(), want.hlc);
      EXPECT_EQ(r.writer(), want.writer);
      EXPECT_EQ(r.value(), want.value);
    }
    ASSERT_TRUE(r.status().ok()) << r.status();
    EXPECT_EQ(n, elems.size());
  }
}

TEST(ListPacking, EveryTruncationEndsCleanOnlyAtAnElementBoundary) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(::testing::Message() << "LIST_PACKING_SEED=" << seed);
  std::mt19937_64 rng(seed);
  std::vector<Elem> elems(4);
  std::vector<size_t> ends;  // the byte offset after each element
  std::string packed;
  for (Elem& e : elems) {
    e = RandomElem(rng);
    packed += Pack({e});
    ends.push_back(packed.size());
  }
  for (size_t cut = 0; cut < packed.size(); ++cut) {
    // A copy of exactly `cut` bytes, so that reading past it is a sanitizer error.
    const std::string prefix = packed.substr(0, cut);
    ListPackReader r(prefix);
    size_t n = 0;
    while (r.Next()) {
      EXPECT_EQ(r.value(), elems[n].value) << "cut " << cut;
      ++n;
    }
    size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) ++whole;
    EXPECT_EQ(n, whole) << "cut " << cut;
    const bool boundary = cut == 0 || (whole > 0 && ends[whole - 1] == cut);
    EXPECT_EQ(r.status().ok(), boundary) << "cut " << cut << ": " << r.status();
  }
}

TEST(ListPacking, AHostileDepthIsRefusedBeforeAllocating) {
  // depth 2^40 as a varint, then nothing.
  std::string packed;
  uint64_t v = uint64_t{1} << 40;
  while (v >= 0x80) {
    packed.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  packed.push_back(static_cast<char>(v));
  ListPackReader r(packed);
  EXPECT_FALSE(r.Next());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

// A list built by pushes, LINSERTs (deeper positions), an LSET and pops at a, and pending
// knowledge there: c pops and sets elements of b's push, which a has not received.
void BuildList(Replica& a, Replica& b, Replica& c) {
  a.Push("l", {"1", "2", "3"}, false);
  a.Push("l", {"h"}, true);
  a.InsertAt("l", 2, "mid");
  a.InsertAt("l", 2, "mid2");
  a.InsertAt("l", 3, std::string(1000, 'x'));
  a.SetAt("l", 1, "set");
  a.RemoveAt("l", {0});
  ASSERT_TRUE(c.Receive(b.Push("l", {"b1", "b2"}, false)));
  ASSERT_TRUE(a.Receive(c.RemoveAt("l", {0})));
  ASSERT_TRUE(a.Receive(c.SetAt("l", 0, "B2")));
}

TEST(ListPacking, TheMessageFormOfEarlierBuildsMergesToTheSameState) {
  const std::vector<std::string> names{"a", "b", "c"};
  Replica a("a", names);
  Replica b("b", names);
  Replica c("c", names);
  BuildList(a, b, c);
  ASSERT_GT(a.ks().Find("l", 0)->list()->pending_size(), 0u);
  const v1::Snapshot packed = WholeSnapshot(a.ks());
  ASSERT_EQ(packed.keys_size(), 1);
  ASSERT_FALSE(packed.keys(0).list().packed().empty());
  ASSERT_EQ(packed.keys(0).list().elements_size(), 0);

  // The same state in the message form.
  v1::Snapshot messages = packed;
  v1::ListState* list = messages.mutable_keys(0)->mutable_list();
  list->clear_packed();
  for (ListPackReader r(packed.keys(0).list().packed()); r.Next();) {
    v1::ListState::Element* e = list->add_elements();
    for (size_t i = 0; i < r.levels().size(); ++i) {
      v1::ListState::Level* l = i + 1 < r.levels().size() ? e->add_prefix() : e->mutable_own();
      l->set_digit(r.levels()[i].digit);
      l->set_region(r.levels()[i].region);
      l->set_seq(r.levels()[i].seq);
      l->set_idx(r.levels()[i].idx);
    }
    e->set_hlc(r.hlc());
    e->set_writer(r.writer());
    e->set_value(std::string(r.value()));
  }
  ASSERT_GT(list->elements_size(), 4);

  Replica from_packed("d", {"a", "b", "c", "d"});
  Replica from_messages("e", {"a", "b", "c", "e"});
  ASSERT_TRUE(from_packed.ks().MergeSnapshot({&packed}).ok());
  ASSERT_TRUE(from_messages.ks().MergeSnapshot({&messages}).ok());
  EXPECT_EQ(from_packed.Show("l"), a.Show("l"));
  EXPECT_EQ(from_messages.Show("l"), a.Show("l"));
  EXPECT_EQ(from_packed.ks().Digest(), a.ks().Digest());
  EXPECT_EQ(from_messages.ks().Digest(), a.ks().Digest());

  // Both forms in one state: refused, nothing changed.
  v1::Snapshot both = messages;
  both.mutable_keys(0)->mutable_list()->set_packed(packed.keys(0).list().packed());
  Replica refused("f", {"a", "b", "c", "f"});
  EXPECT_EQ(refused.ks().MergeSnapshot({&both}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.Show("l"), "(nil)");

  // A packed state cut short: refused.
  v1::Snapshot cut = packed;
  std::string* bytes = cut.mutable_keys(0)->mutable_list()->mutable_packed();
  bytes->resize(bytes->size() - 1);
  EXPECT_EQ(refused.ks().MergeSnapshot({&cut}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.Show("l"), "(nil)");
}

}  // namespace
}  // namespace activekv::crdt
