#include "crdt/values/set_value.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "crdt/redis_number.h"

namespace activekv::crdt {
namespace {
constexpr size_t kMaxIntsetEntries = 512;  // Redis 7.0 set-max-intset-entries
// Debian's Abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

// --- Tombstones ---

void Tombstones::Add(std::string_view name, const Tag& tag, const VersionVector& applied) {
  if (applied.Covers(tag.dot())) return;
  TagList& tags = by_name_[Sv(name)];
  if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
}

bool Tombstones::Consume(std::string_view name, const Tag& tag) {
  if (by_name_.empty()) return false;
  auto it = by_name_.find(Sv(name));
  if (it == by_name_.end()) return false;
  auto pos = std::find(it->second.begin(), it->second.end(), tag);
  if (pos == it->second.end()) return false;
  it->second.erase(pos);
  if (it->second.empty()) by_name_.erase(it);
  return true;
}

bool Tombstones::Contains(std::string_view name, const Tag& tag) const {
  auto it = by_name_.find(Sv(name));
  return it != by_name_.end() &&
         std::find(it->second.begin(), it->second.end(), tag) != it->second.end();
}

void Tombstones::Prune(const VersionVector& applied) {
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    TagList& tags = it->second;
    tags.erase(std::remove_if(tags.begin(), tags.end(),
                              [&](const Tag& t) { return applied.Covers(t.dot()); }),
               tags.end());
    if (tags.empty()) {
      by_name_.erase(it++);
    } else {
      ++it;
    }
  }
}

void Tombstones::Merge(const Tombstones& other, const VersionVector& applied) {
  for (const auto& [name, tags] : other.by_name_) {
    for (const Tag& t : tags) Add(name, t, applied);
  }
  Prune(applied);
}

void Tombstones::ToState(google::protobuf::RepeatedPtrField<v1::Tombstone>* out) const {
  for (const auto& [name, tags] : by_name_) {
    v1::Tombstone* t = out->Add();
    t->set_name(name);
    for (const Tag& tag : tags) ToTagState(tag, 0, t->add_tags());
  }
}

bool Tombstones::FromState(const google::protobuf::RepeatedPtrField<v1::Tombstone>& in,
                           const std::vector<RegionId>& dict) {
  by_name_.clear();
  for (const v1::Tombstone& t : in) {
    TagList& tags = by_name_[t.name()];
    for (const v1::TagState& s : t.tags()) {
      Tag tag;
      Hlc hlc;
      if (!FromTagState(s, dict, &tag, &hlc)) return false;
      tags.push_back(tag);
    }
    if (tags.empty()) by_name_.erase(t.name());
  }
  return true;
}

// --- SetValue ---

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
  const std::string name = m->name;  // Erase may move the element the name lives in
  members_.Erase(name);
}

void SetValue::RemoveTags(Member* m, const TagList& tags, const VersionVector& applied) {
  for (const Tag& t : tags) {
    bool found = false;
    if (m != nullptr) {
      auto& inst = m->instances;
      for (size_t i = 0; i < inst.size(); ++i) {
        if (inst[i].tag == t) {
          inst.erase(inst.begin() + static_cast<std::ptrdiff_t>(i));
          found = true;
          break;
        }
      }
    }
    if (!found) tombstones_.Add(m != nullptr ? std::string_view(m->name) : "", t, applied);
  }
}

void SetValue::Add(std::string_view name, const Tag& tag, Hlc hlc, const TagList& observed,
                   const ValueContext& ctx) {
  // Check before Remove prunes: the applied vector already covers this op's dot.
  const bool removed = ctx.frontier->Covers(tag.dot()) || tombstones_.Consume(name, tag);
  Remove(name, observed, ctx);
  if (!removed) AddInstance(name, Instance{tag, hlc});
}

void SetValue::Remove(std::string_view name, const TagList& observed, const ValueContext& ctx) {
  Member* m = members_.Find(name);
  if (m == nullptr) {
    for (const Tag& t : observed) tombstones_.Add(name, t, *ctx.applied);
  } else {
    RemoveTags(m, observed, *ctx.applied);
    EraseIfEmpty(m);
  }
}

void SetValue::RemoveObserved(const VersionVector& observed) {
  for (size_t i = members_.size(); i-- > 0;) {
    Member& m = members_.at(i);
    auto& inst = m.instances;
    inst.erase(std::remove_if(inst.begin(), inst.end(),
                              [&](const Instance& x) { return observed.Covers(x.tag.dot()); }),
               inst.end());
    EraseIfEmpty(&m);
  }
}

TagList SetValue::TagsOf(std::string_view name) const {
  TagList out;
  if (const Member* m = members_.Find(name)) {
    for (const Instance& i : m->instances) out.push_back(i.tag);
  }
  return out;
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
  for (const Member& m : members_.elems()) {
    v1::SetState::Member* s = out->add_members();
    s->set_name(m.name);
    for (const Instance& i : m.instances) ToTagState(i.tag, i.hlc, s->add_tags());
  }
  tombstones_.ToState(out->mutable_tombstones());
}

absl::Status SetValue::FromState(const v1::SetState& in, const std::vector<RegionId>& dict,
                                 SetValue* out) {
  out->members_.Clear();
  out->digest_ = Digest128();
  out->intset_ = true;
  for (const v1::SetState::Member& s : in.members()) {
    if (s.tags_size() == 0) return absl::InvalidArgumentError("set state: member without a tag");
    if (out->members_.Find(s.name()) != nullptr) {
      return absl::InvalidArgumentError("set state: a member appears twice");
    }
    for (const v1::TagState& t : s.tags()) {
      Instance inst;
      if (!FromTagState(t, dict, &inst.tag, &inst.hlc)) {
        return absl::InvalidArgumentError("set state: malformed tag");
      }
      out->AddInstance(s.name(), inst);
    }
  }
  if (!out->tombstones_.FromState(in.tombstones(), dict)) {
    return absl::InvalidArgumentError("set state: malformed tombstone");
  }
  return absl::OkStatus();
}

void SetValue::Join(const SetValue& remote, const JoinSide& here, const JoinSide& there,
                    const VersionVector& applied) {
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
                                       remote.tombstones_.Contains(m.name, x.tag);
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
      if (have || here.Removed(y.tag.dot()) || tombstones_.Contains(r.name, y.tag)) continue;
      AddInstance(r.name, y);
      m = members_.Find(r.name);
    }
  }
  tombstones_.Merge(remote.tombstones_, applied);
}

}  // namespace activekv::crdt
