#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "crdt/values/compact_string.h"

namespace activekv::crdt {

// The elements of one collection (hash fields, set members, zset members), each a `Elem` with
// a `CompactString name` member: a dense vector (O(1) random pick, insertion order) plus an index
// of positions by name (4 bytes a slot). Local presentation, not CRDT state: the order is the
// insertion order while `ordered()` (Redis's small encodings keep it, so a single region answers
// HGETALL exactly like redis-server), otherwise removal moves the last element into the hole.
//
// Scan cursors (SSCAN/HSCAN) walk positions from the end to the front: an element that exists for
// the whole scan is never skipped (removal only moves elements towards the front: an element not
// visited yet stays below the cursor; an element moved from the back may be returned twice).
//
// Neither copyable nor movable (the index's hasher points into the vector): hold it in place.
template <typename Elem>
class ElementTable {
 public:
  ElementTable() : index_(0, Hasher{&elems_}, Eq{&elems_}) {}
  ElementTable(const ElementTable&) = delete;
  ElementTable& operator=(const ElementTable&) = delete;

  size_t size() const { return elems_.size(); }
  bool empty() const { return elems_.empty(); }
  Elem& at(size_t i) { return elems_[i]; }
  const Elem& at(size_t i) const { return elems_[i]; }
  const std::vector<Elem>& elems() const { return elems_; }

  Elem* Find(std::string_view name) {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &elems_[*it];
  }
  const Elem* Find(std::string_view name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &elems_[*it];
  }
  // Appends a new element (`name` must be absent).
  Elem& Append(std::string_view name) {
    elems_.emplace_back();
    elems_.back().name = name;
    index_.insert(static_cast<uint32_t>(elems_.size() - 1));
    return elems_.back();
  }
  // Removes the element named `name` (it must be present).
  void Erase(std::string_view name) {
    auto it = index_.find(name);
    const uint32_t pos = *it;
    index_.erase(it);
    const uint32_t last = static_cast<uint32_t>(elems_.size() - 1);
    if (ordered_) {
      // Shift the tail down: the positions after `pos` change.
      for (uint32_t i = pos + 1; i <= last; ++i) index_.erase(index_.find(elems_[i].name.view()));
      elems_.erase(elems_.begin() + pos);
      for (uint32_t i = pos; i < last; ++i) index_.insert(i);
    } else if (pos != last) {
      index_.erase(index_.find(elems_[last].name.view()));
      elems_[pos] = std::move(elems_[last]);
      elems_.pop_back();
      index_.insert(pos);
    } else {
      elems_.pop_back();
    }
    if (elems_.capacity() > 64 && elems_.size() < elems_.capacity() / 4) elems_.shrink_to_fit();
  }
  void Clear() {
    index_.clear();
    elems_.clear();
  }

  // Insertion order is kept while ordered (the default); once false it stays false.
  bool ordered() const { return ordered_; }
  void set_unordered() { ordered_ = false; }

 private:
  struct Hasher {
    using is_transparent = void;
    const std::vector<Elem>* elems;
    size_t operator()(uint32_t i) const { return (*this)((*elems)[i].name.view()); }
    size_t operator()(std::string_view name) const { return absl::Hash<std::string_view>()(name); }
  };
  struct Eq {
    using is_transparent = void;
    const std::vector<Elem>* elems;
    std::string_view Name(uint32_t i) const { return (*elems)[i].name.view(); }
    static std::string_view Name(std::string_view s) { return s; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Name(a) == Name(b);
    }
  };

  std::vector<Elem> elems_;
  absl::flat_hash_set<uint32_t, Hasher, Eq> index_;
  bool ordered_ = true;
};

}  // namespace activekv::crdt
