#include "crdt/values/tag.h"

namespace activekv::crdt {

void ToTagState(const Tag& tag, Hlc hlc, v1::TagState* out) {
  out->set_region(tag.region);
  out->set_seq(tag.seq);
  out->set_idx(tag.idx);
  out->set_hlc(hlc);
}

bool FromTagState(const v1::TagState& in, const std::vector<RegionId>& dict, Tag* tag, Hlc* hlc) {
  if (!TagFromState(in.region(), in.seq(), in.idx(), dict, tag)) return false;
  *hlc = in.hlc();
  return true;
}

bool TagFromState(uint32_t region, uint64_t seq, uint32_t idx, const std::vector<RegionId>& dict,
                  Tag* tag) {
  if (region >= dict.size() || seq == 0) return false;
  *tag = Tag{dict[region], idx, seq};
  return true;
}

}  // namespace activekv::crdt
