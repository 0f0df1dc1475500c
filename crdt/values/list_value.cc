#include "crdt/values/list_value.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "crdt/values/list_packing.h"

namespace activekv::crdt {
namespace {

// Digits are chosen within [-kMaxDigit, kMaxDigit], so differences of two fit in an int64_t.
// An HLC (unix ms << 16, about 2^57 today) fits with room to spare.
constexpr int64_t kMaxDigit = int64_t{1} << 61;
// The distance a new level keeps from its one bound when the other is open (LINSERT at an end
// of a level): 2^32 inserts at one spot before a level fills by halving.
constexpr int64_t kStep = int64_t{1} << 32;

int CompareLevel(const ListLevel& a, const ListLevel& b, const RegionTable& regions) {
  if (a.digit != b.digit) return a.digit < b.digit ? -1 : 1;
  if (a.tag.region != b.tag.region) {
    return regions.Name(a.tag.region) < regions.Name(b.tag.region) ? -1 : 1;
  }
  if (a.tag.seq != b.tag.seq) return a.tag.seq < b.tag.seq ? -1 : 1;
  if (a.tag.idx != b.tag.idx) return a.tag.idx < b.tag.idx ? -1 : 1;
  return 0;
}

int64_t HlcDigit(Hlc hlc) { return static_cast<int64_t>(std::min<Hlc>(hlc, kMaxDigit / 2)); }

void AppendLevelBytes(const ListLevel& l, const RegionTable& regions, std::string* out) {
  char buf[8];
  std::memcpy(buf, &l.digit, 8);
  out->append(buf, 8);
  out->append(regions.Name(l.tag.region));
  out->push_back('\0');
  std::memcpy(buf, &l.tag.seq, 8);
  out->append(buf, 8);
  std::memcpy(buf, &l.tag.idx, 4);
  out->append(buf, 4);
}

PackedListLevel PackedOf(const v1::ListState::Level& l) {
  return PackedListLevel{l.digit(), l.region(), l.seq(), l.idx()};
}

// A level as read (region by dictionary index) to a list level; false when malformed.
bool FromPackedLevel(const PackedListLevel& in, const std::vector<RegionId>& dict, ListLevel* out) {
  out->digit = in.digit;
  return TagFromState(in.region, in.seq, in.idx, dict, &out->tag);
}

void ToLevelState(const ListLevel& l, v1::ListState::Level* out) {
  out->set_digit(l.digit);
  out->set_region(l.tag.region);
  out->set_seq(l.tag.seq);
  out->set_idx(l.tag.idx);
}

}  // namespace

int CompareListPos(const ListPos& a, const ListPos& b, const RegionTable& regions) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = CompareLevel(a[i], b[i], regions); c != 0) return c;
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

bool FromListLevelState(const v1::ListState::Level& in, const std::vector<RegionId>& dict,
                        ListLevel* out) {
  return FromPackedLevel(PackedOf(in), dict, out);
}

// --- Placement ---

ListValue::Placement ListValue::PlaceAtHead(Hlc hlc) const {
  const int64_t h = -HlcDigit(hlc);
  if (elems_.empty()) return Placement{{}, h};
  const int64_t head = elems_.front().pos()[0].digit;
  if (head > -kMaxDigit) return Placement{{}, std::min(head - 1, h)};
  Placement p;
  if (!PlaceBefore(0, &p).ok()) p.digit = head - 1;  // beyond the range, still before the head
  return p;
}

ListValue::Placement ListValue::PlaceAtTail(Hlc hlc) const {
  const int64_t h = HlcDigit(hlc);
  if (elems_.empty()) return Placement{{}, h};
  const int64_t tail = elems_.back().pos()[0].digit;
  if (tail < kMaxDigit) return Placement{{}, std::max(tail + 1, h)};
  Placement p;
  if (!PlaceBefore(elems_.size(), &p).ok()) p.digit = tail + 1;
  return p;
}

