#include "crdt/values/element_frontiers.h"

namespace activekv::crdt {
namespace {
// Debian's Abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

void ElementFrontiers::Add(std::string_view name, const VersionVector& observed,
                           const VersionVector& applied) {
  if (observed.LessOrEqual(applied)) return;
  by_name_[Sv(name)].Merge(observed);
}

bool ElementFrontiers::Covers(std::string_view name, const Dot& d) const {
  if (by_name_.empty()) return false;
  auto it = by_name_.find(Sv(name));
  return it != by_name_.end() && it->second.Covers(d);
}

void ElementFrontiers::Prune(const VersionVector& applied) {
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    if (it->second.PruneCoveredBy(applied)) {
      by_name_.erase(it++);
    } else {
      ++it;
    }
  }
}

void ElementFrontiers::Merge(const ElementFrontiers& other, const VersionVector& applied) {
  for (const auto& [name, vv] : other.by_name_) by_name_[name].Merge(vv);
  Prune(applied);
}

void ElementFrontiers::ToState(google::protobuf::RepeatedPtrField<v1::Tombstone>* out) const {
  for (const auto& [name, vv] : by_name_) {
    v1::Tombstone* t = out->Add();
    t->set_name(name);
    for (RegionId r = 0; r < vv.size(); ++r) {
      if (vv.Get(r) == 0) continue;
      v1::TagState* e = t->add_frontier();
      e->set_region(r);
      e->set_seq(vv.Get(r));
    }
  }
}

bool ElementFrontiers::FromState(const google::protobuf::RepeatedPtrField<v1::Tombstone>& in,
                                 const std::vector<RegionId>& dict) {
  by_name_.clear();
  for (const v1::Tombstone& t : in) {
    VersionVector& vv = by_name_[t.name()];
    for (const v1::TagState& e : t.frontier()) {
      if (e.region() >= dict.size()) return false;
      const RegionId r = dict[e.region()];
      if (e.seq() > vv.Get(r)) vv.Set(r, e.seq());
    }
    if (vv.empty()) by_name_.erase(t.name());
  }
  return true;
}

}  // namespace activekv::crdt
