#include "crdt/values/stream_groups.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <utility>

namespace activekv::crdt {
namespace {

bool TagBefore(const Tag& a, const Tag& b) {
  return std::tie(a.region, a.seq, a.idx) < std::tie(b.region, b.seq, b.idx);
}

void AppendU64(uint64_t v, std::string* out) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out->append(buf, 8);
}

void AppendBytes(std::string_view b, std::string* out) {
  AppendU64(b.size(), out);
  out->append(b);
}

bool Has(const absl::InlinedVector<Tag, 1>& tags, const Tag& t) {
  return std::find(tags.begin(), tags.end(), t) != tags.end();
}

// The instances that survive a join of two sides' tag lists.
absl::InlinedVector<Tag, 1> JoinTags(const absl::InlinedVector<Tag, 1>& a,
                                     const absl::InlinedVector<Tag, 1>& b, const JoinSide& here,
                                     const JoinSide& there,
                                     const absl::flat_hash_set<Tag>& removed) {
  absl::InlinedVector<Tag, 1> out;
  for (const Tag& t : a) {
    if (!removed.contains(t) && (Has(b, t) || !there.Removed(t.dot()))) out.push_back(t);
  }
  for (const Tag& t : b) {
    if (!Has(a, t) && !removed.contains(t) && !here.Removed(t.dot())) out.push_back(t);
  }
  std::sort(out.begin(), out.end(), TagBefore);
  return out;
}

}  // namespace

StreamGroups::View StreamGroups::Group::last() const {
  View best;
  bool any = false;
  for (const auto& [r, v] : views) {
    if (!any || std::tie(v.last_ms, v.last_seq, v.entries_read) >
                    std::tie(best.last_ms, best.last_seq, best.entries_read)) {
      best = v;
      any = true;
    }
  }
  return best;
}

const StreamGroups::Group* StreamGroups::Find(std::string_view name) const {
  auto it = groups_.find(std::string(name));
  return it == groups_.end() || !it->second.exists() ? nullptr : &it->second;
}

bool StreamGroups::EraseTag(absl::InlinedVector<Tag, 1>* tags, const Tag& tag) {
  auto it = std::find(tags->begin(), tags->end(), tag);
  if (it == tags->end()) return false;
  tags->erase(it);
  return true;
}

void StreamGroups::RemoveTag(absl::InlinedVector<Tag, 1>* tags, const Tag& tag,
                             const ValueContext& ctx) {
  if (EraseTag(tags, tag)) return;
  if (!ctx.applied->Covers(tag.dot())) removed_.insert(tag);
}

bool StreamGroups::Blocked(const Tag& tag, const ValueContext& ctx) {
  if (ctx.frontier->Covers(tag.dot())) return true;
  return !removed_.empty() && removed_.erase(tag) > 0;
}

void StreamGroups::ChooseVisible(Pending* p, const RegionTable& regions) {
  size_t best = 0;
  for (size_t i = 1; i < p->instances.size(); ++i) {
    const PendingInstance& b = p->instances[best];
    const PendingInstance& c = p->instances[i];
    if (LwwBefore(b.hlc, b.tag.region, c.hlc, c.tag.region, regions) ||
        (b.hlc == c.hlc && b.tag.region == c.tag.region && TagBefore(b.tag, c.tag))) {
      best = i;
    }
  }
  p->visible = best;
}

void StreamGroups::Tidy(const std::string& name,
                        const std::vector<std::pair<uint64_t, uint64_t>>* touched) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return;
  Group& g = it->second;
  for (auto c = g.consumers.begin(); c != g.consumers.end();) {
    Consumer& x = c->second;
    absl::erase_if(x.tag_seen, [&](const auto& kv) { return !Has(x.tags, kv.first); });
    x.seen_ms = 0;
    for (const auto& [t, ms] : x.tag_seen) x.seen_ms = std::max(x.seen_ms, ms);
    c = x.tags.empty() ? g.consumers.erase(c) : std::next(c);
  }
  if (touched != nullptr) {
    for (const auto& id : *touched) {
      auto p = g.pel.find(id);
      if (p != g.pel.end() && p->second.instances.empty()) g.pel.erase(p);
    }
  } else {
    for (auto p = g.pel.begin(); p != g.pel.end();) {
      p = p->second.instances.empty() ? g.pel.erase(p) : std::next(p);
    }
  }
  if (g.created.empty() && g.views.empty() && g.views_removed.empty() && g.pel.empty() &&
      g.consumers.empty()) {
    groups_.erase(it);
  }
}

