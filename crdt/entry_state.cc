// Entry in snapshot form (v1::KeyState) and the state merge (docs/crdt-semantics.md,
// "Snapshots and state merge").
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crdt/entry.h"

namespace activekv::crdt {
namespace {

absl::Status GetVV(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& in,
                   RegionTable* regions, VersionVector* out) {
  for (const v1::VersionEntry& e : in) {
    if (e.region().empty()) return absl::InvalidArgumentError("key state: empty region name");
    RegionId r = regions->Intern(e.region());
    if (e.seq() > out->Get(r)) out->Set(r, e.seq());
  }
  return absl::OkStatus();
}

absl::Status GetDot(const std::string& region, uint64_t seq, RegionTable* regions, Dot* out) {
  if (region.empty() || seq == 0) {
    return absl::InvalidArgumentError("key state: element without a dot (region, seq)");
  }
  *out = Dot{regions->Intern(region), seq};
  return absl::OkStatus();
}

bool SameDot(const Dot& a, const Dot& b) { return a.region == b.region && a.seq == b.seq; }

}  // namespace

void AppendVersionEntries(const VersionVector& vv, const RegionTable& regions,
                          google::protobuf::RepeatedPtrField<v1::VersionEntry>* out) {
  for (RegionId r = 0; r < vv.size(); ++r) {
    if (vv.Get(r) == 0) continue;
    v1::VersionEntry* e = out->Add();
    e->set_region(regions.Name(r));
    e->set_seq(vv.Get(r));
  }
}

void Entry::ToState(const RegionTable& regions, v1::KeyState* out) const {
  for (const Register::Write& w : str_.writes()) {
    v1::KeyState::Write* s = out->add_writes();
    s->set_region(regions.Name(w.tag.region));
    s->set_seq(w.tag.seq);
    s->set_hlc(w.hlc);
    s->set_value(w.value.data(), w.value.size());
    s->set_folds(w.folds);
  }
  if (const auto* incs = str_.increments()) {
    for (const Register::Increment& i : *incs) {
      v1::KeyState::Increment* s = out->add_increments();
      s->set_region(regions.Name(i.tag.region));
      s->set_seq(i.tag.seq);
      s->set_hlc(i.hlc);
      if (i.is_float) {
        s->set_float_delta(HexFloat(i.float_delta));
      } else {
        s->set_delta(i.delta);
      }
    }
  }
  if (!extra_) return;
  for (const ExpiryWrite& e : extra_->expiries) {
    v1::KeyState::Expiry* s = out->add_expiries();
    s->set_region(regions.Name(e.dot.region));
    s->set_seq(e.dot.seq);
    s->set_hlc(e.hlc);
    s->set_deadline_ms(e.deadline_ms);
  }
  AppendVersionEntries(extra_->value_frontier, regions, out->mutable_value_frontier());
  AppendVersionEntries(extra_->expiry_frontier, regions, out->mutable_expiry_frontier());
  if (extra_->hash) extra_->hash->ToState(out->mutable_hash());
  if (extra_->set) extra_->set->ToState(out->mutable_set());
  if (extra_->zset) extra_->zset->ToState(out->mutable_zset());
  if (extra_->list) extra_->list->ToState(out->mutable_list());
  if (extra_->stream) extra_->stream->ToState(out->mutable_stream());
}

absl::Status Entry::FromState(const v1::KeyState& state, const std::vector<RegionId>& dict,
                              RegionTable* regions, Entry* out) {
  *out = Entry();
  absl::InlinedVector<Register::Write, 1> writes;
  for (const v1::KeyState::Write& s : state.writes()) {
    Register::Write w;
    Dot d;
    absl::Status st = GetDot(s.region(), s.seq(), regions, &d);
    if (!st.ok()) return st;
    w.tag = Tag{d.region, 0, d.seq};
    w.hlc = s.hlc();
    w.value = s.value();
    w.folds = s.folds();
    writes.push_back(std::move(w));
  }
  std::vector<Register::Increment> incs;
  for (const v1::KeyState::Increment& s : state.increments()) {
    Register::Increment i;
    Dot d;
    absl::Status st = GetDot(s.region(), s.seq(), regions, &d);
    if (!st.ok()) return st;
    i.tag = Tag{d.region, 0, d.seq};
    i.hlc = s.hlc();
    if (!s.float_delta().empty()) {
      i.is_float = true;
      if (!ParseHexFloat(s.float_delta(), &i.float_delta)) {
        return absl::InvalidArgumentError(
            absl::StrCat("key state: bad float increment '", s.float_delta(), "'"));
      }
    } else {
      i.delta = s.delta();
    }
    incs.push_back(i);
  }
  if (!Register::DistinctTags(writes, incs)) {
    return absl::InvalidArgumentError("key state: a value instance appears twice");
  }
  out->str_.Assign(std::move(writes), std::move(incs), *regions);
  if (state.expiries_size() == 0 && state.value_frontier_size() == 0 &&
      state.expiry_frontier_size() == 0 && !state.has_hash() && !state.has_set() &&
      !state.has_zset() && !state.has_list() && !state.has_stream()) {
    return absl::OkStatus();
  }
  Extra& x = out->extra();
  for (const v1::KeyState::Expiry& s : state.expiries()) {
    ExpiryWrite e{};
    absl::Status st = GetDot(s.region(), s.seq(), regions, &e.dot);
    if (!st.ok()) return st;
    e.hlc = s.hlc();
    e.deadline_ms = s.deadline_ms();
    x.expiries.push_back(e);
  }
  absl::Status st = GetVV(state.value_frontier(), regions, &x.value_frontier);
  if (st.ok()) st = GetVV(state.expiry_frontier(), regions, &x.expiry_frontier);
  if (st.ok() && state.has_hash()) {
    x.hash = std::make_unique<HashValue>();
    st = HashValue::FromState(state.hash(), dict, *regions, x.hash.get());
  }
  if (st.ok() && state.has_set()) {
    x.set = std::make_unique<SetValue>();
    st = SetValue::FromState(state.set(), dict, *regions, x.set.get());
  }
  if (st.ok() && state.has_zset()) {
    x.zset = std::make_unique<ZsetValue>();
    st = ZsetValue::FromState(state.zset(), dict, *regions, x.zset.get());
  }
  if (st.ok() && state.has_list()) {
    x.list = std::make_unique<ListValue>();
    st = ListValue::FromState(state.list(), dict, *regions, x.list.get());
  }
  if (st.ok() && state.has_stream()) {
    x.stream = std::make_unique<StreamValue>();
    st = StreamValue::FromState(state.stream(), dict, *regions, x.stream.get());
  }
  if (!st.ok()) return st;
  out->MaybeFreeExtra();
  return absl::OkStatus();
}

// An element survives the merge when both sides have it, or when one side has it and the other
// never removed it (JoinSide). An element one side lacks although it covers the dot was removed
// there -- or, for increments, folded into a write there, which then carries the increment's
// effect (see Register::Write::folds).
void Entry::Join(const Entry& remote, const JoinContext& join, const Context& ctx) {
  static const VersionVector kNone;
  const VersionVector& local_vf = extra_ ? extra_->value_frontier : kNone;
  const VersionVector& local_ef = extra_ ? extra_->expiry_frontier : kNone;
  const VersionVector& remote_vf = remote.extra_ ? remote.extra_->value_frontier : kNone;
  const VersionVector& remote_ef = remote.extra_ ? remote.extra_->expiry_frontier : kNone;
  const JoinSide here{join.local_applied, join.local_flush, &local_vf};
  const JoinSide there{join.remote_version, join.remote_flush, &remote_vf};
  const JoinSide here_expiry{join.local_applied, join.local_flush, &local_ef};
  const JoinSide there_expiry{join.remote_version, join.remote_flush, &remote_ef};

  str_.Join(
      remote.str_, [&](const Tag& t) { return here.Removed(t.dot()); },
      [&](const Tag& t) { return there.Removed(t.dot()); }, *ctx.regions, *ctx.stable);

  // Expiries.
  std::vector<ExpiryWrite> expiries;
  auto has_expiry = [](const Entry& e, const Dot& d) {
    if (!e.extra_) return false;
    for (const ExpiryWrite& x : e.extra_->expiries) {
      if (SameDot(x.dot, d)) return true;
    }
    return false;
  };
  if (extra_) {
    for (const ExpiryWrite& e : extra_->expiries) {
      if (has_expiry(remote, e.dot) || !there_expiry.Removed(e.dot)) expiries.push_back(e);
    }
  }
  if (remote.extra_) {
    for (const ExpiryWrite& e : remote.extra_->expiries) {
      if (has_expiry(*this, e.dot)) continue;
      if (!here_expiry.Removed(e.dot)) expiries.push_back(e);
    }
  }

  VersionVector value_frontier = local_vf;
  value_frontier.Merge(remote_vf);
  VersionVector expiry_frontier = local_ef;
  expiry_frontier.Merge(remote_ef);

  // Typed values: the side that lacks one contributes an empty one (it removed whatever it
  // covers).
  const HashValue* remote_hash = remote.hash();
  if (remote_hash != nullptr || hash() != nullptr) {
    static const HashValue kNoHash;
    mutable_hash()->Join(remote_hash != nullptr ? *remote_hash : kNoHash, here, there,
                         ValueContext{ctx.regions, ctx.applied, ctx.stable, &kNone});
  }
  const SetValue* remote_set = remote.set();
  if (remote_set != nullptr || set() != nullptr) {
    static const SetValue kNoSet;
    mutable_set()->Join(remote_set != nullptr ? *remote_set : kNoSet, here, there,
                        ValueContext{ctx.regions, ctx.applied, ctx.stable, &kNone});
  }
  const ZsetValue* remote_zset = remote.zset();
  if (remote_zset != nullptr || zset() != nullptr) {
    static const ZsetValue kNoZset;
    mutable_zset()->Join(remote_zset != nullptr ? *remote_zset : kNoZset, here, there,
                         ValueContext{ctx.regions, ctx.applied, ctx.stable, &kNone});
  }
  const ListValue* remote_list = remote.list();
  if (remote_list != nullptr || list() != nullptr) {
    static const ListValue kNoList;
    mutable_list()->Join(remote_list != nullptr ? *remote_list : kNoList, here, there,
                         ValueContext{ctx.regions, ctx.applied, ctx.stable, &kNone});
  }
  const StreamValue* remote_stream = remote.stream();
  if (remote_stream != nullptr || stream() != nullptr) {
    static const StreamValue kNoStream;
    mutable_stream()->Join(remote_stream != nullptr ? *remote_stream : kNoStream, here, there,
                           ValueContext{ctx.regions, ctx.applied, ctx.stable, &kNone});
  }

  Extra& x = extra();
  x.expiries = std::move(expiries);
  x.value_frontier = std::move(value_frontier);
  x.expiry_frontier = std::move(expiry_frontier);
  x.value_frontier.PruneCoveredBy(*ctx.applied);
  x.expiry_frontier.PruneCoveredBy(*ctx.applied);
  Compact(ctx);
}

}  // namespace activekv::crdt
