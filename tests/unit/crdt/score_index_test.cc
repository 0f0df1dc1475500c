// ScoreIndex, the order-statistic index of a sorted set: named tests for Redis's zset order and
// the bound queries, and a property test replaying seeded random insert/erase/score-change
// sequences against a std::set model, checked after every op. Failing seeds are printed (replay
// with --gtest_random_seed=<run seed> or SCORE_INDEX_SEED=<seed>).
#include "crdt/values/score_index.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace activekv::crdt {
namespace {

using Pair = std::pair<double, std::string>;
constexpr double kInf = std::numeric_limits<double>::infinity();

// The elements walking forward from First().
std::vector<Pair> Forward(const ScoreIndex& idx) {
  std::vector<Pair> out;
  for (ScoreIndex::Handle h = idx.First(); h.valid(); ++h) {
    out.emplace_back(h.score(), std::string(h.member()));
  }
  return out;
}

// The elements walking backward from Last(), reversed into ascending order.
std::vector<Pair> Backward(const ScoreIndex& idx) {
  std::vector<Pair> out;
  for (ScoreIndex::Handle h = idx.Last(); h.valid(); --h) {
    out.emplace_back(h.score(), std::string(h.member()));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

TEST(ScoreIndex, TiesAreOrderedByMemberBytes) {
  ScoreIndex idx;
  const std::string nul("a\0", 2);
  for (const std::string& m : {std::string("b"), std::string("ab"), std::string("\xff"),
                               std::string(""), std::string("a"), nul}) {
    idx.Insert(1, m);
  }
  idx.Insert(2, "0");
  idx.Insert(0, "z");
  // Unsigned bytes ("\xff" last), a proper prefix before its extensions ("a" < "a\0" < "ab").
  const std::vector<Pair> want = {{0, "z"},  {1, ""},  {1, "a"},    {1, nul},
                                  {1, "ab"}, {1, "b"}, {1, "\xff"}, {2, "0"}};
  EXPECT_EQ(Forward(idx), want);
  EXPECT_EQ(Backward(idx), want);
  EXPECT_EQ(idx.Rank(1, nul), 3u);
  EXPECT_EQ(idx.Rank(1, "\xff"), 6u);
}

TEST(ScoreIndex, InfinitiesSortAtTheEndsAndNegativeZeroEqualsZero) {
  ScoreIndex idx;
  idx.Insert(kInf, "a");
  idx.Insert(0.0, "b");
  idx.Insert(-kInf, "z");
  idx.Insert(-0.0, "a0");
  idx.Insert(-kInf, "y");
  idx.Insert(kInf, "");
  idx.Insert(-1e308, "m");
  const std::vector<Pair> want = {{-kInf, "y"}, {-kInf, "z"}, {-1e308, "m"}, {0.0, "a0"},
                                  {0.0, "b"},   {kInf, ""},   {kInf, "a"}};
  EXPECT_EQ(Forward(idx), want);
  EXPECT_EQ(idx.Rank(0.0, "a0"), 3u);  // Stored as -0.0, found with 0.0.
  EXPECT_EQ(idx.FirstRankAbove(-kInf, false), 0u);
  EXPECT_EQ(idx.FirstRankAbove(-kInf, true), 2u);
  EXPECT_EQ(idx.CountBelow(kInf, false), 7u);
  EXPECT_EQ(idx.CountBelow(kInf, true), 5u);
  EXPECT_EQ(idx.FirstRankAbove(kInf, true), 7u);
  EXPECT_EQ(idx.CountBelow(-kInf, true), 0u);
  EXPECT_EQ(idx.FirstRankAbove(-0.0, false), 3u);
  EXPECT_EQ(idx.CountBelow(-0.0, false), 5u);
  idx.Erase(-kInf, "y");
  idx.Erase(kInf, "a");
  EXPECT_EQ(idx.First().member(), "z");
  EXPECT_EQ(idx.Last().member(), "");
}

TEST(ScoreIndex, RankAndAtRoundTrip) {
  ScoreIndex idx(42);
  std::mt19937 rng(7);
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) {
    idx.Insert(static_cast<double>(rng() % 100), absl::StrCat("m", i));
  }
  ASSERT_EQ(idx.size(), static_cast<size_t>(kN));
  double prev_score = -kInf;
  std::string prev_member;
  for (size_t r = 0; r < idx.size(); ++r) {
    ScoreIndex::Handle h = idx.At(r);
    ASSERT_TRUE(h.valid()) << r;
    ASSERT_EQ(idx.Rank(h.score(), h.member()), r);
    if (r > 0) {
      ASSERT_TRUE(prev_score < h.score() || (prev_score == h.score() && prev_member < h.member()))
          << r;
    }
    prev_score = h.score();
    prev_member = std::string(h.member());
  }
  EXPECT_FALSE(idx.At(idx.size()).valid());
  EXPECT_FALSE(idx.At(std::numeric_limits<size_t>::max()).valid());
  EXPECT_EQ(idx.At(0), idx.First());
  EXPECT_EQ(idx.At(idx.size() - 1), idx.Last());
}

TEST(ScoreIndex, ScoreBoundsAtEqualScores) {
  ScoreIndex idx;
  idx.Insert(1, "a");
  idx.Insert(2, "b");
  idx.Insert(2, "c");
  idx.Insert(2, "d");
  idx.Insert(3, "e");
  // [2, 2] is ranks [1, 4); (2, 2] and [2, 2) are empty.
  EXPECT_EQ(idx.FirstRankAbove(2, false), 1u);
  EXPECT_EQ(idx.FirstRankAbove(2, true), 4u);
  EXPECT_EQ(idx.CountBelow(2, false), 4u);
  EXPECT_EQ(idx.CountBelow(2, true), 1u);
  // Bounds between and beyond the scores.
  EXPECT_EQ(idx.FirstRankAbove(1.5, false), 1u);
  EXPECT_EQ(idx.FirstRankAbove(1.5, true), 1u);
  EXPECT_EQ(idx.CountBelow(2.5, true), 4u);
  EXPECT_EQ(idx.FirstRankAbove(3, true), 5u);
  EXPECT_EQ(idx.FirstRankAbove(4, false), 5u);
  EXPECT_EQ(idx.CountBelow(1, true), 0u);
  EXPECT_EQ(idx.CountBelow(0, false), 0u);

  ScoreIndex empty;
  EXPECT_EQ(empty.FirstRankAbove(0, false), 0u);
  EXPECT_EQ(empty.CountBelow(0, false), 0u);
  EXPECT_EQ(empty.LexFirstRankAbove("a", false), 0u);
  EXPECT_EQ(empty.LexCountBelow(ScoreIndex::LexBound::PlusInf()), 0u);
  EXPECT_FALSE(empty.At(0).valid());
  EXPECT_FALSE(empty.First().valid());
  EXPECT_FALSE(empty.Last().valid());
}

TEST(ScoreIndex, LexBoundsWhenAllScoresAreEqual) {
  using LexBound = ScoreIndex::LexBound;
  ScoreIndex idx;
  for (const char* m : {"d", "a", "c", "b", "bb"}) idx.Insert(0, m);
  // a b bb c d
  EXPECT_EQ(idx.LexFirstRankAbove("b", false), 1u);
  EXPECT_EQ(idx.LexFirstRankAbove("b", true), 2u);
  EXPECT_EQ(idx.LexFirstRankAbove("ba", false), 2u);
  EXPECT_EQ(idx.LexFirstRankAbove("ba", true), 2u);
  EXPECT_EQ(idx.LexFirstRankAbove("", false), 0u);
  EXPECT_EQ(idx.LexFirstRankAbove("e", false), 5u);
  EXPECT_EQ(idx.LexCountBelow("c", false), 4u);
  EXPECT_EQ(idx.LexCountBelow("c", true), 3u);
  EXPECT_EQ(idx.LexCountBelow("", false), 0u);
  EXPECT_EQ(idx.LexCountBelow("\xff", true), 5u);
  // ZRANGEBYLEX [b (d: ranks [1, 4).
  EXPECT_EQ(idx.LexFirstRankAbove(LexBound::Inclusive("b")), 1u);
  EXPECT_EQ(idx.LexCountBelow(LexBound::Exclusive("d")), 4u);
  EXPECT_EQ(idx.LexFirstRankAbove(LexBound::Exclusive("b")), 2u);
  EXPECT_EQ(idx.LexCountBelow(LexBound::Inclusive("d")), 5u);
  // '-' and '+' at either end.
  EXPECT_EQ(idx.LexFirstRankAbove(LexBound::MinusInf()), 0u);
  EXPECT_EQ(idx.LexFirstRankAbove(LexBound::PlusInf()), 5u);
  EXPECT_EQ(idx.LexCountBelow(LexBound::MinusInf()), 0u);
  EXPECT_EQ(idx.LexCountBelow(LexBound::PlusInf()), 5u);
}

TEST(ScoreIndex, EraseFirstLastAndMiddle) {
  ScoreIndex idx;
  for (int i = 0; i < 7; ++i) idx.Insert(i, absl::StrCat("m", i));
  idx.Erase(0, "m0");  // First.
  EXPECT_EQ(idx.First().member(), "m1");
  EXPECT_FALSE((--idx.First()).valid());
  idx.Erase(6, "m6");  // Last.
  EXPECT_EQ(idx.Last().member(), "m5");
  EXPECT_FALSE((++idx.Last()).valid());
  idx.Erase(3, "m3");  // Middle.
  const std::vector<Pair> want = {{1, "m1"}, {2, "m2"}, {4, "m4"}, {5, "m5"}};
  EXPECT_EQ(Forward(idx), want);
  EXPECT_EQ(Backward(idx), want);
  EXPECT_EQ(idx.Rank(4, "m4"), 2u);
  EXPECT_EQ(idx.At(2).member(), "m4");
  for (const Pair& p : want) idx.Erase(p.first, p.second);
  EXPECT_EQ(idx.size(), 0u);
  EXPECT_FALSE(idx.First().valid());
  EXPECT_FALSE(idx.Last().valid());
  idx.Insert(9, "again");  // Reusable once emptied.
  EXPECT_EQ(idx.Rank(9, "again"), 0u);
  EXPECT_EQ(idx.Last(), idx.First());
}

TEST(ScoreIndex, IteratesBothWaysFromAHandle) {
  ScoreIndex idx;
  for (int i = 0; i < 100; ++i) idx.Insert(std::floor(i / 10.0), absl::StrCat("m", 99 - i));
  ScoreIndex::Handle h = idx.At(40);
  ScoreIndex::Handle start = h;
  size_t rank = 40;
  for (; h.valid(); ++h) EXPECT_EQ(idx.Rank(h.score(), h.member()), rank++);
  EXPECT_EQ(rank, 100u);
  rank = 41;
  for (h = start; h.valid(); --h) EXPECT_EQ(idx.Rank(h.score(), h.member()), --rank);
  EXPECT_EQ(rank, 0u);
  h = start;
  ++h;
  --h;
  EXPECT_EQ(h, start);
}

TEST(ScoreIndex, ClearAndMoveLeaveUsableIndexes) {
  ScoreIndex a(1);
  for (int i = 0; i < 50; ++i) a.Insert(i, absl::StrCat(i));
  ScoreIndex b(std::move(a));
  EXPECT_EQ(b.size(), 50u);
  EXPECT_EQ(b.At(10).score(), 10);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty.
  a.Insert(1, "x");
  EXPECT_EQ(a.Rank(1, "x"), 0u);
  a = std::move(b);
  EXPECT_EQ(a.size(), 50u);
  EXPECT_EQ(a.Rank(49, "49"), 49u);
  a.Clear();
  EXPECT_EQ(a.size(), 0u);
  EXPECT_FALSE(a.First().valid());
  a.Insert(2, "y");
  EXPECT_EQ(Forward(a), (std::vector<Pair>{{2, "y"}}));
}

// One seeded sequence of inserts, erases and score changes over a small universe of members,
// checked against a std::set model after every op.
class History {
 public:
  explicit History(uint32_t seed) : rng_(seed), idx_(seed) {
    const size_t universes[] = {4, 24, 80, 300};
    const size_t universe = universes[rng_() % 4];
    mode_ = static_cast<Mode>(rng_() % 3);
    std::set<std::string> members;
    while (members.size() < universe) members.insert(RandomString());
    members_.assign(members.begin(), members.end());
  }

  void Run(int ops) {
    for (int op = 0; op < ops && !::testing::Test::HasFailure(); ++op) {
      Step();
      Check(op % 97 == 0 || op == ops - 1);
    }
  }

 private:
  enum class Mode { kEqualScores, kFewScores, kManyScores };

  std::string RandomString() {
    static constexpr char kAlphabet[] = {'\0', 'a', 'b', '\x7f', '\x80', '\xff'};
    std::string s(rng_() % 5, 'a');
    for (char& c : s) c = kAlphabet[rng_() % sizeof(kAlphabet)];
    return s;
  }

  double RandomScore() {
    switch (mode_) {
      case Mode::kEqualScores:
        return rng_() % 2 ? 0.0 : -0.0;
      case Mode::kFewScores: {
        static constexpr double kScores[] = {-kInf, -1, -0.0, 0, 0.5, 1, 1e300, kInf};
        return kScores[rng_() % 8];
      }
      case Mode::kManyScores:
        return static_cast<double>(static_cast<int>(rng_() % 2001) - 1000) / 4;
    }
    return 0;
  }

  bool Coin(int percent) { return static_cast<int>(rng_() % 100) < percent; }

  const Pair& RandomPresent() {
    return *std::next(model_.begin(), static_cast<std::ptrdiff_t>(rng_() % model_.size()));
  }

  void Step() {
    const int r = static_cast<int>(rng_() % 100);
    if (r == 0) {
      idx_.Clear();
      model_.clear();
      scores_.clear();
      return;
    }
    if (r < 45 || model_.empty()) {
      const std::string& m = members_[rng_() % members_.size()];
      auto it = scores_.find(m);
      if (it != scores_.end()) {
        ChangeScore(it->second, m);
      } else {
        const double s = RandomScore();
        idx_.Insert(s, m);
        model_.emplace(s, m);
        scores_[m] = s;
      }
      return;
    }
    const Pair p = RandomPresent();
    if (r < 75) {
      idx_.Erase(p.first, p.second);
      model_.erase(p);
      scores_.erase(p.second);
    } else {
      ChangeScore(p.first, p.second);
    }
  }

  void ChangeScore(double old_score, const std::string& m) {
    const Pair old(old_score, m);
    const double s = RandomScore();
    idx_.Erase(old_score, m);
    idx_.Insert(s, m);
    model_.erase(old);
    model_.emplace(s, m);
    scores_[m] = s;
  }

  size_t ModelRank(const Pair& p) const {
    return static_cast<size_t>(std::distance(model_.begin(), model_.find(p)));
  }

  template <typename Pred>
  size_t ModelCount(Pred pred) const {
    return static_cast<size_t>(std::count_if(model_.begin(), model_.end(), pred));
  }

  double BoundScore() {
    if (!model_.empty() && Coin(50)) return RandomPresent().first;
    return Coin(90) ? RandomScore() : (Coin(50) ? -kInf : kInf);
  }

  std::string BoundMember() {
    if (!model_.empty() && Coin(50)) return RandomPresent().second;
    return RandomString();
  }

  void Check(bool full) {
    ASSERT_EQ(idx_.size(), model_.size());
    if (full) {
      const std::vector<Pair> want(model_.begin(), model_.end());
      ASSERT_EQ(Forward(idx_), want);
      ASSERT_EQ(Backward(idx_), want);
    }
    if (!model_.empty()) {
      for (int i = 0; i < 2; ++i) {
        const Pair& p = RandomPresent();
        ASSERT_EQ(idx_.Rank(p.first, p.second), ModelRank(p)) << p.first << " " << p.second;
        const size_t rank = rng_() % model_.size();
        const Pair& q = *std::next(model_.begin(), static_cast<std::ptrdiff_t>(rank));
        ScoreIndex::Handle h = idx_.At(rank);
        ASSERT_TRUE(h.valid()) << rank;
        ASSERT_EQ(Pair(h.score(), std::string(h.member())), q) << rank;
      }
    }
    ASSERT_FALSE(idx_.At(model_.size()).valid());
    const double s = BoundScore();
    const bool ex = Coin(50);
    ASSERT_EQ(idx_.FirstRankAbove(s, ex),
              ModelCount([s, ex](const Pair& p) { return ex ? p.first <= s : p.first < s; }))
        << s << " " << ex;
    ASSERT_EQ(idx_.CountBelow(s, ex),
              ModelCount([s, ex](const Pair& p) { return ex ? p.first < s : p.first <= s; }))
        << s << " " << ex;
    if (mode_ == Mode::kEqualScores) {
      const std::string m = BoundMember();
      ASSERT_EQ(idx_.LexFirstRankAbove(m, ex),
                ModelCount([&m, ex](const Pair& p) { return ex ? p.second <= m : p.second < m; }))
          << m << " " << ex;
      ASSERT_EQ(idx_.LexCountBelow(m, ex),
                ModelCount([&m, ex](const Pair& p) { return ex ? p.second < m : p.second <= m; }))
          << m << " " << ex;
    }
  }

  std::mt19937 rng_;
  ScoreIndex idx_;
  Mode mode_;
  std::vector<std::string> members_;      // The universe, distinct.
  std::set<Pair> model_;                  // The present pairs, in zset order.
  std::map<std::string, double> scores_;  // The same pairs by member.
};

TEST(ScoreIndex, SeededHistoriesMatchASetModel) {
  const uint32_t base = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  if (const char* s = std::getenv("SCORE_INDEX_SEED")) {
    const uint32_t seed = static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
    SCOPED_TRACE(absl::StrCat("history seed=", seed));
    History(seed).Run(3000);
    return;
  }
  for (uint32_t i = 0; i < 250; ++i) {
    const uint32_t seed = base * 7919u + i;
    {
      SCOPED_TRACE(absl::StrCat("history seed=", seed));
      History(seed).Run(3000);
    }
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "replay with SCORE_INDEX_SEED=" << seed;
      return;
    }
  }
}

}  // namespace
}  // namespace activekv::crdt