void StreamGroups::Apply(const Change& ch, const Dot& dot, Hlc hlc, const ValueContext& ctx) {
  Group& g = groups_[ch.group];
  for (const Tag& t : ch.destroyed) RemoveTag(&g.created, t, ctx);
  if (ch.create) {
    const Tag t{dot.region, 0, dot.seq};
    if (!Blocked(t, ctx)) g.created.push_back(t);
  }
  for (const auto& [r, seq] : ch.views_removed) {
    uint64_t& mark = g.views_removed[r];
    mark = std::max(mark, seq);
    auto v = g.views.find(r);
    if (v != g.views.end() && v->second.seq <= mark) g.views.erase(v);
  }
  if (ch.set_last && !ctx.frontier->Covers(dot)) {
    auto mark = g.views_removed.find(dot.region);
    View& v = g.views[dot.region];
    if ((mark == g.views_removed.end() || mark->second < dot.seq) && v.seq < dot.seq) {
      v = ch.view;
      v.seq = dot.seq;
      v.hlc = hlc;
    } else if (v.seq == 0) {
      g.views.erase(dot.region);
    }
  }
  for (size_t i = 0; i < ch.consumers.size(); ++i) {
    const Change::ConsumerChange& cc = ch.consumers[i];
    Consumer& c = g.consumers[cc.name];
    for (const Tag& t : cc.removed) RemoveTag(&c.tags, t, ctx);
    if (cc.add) {
      const Tag t{dot.region, static_cast<uint32_t>(1 + i), dot.seq};
      if (!Blocked(t, ctx)) {
        c.tags.push_back(t);
        c.tag_seen[t] = cc.seen_ms;
      }
    }
  }
  std::vector<std::pair<uint64_t, uint64_t>> touched;
  touched.reserve(ch.pending.size());
  for (size_t j = 0; j < ch.pending.size(); ++j) {
    const Change::PendingChange& pc = ch.pending[j];
    const std::pair<uint64_t, uint64_t> id{pc.ms, pc.seq};
    touched.push_back(id);
    Pending& p = g.pel[id];
    g.pel_digest.Sub(PelDigest(ch.group, id, p));
    for (const Tag& t : pc.removed) {
      auto it = std::find_if(p.instances.begin(), p.instances.end(),
                             [&](const PendingInstance& in) { return in.tag == t; });
      if (it != p.instances.end()) {
        p.instances.erase(it);
      } else if (!ctx.applied->Covers(t.dot())) {
        removed_.insert(t);
      }
    }
    if (pc.add) {
      const Tag t{dot.region, static_cast<uint32_t>(1 + ch.consumers.size() + j), dot.seq};
      if (!Blocked(t, ctx)) {
        p.instances.push_back(PendingInstance{t, hlc, pc.consumer, pc.delivery_ms, pc.count});
      }
    }
    if (!p.instances.empty()) ChooseVisible(&p, *ctx.regions);
    g.pel_digest.Add(PelDigest(ch.group, id, p));
  }
  Tidy(ch.group, &touched);
}

void StreamGroups::RemoveObserved(const VersionVector& observed, const RegionTable& regions) {
  std::vector<std::string> names;
  for (auto& [name, g] : groups_) {
    auto covered = [&](const Tag& t) { return observed.Covers(t.dot()); };
    g.created.erase(std::remove_if(g.created.begin(), g.created.end(), covered), g.created.end());
    absl::erase_if(g.views, [&](const auto& kv) {
      return observed.Covers(Dot{kv.first, kv.second.seq});
    });
    for (auto& [cname, c] : g.consumers) {
      c.tags.erase(std::remove_if(c.tags.begin(), c.tags.end(), covered), c.tags.end());
    }
    for (auto& [id, p] : g.pel) {
      g.pel_digest.Sub(PelDigest(name, id, p));
      p.instances.erase(std::remove_if(p.instances.begin(), p.instances.end(),
                                       [&](const PendingInstance& in) { return covered(in.tag); }),
                        p.instances.end());
      if (!p.instances.empty()) ChooseVisible(&p, regions);
      g.pel_digest.Add(PelDigest(name, id, p));
    }
    names.push_back(name);
  }
  for (const std::string& n : names) Tidy(n);
}