// Logoot's allocation between p (element i - 1, or the list's start) and q (element i, or its
// end): walk down the levels keeping the prefix equal to p's, until a level has a free digit
// strictly between p's digit there (or nothing, once p is exhausted) and q's (or nothing, once
// the prefix is already before q). The new position is the prefix plus that digit.
absl::Status ListValue::PlaceBefore(size_t i, Placement* out) const {
  out->prefix.clear();
  const Element* p = i > 0 ? &elems_[i - 1] : nullptr;
  const Element* q = i < elems_.size() ? &elems_[i] : nullptr;
  bool q_tied = q != nullptr;  // the prefix so far equals q's first levels
  for (size_t level = 0;; ++level) {
    const bool p_has = p != nullptr && level < p->pos().size();
    const bool q_has = q_tied && level < q->pos().size();
    const int64_t lo = p_has ? p->pos()[level].digit : 0;
    const int64_t hi = q_has ? q->pos()[level].digit : 0;
    if (!p_has && !q_has) {
      out->digit = 0;
      return absl::OkStatus();
    }
    if (!p_has) {
      const int64_t gap = hi + kMaxDigit;  // room down to -kMaxDigit
      if (gap >= 1) {
        out->digit = hi - std::max<int64_t>(1, std::min(kStep, gap / 2));
        return absl::OkStatus();
      }
      // p is exhausted: the prefix cannot follow it further down. Outside the range (still a
      // valid int64_t) once; after that the list has no position left here.
      if (hi > INT64_MIN + 1) {
        out->digit = hi - 1;
        return absl::OkStatus();
      }
      return absl::FailedPreconditionError("no list position left between these elements");
    }
    if (!q_has) {
      const int64_t gap = kMaxDigit - lo;
      if (gap >= 1) {
        out->digit = lo + std::max<int64_t>(1, std::min(kStep, gap / 2));
        return absl::OkStatus();
      }
    } else if (hi - lo >= 2) {
      out->digit = lo + (hi - lo) / 2;
      return absl::OkStatus();
    }
    // No room at this level: follow p one level down.
    const ListLevel& pl = p->pos()[level];
    out->prefix.push_back(pl);
    q_tied = q_has && q->pos()[level] == pl;
  }
}

// --- Ops ---

Digest128 ListValue::ElementDigestOf(const Element& e, const RegionTable& regions) const {
  std::string bytes;
  bytes.reserve(48);
  const ListPos pos = e.pos();
  for (size_t i = 0; i < pos.size(); ++i) AppendLevelBytes(pos[i], regions, &bytes);
  return ElementDigest(bytes, e.value.view());
}

size_t ListValue::Find(const ListPos& ref, const RegionTable& regions) const {
  const Tag& tag = ref.own().tag;
  if (elems_.empty()) return 0;
  if (elems_.back().tag() == tag) return elems_.size() - 1;
  if (elems_.front().tag() == tag) return 0;
  auto it = std::lower_bound(
      elems_.begin(), elems_.end(), ref,
      [&](const Element& e, const ListPos& r) { return CompareListPos(e.pos(), r, regions) < 0; });
  if (it != elems_.end() && it->tag() == tag) return static_cast<size_t>(it - elems_.begin());
  return elems_.size();
}

size_t ListValue::Place(Element e, const RegionTable& regions) {
  const ListPos pos = e.pos();
  if (elems_.empty() || CompareListPos(elems_.back().pos(), pos, regions) < 0) {
    elems_.push_back(std::move(e));
    return elems_.size() - 1;
  }
  if (CompareListPos(pos, elems_.front().pos(), regions) < 0) {
    elems_.push_front(std::move(e));
    return 0;
  }
  auto it = std::upper_bound(
      elems_.begin(), elems_.end(), pos,
      [&](const ListPos& p, const Element& x) { return CompareListPos(p, x.pos(), regions) < 0; });
  const size_t i = static_cast<size_t>(it - elems_.begin());
  elems_.insert(it, std::move(e));
  return i;
}

