#include "crdt/values/tag.h"

#include <algorithm>

namespace activekv::crdt {

void AppendObservedTags(const TagList& tags, const RegionTable& regions,
                        google::protobuf::RepeatedPtrField<v1::ObservedTags>* out) {
  for (size_t i = 0; i < tags.size(); ++i) {
    const Tag& t = tags[i];
    v1::ObservedTags* group = nullptr;
    for (v1::ObservedTags& g : *out) {
      if (g.origin() == regions.Name(t.region)) group = &g;
    }
    if (group == nullptr) {
      group = out->Add();
      group->set_origin(regions.Name(t.region));
    }
    group->add_seqs(t.seq);
    if (t.idx != 0 || group->idxs_size() > 0) {
      while (group->idxs_size() + 1 < group->seqs_size()) group->add_idxs(0);
      group->add_idxs(t.idx);
    }
  }
}

bool ReadObservedTags(const google::protobuf::RepeatedPtrField<v1::ObservedTags>& in,
                      RegionTable* regions, TagList* out) {
  for (const v1::ObservedTags& g : in) {
    if (g.origin().empty() || g.idxs_size() > g.seqs_size()) return false;
    const RegionId r = regions->Intern(g.origin());
    for (int i = 0; i < g.seqs_size(); ++i) {
      if (g.seqs(i) == 0) return false;
      out->push_back(Tag{r, i < g.idxs_size() ? g.idxs(i) : 0, g.seqs(i)});
    }
  }
  return true;
}

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
