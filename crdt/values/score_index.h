#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace activekv::crdt {

// The order-statistic index of a sorted set: (score, member) pairs in Redis's zset order, by
// score, ties broken by member bytes (unsigned memcmp, a proper prefix first: std::string_view's
// operator<). Scores are never NaN; -inf and +inf are allowed, and -0.0 equals 0.0. Each member
// appears at most once: the caller (the sorted set's member table) guarantees it. Ranks are
// 0-based. Local presentation, not CRDT state.
//
// A skiplist with spans (Redis's zskiplist): Insert, Erase, Rank, At and the bound queries take
// O(log n) expected time, walking m elements from a Handle O(m). Levels are drawn with p = 1/4,
// at most 32, from a generator seeded by the constructor, so a run replays exactly.
//
// Memory: one allocation per element holding the node and the member bytes: 24 bytes of header
// (score, backward pointer, member length, level), 8 bytes a level for the forward pointer and
// 4 bytes a level above the first for the span (the first level's span is always 1): 36 bytes at
// the average level of 4/3, plus the allocator's own overhead. A 404-byte head node is allocated
// on the first Insert and freed by Clear.
//
// Limits: at most 2^32 - 1 elements (spans are 32-bit), members at most 2^32 - 1 bytes.
//
// A Handle stays valid until the next Insert, Erase or Clear (or move) of its index. Not
// thread-safe: calls on one index must not overlap, even const ones with a mutating one.
// Movable (a moved-from index is empty), not copyable.
class ScoreIndex {
 private:
  struct Node;

 public:
  static constexpr int kMaxLevel = 32;
  static constexpr uint64_t kDefaultSeed = 0x5eed0f5c0e1d3e7aULL;

  // A cursor on one element, or past either end (`valid()` false). Cheap to copy.
  class Handle {
   public:
    Handle() = default;
    bool valid() const { return node_ != nullptr; }
    // Both require `valid()`.
    double score() const;
    std::string_view member() const;
    // The next (higher) element; past the end after the last one. Requires `valid()`.
    Handle& operator++();
    // The previous (lower) element; past the end before the first one. Requires `valid()`.
    Handle& operator--();
    friend bool operator==(Handle a, Handle b) { return a.node_ == b.node_; }
    friend bool operator!=(Handle a, Handle b) { return a.node_ != b.node_; }

   private:
    friend class ScoreIndex;
    explicit Handle(const Node* node) : node_(node) {}
    const Node* node_ = nullptr;
  };

  // A BYLEX bound as ZRANGEBYLEX spells it: '-', '+', "[member" or "(member".
  struct LexBound {
    enum class Kind : uint8_t { kMinusInf, kPlusInf, kInclusive, kExclusive };
    Kind kind = Kind::kMinusInf;
    std::string_view member;  // Ignored for the infinities.

    static LexBound MinusInf() { return {Kind::kMinusInf, {}}; }
    static LexBound PlusInf() { return {Kind::kPlusInf, {}}; }
    static LexBound Inclusive(std::string_view m) { return {Kind::kInclusive, m}; }
    static LexBound Exclusive(std::string_view m) { return {Kind::kExclusive, m}; }
  };

  explicit ScoreIndex(uint64_t seed = kDefaultSeed) : rng_(seed) {}
  ScoreIndex(const ScoreIndex&) = delete;
  ScoreIndex& operator=(const ScoreIndex&) = delete;
  ScoreIndex(ScoreIndex&& other) noexcept;
  ScoreIndex& operator=(ScoreIndex&& other) noexcept;
  ~ScoreIndex();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Adds the pair; `member` must not be in the index (with any score).
  void Insert(double score, std::string_view member);
  // Removes the pair, which must be present (asserted; in release an absent pair is a no-op).
  // A score change is Erase(old) + Insert(new).
  void Erase(double score, std::string_view member);
  // Removes every element and frees all memory.
  void Clear();

  // The 0-based rank of the pair, which must be present (asserted).
  size_t Rank(double score, std::string_view member) const;
  // The element at `rank`; an invalid handle if rank >= size().
  Handle At(size_t rank) const;
  // The lowest and highest elements (invalid handles when empty). O(1).
  Handle First() const;
  Handle Last() const;

  // Score bounds (ZRANGEBYSCORE, ZCOUNT). The elements within [min, max], with either end
  // optionally exclusive, have the ranks [FirstRankAbove(min, ex), CountBelow(max, ex)) (empty
  // when the first is not below the second).
  //
  // The rank of the first element with score > min (exclusive) or >= min (not exclusive), size()
  // when there is none; equivalently the number of elements with score <= min (exclusive) or
  // < min (not exclusive).
  size_t FirstRankAbove(double min, bool exclusive) const;
  // The number of elements with score < max (exclusive) or <= max (not exclusive);
  // equivalently one past the rank of the last such element.
  size_t CountBelow(double max, bool exclusive) const;

  // Lexicographic bounds on the member (ZRANGEBYLEX, ZLEXCOUNT), meaningful only when all the
  // scores are equal (as in Redis; otherwise the result is some rank in [0, size()]). Same shape
  // as the score bounds: the elements within the range have the ranks
  // [LexFirstRankAbove(min), LexCountBelow(max)).
  //
  // The rank of the first element with member > min (exclusive) or >= min (not exclusive).
  size_t LexFirstRankAbove(std::string_view min, bool exclusive) const;
  // The number of elements with member < max (exclusive) or <= max (not exclusive).
  size_t LexCountBelow(std::string_view max, bool exclusive) const;
  // The same with '-' and '+': LexFirstRankAbove(-) = 0, LexFirstRankAbove(+) = size(),
  // LexCountBelow(-) = 0, LexCountBelow(+) = size().
  size_t LexFirstRankAbove(const LexBound& min) const;
  size_t LexCountBelow(const LexBound& max) const;

 private:
  static Node* NewNode(int level, double score, std::string_view member);
  static void FreeNode(Node* node);
  int RandomLevel();
  // The number of elements x with pred(x) true, for a predicate true on a prefix of the order.
  template <typename Pred>
  size_t CountPrefix(Pred pred) const;

  Node* head_ = nullptr;  // kMaxLevel levels; allocated on the first Insert.
  Node* tail_ = nullptr;
  size_t size_ = 0;
  int level_ = 1;  // The highest level in use, at least 1.
  uint64_t rng_;   // splitmix64 state.
};

}  // namespace activekv::crdt