bool ListValue::ApplyPending(const Pending& p, Element* e, const RegionTable& regions) {
  if (p.removed) return false;
  if (p.written && LwwBefore(e->hlc, e->writer, p.hlc, p.writer, regions)) {
    e->value = p.value;
    e->hlc = p.hlc;
    e->writer = p.writer;
  }
  return true;
}

void ListValue::MergePending(const Pending& from, Pending* into, const RegionTable& regions) {
  into->removed = into->removed || from.removed;
  if (from.written &&
      (!into->written || LwwBefore(into->hlc, into->writer, from.hlc, from.writer, regions))) {
    into->written = true;
    into->hlc = from.hlc;
    into->writer = from.writer;
    into->value = from.value;
  }
  if (into->removed) {
    into->written = false;
    into->value = CompactString();
  }
}

void ListValue::Insert(absl::Span<const ListLevel> prefix, int64_t digit, const Tag& tag,
                       std::string_view value, Hlc hlc, const ValueContext& ctx) {
  // A whole-key removal that observed this insert arrived first.
  if (ctx.frontier->Covers(tag.dot())) return;
  Element e;
  e.own = ListLevel{digit, tag};
  e.hlc = hlc;
  e.writer = tag.region;
  e.value = CompactString(value);
  if (!prefix.empty()) {
    e.depth = static_cast<uint32_t>(prefix.size());
    e.prefix = std::make_unique<ListLevel[]>(prefix.size());
    std::copy(prefix.begin(), prefix.end(), e.prefix.get());
  }
  if (!pending_.empty()) {
    auto it = pending_.find(tag);
    if (it != pending_.end()) {
      const bool keep = ApplyPending(it->second, &e, *ctx.regions);
      pending_.erase(it);
      if (!keep) return;
    }
  }
  digest_.Add(ElementDigestOf(e, *ctx.regions));
  Place(std::move(e), *ctx.regions);
}

void ListValue::Remove(const ListPos& ref, const ValueContext& ctx) {
  const size_t i = Find(ref, *ctx.regions);
  if (i < elems_.size()) {
    digest_.Sub(ElementDigestOf(elems_[i], *ctx.regions));
    if (i == 0) {
      elems_.pop_front();
    } else if (i + 1 == elems_.size()) {
      elems_.pop_back();
    } else {
      elems_.erase(elems_.begin() + static_cast<std::ptrdiff_t>(i));
    }
    return;
  }
  const Tag& tag = ref.own().tag;
  if (ctx.applied->Covers(tag.dot())) return;  // inserted and removed already (or dropped)
  Pending& p = pending_[tag];
  p.removed = true;
  p.written = false;
  p.value = CompactString();
}

void ListValue::Set(const ListPos& ref, std::string_view value, Hlc hlc, RegionId writer,
                    const ValueContext& ctx) {
  const size_t i = Find(ref, *ctx.regions);
  if (i < elems_.size()) {
    Element& e = elems_[i];
    if (!LwwBefore(e.hlc, e.writer, hlc, writer, *ctx.regions)) return;
    digest_.Sub(ElementDigestOf(e, *ctx.regions));
    e.value = CompactString(value);
    e.hlc = hlc;
    e.writer = writer;
    digest_.Add(ElementDigestOf(e, *ctx.regions));
    return;
  }
  const Tag& tag = ref.own().tag;
  if (ctx.applied->Covers(tag.dot())) return;  // the element is gone: the LSET is lost
  Pending w;
  w.written = true;
  w.hlc = hlc;
  w.writer = writer;
  w.value = CompactString(value);
  MergePending(w, &pending_[tag], *ctx.regions);
}

void ListValue::RemoveObserved(const VersionVector& observed, const ValueContext& ctx) {
  auto keep = elems_.begin();
  for (auto it = elems_.begin(); it != elems_.end(); ++it) {
    if (observed.Covers(it->tag().dot())) {
      digest_.Sub(ElementDigestOf(*it, *ctx.regions));
      continue;
    }
    if (keep != it) *keep = std::move(*it);
    ++keep;
  }
  elems_.erase(keep, elems_.end());
}

