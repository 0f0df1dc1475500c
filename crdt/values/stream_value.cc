#include "crdt/values/stream_value.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>

namespace activekv::crdt {
namespace {

void AppendU64(uint64_t v, std::string* out) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out->append(buf, 8);
}

std::string IdBytes(const StreamId& id) {
  std::string s;
  s.reserve(17);
  s.push_back('\x01');  // an entry (the metadata's name starts with '\0')
  AppendU64(id.ms, &s);
  AppendU64(id.seq, &s);
  return s;
}

bool TagBefore(const Tag& a, const Tag& b) {
  return std::tie(a.region, a.seq, a.idx) < std::tie(b.region, b.seq, b.idx);
}

}  // namespace

void StreamMeta::Raise(const StreamMeta& o) {
  last_id = std::max(last_id, o.last_id);
  entries_added = std::max(entries_added, o.entries_added);
  max_deleted = std::max(max_deleted, o.max_deleted);
}

Digest128 StreamValue::ItemDigest(const StreamId& id, const Instance& in) {
  std::string value;
  for (const std::string& f : in.fields) {
    AppendU64(f.size(), &value);
    value.append(f);
  }
  return ElementDigest(IdBytes(id), value);
}

void StreamValue::ChooseVisible(Item* item, const RegionTable& regions) {
  size_t best = 0;
  for (size_t i = 1; i < item->instances.size(); ++i) {
    const Instance& b = item->instances[best];
    const Instance& c = item->instances[i];
    if (LwwBefore(b.hlc, b.tag.region, c.hlc, c.tag.region, regions) ||
        (b.hlc == c.hlc && b.tag.region == c.tag.region && TagBefore(b.tag, c.tag))) {
      best = i;
    }
  }
  item->visible = best;
}

StreamMeta StreamValue::meta() const {
  StreamMeta m;
  for (const auto& [r, mi] : meta_) m.Raise(mi.meta);
  return m;
}

void StreamValue::Refresh() {
  created_ = false;
  for (const auto& [slot, mi] : meta_) created_ = created_ || slot.second;
  digest_ = entries_digest_;
  digest_.Add(groups_.Digest());
  if (!meta_.empty()) {
    const StreamMeta m = meta();
    std::string bytes;
    AppendU64(m.last_id.ms, &bytes);
    AppendU64(m.last_id.seq, &bytes);
    AppendU64(m.entries_added, &bytes);
    AppendU64(m.max_deleted.ms, &bytes);
    AppendU64(m.max_deleted.seq, &bytes);
    bytes.push_back(created_ ? '\1' : '\0');
    digest_.Add(ElementDigest(std::string_view("\0stream-meta", 12), bytes));
  }
}

// --- Ops ---

void StreamValue::Add(const StreamId& id, const Tag& tag, Hlc hlc, std::vector<std::string> fields,
                      const ValueContext& ctx) {
  if (ctx.frontier->Covers(tag.dot())) return;  // a whole-key removal observed it
  if (!removed_.empty() && removed_.erase(tag) > 0) return;
  Item& item = items_[id];
  if (!item.instances.empty()) entries_digest_.Sub(ItemDigest(id, item.shown()));
  item.instances.push_back(Instance{tag, hlc, std::move(fields)});
  ChooseVisible(&item, *ctx.regions);
  entries_digest_.Add(ItemDigest(id, item.shown()));
  Refresh();
}

void StreamValue::Remove(const StreamId& id, const Tag& tag, const ValueContext& ctx) {
  auto it = items_.find(id);
  if (it != items_.end()) {
    Item& item = it->second;
    for (size_t i = 0; i < item.instances.size(); ++i) {
      if (item.instances[i].tag != tag) continue;
      entries_digest_.Sub(ItemDigest(id, item.shown()));
      item.instances.erase(item.instances.begin() + static_cast<std::ptrdiff_t>(i));
      if (item.instances.empty()) {
        items_.erase(it);
      } else {
        ChooseVisible(&item, *ctx.regions);
        entries_digest_.Add(ItemDigest(id, item.shown()));
      }
      Refresh();
      return;
    }
  }
  if (ctx.applied->Covers(tag.dot())) return;  // added and removed already
  removed_.insert(tag);
}

void StreamValue::SetMeta(const Dot& dot, Hlc hlc, const StreamMeta& meta, bool creating,
                          const ValueContext& ctx) {
  if (ctx.frontier->Covers(dot)) return;
  MetaInstance& mi = meta_[MetaSlot{dot.region, creating}];
  if (mi.seq >= dot.seq) return;
  mi = MetaInstance{dot.seq, hlc, meta};
  Refresh();
}

