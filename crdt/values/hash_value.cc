#include "crdt/values/hash_value.h"

#include <utility>

namespace activekv::crdt {
namespace {
constexpr size_t kListpackEntries = 512;  // Redis 7.0 hash-max-listpack-entries (compiled default)
constexpr size_t kListpackValue = 64;     // Redis 7.0 hash-max-listpack-value
}  // namespace

HashValue::Field* HashValue::Before(std::string_view name, const RegionTable& regions) {
  Field* f = fields_.Find(name);
  if (f != nullptr) digest_.Sub(ElementDigest(f->name, f->reg.Value(regions)));
  return f;
}

void HashValue::After(Field* f, const RegionTable& regions) {
  if (f == nullptr) return;
  if (f->reg.Exists()) {
    digest_.Add(ElementDigest(f->name, f->reg.Value(regions)));
  } else {
    const std::string name((f->name).view());  // Erase may move the element the name lives in
    fields_.Erase(name);
  }
}

HashValue::Field* HashValue::GetOrAdd(std::string_view name) {
  Field* f = fields_.Find(name);
  if (f != nullptr) return f;
  f = &fields_.Append(name);
  if (fields_.size() > kListpackEntries) fields_.set_unordered();
  return f;
}

void HashValue::NoteWrite(std::string_view name, std::string_view value) {
  if (name.size() > kListpackValue || value.size() > kListpackValue) fields_.set_unordered();
}

void HashValue::Set(std::string_view name, std::string_view value, const Tag& tag, Hlc hlc,
                    const VersionVector& observed, const ValueContext& ctx) {
  // Check before anything prunes: the applied vector already covers this op's dot.
  const bool removed = ctx.frontier->Covers(tag.dot()) || frontiers_.Covers(name, tag.dot());
  frontiers_.Add(name, observed, *ctx.applied);
  // The field keeps its place while its instances are replaced (HSET of an existing field).
  Field* f = Before(name, *ctx.regions);
  if (f != nullptr) f->reg.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
  if (!removed) {
    NoteWrite(name, value);
    if (f == nullptr) f = GetOrAdd(name);
    f->reg.AddWrite(Register::Write{tag, hlc, CompactString(value), 0}, *ctx.stable);
  } else if (f != nullptr) {
    f->reg.Compact(*ctx.stable);
  }
  After(f, *ctx.regions);
}

void HashValue::Increment(std::string_view name, const Register::Increment& inc,
                          const ValueContext& ctx) {
  if (ctx.frontier->Covers(inc.tag.dot()) || frontiers_.Covers(name, inc.tag.dot())) return;
  Before(name, *ctx.regions);
  Field* f = GetOrAdd(name);
  f->reg.AddIncrement(inc, *ctx.stable, *ctx.regions);
  NoteWrite(name, f->reg.Value(*ctx.regions));  // Redis's hashTypeSet checks the new value too
  After(f, *ctx.regions);
}

void HashValue::Remove(std::string_view name, const VersionVector& observed,
                       const ValueContext& ctx) {
  frontiers_.Add(name, observed, *ctx.applied);
  Field* f = Before(name, *ctx.regions);
  if (f == nullptr) return;
  f->reg.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
  f->reg.Compact(*ctx.stable);
  After(f, *ctx.regions);
}

void HashValue::RemoveObserved(const VersionVector& observed, const ValueContext& ctx) {
  for (size_t i = fields_.size(); i-- > 0;) {
    Field* f = &fields_.at(i);
    digest_.Sub(ElementDigest(f->name, f->reg.Value(*ctx.regions)));
    f->reg.RemoveIf([&](const Tag& t) { return observed.Covers(t.dot()); });
    f->reg.Compact(*ctx.stable);
    After(f, *ctx.regions);
  }
}

Stamp HashValue::Newest(const RegionTable& regions) const {
  Stamp s;
  for (const Field& f : fields_.elems()) s.Raise(f.reg.Newest(regions), regions);
  return s;
}

void HashValue::ToState(v1::HashState* out) const {
  out->Clear();
  for (const Field& f : fields_.elems()) {
    v1::HashState::Field* s = out->add_fields();
    s->set_name(f.name.data(), f.name.size());
    for (const Register::Write& w : f.reg.writes()) {
      v1::HashState::Write* sw = s->add_writes();
      ToTagState(w.tag, w.hlc, sw->mutable_tag());
      sw->set_value(w.value.data(), w.value.size());
      sw->set_folds(w.folds);
    }
    if (const auto* incs = f.reg.increments()) {
      for (const Register::Increment& i : *incs) {
        v1::HashState::Increment* si = s->add_increments();
        ToTagState(i.tag, i.hlc, si->mutable_tag());
        if (i.is_float) {
          si->set_float_delta(HexFloat(i.float_delta));
        } else {
          si->set_delta(i.delta);
        }
      }
    }
  }
  frontiers_.ToState(out->mutable_tombstones());
  out->set_hashtable(!listpack());
}

absl::Status HashValue::FromState(const v1::HashState& in, const std::vector<RegionId>& dict,
                                  const RegionTable& regions, HashValue* out) {
  out->fields_.Clear();
  out->digest_ = Digest128();
  if (in.hashtable()) out->set_hashtable();
  for (const v1::HashState::Field& s : in.fields()) {
    if (out->fields_.Find(s.name()) != nullptr) {
      return absl::InvalidArgumentError("hash state: a field appears twice");
    }
    absl::InlinedVector<Register::Write, 1> writes;
    std::vector<Register::Increment> incs;
    for (const v1::HashState::Write& sw : s.writes()) {
      Register::Write w;
      if (!FromTagState(sw.tag(), dict, &w.tag, &w.hlc)) {
        return absl::InvalidArgumentError("hash state: malformed tag");
      }
      w.value = sw.value();
      w.folds = sw.folds();
      out->NoteWrite(s.name(), w.value);
      writes.push_back(std::move(w));
    }
    for (const v1::HashState::Increment& si : s.increments()) {
      Register::Increment i;
      if (!FromTagState(si.tag(), dict, &i.tag, &i.hlc)) {
        return absl::InvalidArgumentError("hash state: malformed tag");
      }
      if (!si.float_delta().empty()) {
        i.is_float = true;
        if (!ParseHexFloat(si.float_delta(), &i.float_delta)) {
          return absl::InvalidArgumentError("hash state: bad float increment");
        }
      } else {
        i.delta = si.delta();
      }
      incs.push_back(i);
    }
    if (writes.empty() && incs.empty()) {
      return absl::InvalidArgumentError("hash state: field without a value");
    }
    if (!Register::DistinctTags(writes, incs)) {
      return absl::InvalidArgumentError("hash state: a value instance appears twice");
    }
    Field* f = out->GetOrAdd(s.name());
    f->reg.Assign(std::move(writes), std::move(incs), regions);
    out->digest_.Add(ElementDigest(f->name, f->reg.Value(regions)));
  }
  if (!out->frontiers_.FromState(in.tombstones(), dict)) {
    return absl::InvalidArgumentError("hash state: malformed tombstone");
  }
  return absl::OkStatus();
}

void HashValue::Join(const HashValue& remote, const JoinSide& here, const JoinSide& there,
                     const ValueContext& ctx) {
  static const Register kNone;
  for (size_t i = fields_.size(); i-- > 0;) {
    Field* f = &fields_.at(i);
    if (remote.fields_.Find(f->name) != nullptr) continue;  // joined below
    digest_.Sub(ElementDigest(f->name, f->reg.Value(*ctx.regions)));
    const std::string name((f->name).view());
    f->reg.Join(
        kNone,
        [&](const Tag& t) { return here.Removed(t.dot()) || frontiers_.Covers(name, t.dot()); },
        [&](const Tag& t) {
          return there.Removed(t.dot()) || remote.frontiers_.Covers(name, t.dot());
        },
        *ctx.regions, *ctx.stable);
    After(f, *ctx.regions);
  }
  for (const Field& r : remote.fields_.elems()) {
    Before(r.name, *ctx.regions);
    Field* f = GetOrAdd(r.name);
    const std::string_view name = r.name.view();
    f->reg.Join(
        r.reg,
        [&](const Tag& t) { return here.Removed(t.dot()) || frontiers_.Covers(name, t.dot()); },
        [&](const Tag& t) {
          return there.Removed(t.dot()) || remote.frontiers_.Covers(name, t.dot());
        },
        *ctx.regions, *ctx.stable);
    for (const Register::Write& w : f->reg.writes()) NoteWrite(name, w.value);
    After(f, *ctx.regions);
  }
  if (!remote.listpack()) set_hashtable();
  frontiers_.Merge(remote.frontiers_, *ctx.applied);
}

}  // namespace activekv::crdt