void ListValue::PruneFrontiers(const VersionVector& applied) {
  if (pending_.empty()) return;
  absl::erase_if(pending_, [&](const auto& kv) { return applied.Covers(kv.first.dot()); });
}

Stamp ListValue::Newest(const RegionTable& regions) const {
  Stamp s;
  for (const Element& e : elems_) s.Raise(e.hlc, e.writer, regions);
  return s;
}

// --- Snapshot form and state merge ---

void ListValue::ToState(v1::ListState* out) const {
  out->Clear();
  // Region ids are the dictionary's indexes (Snapshot.regions lists the table in id order).
  std::string* packed = out->mutable_packed();
  // Reserved once: a list can be millions of elements, and growing by doubling would copy it.
  size_t bound = 0;
  for (const Element& e : elems_) bound += ListPackWriter::MaxSize(e.depth + 1, e.value.size());
  packed->reserve(bound);
  ListPackWriter writer(packed);
  std::vector<PackedListLevel> levels;
  for (const Element& e : elems_) {
    levels.resize(e.depth + 1);
    for (uint32_t i = 0; i <= e.depth; ++i) {
      const ListLevel& l = i < e.depth ? e.prefix[i] : e.own;
      levels[i] = PackedListLevel{l.digit, l.tag.region, l.tag.seq, l.tag.idx};
    }
    writer.Add(levels.data(), e.depth + 1, e.hlc, e.writer, e.value.view());
  }
  // Sorted by tag so that equal states serialise alike.
  std::vector<const std::pair<const Tag, Pending>*> pending;
  pending.reserve(pending_.size());
  for (const auto& kv : pending_) pending.push_back(&kv);
  std::sort(pending.begin(), pending.end(), [](const auto* a, const auto* b) {
    const Tag& x = a->first;
    const Tag& y = b->first;
    return std::tie(x.region, x.seq, x.idx) < std::tie(y.region, y.seq, y.idx);
  });
  for (const auto* kv : pending) {
    v1::ListState::Pending* p = out->add_pending();
    ToLevelState(ListLevel{0, kv->first}, p->mutable_own());
    p->set_removed(kv->second.removed);
    p->set_written(kv->second.written);
    if (kv->second.written) {
      p->set_value(kv->second.value.view().data(), kv->second.value.view().size());
      p->set_hlc(kv->second.hlc);
      p->set_writer(kv->second.writer);
    }
  }
}

absl::Status ListValue::FromState(const v1::ListState& in, const std::vector<RegionId>& dict,
                                  const RegionTable& regions, ListValue* out) {
  out->elems_.clear();
  out->pending_.clear();
  out->digest_ = Digest128();
  if (!in.packed().empty() && in.elements_size() > 0) {
    return absl::InvalidArgumentError("list state: both packed and message elements");
  }
  ListPackReader reader(in.packed());
  while (reader.Next()) {
    absl::Status s = out->AppendDecoded(reader.levels(), reader.hlc(), reader.writer(),
                                        reader.value(), dict, regions);
    if (!s.ok()) return s;
  }
  if (!reader.status().ok()) return reader.status();
  // The message form of earlier builds.
  std::vector<PackedListLevel> levels;
  for (const v1::ListState::Element& x : in.elements()) {
    levels.clear();
    for (const v1::ListState::Level& l : x.prefix()) levels.push_back(PackedOf(l));
    levels.push_back(PackedOf(x.own()));
    absl::Status s = out->AppendDecoded(levels, x.hlc(), x.writer(), x.value(), dict, regions);
    if (!s.ok()) return s;
  }
  for (const v1::ListState::Pending& x : in.pending()) {
    ListLevel own;
    if (!FromListLevelState(x.own(), dict, &own)) {
      return absl::InvalidArgumentError("list pending entry: bad tag");
    }
    Pending p;
    p.removed = x.removed();
    if (x.written() && !x.removed()) {
      if (x.writer() >= dict.size()) {
        return absl::InvalidArgumentError("list pending entry: bad writer");
      }
      p.written = true;
      p.hlc = x.hlc();
      p.writer = dict[x.writer()];
      p.value = CompactString(x.value());
    }
    if (!p.removed && !p.written) continue;
    MergePending(p, &out->pending_[own.tag], regions);
  }
  return absl::OkStatus();
}