void StreamGroups::PruneFrontiers(const VersionVector& applied) {
  if (removed_.empty()) return;
  absl::erase_if(removed_, [&](const Tag& t) { return applied.Covers(t.dot()); });
}

Stamp StreamGroups::Newest(const RegionTable& regions) const {
  Stamp s;
  for (const auto& [name, g] : groups_) {
    for (const auto& [r, v] : g.views) s.Raise(v.hlc, r, regions);
    for (const auto& [id, p] : g.pel) {
      if (!p.instances.empty()) s.Raise(p.shown().hlc, p.shown().tag.region, regions);
    }
  }
  return s;
}

Digest128 StreamGroups::PelDigest(const std::string& group, const std::pair<uint64_t, uint64_t>& id,
                                  const Pending& p) {
  if (p.instances.empty()) return Digest128();
  std::string name("\0stream-pel:", 12);
  AppendBytes(group, &name);
  AppendU64(id.first, &name);
  AppendU64(id.second, &name);
  std::string bytes;
  AppendBytes(p.shown().consumer, &bytes);
  AppendU64(static_cast<uint64_t>(p.shown().delivery_ms), &bytes);
  AppendU64(p.shown().count, &bytes);
  return ElementDigest(name, bytes);
}

void StreamGroups::RecomputePelDigests() {
  for (auto& [name, g] : groups_) {
    g.pel_digest = Digest128();
    for (const auto& [id, p] : g.pel) g.pel_digest.Add(PelDigest(name, id, p));
  }
}

Digest128 StreamGroups::Digest() const {
  Digest128 d;
  for (const auto& [name, g] : groups_) {
    if (!g.exists()) continue;
    std::string bytes;
    const View last = g.last();
    AppendU64(last.last_ms, &bytes);
    AppendU64(last.last_seq, &bytes);
    AppendU64(static_cast<uint64_t>(last.entries_read), &bytes);
    for (const auto& [cname, c] : g.consumers) {
      AppendBytes(cname, &bytes);
      AppendU64(static_cast<uint64_t>(c.seen_ms), &bytes);
    }
    d.Add(ElementDigest(std::string("\0stream-group:", 14) + name, bytes));
    d.Add(g.pel_digest);
  }
  return d;
}

// --- Snapshot form and state merge ---

void StreamGroups::ToState(google::protobuf::RepeatedPtrField<v1::StreamState::Group>* out,
                           google::protobuf::RepeatedPtrField<v1::TagState>* removed) const {
  for (const auto& [name, g] : groups_) {
    v1::StreamState::Group* x = out->Add();
    x->set_name(name);
    absl::InlinedVector<Tag, 1> created = g.created;
    std::sort(created.begin(), created.end(), TagBefore);
    for (const Tag& t : created) ToTagState(t, 0, x->add_created());
    std::vector<RegionId> rs;
    for (const auto& [r, v] : g.views) rs.push_back(r);
    std::sort(rs.begin(), rs.end());
    for (RegionId r : rs) {
      const View& v = g.views.at(r);
      v1::StreamState::Group::View* y = x->add_views();
      ToTagState(Tag{r, 0, v.seq}, v.hlc, y->mutable_tag());
      y->set_last_ms(v.last_ms);
      y->set_last_seq(v.last_seq);
      y->set_entries_read(v.entries_read);
    }
    rs.clear();
    for (const auto& [r, seq] : g.views_removed) rs.push_back(r);
    std::sort(rs.begin(), rs.end());
    for (RegionId r : rs) ToTagState(Tag{r, 0, g.views_removed.at(r)}, 0, x->add_views_removed());
    for (const auto& [cname, c] : g.consumers) {
      v1::StreamState::Group::Consumer* y = x->add_consumers();
      y->set_name(cname);
      absl::InlinedVector<Tag, 1> tags = c.tags;
      std::sort(tags.begin(), tags.end(), TagBefore);
      for (const Tag& t : tags) {
        ToTagState(t, 0, y->add_tags());
        auto s = c.tag_seen.find(t);
        y->add_seen_ms(s == c.tag_seen.end() ? 0 : s->second);
      }
    }
    for (const auto& [id, p] : g.pel) {
      std::vector<const PendingInstance*> ins;
      for (const PendingInstance& in : p.instances) ins.push_back(&in);
      std::sort(ins.begin(), ins.end(),
                [](const auto* a, const auto* b) { return TagBefore(a->tag, b->tag); });
      for (const PendingInstance* in : ins) {
        v1::StreamState::Group::Pending* y = x->add_pending();
        y->set_ms(id.first);
        y->set_seq(id.second);
        ToTagState(in->tag, in->hlc, y->mutable_tag());
        y->set_consumer(in->consumer);
        y->set_delivery_ms(in->delivery_ms);
        y->set_count(in->count);
      }
    }
  }
  std::vector<Tag> rem(removed_.begin(), removed_.end());
  std::sort(rem.begin(), rem.end(), TagBefore);
  for (const Tag& t : rem) ToTagState(t, 0, removed->Add());
}