void StreamValue::ApplyGroup(const StreamGroups::Change& change, const Dot& dot, Hlc hlc,
                             const ValueContext& ctx) {
  groups_.Apply(change, dot, hlc, ctx);
  Refresh();
}

void StreamValue::RemoveObserved(const VersionVector& observed, const ValueContext& ctx) {
  groups_.RemoveObserved(observed, *ctx.regions);
  for (auto it = items_.begin(); it != items_.end();) {
    Item& item = it->second;
    const size_t before = item.instances.size();
    const Digest128 shown = ItemDigest(it->first, item.shown());
    item.instances.erase(
        std::remove_if(item.instances.begin(), item.instances.end(),
                       [&](const Instance& in) { return observed.Covers(in.tag.dot()); }),
        item.instances.end());
    if (item.instances.size() == before) {
      ++it;
      continue;
    }
    entries_digest_.Sub(shown);
    if (item.instances.empty()) {
      it = items_.erase(it);
      continue;
    }
    ChooseVisible(&item, *ctx.regions);
    entries_digest_.Add(ItemDigest(it->first, item.shown()));
    ++it;
  }
  absl::erase_if(meta_, [&](const auto& kv) {
    return observed.Covers(Dot{kv.first.first, kv.second.seq});
  });
  Refresh();
}

void StreamValue::PruneFrontiers(const VersionVector& applied) {
  groups_.PruneFrontiers(applied);
  if (removed_.empty()) return;
  absl::erase_if(removed_, [&](const Tag& t) { return applied.Covers(t.dot()); });
}

Stamp StreamValue::Newest(const RegionTable& regions) const {
  Stamp s;
  for (const auto& [id, item] : items_) s.Raise(item.shown().hlc, item.shown().tag.region, regions);
  for (const auto& [slot, mi] : meta_) s.Raise(mi.hlc, slot.first, regions);
  s.Raise(groups_.Newest(regions), regions);
  return s;
}

// --- Snapshot form and state merge ---

void StreamValue::ToState(v1::StreamState* out) const {
  out->Clear();
  for (const auto& [id, item] : items_) {
    v1::StreamState::Entry* e = out->add_entries();
    e->set_ms(id.ms);
    e->set_seq(id.seq);
    std::vector<const Instance*> sorted;
    for (const Instance& in : item.instances) sorted.push_back(&in);
    std::sort(sorted.begin(), sorted.end(),
              [](const Instance* a, const Instance* b) { return TagBefore(a->tag, b->tag); });
    for (const Instance* in : sorted) {
      v1::StreamState::Instance* x = e->add_instances();
      ToTagState(in->tag, in->hlc, x->mutable_tag());
      for (const std::string& f : in->fields) x->add_fields(f);
    }
  }
  std::vector<MetaSlot> slots;
  for (const auto& [slot, mi] : meta_) slots.push_back(slot);
  std::sort(slots.begin(), slots.end());
  for (const MetaSlot& slot : slots) {
    const MetaInstance& mi = meta_.at(slot);
    v1::StreamState::Meta* m = out->add_meta();
    ToTagState(Tag{slot.first, 0, mi.seq}, mi.hlc, m->mutable_tag());
    m->set_last_ms(mi.meta.last_id.ms);
    m->set_last_seq(mi.meta.last_id.seq);
    m->set_entries_added(mi.meta.entries_added);
    m->set_max_deleted_ms(mi.meta.max_deleted.ms);
    m->set_max_deleted_seq(mi.meta.max_deleted.seq);
    m->set_creates(slot.second);
  }
  std::vector<Tag> removed(removed_.begin(), removed_.end());
  std::sort(removed.begin(), removed.end(), TagBefore);
  for (const Tag& t : removed) ToTagState(t, 0, out->add_removed());
  groups_.ToState(out->mutable_groups(), out->mutable_groups_removed());
}