absl::Status ListValue::AppendDecoded(absl::Span<const PackedListLevel> levels, uint64_t hlc,
                                      uint32_t writer, std::string_view value,
                                      const std::vector<RegionId>& dict,
                                      const RegionTable& regions) {
  Element e;
  e.depth = static_cast<uint32_t>(levels.size() - 1);
  if (!FromPackedLevel(levels.back(), dict, &e.own)) {
    return absl::InvalidArgumentError("list element: bad own level");
  }
  if (e.depth > 0) {
    e.prefix = std::make_unique<ListLevel[]>(e.depth);
    for (uint32_t i = 0; i < e.depth; ++i) {
      if (!FromPackedLevel(levels[i], dict, &e.prefix[i])) {
        return absl::InvalidArgumentError("list element: bad prefix level");
      }
    }
  }
  if (writer >= dict.size()) return absl::InvalidArgumentError("list element: bad writer");
  e.hlc = hlc;
  e.writer = dict[writer];
  e.value = CompactString(value);
  if (!elems_.empty() && CompareListPos(elems_.back().pos(), e.pos(), regions) >= 0) {
    return absl::InvalidArgumentError("list elements out of position order");
  }
  digest_.Add(ElementDigestOf(e, regions));
  elems_.push_back(std::move(e));
  return absl::OkStatus();
}

namespace {

ListValue::Element CloneElement(const ListValue::Element& e) {
  ListValue::Element c;
  c.own = e.own;
  c.hlc = e.hlc;
  c.writer = e.writer;
  c.depth = e.depth;
  if (e.depth > 0) {
    c.prefix = std::make_unique<ListLevel[]>(e.depth);
    std::copy(e.prefix.get(), e.prefix.get() + e.depth, c.prefix.get());
  }
  c.value = e.value;
  return c;
}

}  // namespace

void ListValue::Join(const ListValue& remote, const JoinSide& here, const JoinSide& there,
                     const ValueContext& ctx) {
  const RegionTable& regions = *ctx.regions;
  for (const auto& [tag, p] : remote.pending_) MergePending(p, &pending_[tag], regions);
  std::deque<Element> merged;
  size_t i = 0;
  size_t j = 0;
  auto take = [&](Element e) {
    if (!pending_.empty()) {
      auto it = pending_.find(e.tag());
      if (it != pending_.end()) {
        const bool keep = ApplyPending(it->second, &e, regions);
        pending_.erase(it);
        if (!keep) return;
      }
    }
    merged.push_back(std::move(e));
  };
  while (i < elems_.size() || j < remote.elems_.size()) {
    int c;
    if (i == elems_.size()) {
      c = 1;
    } else if (j == remote.elems_.size()) {
      c = -1;
    } else {
      c = CompareListPos(elems_[i].pos(), remote.elems_[j].pos(), regions);
    }
    if (c == 0) {
      Element& a = elems_[i++];
      const Element& b = remote.elems_[j++];
      if (LwwBefore(a.hlc, a.writer, b.hlc, b.writer, regions)) {
        a.value = b.value;
        a.hlc = b.hlc;
        a.writer = b.writer;
      }
      take(std::move(a));
    } else if (c < 0) {
      Element& a = elems_[i++];
      if (!there.Removed(a.tag().dot())) take(std::move(a));
    } else {
      const Element& b = remote.elems_[j++];
      if (!here.Removed(b.tag().dot())) take(CloneElement(b));
    }
  }
  elems_ = std::move(merged);
  digest_ = Digest128();
  for (const Element& e : elems_) digest_.Add(ElementDigestOf(e, regions));
  PruneFrontiers(*ctx.applied);
}

}  // namespace activekv::crdt