absl::Status StreamGroups::FromState(
    const google::protobuf::RepeatedPtrField<v1::StreamState::Group>& in,
    const google::protobuf::RepeatedPtrField<v1::TagState>& removed,
    const std::vector<RegionId>& dict, const RegionTable& regions) {
  groups_.clear();
  removed_.clear();
  absl::Status bad = absl::InvalidArgumentError("stream group: bad tag");
  for (const v1::StreamState::Group& x : in) {
    Group& g = groups_[x.name()];
    Tag t;
    Hlc h;
    for (const v1::TagState& ts : x.created()) {
      if (!FromTagState(ts, dict, &t, &h)) return bad;
      g.created.push_back(t);
    }
    for (const auto& y : x.views()) {
      if (!FromTagState(y.tag(), dict, &t, &h)) return bad;
      g.views[t.region] = View{t.seq, h, y.last_ms(), y.last_seq(), y.entries_read()};
    }
    for (const v1::TagState& ts : x.views_removed()) {
      if (!FromTagState(ts, dict, &t, &h)) return bad;
      uint64_t& mark = g.views_removed[t.region];
      mark = std::max(mark, t.seq);
    }
    // A view the group's own views_removed covers is gone, as Join leaves it: a state that holds
    // one (no region writes it) must not show it until merged once more (docs/fuzzing.md, finding
    // 8).
    for (auto it = g.views.begin(); it != g.views.end();) {
      auto mark = g.views_removed.find(it->first);
      if (mark != g.views_removed.end() && it->second.seq <= mark->second) {
        g.views.erase(it++);
      } else {
        ++it;
      }
    }
    for (const auto& y : x.consumers()) {
      Consumer& c = g.consumers[y.name()];
      for (int i = 0; i < y.tags_size(); ++i) {
        if (!FromTagState(y.tags(i), dict, &t, &h)) return bad;
        c.tags.push_back(t);
        c.tag_seen[t] = i < y.seen_ms_size() ? y.seen_ms(i) : 0;
      }
    }
    for (const auto& y : x.pending()) {
      if (!FromTagState(y.tag(), dict, &t, &h)) return bad;
      Pending& p = g.pel[{y.ms(), y.seq()}];
      p.instances.push_back(PendingInstance{t, h, y.consumer(), y.delivery_ms(), y.count()});
      ChooseVisible(&p, regions);
    }
  }
  for (const v1::TagState& ts : removed) {
    Tag t;
    Hlc h;
    if (!FromTagState(ts, dict, &t, &h)) return bad;
    removed_.insert(t);
  }
  std::vector<std::string> names;
  for (const auto& [n, g] : groups_) names.push_back(n);
  for (const std::string& n : names) Tidy(n);
  RecomputePelDigests();
  return absl::OkStatus();
}

