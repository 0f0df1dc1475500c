// Keyspace::Apply's stream ops (docs/crdt-semantics.md, "Streams"): xadd, xdel, xmeta.
#include <string>
#include <utility>
#include <vector>

#include "crdt/keyspace.h"

namespace activekv::crdt {
namespace {

StreamMeta MetaOf(const v1::StreamMeta& m) {
  StreamMeta out;
  out.last_id = StreamId{m.last_id().ms(), m.last_id().seq()};
  out.entries_added = m.entries_added();
  out.max_deleted = StreamId{m.max_deleted_id().ms(), m.max_deleted_id().seq()};
  return out;
}

bool ValidTag(const v1::StreamTag& t) { return !t.region().empty() && t.seq() != 0; }

}  // namespace

absl::Status Keyspace::ValidateStreamOp(const v1::Op& op) {
  if (op.has_xadd()) {
    for (const v1::StreamEntry& e : op.xadd().entries()) {
      if (e.fields_size() % 2 != 0) {
        return absl::InvalidArgumentError("stream entry with an odd number of fields");
      }
    }
  } else if (op.has_xgroup()) {
    const v1::StreamGroupChange& g = op.xgroup();
    bool ok = true;
    for (const auto& t : g.destroyed()) ok = ok && ValidTag(t);
    for (const auto& t : g.views_removed()) ok = ok && ValidTag(t);
    for (const auto& c : g.consumers()) {
      for (const auto& t : c.removed()) ok = ok && ValidTag(t);
    }
    for (const auto& p : g.pending()) {
      for (const auto& t : p.removed()) ok = ok && ValidTag(t);
    }
    if (!ok) return absl::InvalidArgumentError("stream group op names an instance without a dot");
  } else if (op.has_xdel()) {
    for (const v1::StreamRef& r : op.xdel().entries()) {
      if (r.region().empty() || r.seq() == 0) {
        return absl::InvalidArgumentError("stream removal names an instance without a dot");
      }
    }
  }
  return absl::OkStatus();
}

void Keyspace::ApplyStreamOp(const v1::Op& op, const Dot& dot, Entry* entry,
                             const Entry::Context& ctx) {
  StreamValue* s = entry->mutable_stream();
  const ValueContext vctx = entry->value_context(ctx);
  const bool flushed = dot.seq == 0;  // ApplyFlushedOp: only the removal part
  switch (op.body_case()) {
    case v1::Op::kXadd: {
      const v1::StreamAdd& add = op.xadd();
      for (int i = 0; i < add.entries_size(); ++i) {
        const v1::StreamEntry& e = add.entries(i);
        std::vector<std::string> fields(e.fields().begin(), e.fields().end());
        s->Add(StreamId{e.id().ms(), e.id().seq()},
               Tag{dot.region, static_cast<uint32_t>(i), dot.seq}, op.hlc(), std::move(fields),
               vctx);
      }
      s->SetMeta(dot, op.hlc(), MetaOf(add.meta()), true, vctx);
      break;
    }
    case v1::Op::kXdel: {
      for (const v1::StreamRef& r : op.xdel().entries()) {
        const RegionId region = r.region() == local_name() ? local_ : regions_.Intern(r.region());
        s->Remove(StreamId{r.id().ms(), r.id().seq()}, Tag{region, r.idx(), r.seq()}, vctx);
      }
      if (!flushed) {
        s->SetMeta(dot, op.hlc(), MetaOf(op.xdel().meta()), false, vctx);
      }
      break;
    }
    case v1::Op::kXgroup: {
      const v1::StreamGroupChange& g = op.xgroup();
      auto region_of = [&](const std::string& name) {
        return name == local_name() ? local_ : regions_.Intern(name);
      };
      auto tag_of = [&](const v1::StreamTag& t) {
        return Tag{region_of(t.region()), t.idx(), t.seq()};
      };
      StreamGroups::Change ch;
      ch.group = g.group();
      // A flushed op (the FLUSHALL observed it) adds nothing; its removals still apply.
      ch.create = !flushed && g.create();
      for (const auto& t : g.destroyed()) ch.destroyed.push_back(tag_of(t));
      ch.set_last = !flushed && g.set_last();
      ch.view.last_ms = g.last_id().ms();
      ch.view.last_seq = g.last_id().seq();
      ch.view.entries_read = g.entries_read();
      for (const auto& t : g.views_removed()) {
        ch.views_removed.emplace_back(region_of(t.region()), t.seq());
      }
      for (const auto& c : g.consumers()) {
        StreamGroups::Change::ConsumerChange cc;
        cc.name = c.name();
        cc.add = !flushed && c.add();
        for (const auto& t : c.removed()) cc.removed.push_back(tag_of(t));
        cc.seen_ms = flushed ? 0 : c.seen_ms();
        ch.consumers.push_back(std::move(cc));
      }
      for (const auto& p : g.pending()) {
        StreamGroups::Change::PendingChange pc;
        pc.ms = p.id().ms();
        pc.seq = p.id().seq();
        pc.add = !flushed && p.add();
        pc.consumer = p.consumer();
        pc.delivery_ms = p.delivery_ms();
        pc.count = p.delivery_count();
        for (const auto& t : p.removed()) pc.removed.push_back(tag_of(t));
        ch.pending.push_back(std::move(pc));
      }
      s->ApplyGroup(ch, dot, op.hlc(), vctx);
      break;
    }
    case v1::Op::kXmeta:
      s->SetMeta(dot, op.hlc(), MetaOf(op.xmeta().meta()), true, vctx);
      s->SetMeta(dot, op.hlc(), MetaOf(op.xmeta().meta()), false, vctx);
      break;
    default:
      break;
  }
  entry->Compact(ctx);
}

}  // namespace activekv::crdt
