#pragma once

#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "crdt/types.h"

namespace activekv::crdt {

// Interns region names as small ids, in order of first sight. Ids differ between processes; all
// ordering decisions (LWW ties, digests) use the names.
class RegionTable {
 public:
  static constexpr size_t kMaxNames = std::numeric_limits<RegionId>::max();

  RegionId Intern(std::string_view name) {
    auto it = ids_.find(absl::string_view(name.data(), name.size()));
    if (it != ids_.end()) return it->second;
    // Unreachable in practice (see RegionId): the names would not fit in memory first.
    if (names_.size() >= kMaxNames) std::abort();
    RegionId id = static_cast<RegionId>(names_.size());
    names_.emplace_back(name);
    ids_.emplace(names_.back(), id);
    return id;
  }
  // Returns false when `name` was never interned.
  bool Find(std::string_view name, RegionId* id) const {
    auto it = ids_.find(absl::string_view(name.data(), name.size()));
    if (it == ids_.end()) return false;
    *id = it->second;
    return true;
  }
  const std::string& Name(RegionId id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, RegionId> ids_;
};

}  // namespace activekv::crdt