void StreamGroups::Join(const StreamGroups& remote, const JoinSide& here, const JoinSide& there,
                        const ValueContext& ctx) {
  for (const Tag& t : remote.removed_) removed_.insert(t);
  static const Group kNone;
  std::map<std::string, Group> merged;
  std::vector<std::string> names;
  for (const auto& [n, g] : groups_) names.push_back(n);
  for (const auto& [n, g] : remote.groups_) {
    if (!groups_.count(n)) names.push_back(n);
  }
  for (const std::string& n : names) {
    auto li = groups_.find(n);
    auto ri = remote.groups_.find(n);
    const Group& a = li == groups_.end() ? kNone : li->second;
    const Group& b = ri == remote.groups_.end() ? kNone : ri->second;
    Group out;
    out.created = JoinTags(a.created, b.created, here, there, removed_);
    out.views_removed = a.views_removed;
    for (const auto& [r, seq] : b.views_removed) {
      uint64_t& m = out.views_removed[r];
      m = std::max(m, seq);
    }
    auto consider = [&](RegionId r, const View& v) {
      auto mark = out.views_removed.find(r);
      if (mark != out.views_removed.end() && v.seq <= mark->second) return;
      auto [it, inserted] = out.views.try_emplace(r, v);
      if (!inserted && it->second.seq < v.seq) it->second = v;
    };
    for (const auto& [r, v] : a.views) {
      auto o = b.views.find(r);
      if ((o != b.views.end() && o->second.seq == v.seq) || !there.Removed(Dot{r, v.seq})) {
        consider(r, v);
      }
    }
    for (const auto& [r, v] : b.views) {
      auto o = a.views.find(r);
      if (!(o != a.views.end() && o->second.seq == v.seq) && !here.Removed(Dot{r, v.seq})) {
        consider(r, v);
      }
    }
    std::vector<std::string> cnames;
    for (const auto& [c, x] : a.consumers) cnames.push_back(c);
    for (const auto& [c, x] : b.consumers) {
      if (!a.consumers.count(c)) cnames.push_back(c);
    }
    static const Consumer kNoConsumer;
    for (const std::string& c : cnames) {
      auto ca = a.consumers.find(c);
      auto cb = b.consumers.find(c);
      const Consumer& x = ca == a.consumers.end() ? kNoConsumer : ca->second;
      const Consumer& y = cb == b.consumers.end() ? kNoConsumer : cb->second;
      Consumer m;
      m.tags = JoinTags(x.tags, y.tags, here, there, removed_);
      for (const auto& side : {&x, &y}) {
        for (const auto& [t, ms] : side->tag_seen) {
          if (Has(m.tags, t)) m.tag_seen[t] = ms;
        }
      }
      if (!m.tags.empty()) out.consumers.emplace(c, std::move(m));
    }
    std::vector<std::pair<uint64_t, uint64_t>> ids;
    for (const auto& [id, p] : a.pel) ids.push_back(id);
    for (const auto& [id, p] : b.pel) {
      if (!a.pel.count(id)) ids.push_back(id);
    }
    static const Pending kNoPending;
    for (const auto& id : ids) {
      auto pa = a.pel.find(id);
      auto pb = b.pel.find(id);
      const Pending& x = pa == a.pel.end() ? kNoPending : pa->second;
      const Pending& y = pb == b.pel.end() ? kNoPending : pb->second;
      auto has = [](const Pending& p, const Tag& t) {
        for (const PendingInstance& in : p.instances) {
          if (in.tag == t) return true;
        }
        return false;
      };
      Pending m;
      for (const PendingInstance& in : x.instances) {
        if (!removed_.contains(in.tag) && (has(y, in.tag) || !there.Removed(in.tag.dot()))) {
          m.instances.push_back(in);
        }
      }
      for (const PendingInstance& in : y.instances) {
        if (!has(x, in.tag) && !removed_.contains(in.tag) && !here.Removed(in.tag.dot())) {
          m.instances.push_back(in);
        }
      }
      if (m.instances.empty()) continue;
      std::sort(m.instances.begin(), m.instances.end(),
                [](const auto& p, const auto& q) { return TagBefore(p.tag, q.tag); });
      ChooseVisible(&m, *ctx.regions);
      out.pel.emplace(id, std::move(m));
    }
    merged.emplace(n, std::move(out));
  }
  groups_ = std::move(merged);
  for (const std::string& n : names) Tidy(n);
  RecomputePelDigests();
  PruneFrontiers(*ctx.applied);
}

}  // namespace activekv::crdt
