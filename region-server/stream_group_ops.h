#pragma once

// Building consumer-group ops (op.proto's StreamGroupChange) for the group commands:
// stream_group_family.cc (XGROUP, XREADGROUP, XINFO) and stream_pel_family.cc (XACK, XPENDING,
// XCLAIM, XAUTOCLAIM). A change replaces the instances this region holds of what it names
// (crdt/values/stream_groups.h), so each helper lists those instances as removed.

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "crdt/values/stream_value.h"
#include "region-server/command.h"

namespace activekv::server {

// A pending entry's key in StreamGroups::Group::pel, and back.
using PelKey = std::pair<uint64_t, uint64_t>;
inline crdt::StreamId PelId(const PelKey& k) { return crdt::StreamId{k.first, k.second}; }
inline PelKey PelKeyOf(const crdt::StreamId& id) { return {id.ms, id.seq}; }

// The group `name` of stream `s` (either may be missing: null).
const crdt::StreamGroups::Group* FindGroup(const crdt::StreamValue* s, std::string_view name);

void SetTag(const crdt::Tag& t, const crdt::RegionTable& regions, v1::StreamTag* out);

// Emits one group op on the key's stream (one op: one unit); `fill` writes its
// StreamGroupChange, whose group name is already set.
void EmitGroup(CommandContext& ctx, std::string_view key, std::string_view group,
               const std::function<void(v1::StreamGroupChange*)>& fill);

// Adds to `out` an instance of consumer `name` seen at `now`, replacing the ones this region
// holds in group `g` (null: none).
void TouchConsumer(CommandContext& ctx, const crdt::StreamGroups::Group* g, std::string_view name,
                   int64_t now, v1::StreamGroupChange* out);

// Adds to `out` a delivery of `id` to `consumer` at `delivery_ms` with delivery count `count`
// (with `add` false: the id leaves the pending list), replacing every instance of the id this
// region holds in `g` (null: none).
void PendingChange(CommandContext& ctx, const crdt::StreamGroups::Group* g,
                   const crdt::StreamId& id, bool add, std::string_view consumer,
                   int64_t delivery_ms, uint64_t count, v1::StreamGroupChange* out);

}  // namespace activekv::server
