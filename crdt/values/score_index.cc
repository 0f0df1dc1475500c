#include "crdt/values/score_index.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

namespace activekv::crdt {

// One allocation: this header, then `level` forward pointers, then `level - 1` 32-bit spans
// (levels 1 and up; the span at level 0 is always 1), then the member bytes.
//
// The span at level i is the number of steps at level 0 from this node to forward(i) (Redis's
// zskiplistLevel.span). For a null forward pointer it is kept as Redis keeps it but never read.
struct ScoreIndex::Node {
  double score;
  Node* backward;  // Null for the first element (never the head).
  uint32_t size;   // Member bytes.
  uint8_t level;

  Node** forward() { return reinterpret_cast<Node**>(this + 1); }
  Node* const* forward() const { return reinterpret_cast<Node* const*>(this + 1); }
  uint32_t* spans() { return reinterpret_cast<uint32_t*>(forward() + level); }
  const uint32_t* spans() const { return reinterpret_cast<const uint32_t*>(forward() + level); }
  const char* data() const { return reinterpret_cast<const char*>(spans() + level - 1); }
  char* data() { return reinterpret_cast<char*>(spans() + level - 1); }

  Node* next(int i) const { return forward()[i]; }
  uint32_t span(int i) const { return i == 0 ? 1 : spans()[i - 1]; }
  void set_span(int i, uint32_t s) {
    if (i > 0) spans()[i - 1] = s;
  }
  std::string_view member() const { return std::string_view(data(), size); }

  // True if this node orders before (score, member).
  bool Before(double s, std::string_view m) const {
    return score < s || (score == s && member() < m);
  }
};

double ScoreIndex::Handle::score() const {
  assert(node_ != nullptr);
  return node_->score;
}

std::string_view ScoreIndex::Handle::member() const {
  assert(node_ != nullptr);
  return node_->member();
}

ScoreIndex::Handle& ScoreIndex::Handle::operator++() {
  assert(node_ != nullptr);
  node_ = node_->next(0);
  return *this;
}

ScoreIndex::Handle& ScoreIndex::Handle::operator--() {
  assert(node_ != nullptr);
  node_ = node_->backward;
  return *this;
}

ScoreIndex::ScoreIndex(ScoreIndex&& other) noexcept
    : head_(std::exchange(other.head_, nullptr)),
      tail_(std::exchange(other.tail_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      level_(std::exchange(other.level_, 1)),
      rng_(other.rng_) {}

ScoreIndex& ScoreIndex::operator=(ScoreIndex&& other) noexcept {
  if (this != &other) {
    Clear();
    head_ = std::exchange(other.head_, nullptr);
    tail_ = std::exchange(other.tail_, nullptr);
    size_ = std::exchange(other.size_, 0);
    level_ = std::exchange(other.level_, 1);
    rng_ = other.rng_;
  }
  return *this;
}

ScoreIndex::~ScoreIndex() { Clear(); }

ScoreIndex::Node* ScoreIndex::NewNode(int level, double score, std::string_view member) {
  assert(level >= 1 && level <= kMaxLevel);
  assert(member.size() <= std::numeric_limits<uint32_t>::max());
  static_assert(sizeof(Node) % alignof(Node*) == 0, "the forward pointers follow the header");
  const size_t links =
      sizeof(Node*) * level + sizeof(uint32_t) * (level - 1);  // NOLINT(bugprone-sizeof-expression)
  void* mem = ::operator new(sizeof(Node) + links + member.size());
  Node* node = new (mem)
      Node{score, nullptr, static_cast<uint32_t>(member.size()), static_cast<uint8_t>(level)};
  // Null forward pointers and zero spans (all bits zero).
  std::memset(static_cast<void*>(node->forward()), 0, links);
  if (!member.empty()) std::memcpy(node->data(), member.data(), member.size());
  return node;
}

void ScoreIndex::FreeNode(Node* node) { ::operator delete(static_cast<void*>(node)); }

int ScoreIndex::RandomLevel() {
  // splitmix64.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  // Each pair of trailing zero bits adds a level: P(level > k) = 4^-k. The top bit caps it at 32.
  const int zeros = __builtin_ctzll(z | (uint64_t{1} << 63));
  const int level = 1 + zeros / 2;
  return level < kMaxLevel ? level : kMaxLevel;
}

void ScoreIndex::Insert(double score, std::string_view member) {
  assert(score == score);  // Not NaN.
  assert(size_ < std::numeric_limits<uint32_t>::max());
  if (head_ == nullptr) head_ = NewNode(kMaxLevel, 0, {});
  const int level = RandomLevel();
  // The last node before the new one at each level, and its rank (1-based, the head 0). Levels
  // above level_ start from the head.
  Node* update[kMaxLevel];
  std::fill_n(update, kMaxLevel, head_);
  uint32_t rank[kMaxLevel] = {};
  Node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    rank[i] = i == level_ - 1 ? 0 : rank[i + 1];
    while (x->next(i) != nullptr && x->next(i)->Before(score, member)) {
      rank[i] += x->span(i);
      x = x->next(i);
    }
    update[i] = x;
  }
  assert(x->next(0) == nullptr || x->next(0)->member() != member || x->next(0)->score != score);
  if (level > level_) {
    for (int i = level_; i < level; ++i) head_->set_span(i, static_cast<uint32_t>(size_));
    level_ = level;
  }
  x = NewNode(level, score, member);
  for (int i = 0; i < level; ++i) {
    x->forward()[i] = update[i]->next(i);
    update[i]->forward()[i] = x;
    x->set_span(i, update[i]->span(i) - (rank[0] - rank[i]));
    update[i]->set_span(i, rank[0] - rank[i] + 1);
  }
  for (int i = level; i < level_; ++i) update[i]->set_span(i, update[i]->span(i) + 1);
  x->backward = update[0] == head_ ? nullptr : update[0];
  if (x->next(0) != nullptr) {
    x->next(0)->backward = x;
  } else {
    tail_ = x;
  }
  ++size_;
}

void ScoreIndex::Erase(double score, std::string_view member) {
  if (head_ == nullptr) {
    assert(false && "ScoreIndex::Erase of an absent pair");
    return;
  }
  Node* update[kMaxLevel] = {};
  Node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && x->next(i)->Before(score, member)) x = x->next(i);
    update[i] = x;
  }
  x = x->next(0);
  if (x == nullptr || x->score != score || x->member() != member) {
    assert(false && "ScoreIndex::Erase of an absent pair");
    return;
  }
  for (int i = 0; i < level_; ++i) {
    if (update[i]->next(i) == x) {
      update[i]->set_span(i, update[i]->span(i) + x->span(i) - 1);
      update[i]->forward()[i] = x->next(i);
    } else {
      update[i]->set_span(i, update[i]->span(i) - 1);
    }
  }
  if (x->next(0) != nullptr) {
    x->next(0)->backward = x->backward;
  } else {
    tail_ = x->backward;
  }
  while (level_ > 1 && head_->next(level_ - 1) == nullptr) --level_;
  --size_;
  FreeNode(x);
}

