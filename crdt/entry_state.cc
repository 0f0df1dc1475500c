// Entry in snapshot form (v1::KeyState) and the state merge (docs/crdt-semantics.md,
// "Snapshots and state merge").
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "crdt/entry.h"

namespace activekv::crdt {
namespace {

// The exact long double as hexadecimal floating text: strtold reads it back bit for bit.
std::string HexFloat(long double v) {
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%La", v);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

bool ParseHexFloat(const std::string& text, long double* out) {
  if (text.size() < 3 || text.size() > 64) return false;
  const size_t sign = text[0] == '-' ? 1 : 0;
  if (text.compare(sign, 2, "0x") != 0) return false;  // "%La" text only (no nan, inf, decimal)
  errno = 0;
  char* end = nullptr;
  *out = std::strtold(text.c_str(), &end);
  return end == text.c_str() + text.size() && errno == 0 && std::isfinite(*out);
}

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

bool Entry::HasWrite(const Dot& dot) const {
  for (const ValueWrite& w : writes_) {
    if (SameDot(w.dot, dot)) return true;
  }
  return false;
}

bool Entry::HasIncrement(const Dot& dot) const {
  if (!extra_) return false;
  for (const Increment& i : extra_->increments) {
    if (SameDot(i.dot, dot)) return true;
  }
  return false;
}

void Entry::ToState(const RegionTable& regions, v1::KeyState* out) const {
  for (const ValueWrite& w : writes_) {
    v1::KeyState::Write* s = out->add_writes();
    s->set_region(regions.Name(w.dot.region));
    s->set_seq(w.dot.seq);
    s->set_hlc(w.hlc);
    s->set_value(w.value);
    s->set_folds(w.folds);
  }
  if (!extra_) return;
  for (const Increment& i : extra_->increments) {
    v1::KeyState::Increment* s = out->add_increments();
    s->set_region(regions.Name(i.dot.region));
    s->set_seq(i.dot.seq);
    s->set_hlc(i.hlc);
    if (i.is_float) {
      s->set_float_delta(HexFloat(i.float_delta));
    } else {
      s->set_delta(i.delta);
    }
  }
  for (const ExpiryWrite& e : extra_->expiries) {
    v1::KeyState::Expiry* s = out->add_expiries();
    s->set_region(regions.Name(e.dot.region));
    s->set_seq(e.dot.seq);
    s->set_hlc(e.hlc);
    s->set_deadline_ms(e.deadline_ms);
  }
  AppendVersionEntries(extra_->value_frontier, regions, out->mutable_value_frontier());
  AppendVersionEntries(extra_->expiry_frontier, regions, out->mutable_expiry_frontier());
}

absl::Status Entry::FromState(const v1::KeyState& state, RegionTable* regions, Entry* out) {
  *out = Entry();
  for (const v1::KeyState::Write& s : state.writes()) {
    ValueWrite w;
    absl::Status st = GetDot(s.region(), s.seq(), regions, &w.dot);
    if (!st.ok()) return st;
    w.hlc = s.hlc();
    w.value = s.value();
    w.folds = s.folds();
    out->writes_.push_back(std::move(w));
  }
  if (state.increments_size() == 0 && state.expiries_size() == 0 &&
      state.value_frontier_size() == 0 && state.expiry_frontier_size() == 0) {
    return absl::OkStatus();
  }
  Extra& x = out->extra();
  for (const v1::KeyState::Increment& s : state.increments()) {
    Increment i{};
    absl::Status st = GetDot(s.region(), s.seq(), regions, &i.dot);
    if (!st.ok()) return st;
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
    x.increments.push_back(i);
  }
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
  if (!st.ok()) return st;
  // Keep the (hlc, region name) order the value computation relies on, whatever the sender did.
  std::sort(x.increments.begin(), x.increments.end(), [&](const Increment& a, const Increment& b) {
    if (a.hlc != b.hlc) return a.hlc < b.hlc;
    return regions->Name(a.dot.region) < regions->Name(b.dot.region);
  });
  return absl::OkStatus();
}

// An element survives the merge when both sides have it, or when one side has it and the other
// never removed it: the other's ops do not cover its dot (it had not seen it), and neither its
// removal frontiers nor its FLUSHALL frontier do (it had not seen an op that removed it). An
// element one side lacks although it covers the dot was removed there -- or, for increments,
// folded into a write there, which then carries the increment's effect (see ValueWrite::folds).
void Entry::Join(const Entry& remote, const JoinContext& join, const Context& ctx) {
  static const VersionVector kNone;
  const VersionVector& local_vf = extra_ ? extra_->value_frontier : kNone;
  const VersionVector& local_ef = extra_ ? extra_->expiry_frontier : kNone;
  const VersionVector& remote_vf = remote.extra_ ? remote.extra_->value_frontier : kNone;
  const VersionVector& remote_ef = remote.extra_ ? remote.extra_->expiry_frontier : kNone;
  auto removed_remotely = [&](const Dot& d, const VersionVector& frontier) {
    return join.remote_version->Covers(d) || join.remote_flush->Covers(d) || frontier.Covers(d);
  };
  auto removed_locally = [&](const Dot& d, const VersionVector& frontier) {
    return join.local_applied->Covers(d) || join.local_flush->Covers(d) || frontier.Covers(d);
  };

  // Value writes. A write one side has as a pending increment is the other side's fold of it.
  absl::InlinedVector<ValueWrite, 1> writes;
  for (const ValueWrite& w : writes_) {
    const ValueWrite* theirs = nullptr;
    for (const ValueWrite& r : remote.writes_) {
      if (SameDot(r.dot, w.dot)) theirs = &r;
    }
    if (theirs != nullptr) {
      writes.push_back(theirs->folds > w.folds ? *theirs : w);
    } else if (remote.HasIncrement(w.dot) || !removed_remotely(w.dot, remote_vf)) {
      writes.push_back(w);
    }
  }
  for (const ValueWrite& r : remote.writes_) {
    if (HasWrite(r.dot)) continue;
    if (HasIncrement(r.dot) || !removed_locally(r.dot, local_vf)) writes.push_back(r);
  }

  // Increments: dropped where the other side folded them into a write. (A hot counter can hold
  // thousands: membership through hash sets.)
  using DotSet = absl::flat_hash_set<std::pair<RegionId, uint64_t>>;
  auto dots_of = [](const Entry& e) {
    DotSet set;
    if (e.extra_) {
      for (const Increment& i : e.extra_->increments) set.insert({i.dot.region, i.dot.seq});
    }
    return set;
  };
  const DotSet local_incs = dots_of(*this);
  const DotSet remote_incs = dots_of(remote);
  std::deque<Increment> incs;
  if (extra_) {
    for (const Increment& i : extra_->increments) {
      if (remote.HasWrite(i.dot)) continue;
      if (remote_incs.contains({i.dot.region, i.dot.seq}) || !removed_remotely(i.dot, remote_vf)) {
        incs.push_back(i);
      }
    }
  }
  if (remote.extra_) {
    for (const Increment& i : remote.extra_->increments) {
      if (HasWrite(i.dot) || local_incs.contains({i.dot.region, i.dot.seq})) continue;
      if (!removed_locally(i.dot, local_vf)) incs.push_back(i);
    }
  }
  const RegionTable& regions = *ctx.regions;
  std::sort(incs.begin(), incs.end(), [&](const Increment& a, const Increment& b) {
    if (a.hlc != b.hlc) return a.hlc < b.hlc;
    return regions.Name(a.dot.region) < regions.Name(b.dot.region);
  });

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
      if (has_expiry(remote, e.dot) || !removed_remotely(e.dot, remote_ef)) expiries.push_back(e);
    }
  }
  if (remote.extra_) {
    for (const ExpiryWrite& e : remote.extra_->expiries) {
      if (has_expiry(*this, e.dot)) continue;
      if (!removed_locally(e.dot, local_ef)) expiries.push_back(e);
    }
  }

  VersionVector value_frontier = local_vf;
  value_frontier.Merge(remote_vf);
  VersionVector expiry_frontier = local_ef;
  expiry_frontier.Merge(remote_ef);

  writes_ = std::move(writes);
  Extra& x = extra();
  x.increments = std::move(incs);
  x.expiries = std::move(expiries);
  x.value_frontier = std::move(value_frontier);
  x.expiry_frontier = std::move(expiry_frontier);
  x.value_frontier.PruneCoveredBy(*ctx.applied);
  x.expiry_frontier.PruneCoveredBy(*ctx.applied);
  x.cache_valid = false;
  Compact(ctx);
}

}  // namespace activekv::crdt
