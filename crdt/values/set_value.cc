#include "crdt/values/set_value.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "crdt/redis_number.h"
#include "crdt/values/packing.h"

namespace activekv::crdt {
namespace {
constexpr size_t kMaxIntsetEntries = 512;  // Redis 7.0 set-max-intset-entries
}  // namespace

void SetValue::NoteNewMember(std::string_view name) {
  digest_.Add(ElementDigest(name, ""));
  if (!intset_) return;
  int64_t v;
  if (!ParseRedisInt(name, &v) || members_.size() > kMaxIntsetEntries) intset_ = false;
}

void SetValue::AddInstance(std::string_view name, const Instance& inst) {
  Member* m = members_.Find(name);
  if (m == nullptr) {
    m = &members_.Append(name);
    NoteNewMember(name);
  }
  m->instances.push_back(inst);
}

void SetValue::EraseIfEmpty(Member* m) {
  if (!m->instances.empty()) return;
  digest_.Sub(ElementDigest(m->name, ""));
  const std::string name((m->name).view());  // Erase may move the element the name lives in
  members_.Erase(name);
}

void SetValue::RemoveCovered(Member* m, const VersionVector& observed) {
  auto& inst = m->instances;
  inst.erase(std::remove_if(inst.begin(), inst.end(),
                            [&](const Instance& x) { return observed.Covers(x.tag.dot()); }),
             inst.end());
}

void SetValue::Add(std::string_view name, const Tag& tag, Hlc hlc, const VersionVector& observed,
                   const ValueContext& ctx) {
  // Check before anything prunes: the applied vector already covers this op's dot.
  const bool removed = ctx.frontier->Covers(tag.dot()) || frontiers_.Covers(name, tag.dot());
  frontiers_.Add(name, observed, *ctx.applied);
  Member* m = members_.Find(name);
  if (m == nullptr) {
    if (!removed) AddInstance(name, Instance{tag, hlc});
    return;
  }
  // The member stays in place while its instances are replaced (SADD of a present member).
  RemoveCovered(m, observed);
  if (!removed) m->instances.push_back(Instance{tag, hlc});
  EraseIfEmpty(m);
}

void SetValue::Remove(std::string_view name, const VersionVector& observed,
                      const ValueContext& ctx) {
  frontiers_.Add(name, observed, *ctx.applied);
  Member* m = members_.Find(name);
  if (m == nullptr) return;
  RemoveCovered(m, observed);
  EraseIfEmpty(m);
}

// A member's presence does not depend on the regions, the stable ops or the key's frontier:
// `ctx` is unused (the contract, value_type.h, passes it to every type).
void SetValue::RemoveObserved(const VersionVector& observed, const ValueContext& /*ctx*/) {
  for (size_t i = members_.size(); i-- > 0;) {
    Member& m = members_.at(i);
    auto& inst = m.instances;
    inst.erase(std::remove_if(inst.begin(), inst.end(),
                              [&](const Instance& x) { return observed.Covers(x.tag.dot()); }),
               inst.end());
    EraseIfEmpty(&m);
  }
}

std::vector<uint32_t> SetValue::ReplyOrder() const {
  std::vector<uint32_t> order(members_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  if (intset_) {
    std::vector<int64_t> values(members_.size());
    for (uint32_t i = 0; i < order.size(); ++i) ParseRedisInt(members_.at(i).name, &values[i]);
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return values[a] < values[b]; });
  }
  return order;
}

Stamp SetValue::Newest(const RegionTable& regions) const {
  Stamp s;
  for (const Member& m : members_.elems()) {
    for (const Instance& i : m.instances) s.Raise(i.hlc, i.tag.region, regions);
  }
  return s;
}

void SetValue::ToState(v1::SetState* out) const {
  out->Clear();
  // Packed (docs/aof-format.md, "Sets"): per member its name, then its instances' tags (region
  // as a dictionary index: the region table in id order) and HLCs.
  PackedWriter w(out->mutable_packed());
  for (const Member& m : members_.elems()) {
    w.Bytes(m.name.view());
    w.Varint(m.instances.size());
    for (const Instance& i : m.instances) {
      w.Varint(i.tag.region);
      w.Varint(i.tag.seq);
      w.Varint(i.tag.idx);
      w.Varint(i.hlc);
    }
  }
  frontiers_.ToState(out->mutable_tombstones());
  out->set_hashtable(!intset_);
}

