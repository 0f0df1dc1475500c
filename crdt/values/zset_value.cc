#include "crdt/values/zset_value.h"

#include <cmath>
#include <cstring>
#include <utility>

namespace activekv::crdt {
namespace {
constexpr size_t kListpackEntries = 128;  // Redis 7.0 zset-max-listpack-entries
constexpr size_t kListpackValue = 64;     // Redis 7.0 zset-max-listpack-value

Digest128 MemberDigest(std::string_view name, double score) {
  char bytes[sizeof(double)];
  std::memcpy(bytes, &score, sizeof(bytes));
  return ElementDigest(name, std::string_view(bytes, sizeof(bytes)));
}
}  // namespace

ZsetValue::Change ZsetValue::Before(std::string_view name, const RegionTable& regions) {
  Change c;
  c.member = members_.Find(name);
  if (c.member != nullptr) {
    c.had = true;
    c.old_score = c.member->reg.Value(regions);
  }
  return c;
}

void ZsetValue::After(const Change& c, Member* m, const RegionTable& regions) {
  if (m == nullptr) return;
  const bool exists = m->reg.Exists();
  const double score = exists ? m->reg.Value(regions) : 0;
  // Unchanged (bit for bit: -0 is not 0): the index and the digest stay as they are. The common
  // case of a ZADD that rewrites a member's score with the same value.
  // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): bit for bit is the point.
  if (c.had && exists && std::memcmp(&score, &c.old_score, sizeof(score)) == 0) return;
  if (c.had) {
    digest_.Sub(MemberDigest(m->name, c.old_score));
    index_.Erase(c.old_score, m->name);
  }
  if (exists) {
    digest_.Add(MemberDigest(m->name, score));
    index_.Insert(score, m->name);
  } else {
    const std::string name((m->name).view());  // Erase may move the element the name lives in
    members_.Erase(name);
    // Redis deletes an emptied zset: the next member starts a new one, as a listpack.
    if (members_.empty()) listpack_ = true;
  }
}

ZsetValue::Member* ZsetValue::GetOrAdd(std::string_view name) {
  Member* m = members_.Find(name);
  if (m != nullptr) return m;
  if (name.size() > kListpackValue) listpack_ = false;
  m = &members_.Append(name);
  if (members_.size() > kListpackEntries) listpack_ = false;
  return m;
}

void ZsetValue::Add(std::string_view name, double score, const Tag& tag, Hlc hlc,
                    const VersionVector& observed, const ValueContext& ctx) {
  // Check before anything prunes: the applied vector already covers this op's dot.
  const bool removed = ctx.frontier->Covers(tag.dot()) || frontiers_.Covers(name, tag.dot());
  frontiers_.Add(name, observed, *ctx.applied);
  const Change c = Before(name, *ctx.regions);
  Member* m = c.member;
  if (m != nullptr) m->reg.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
  if (!removed) {
    if (m == nullptr) m = GetOrAdd(name);
    m->reg.AddWrite(ScoreRegister::Write{tag, hlc, score, 0}, *ctx.stable);
  } else if (m != nullptr) {
    m->reg.Compact(*ctx.stable);
  }
  After(c, m, *ctx.regions);
}

void ZsetValue::Increment(std::string_view name, const ScoreRegister::Increment& inc,
                          const ValueContext& ctx) {
  if (ctx.frontier->Covers(inc.tag.dot()) || frontiers_.Covers(name, inc.tag.dot())) return;
  const Change c = Before(name, *ctx.regions);
  Member* m = c.member != nullptr ? c.member : GetOrAdd(name);
  m->reg.AddIncrement(inc, *ctx.stable, *ctx.regions);
  After(c, m, *ctx.regions);
}

void ZsetValue::Remove(std::string_view name, const VersionVector& observed,
                       const ValueContext& ctx) {
  frontiers_.Add(name, observed, *ctx.applied);
  const Change c = Before(name, *ctx.regions);
  if (c.member == nullptr) return;
  c.member->reg.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
  c.member->reg.Compact(*ctx.stable);
  After(c, c.member, *ctx.regions);
}

void ZsetValue::RemoveObserved(const VersionVector& observed, const ValueContext& ctx) {
  for (size_t i = members_.size(); i-- > 0;) {
    const Change c = Before(members_.at(i).name, *ctx.regions);
    c.member->reg.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
    c.member->reg.Compact(*ctx.stable);
    After(c, c.member, *ctx.regions);
  }
}

Stamp ZsetValue::Newest(const RegionTable& regions) const {
  Stamp s;
  for (const Member& m : members_.elems()) s.Raise(m.reg.Newest(regions), regions);
  return s;
}

void ZsetValue::ToState(v1::ZsetState* out) const {
  out->Clear();
  for (const Member& m : members_.elems()) {
    v1::ZsetState::Member* s = out->add_members();
    s->set_name(m.name.data(), m.name.size());
    for (const ScoreRegister::Write& w : m.reg.writes()) {
      v1::ZsetState::Write* sw = s->add_writes();
      ToTagState(w.tag, w.hlc, sw->mutable_tag());
      sw->set_score(w.value);
      sw->set_folds(w.folds);
    }
    if (const auto* incs = m.reg.increments()) {
      for (const ScoreRegister::Increment& i : *incs) {
        v1::ZsetState::Increment* si = s->add_increments();
        ToTagState(i.tag, i.hlc, si->mutable_tag());
        si->set_delta(i.delta);
      }
    }
  }
  frontiers_.ToState(out->mutable_tombstones());
  out->set_skiplist(!listpack_);
}

absl::Status ZsetValue::FromState(const v1::ZsetState& in, const std::vector<RegionId>& dict,
                                  const RegionTable& regions, ZsetValue* out) {
  out->members_.Clear();
  out->index_.Clear();
  out->digest_ = Digest128();
  out->listpack_ = !in.skiplist();
  for (const v1::ZsetState::Member& s : in.members()) {
    if (out->members_.Find(s.name()) != nullptr) {
      return absl::InvalidArgumentError("zset state: a member appears twice");
    }
    absl::InlinedVector<ScoreRegister::Write, 1> writes;
    std::vector<ScoreRegister::Increment> incs;
    for (const v1::ZsetState::Write& sw : s.writes()) {
      ScoreRegister::Write w;
      if (!FromTagState(sw.tag(), dict, &w.tag, &w.hlc)) {
        return absl::InvalidArgumentError("zset state: malformed tag");
      }
      if (std::isnan(sw.score())) return absl::InvalidArgumentError("zset state: NaN score");
      w.value = sw.score();
      w.folds = sw.folds();
      writes.push_back(w);
    }
    for (const v1::ZsetState::Increment& si : s.increments()) {
      ScoreRegister::Increment i;
      if (!FromTagState(si.tag(), dict, &i.tag, &i.hlc)) {
        return absl::InvalidArgumentError("zset state: malformed tag");
      }
      if (std::isnan(si.delta())) return absl::InvalidArgumentError("zset state: NaN increment");
      i.delta = si.delta();
      incs.push_back(i);
    }
    if (writes.empty() && incs.empty()) {
      return absl::InvalidArgumentError("zset state: member without a score");
    }
    if (!ScoreRegister::DistinctTags(writes, incs)) {
      return absl::InvalidArgumentError("zset state: a score instance appears twice");
    }
    Member* m = out->GetOrAdd(s.name());
    m->reg.Assign(std::move(writes), std::move(incs), regions);
    out->After(Change{}, m, regions);
  }
  if (!out->frontiers_.FromState(in.tombstones(), dict)) {
    return absl::InvalidArgumentError("zset state: malformed tombstone");
  }
  return absl::OkStatus();
}

void ZsetValue::Join(const ZsetValue& remote, const JoinSide& here, const JoinSide& there,
                     const ValueContext& ctx) {
  static const ScoreRegister kNone;
  auto join_member = [&](Member* m, const ScoreRegister& theirs) {
    const std::string_view name = m->name.view();
    m->reg.Join(
        theirs,
        [&](const Tag& t) { return here.Removed(t.dot()) || frontiers_.Covers(name, t.dot()); },
        [&](const Tag& t) {
          return there.Removed(t.dot()) || remote.frontiers_.Covers(name, t.dot());
        },
        *ctx.regions, *ctx.stable);
  };
  for (size_t i = members_.size(); i-- > 0;) {
    if (remote.members_.Find(members_.at(i).name) != nullptr) continue;  // joined below
    const Change c = Before(members_.at(i).name, *ctx.regions);
    join_member(c.member, kNone);
    After(c, c.member, *ctx.regions);
  }
  for (const Member& r : remote.members_.elems()) {
    const Change c = Before(r.name, *ctx.regions);
    Member* m = c.member != nullptr ? c.member : GetOrAdd(r.name);
    join_member(m, r.reg);
    After(c, m, *ctx.regions);
  }
  if (!remote.listpack_) listpack_ = false;
  frontiers_.Merge(remote.frontiers_, *ctx.applied);
}

}  // namespace activekv::crdt