absl::Status StreamValue::FromState(const v1::StreamState& in, const std::vector<RegionId>& dict,
                                    const RegionTable& regions, StreamValue* out) {
  out->items_.clear();
  out->meta_.clear();
  out->removed_.clear();
  out->entries_digest_ = Digest128();
  for (const v1::StreamState::Entry& e : in.entries()) {
    const StreamId id{e.ms(), e.seq()};
    if (e.instances_size() == 0) return absl::InvalidArgumentError("stream entry without data");
    Item& item = out->items_[id];
    for (const v1::StreamState::Instance& x : e.instances()) {
      Instance inst;
      if (!FromTagState(x.tag(), dict, &inst.tag, &inst.hlc)) {
        return absl::InvalidArgumentError("stream entry: bad tag");
      }
      if (x.fields_size() % 2 != 0) {
        return absl::InvalidArgumentError("stream entry: odd number of fields");
      }
      inst.fields.assign(x.fields().begin(), x.fields().end());
      item.instances.push_back(std::move(inst));
    }
    out->ChooseVisible(&item, regions);
    out->entries_digest_.Add(ItemDigest(id, item.shown()));
  }
  for (const v1::StreamState::Meta& m : in.meta()) {
    Tag tag;
    Hlc hlc;
    if (!FromTagState(m.tag(), dict, &tag, &hlc)) {
      return absl::InvalidArgumentError("stream metadata: bad tag");
    }
    MetaInstance mi;
    mi.seq = tag.seq;
    mi.hlc = hlc;
    mi.meta.last_id = StreamId{m.last_ms(), m.last_seq()};
    mi.meta.entries_added = m.entries_added();
    mi.meta.max_deleted = StreamId{m.max_deleted_ms(), m.max_deleted_seq()};
    out->meta_[MetaSlot{tag.region, m.creates()}] = mi;
  }
  for (const v1::TagState& t : in.removed()) {
    Tag tag;
    Hlc hlc;
    if (!FromTagState(t, dict, &tag, &hlc)) return absl::InvalidArgumentError("stream: bad tag");
    out->removed_.insert(tag);
  }
  if (absl::Status st = out->groups_.FromState(in.groups(), in.groups_removed(), dict, regions);
      !st.ok()) {
    return st;
  }
  out->Refresh();
  return absl::OkStatus();
}

void StreamValue::Join(const StreamValue& remote, const JoinSide& here, const JoinSide& there,
                       const ValueContext& ctx) {
  const RegionTable& regions = *ctx.regions;
  for (const Tag& t : remote.removed_) removed_.insert(t);
  Items merged;
  auto keep = [&](const Instance& in, const JoinSide& other, bool both) {
    if (removed_.contains(in.tag)) return false;
    return both || !other.Removed(in.tag.dot());
  };
  auto merge_item = [&](const StreamId& id, const Item* local, const Item* far) {
    Item out;
    if (local != nullptr) {
      for (const Instance& in : local->instances) {
        bool both = false;
        if (far != nullptr) {
          for (const Instance& r : far->instances) both = both || r.tag == in.tag;
        }
        if (keep(in, there, both)) out.instances.push_back(in);
      }
    }
    if (far != nullptr) {
      for (const Instance& in : far->instances) {
        bool both = false;
        if (local != nullptr) {
          for (const Instance& l : local->instances) both = both || l.tag == in.tag;
        }
        if (!both && keep(in, here, false)) out.instances.push_back(in);
      }
    }
    if (out.instances.empty()) return;
    ChooseVisible(&out, regions);
    merged.emplace(id, std::move(out));
  };
  auto a = items_.begin();
  auto b = remote.items_.begin();
  while (a != items_.end() || b != remote.items_.end()) {
    if (b == remote.items_.end() || (a != items_.end() && a->first < b->first)) {
      merge_item(a->first, &a->second, nullptr);
      ++a;
    } else if (a == items_.end() || b->first < a->first) {
      merge_item(b->first, nullptr, &b->second);
      ++b;
    } else {
      merge_item(a->first, &a->second, &b->second);
      ++a;
      ++b;
    }
  }
  items_ = std::move(merged);
  entries_digest_ = Digest128();
  for (const auto& [id, item] : items_) entries_digest_.Add(ItemDigest(id, item.shown()));

  absl::flat_hash_map<MetaSlot, MetaInstance> meta;
  auto consider = [&](const MetaSlot& slot, const MetaInstance& mi) {
    auto [it, inserted] = meta.try_emplace(slot, mi);
    if (!inserted && it->second.seq < mi.seq) it->second = mi;
  };
  for (const auto& [slot, mi] : meta_) {
    auto o = remote.meta_.find(slot);
    const bool both = o != remote.meta_.end() && o->second.seq == mi.seq;
    if (both || !there.Removed(Dot{slot.first, mi.seq})) consider(slot, mi);
  }
  for (const auto& [slot, mi] : remote.meta_) {
    auto o = meta_.find(slot);
    const bool both = o != meta_.end() && o->second.seq == mi.seq;
    if (!both && !here.Removed(Dot{slot.first, mi.seq})) consider(slot, mi);
  }
  meta_ = std::move(meta);
  groups_.Join(remote.groups_, here, there, ctx);
  PruneFrontiers(*ctx.applied);
  Refresh();
}

}  // namespace activekv::crdt