absl::Status SetValue::FromState(const v1::SetState& in, const std::vector<RegionId>& dict,
                                 const RegionTable& /*regions*/, SetValue* out) {
  out->members_.Clear();
  out->digest_ = Digest128();
  out->intset_ = true;
  if (!in.packed().empty() && in.members_size() > 0) {
    return absl::InvalidArgumentError("set state: both packed and message members");
  }
  PackReader reader(in.packed());
  while (reader.Next()) {
    absl::Status s = out->AddDecodedMember(reader.name(), reader.tags(), dict);
    if (!s.ok()) return s;
  }
  if (!reader.ok()) return absl::InvalidArgumentError("set state: truncated packed member");
  // The message form of earlier builds.
  std::vector<PackedTag> tags;
  for (const v1::SetState::Member& m : in.members()) {
    tags.clear();
    for (const v1::TagState& t : m.tags()) {
      tags.push_back(PackedTag{t.region(), t.seq(), t.idx(), t.hlc()});
    }
    absl::Status s = out->AddDecodedMember(m.name(), tags, dict);
    if (!s.ok()) return s;
  }
  if (in.hashtable()) out->intset_ = false;
  if (!out->frontiers_.FromState(in.tombstones(), dict)) {
    return absl::InvalidArgumentError("set state: malformed tombstone");
  }
  return absl::OkStatus();
}

Hlc SetValue::MaxPackedHlc(const v1::SetState& in) {
  Hlc max = 0;
  for (PackReader r(in.packed()); r.Next();) {
    for (const PackedTag& t : r.tags()) max = std::max<Hlc>(max, t.hlc);
  }
  return max;
}

bool SetValue::PackReader::Next() {
  if (!ok_ || in_.done()) return false;
  uint32_t count = 0;
  if (!in_.Bytes(&name_) || !in_.Varint32(&count)) return ok_ = false;
  tags_.clear();
  for (uint32_t k = 0; k < count; ++k) {
    PackedTag t;
    if (!in_.Varint32(&t.region) || !in_.Varint64(&t.seq) || !in_.Varint32(&t.idx) ||
        !in_.Varint64(&t.hlc)) {
      return ok_ = false;
    }
    tags_.push_back(t);
  }
  return true;
}

absl::Status SetValue::AddDecodedMember(std::string_view name, const std::vector<PackedTag>& tags,
                                        const std::vector<RegionId>& dict) {
  if (tags.empty()) return absl::InvalidArgumentError("set state: member without a tag");
  if (members_.Find(name) != nullptr) {
    return absl::InvalidArgumentError("set state: a member appears twice");
  }
  for (const PackedTag& t : tags) {
    Instance inst{Tag{}, t.hlc};
    if (!TagFromState(t.region, t.seq, t.idx, dict, &inst.tag)) {
      return absl::InvalidArgumentError("set state: malformed tag");
    }
    AddInstance(name, inst);
  }
  return absl::OkStatus();
}

void SetValue::Join(const SetValue& remote, const JoinSide& here, const JoinSide& there,
                    const ValueContext& ctx) {
  // Local instances the remote side removed go; remote instances the local side never removed
  // come. An instance both hold stays.
  for (size_t i = members_.size(); i-- > 0;) {
    Member& m = members_.at(i);
    const Member* r = remote.members_.Find(m.name);
    auto& inst = m.instances;
    inst.erase(std::remove_if(inst.begin(), inst.end(),
                              [&](const Instance& x) {
                                if (r != nullptr) {
                                  for (const Instance& y : r->instances) {
                                    if (y.tag == x.tag) return false;
                                  }
                                }
                                return there.Removed(x.tag.dot()) ||
                                       remote.frontiers_.Covers(m.name, x.tag.dot());
                              }),
               inst.end());
    EraseIfEmpty(&m);
  }
  for (const Member& r : remote.members_.elems()) {
    const Member* m = members_.Find(r.name);
    for (const Instance& y : r.instances) {
      bool have = false;
      if (m != nullptr) {
        for (const Instance& x : m->instances) have = have || x.tag == y.tag;
      }
      if (have || here.Removed(y.tag.dot()) || frontiers_.Covers(r.name, y.tag.dot())) continue;
      AddInstance(r.name, y);
      m = members_.Find(r.name);
    }
  }
  if (!remote.intset_) intset_ = false;
  frontiers_.Merge(remote.frontiers_, *ctx.applied);
}

}  // namespace activekv::crdt
