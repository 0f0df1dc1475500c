// The packed snapshot primitives (crdt/values/packing.h) and the packed form of a set's members:
// seeded round trips, every truncation refused without reading past the input, and a snapshot
// whose set uses the message form (what earlier builds wrote) merging to the same state as the
// packed one. Failing seeds are printed (replay with PACKING_SEED=<seed>).
#include "crdt/values/packing.h"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "replica_sim.h"

namespace activekv::crdt {
namespace {

using testing::Replica;
using testing::WholeSnapshot;

uint64_t Seed() {
  if (const char* s = std::getenv("PACKING_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

TEST(Packing, SeededVarintsAndBytesRoundTripAndEveryTruncationFails) {
  const uint64_t seed = Seed();
  SCOPED_TRACE(::testing::Message() << "PACKING_SEED=" << seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 100; ++round) {
    std::vector<uint64_t> ints;
    std::vector<std::string> strings;
    std::string packed;
    PackedWriter w(&packed);
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) {
      const uint64_t v = rng() >> (rng() % 64);
      ints.push_back(v);
      w.Varint(v);
      std::string s(rng() % 3 == 0 ? rng() % 300 : rng() % 5, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      strings.push_back(s);
      w.Bytes(s);
    }
    PackedReader r(packed);
    for (int i = 0; i < n; ++i) {
      uint64_t v = 0;
      std::string_view s;
      ASSERT_TRUE(r.Varint64(&v));
      EXPECT_EQ(v, ints[static_cast<size_t>(i)]);
      ASSERT_TRUE(r.Bytes(&s));
      EXPECT_EQ(s, strings[static_cast<size_t>(i)]);
    }
    EXPECT_TRUE(r.done());
    // Cut anywhere inside the last pair: reading it fails (a copy of exactly the prefix, so that
    // reading past it is a sanitizer error).
    const size_t whole = packed.size();
    std::string tail;
    PackedWriter tail_w(&tail);
    tail_w.Varint(ints.back());
    tail_w.Bytes(strings.back());
    for (size_t cut = whole - tail.size() + 1; cut < whole; ++cut) {
      const std::string prefix = packed.substr(0, cut);
      PackedReader t(prefix);
      bool ok = true;
      for (int i = 0; i < n && ok; ++i) {
        uint64_t v = 0;
        std::string_view s;
        ok = t.Varint64(&v) && t.Bytes(&s);
      }
      EXPECT_FALSE(ok) << "cut " << cut << " of " << whole;
    }
  }
}

TEST(Packing, AVarint32AboveItsRangeIsRefused) {
  std::string packed;
  PackedWriter(&packed).Varint(uint64_t{1} << 33);
  PackedReader r(packed);
  uint32_t v = 0;
  EXPECT_FALSE(r.Varint32(&v));
}

TEST(SetPacking, TheMessageFormOfEarlierBuildsMergesToTheSameState) {
  const std::vector<std::string> names{"a", "b", "c"};
  Replica a("a", names);
  Replica b("b", names);
  // Members with one instance, one with two (concurrent adds in a and b), a removed one, a
  // binary and an empty name.
  a.SAdd("s", {"x", "y", std::string("\0\xff", 2), "", "gone"});
  ASSERT_TRUE(a.Receive(b.SAdd("s", {"x", "z"})));
  a.SRem("s", {"gone"});
  const v1::Snapshot packed = WholeSnapshot(a.ks());
  ASSERT_EQ(packed.keys_size(), 1);
  const v1::SetState& set = packed.keys(0).set();
  ASSERT_FALSE(set.packed().empty());
  ASSERT_EQ(set.members_size(), 0);

  // The same state in the message form.
  v1::Snapshot messages = packed;
  v1::SetState* m = messages.mutable_keys(0)->mutable_set();
  m->clear_packed();
  // Also re-encoded member by member: the offsets where a member ends.
  std::string reencoded;
  PackedWriter re(&reencoded);
  std::vector<size_t> ends;
  uint64_t max_hlc = 0;
  SetValue::PackReader r(set.packed());
  while (r.Next()) {
    v1::SetState::Member* member = m->add_members();
    member->set_name(std::string(r.name()));
    re.Bytes(r.name());
    re.Varint(r.tags().size());
    for (const SetValue::PackedTag& p : r.tags()) {
      v1::TagState* t = member->add_tags();
      t->set_region(p.region);
      t->set_seq(p.seq);
      t->set_idx(p.idx);
      t->set_hlc(p.hlc);
      for (uint64_t v : {uint64_t{p.region}, p.seq, uint64_t{p.idx}, p.hlc}) re.Varint(v);
      max_hlc = std::max(max_hlc, p.hlc);
    }
    ends.push_back(reencoded.size());
  }
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(m->members_size(), 5);
  EXPECT_EQ(reencoded, set.packed());
  EXPECT_EQ(SetValue::MaxPackedHlc(set), max_hlc);
  EXPECT_GT(max_hlc, 0u);
  Replica from_packed("d", {"a", "b", "c", "d"});
  Replica from_messages("e", {"a", "b", "c", "e"});
  ASSERT_TRUE(from_packed.ks().MergeSnapshot({&packed}).ok());
  ASSERT_TRUE(from_messages.ks().MergeSnapshot({&messages}).ok());
  EXPECT_EQ(from_packed.Show("s"), a.Show("s"));
  EXPECT_EQ(from_messages.Show("s"), a.Show("s"));
  EXPECT_EQ(from_packed.ks().Digest(), a.ks().Digest());
  EXPECT_EQ(from_messages.ks().Digest(), a.ks().Digest());

  // Both forms in one state, or a packed state cut short: refused, nothing changed.
  Replica refused("f", {"a", "b", "c", "f"});
  v1::Snapshot both = messages;
  both.mutable_keys(0)->mutable_set()->set_packed(set.packed());
  EXPECT_EQ(refused.ks().MergeSnapshot({&both}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.Show("s"), "(nil)");
  // Cut anywhere: refused, except at a member's end (a valid set of fewer members).
  for (size_t cut = 1; cut < set.packed().size(); ++cut) {
    v1::Snapshot shorter = packed;
    shorter.mutable_keys(0)->mutable_set()->mutable_packed()->resize(cut);
    Replica into("f", {"a", "b", "c", "f"});
    const bool boundary = std::find(ends.begin(), ends.end(), cut) != ends.end();
    EXPECT_EQ(into.ks().MergeSnapshot({&shorter}).ok(), boundary) << "cut " << cut;
    if (!boundary) {
      EXPECT_EQ(into.Show("s"), "(nil)") << "cut " << cut;
    }
  }
}

}  // namespace
}  // namespace activekv::crdt
