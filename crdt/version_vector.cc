#include "crdt/version_vector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace activekv::crdt {

std::string VersionVector::ToString(const RegionTable& regions) const {
  std::vector<std::pair<std::string, uint64_t>> entries;
  for (RegionId r = 0; r < seqs_.size(); ++r) {
    if (seqs_[r] != 0) entries.emplace_back(regions.Name(r), seqs_[r]);
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& [name, seq] : entries) {
    absl::StrAppend(&out, out.empty() ? "" : ",", name, ":", seq);
  }
  return out;
}

}  // namespace activekv::crdt
