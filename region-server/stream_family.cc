// Stream commands (Redis 7.0's t_stream.c) on the stream CRDT (crdt/values/stream_value.h):
// XADD XRANGE XREVRANGE XLEN XDEL XTRIM XREAD XSETID XINFO. Replies and errors as redis-server
// 7.0; what a stream does across regions is docs/crdt-semantics.md, "Streams". XREAD BLOCK waits
// in region-server/blocking.cc: an entry added here or replicated from a peer wakes it.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/blocking.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/notify.h"
#include "region-server/region.h"
#include "region-server/resp/reply.h"
#include "region-server/server.h"
#include "region-server/stream_args.h"

namespace activekv::server {
namespace {

using crdt::StreamId;
using crdt::StreamMeta;
using crdt::StreamValue;
using crdt::ValueType;

constexpr StreamId kMaxId{UINT64_MAX, UINT64_MAX};
// Auto ids: the seq part is n * kSlots + the region's slot, so two regions never generate the
// same id (docs/crdt-semantics.md, "Streams").
constexpr uint64_t kSlots = 64;

// The next auto id after `last` for the region in `slot` at `now_ms`.
bool NextAutoId(const StreamId& last, uint64_t now_ms, uint64_t slot, StreamId* out) {
  slot = (slot - 1) % (kSlots - 1) + 1;  // 1 .. kSlots - 1
  if (now_ms > last.ms) {
    *out = StreamId{now_ms, slot};
    return true;
  }
  if (last.seq <= UINT64_MAX - 2 * kSlots) {
    uint64_t seq = last.seq / kSlots * kSlots + slot;
    if (seq <= last.seq) seq += kSlots;
    *out = StreamId{last.ms, seq};
    return true;
  }
  if (last.ms == UINT64_MAX) return false;
  *out = StreamId{last.ms + 1, slot};
  return true;
}

// Removes the entries `ids` (all their instances) of the key's stream as one op, raising
// max-deleted-id when `raise_max_deleted` (XDEL; trimming leaves it, as Redis 7.0 does).
void EmitRemove(CommandContext& ctx, std::string_view key, const StreamValue& s,
                const std::vector<StreamId>& ids, bool raise_max_deleted) {
  StreamMeta meta = s.meta();
  if (raise_max_deleted) {
    for (const StreamId& id : ids) meta.max_deleted = std::max(meta.max_deleted, id);
  }
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  std::vector<v1::StreamRef> refs;
  for (const StreamId& id : ids) {
    auto it = s.items().find(id);
    if (it == s.items().end()) continue;
    for (const StreamValue::Instance& in : it->second.instances) {
      v1::StreamRef r;
      SetStreamId(id, r.mutable_id());
      r.set_region(std::string(regions.Name(in.tag.region)));
      r.set_seq(in.tag.seq);
      r.set_idx(in.tag.idx);
      refs.push_back(std::move(r));
    }
  }
  ctx.region->EmitStreamOp(key, [&](crdt::Hlc, v1::Op* op) {
    v1::StreamRemove* rem = op->mutable_xdel();
    for (v1::StreamRef& r : refs) *rem->add_entries() = std::move(r);
    SetStreamMeta(meta, rem->mutable_meta());
  });
}

// ---- XADD / XTRIM ----

void XAdd(CommandContext& ctx) {
  StreamTrimArgs args;
  const int idpos = ParseStreamTrimArgs(ctx, true, &args);
  if (idpos < 0) return;
  const size_t field_pos = static_cast<size_t>(idpos) + 1;
  const size_t argc = ctx.args.size();
  if (argc < field_pos + 2 || (argc - field_pos) % 2 == 1) {
    ReplyArityError(ctx);
    return;
  }
  if (args.id_given && args.seq_given && args.id == StreamId{0, 0}) {
    ctx.reply->Error("ERR The ID specified in XADD must be greater than 0-0");
    return;
  }
  std::string_view key = ctx.args[1];
  const StreamValue* s;
  if (!LookupStream(ctx, key, &s)) return;
  if (s == nullptr && args.nomkstream) {
    ctx.reply->Null();
    return;
  }
  const StreamMeta meta = s != nullptr ? s->meta() : StreamMeta{};
  const StreamId last = meta.last_id;
  if (last == kMaxId) {
    ctx.reply->Error("ERR The stream has exhausted the last possible ID, unable to add more items");
    return;
  }
  StreamId id;
  constexpr std::string_view kErrSmall =
      "ERR The ID specified in XADD is equal or smaller than the target stream top item";
  if (!args.id_given) {
    const int64_t now = std::max<int64_t>(0, ctx.region->wall_ms());
    if (!NextAutoId(last, static_cast<uint64_t>(now), ctx.region->stream_slot(), &id)) {
      ctx.reply->Error(
          "ERR The stream has exhausted the last possible ID, unable to add more items");
      return;
    }
  } else {
    id = args.id;
    if (!args.seq_given) {  // <ms>-*
      if (id.ms == last.ms) {
        if (last.seq == UINT64_MAX) {  // redis 7.0 answers this one with ERANGE's message
          ctx.reply->Error("ERR Elements are too large to be stored");
          return;
        }
        id.seq = last.seq + 1;
      } else if (id.ms > last.ms) {
        id.seq = 0;
      } else {
        ctx.reply->Error(kErrSmall);
        return;
      }
    }
    if (id <= last) {
      ctx.reply->Error(kErrSmall);
      return;
    }
  }
  if (s == nullptr) ctx.region->PrepareCreate(key);
  StreamMeta next = meta;
  next.last_id = id;
  ++next.entries_added;
  ctx.region->NameEvents("xadd", kNotifyStream);
  ctx.region->EmitStreamOp(key, [&](crdt::Hlc, v1::Op* op) {
    v1::StreamAdd* add = op->mutable_xadd();
    v1::StreamEntry* e = add->add_entries();
    SetStreamId(id, e->mutable_id());
    for (size_t i = field_pos; i < argc; ++i) e->add_fields(ctx.args[i].data(), ctx.args[i].size());
    SetStreamMeta(next, add->mutable_meta());
  });
  ctx.reply->Bulk(StreamIdText(id));
  if (args.strategy != StreamTrimArgs::Strategy::kNone) {
    const StreamValue& now = *ctx.region->Find(key)->stream();
    const std::vector<StreamId> victims = StreamTrimVictims(now, args);
    if (!victims.empty()) {
      ctx.region->NameEvents("xtrim", kNotifyStream);
      EmitRemove(ctx, key, now, victims, false);
    }
  }
}

void XTrim(CommandContext& ctx) {
  StreamTrimArgs args;
  if (ParseStreamTrimArgs(ctx, false, &args) < 0) return;
  const StreamValue* s;
  if (!LookupStream(ctx, ctx.args[1], &s)) return;
  if (s == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  const std::vector<StreamId> victims = StreamTrimVictims(*s, args);
  if (!victims.empty()) {
    ctx.region->NameEvents("xtrim", kNotifyStream);
    EmitRemove(ctx, ctx.args[1], *s, victims, false);
  }
  ctx.reply->Integer(static_cast<int64_t>(victims.size()));
}

// XDEL key id [id ...]
void XDel(CommandContext& ctx) {
  const StreamValue* s;
  if (!LookupStream(ctx, ctx.args[1], &s)) return;
  if (s == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  std::vector<StreamId> ids;
  if (!ParseStreamIdsOrReply(ctx, 2, &ids)) return;
  std::vector<StreamId> found;
  for (const StreamId& id : ids) {
    if (s->items().count(id) > 0 && std::find(found.begin(), found.end(), id) == found.end()) {
      found.push_back(id);
    }
  }
  if (!found.empty()) EmitRemove(ctx, ctx.args[1], *s, found, true);
  ctx.reply->Integer(static_cast<int64_t>(found.size()));
}

// ---- Reads ----

// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n]
void RangeGeneric(CommandContext& ctx, bool rev) {
  std::string_view start_arg = rev ? ctx.args[3] : ctx.args[2];
  std::string_view end_arg = rev ? ctx.args[2] : ctx.args[3];
  StreamId start, end;
  if (!ParseStreamBoundOrReply(ctx, start_arg, /*start=*/true, &start)) return;
  if (!ParseStreamBoundOrReply(ctx, end_arg, /*start=*/false, &end)) return;
  int64_t count = -1;
  for (size_t j = 4; j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "count") && j + 1 < ctx.args.size()) {
      if (!crdt::ParseRedisInt(ctx.args[j + 1], &count)) {
        ctx.reply->Error(kErrNotInteger);
        return;
      }
      if (count < 0) count = 0;
      ++j;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  const StreamValue* s;
  if (!LookupStream(ctx, ctx.args[1], &s)) return;
  if (s == nullptr) {
    ctx.reply->ArrayLen(0);
    return;
  }
  if (count == 0) {
    ctx.reply->NullArray();
    return;
  }
  std::vector<StreamValue::Items::const_iterator> out;
  if (start <= end) {
    auto lo = s->items().lower_bound(start);
    auto hi = s->items().upper_bound(end);
    if (!rev) {
      for (auto it = lo; it != hi && (count < 0 || static_cast<int64_t>(out.size()) < count);
           ++it) {
        out.push_back(it);
      }
    } else {
      for (auto it = hi; it != lo && (count < 0 || static_cast<int64_t>(out.size()) < count);) {
        --it;
        out.push_back(it);
      }
    }
  }
  ctx.reply->ArrayLen(out.size());
  for (const auto& it : out) ReplyStreamEntry(ctx, it->first, it->second);
}

void XRange(CommandContext& ctx) { RangeGeneric(ctx, false); }
void XRevRange(CommandContext& ctx) { RangeGeneric(ctx, true); }

void XLen(CommandContext& ctx) {
  const StreamValue* s;
  if (!LookupStream(ctx, ctx.args[1], &s)) return;
  ctx.reply->Integer(s == nullptr ? 0 : static_cast<int64_t>(s->size()));
}

// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]
void XRead(CommandContext& ctx) {
  const auto& a = ctx.args;
  XReadArgs x;
  if (!ParseXReadArgs(ctx, /*xreadgroup=*/false, &x)) return;
  int64_t timeout = x.timeout;
  int64_t count = x.count;
  const size_t streams_arg = x.streams_arg;
  const size_t n = x.n;
  std::vector<StreamId> ids(n);
  std::vector<bool> dollar(n, false);
  for (size_t k = 0; k < n; ++k) {
    const StreamValue* s;
    if (!LookupStream(ctx, a[streams_arg + k], &s)) return;
    std::string_view arg = a[streams_arg + n + k];
    if (arg == "$") {
      ids[k] = s != nullptr ? s->meta().last_id : StreamId{0, 0};
      dollar[k] = true;
      continue;
    }
    if (arg == ">") {
      ctx.reply->Error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
          "<consumer> option.");
      return;
    }
    if (!ParseStreamIdOrReply(ctx, arg, 0, true, &ids[k])) return;
  }
  // Serve the streams that have an entry after their id.
  struct Served {
    std::string_view key;
    const StreamValue* s;
    StreamId after;
  };
  std::vector<Served> served;
  for (size_t k = 0; k < n; ++k) {
    const crdt::Entry* e = ctx.region->Lookup(a[streams_arg + k]);
    const StreamValue* s = e == nullptr ? nullptr : e->stream();
    if (s == nullptr || s->items().empty()) continue;
    if (s->items().rbegin()->first > ids[k]) served.push_back({a[streams_arg + k], s, ids[k]});
  }
  if (!served.empty()) {
    const bool resp3 = ctx.reply->protocol() == 3;
    if (resp3) {
      ctx.reply->MapLen(served.size());
    } else {
      ctx.reply->ArrayLen(served.size());
    }
    for (const Served& x : served) {
      if (!resp3) ctx.reply->ArrayLen(2);
      ctx.reply->Bulk(x.key);
      std::vector<StreamValue::Items::const_iterator> out;
      for (auto it = x.s->items().upper_bound(x.after);
           it != x.s->items().end() && (count == 0 || static_cast<int64_t>(out.size()) < count);
           ++it) {
        out.push_back(it);
      }
      ctx.reply->ArrayLen(out.size());
      for (const auto& it : out) ReplyStreamEntry(ctx, it->first, it->second);
    }
    return;
  }
  if (timeout < 0) {
    ctx.reply->NullArray();
    return;
  }
  // Block. A re-run must wait for entries after the ids resolved now: "$" becomes the id.
  std::vector<std::string> rewritten(a.begin(), a.end());
  for (size_t k = 0; k < n; ++k) {
    if (dollar[k]) rewritten[streams_arg + n + k] = StreamIdText(ids[k]);
  }
  BlockXRead(ctx, x, std::move(rewritten));
}

// XSETID key id [ENTRIESADDED n] [MAXDELETEDID id]
void XSetId(CommandContext& ctx) {
  const auto& a = ctx.args;
  StreamId id;
  if (!ParseStreamIdOrReply(ctx, a[2], 0, true, &id)) return;
  bool has_added = false;
  bool has_max = false;
  int64_t added = 0;
  StreamId max_deleted;
  for (size_t i = 3; i < a.size(); ++i) {
    const size_t more = a.size() - i - 1;
    if (EqualsIgnoreCase(a[i], "entriesadded") && more > 0) {
      if (!crdt::ParseRedisInt(a[i + 1], &added)) {
        ctx.reply->Error(kErrNotInteger);
        return;
      }
      if (added < 0) {
        ctx.reply->Error("ERR entries_added must be positive");
        return;
      }
      has_added = true;
      ++i;
    } else if (EqualsIgnoreCase(a[i], "maxdeletedid") && more > 0) {
      if (!ParseStreamIdOrReply(ctx, a[i + 1], 0, true, &max_deleted)) return;
      if (id < max_deleted) {
        ctx.reply->Error(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
        return;
      }
      has_max = true;
      ++i;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  const StreamValue* s;
  if (!LookupExistingStream(ctx, a[1], &s)) return;
  if (!s->items().empty() && id < s->items().rbegin()->first) {
    ctx.reply->Error("ERR The ID specified in XSETID is smaller than the target stream top item");
    return;
  }
  if (has_added && static_cast<uint64_t>(added) < s->size()) {
    ctx.reply->Error(
        "ERR The entries_added specified in XSETID is smaller than the target "
        "stream length");
    return;
  }
  StreamMeta meta = s->meta();
  meta.last_id = id;
  if (has_added) meta.entries_added = static_cast<uint64_t>(added);
  // Redis 7.0 takes MAXDELETEDID 0-0 as "not given".
  if (has_max && max_deleted != StreamId{0, 0}) meta.max_deleted = max_deleted;
  ctx.region->NameEvents("xsetid", kNotifyStream);
  ctx.region->EmitStreamOp(a[1], [&](crdt::Hlc, v1::Op* op) {
    SetStreamMeta(meta, op->mutable_xmeta()->mutable_meta());
  });
  ctx.reply->Ok();
}

// ---- XINFO ----

void ReplyFirstLast(CommandContext& ctx, const StreamValue& s, bool first) {
  if (s.items().empty()) {
    ctx.reply->Null();
    return;
  }
  if (first) {
    ReplyStreamEntry(ctx, s.items().begin()->first, s.items().begin()->second);
  } else {
    ReplyStreamEntry(ctx, s.items().rbegin()->first, s.items().rbegin()->second);
  }
}

// XINFO STREAM key [FULL [COUNT n]]. radix-tree-keys / -nodes describe Redis's storage; they are
// estimated as Redis would lay out entries added in order (100 per node).
void XInfoStream(CommandContext& ctx) {
  const auto& a = ctx.args;
  const StreamValue* sp;
  if (!LookupExistingStream(ctx, a[2], &sp)) return;
  const StreamValue& s = *sp;
  bool full = false;
  int64_t count = 10;
  const std::string syntax =
      absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                   std::string(a[1].substr(0, 128)), "'. Try XINFO HELP.");
  if (a.size() > 3) {
    if (!EqualsIgnoreCase(a[3], "full")) {
      ctx.reply->Error(syntax);
      return;
    }
    full = true;
    if (a.size() > 4) {
      if (a.size() != 6 || !EqualsIgnoreCase(a[4], "count")) {
        ctx.reply->Error(syntax);
        return;
      }
      if (!crdt::ParseRedisInt(a[5], &count)) {
        ctx.reply->Error(kErrNotInteger);
        return;
      }
      if (count < 0) count = 10;
    }
  }
  const StreamMeta meta = s.meta();
  const uint64_t keys = (s.size() + 99) / 100;
  const StreamId first = s.items().empty() ? StreamId{0, 0} : s.items().begin()->first;
  ctx.reply->MapLen(full ? 9 : 10);
  ctx.reply->Bulk("length");
  ctx.reply->Integer(static_cast<int64_t>(s.size()));
  ctx.reply->Bulk("radix-tree-keys");
  ctx.reply->Integer(static_cast<int64_t>(keys));
  ctx.reply->Bulk("radix-tree-nodes");
  ctx.reply->Integer(static_cast<int64_t>(keys + 1));
  ctx.reply->Bulk("last-generated-id");
  ctx.reply->Bulk(StreamIdText(meta.last_id));
  ctx.reply->Bulk("max-deleted-entry-id");
  ctx.reply->Bulk(StreamIdText(meta.max_deleted));
  ctx.reply->Bulk("entries-added");
  ctx.reply->Integer(static_cast<int64_t>(meta.entries_added));
  ctx.reply->Bulk("recorded-first-entry-id");
  ctx.reply->Bulk(StreamIdText(first));
  if (!full) {
    ctx.reply->Bulk("groups");
    ctx.reply->Integer(static_cast<int64_t>(StreamGroupCount(s)));
    ctx.reply->Bulk("first-entry");
    ReplyFirstLast(ctx, s, true);
    ctx.reply->Bulk("last-entry");
    ReplyFirstLast(ctx, s, false);
    return;
  }
  ctx.reply->Bulk("entries");
  const size_t n = count == 0 ? s.size() : std::min<size_t>(s.size(), static_cast<size_t>(count));
  ctx.reply->ArrayLen(n);
  size_t k = 0;
  for (auto it = s.items().begin(); k < n; ++it, ++k) ReplyStreamEntry(ctx, it->first, it->second);
  ctx.reply->Bulk("groups");
  XInfoFullGroups(ctx, s, count);
}

void XInfo(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  const size_t argc = ctx.args.size();
  struct Sub {
    std::string_view name;
    int arity;
  };
  static constexpr Sub kSubs[] = {{"stream", -3}, {"groups", 3}, {"consumers", 4}, {"help", 2}};
  bool known = false;
  for (const Sub& x : kSubs) {
    if (!EqualsIgnoreCase(sub, x.name)) continue;
    known = true;
    const bool bad =
        x.arity > 0 ? argc != static_cast<size_t>(x.arity) : argc < static_cast<size_t>(-x.arity);
    if (bad) {
      ctx.reply->Error(absl::StrCat("ERR wrong number of arguments for 'xinfo|",
                                    std::string(x.name), "' command"));
      return;
    }
  }
  if (!known) {
    ctx.reply->Error(absl::StrCat("ERR unknown subcommand '", std::string(sub.substr(0, 128)),
                                  "'. Try XINFO HELP."));
    return;
  }
  if (EqualsIgnoreCase(sub, "help")) {
    static constexpr std::string_view kHelp[] = {
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help."};
    ctx.reply->ArrayLen(std::size(kHelp));
    for (std::string_view line : kHelp) ctx.reply->SimpleString(line);
    return;
  }
  if (EqualsIgnoreCase(sub, "stream")) {
    XInfoStream(ctx);
    return;
  }
  if (EqualsIgnoreCase(sub, "groups")) {
    const StreamValue* s;
    if (!LookupExistingStream(ctx, ctx.args[2], &s)) return;
    XInfoGroups(ctx, *s);
    return;
  }
  const StreamValue* s;  // CONSUMERS
  if (!LookupExistingStream(ctx, ctx.args[2], &s)) return;
  XInfoConsumers(ctx, *s);
}

}  // namespace

void RegisterStreamFamily(CommandTable* t) {
  constexpr std::string_view kG = "stream";
  t->Register({"xadd", -5, kWrite | kDenyOom | kFast, 1, 1, 1, XAdd, kG,
               "Appends a new message to a stream. Creates the key if it doesn't exist.", "5.0.0"});
  t->Register({"xtrim", -4, kWrite, 1, 1, 1, XTrim, kG,
               "Deletes messages from the beginning of a stream.", "5.0.0"});
  t->Register({"xdel", -3, kWrite | kFast, 1, 1, 1, XDel, kG,
               "Returns the number of messages after removing them from a stream.", "5.0.0"});
  t->Register({"xrange", -4, kReadOnly, 1, 1, 1, XRange, kG,
               "Returns the messages from a stream within a range of IDs.", "5.0.0"});
  t->Register({"xrevrange", -4, kReadOnly, 1, 1, 1, XRevRange, kG,
               "Returns the messages from a stream within a range of IDs in reverse order.",
               "5.0.0"});
  t->Register({"xlen", 2, kReadOnly | kFast, 1, 1, 1, XLen, kG,
               "Return the number of messages in a stream.", "5.0.0"});
  t->Register({"xread", -4, kReadOnly | kBlocking | kMovableKeys, 0, 0, 0, XRead, kG,
               "Returns messages from multiple streams with IDs greater than the ones requested. "
               "Blocks until a message is available otherwise.",
               "5.0.0"});
  t->Register({"xsetid", -3, kWrite | kDenyOom | kFast, 1, 1, 1, XSetId, kG,
               "An internal command for replicating stream values.", "5.0.0"});
  t->Register({"xinfo", -2, 0, 0, 0, 0, XInfo, kG, "A container for stream introspection commands.",
               "5.0.0"});
}

}  // namespace activekv::server
