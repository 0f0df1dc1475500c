#include "crdt/values/tag.h"

namespace activekv::crdt {

void ToTagState(const Tag& tag, Hlc hlc, v1::TagState* out) {
  out->set_region(tag.region);
  out->set_seq(tag.seq);
  out->set_idx(tag.idx);
  out->set_hlc(hlc);
}

bool FromTagState(const v1::TagState& in, const std::vector<RegionId>& dict, Tag* tag, Hlc* hlc) {
  if (in.region() >= dict.size() || in.seq() == 0) return false;
  *tag = Tag{dict[in.region()], in.idx(), in.seq()};
  *hlc = in.hlc();
  return true;
}

}  // namespace activekv::crdt
