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

}  // namespace

absl::Status Keyspace::ValidateStreamOp(const v1::Op& op) {
  if (op.has_xadd()) {
    for (const v1::StreamEntry& e : op.xadd().entries()) {
      if (e.fields_size() % 2 != 0) {
        return absl::InvalidArgumentError("stream entry with an odd number of fields");
      }
    }
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
