#include "region-server/stream_group_ops.h"

#include <string>

#include "region-server/region.h"
#include "region-server/stream_args.h"

namespace activekv::server {

using crdt::StreamGroups;

const StreamGroups::Group* FindGroup(const crdt::StreamValue* s, std::string_view name) {
  return s == nullptr ? nullptr : s->groups().Find(name);
}

void SetTag(const crdt::Tag& t, const crdt::RegionTable& regions, v1::StreamTag* out) {
  out->set_region(std::string(regions.Name(t.region)));
  out->set_seq(t.seq);
  out->set_idx(t.idx);
}

void EmitGroup(CommandContext& ctx, std::string_view key, std::string_view group,
               const std::function<void(v1::StreamGroupChange*)>& fill) {
  ctx.region->EmitStreamOp(key, [&](crdt::Hlc, v1::Op* op) {
    v1::StreamGroupChange* g = op->mutable_xgroup();
    g->set_group(group.data(), group.size());
    fill(g);
  });
}

void TouchConsumer(CommandContext& ctx, const StreamGroups::Group* g, std::string_view name,
                   int64_t now, v1::StreamGroupChange* out) {
  v1::StreamConsumerChange* c = out->add_consumers();
  c->set_name(name.data(), name.size());
  c->set_add(true);
  c->set_seen_ms(now);
  if (g == nullptr) return;
  auto it = g->consumers.find(std::string(name));
  if (it == g->consumers.end()) return;
  for (const crdt::Tag& t : it->second.tags) {
    SetTag(t, ctx.region->ks().regions(), c->add_removed());
  }
}

void PendingChange(CommandContext& ctx, const StreamGroups::Group* g, const crdt::StreamId& id,
                   bool add, std::string_view consumer, int64_t delivery_ms, uint64_t count,
                   v1::StreamGroupChange* out) {
  v1::StreamPendingChange* p = out->add_pending();
  SetStreamId(id, p->mutable_id());
  p->set_add(add);
  if (add) {
    p->set_consumer(consumer.data(), consumer.size());
    p->set_delivery_ms(delivery_ms);
    p->set_delivery_count(count);
  }
  if (g == nullptr) return;
  auto it = g->pel.find(PelKeyOf(id));
  if (it == g->pel.end()) return;
  for (const auto& in : it->second.instances) {
    SetTag(in.tag, ctx.region->ks().regions(), p->add_removed());
  }
}

}  // namespace activekv::server