void ScoreIndex::Clear() {
  if (head_ == nullptr) return;
  Node* x = head_->next(0);
  while (x != nullptr) {
    Node* next = x->next(0);
    FreeNode(x);
    x = next;
  }
  FreeNode(head_);
  head_ = nullptr;
  tail_ = nullptr;
  size_ = 0;
  level_ = 1;
}

size_t ScoreIndex::Rank(double score, std::string_view member) const {
  assert(head_ != nullptr);
  if (head_ == nullptr) return 0;
  size_t rank = 0;
  const Node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && x->next(i)->Before(score, member)) {
      rank += x->span(i);
      x = x->next(i);
    }
  }
  assert(x->next(0) != nullptr && x->next(0)->score == score && x->next(0)->member() == member);
  return rank;
}

ScoreIndex::Handle ScoreIndex::At(size_t rank) const {
  if (rank >= size_) return Handle();
  const size_t target = rank + 1;  // 1-based; the head is 0.
  size_t traversed = 0;
  const Node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && traversed + x->span(i) <= target) {
      traversed += x->span(i);
      x = x->next(i);
    }
    if (traversed == target) return Handle(x);
  }
  assert(false && "ScoreIndex spans are inconsistent");
  return Handle();
}

ScoreIndex::Handle ScoreIndex::First() const {
  return Handle(head_ == nullptr ? nullptr : head_->next(0));
}

ScoreIndex::Handle ScoreIndex::Last() const { return Handle(tail_); }

template <typename Pred>
size_t ScoreIndex::CountPrefix(Pred pred) const {
  if (head_ == nullptr) return 0;
  size_t count = 0;
  const Node* x = head_;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->next(i) != nullptr && pred(*x->next(i))) {
      count += x->span(i);
      x = x->next(i);
    }
  }
  return count;
}

size_t ScoreIndex::FirstRankAbove(double min, bool exclusive) const {
  if (exclusive) return CountPrefix([min](const Node& n) { return n.score <= min; });
  return CountPrefix([min](const Node& n) { return n.score < min; });
}

size_t ScoreIndex::CountBelow(double max, bool exclusive) const {
  if (exclusive) return CountPrefix([max](const Node& n) { return n.score < max; });
  return CountPrefix([max](const Node& n) { return n.score <= max; });
}

size_t ScoreIndex::LexFirstRankAbove(std::string_view min, bool exclusive) const {
  if (exclusive) return CountPrefix([min](const Node& n) { return n.member() <= min; });
  return CountPrefix([min](const Node& n) { return n.member() < min; });
}

size_t ScoreIndex::LexCountBelow(std::string_view max, bool exclusive) const {
  if (exclusive) return CountPrefix([max](const Node& n) { return n.member() < max; });
  return CountPrefix([max](const Node& n) { return n.member() <= max; });
}

size_t ScoreIndex::LexFirstRankAbove(const LexBound& min) const {
  switch (min.kind) {
    case LexBound::Kind::kMinusInf:
      return 0;
    case LexBound::Kind::kPlusInf:
      return size_;
    case LexBound::Kind::kInclusive:
      return LexFirstRankAbove(min.member, false);
    case LexBound::Kind::kExclusive:
      return LexFirstRankAbove(min.member, true);
  }
  return 0;
}

size_t ScoreIndex::LexCountBelow(const LexBound& max) const {
  switch (max.kind) {
    case LexBound::Kind::kMinusInf:
      return 0;
    case LexBound::Kind::kPlusInf:
      return size_;
    case LexBound::Kind::kInclusive:
      return LexCountBelow(max.member, false);
    case LexBound::Kind::kExclusive:
      return LexCountBelow(max.member, true);
  }
  return 0;
}

}  // namespace activekv::crdt
