// Stream consumer groups (Redis 7.0's t_stream.c): XGROUP XREADGROUP and XINFO GROUPS /
// CONSUMERS (the pending-list commands are stream_pel_family.cc), on crdt/values/stream_groups.h.
// Replies and errors as redis-server 7.0; what a group does across regions is
// docs/crdt-semantics.md, "Streams".
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
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
#include "region-server/stream_group_ops.h"

namespace activekv::server {
namespace {

using crdt::StreamGroups;
using crdt::StreamId;
using crdt::StreamMeta;
using crdt::StreamValue;
using Group = StreamGroups::Group;

constexpr int64_t kInvalidRead = -1;  // Redis's SCG_INVALID_ENTRIES_READ

StreamId FirstId(const StreamValue& s) {
  return s.items().empty() ? StreamId{0, 0} : s.items().begin()->first;
}

// Redis 7.0's streamRangeHasTombstones(s, start, NULL).
bool HasTombstonesFrom(const StreamValue& s, const StreamId& start) {
  const StreamMeta m = s.meta();
  if (s.size() == 0 || m.max_deleted == StreamId{0, 0}) return false;
  if (FirstId(s) > m.max_deleted) return false;
  return start <= m.max_deleted;
}

// Redis 7.0's streamEstimateDistanceFromFirstEverEntry.
int64_t EstimateDistance(const StreamValue& s, const StreamId& id) {
  const StreamMeta m = s.meta();
  const auto added = static_cast<int64_t>(m.entries_added);
  const auto length = static_cast<int64_t>(s.size());
  if (m.entries_added == 0) return 0;
  if (length == 0 && id <= m.last_id) return added;
  if (id == m.last_id) return added;
  if (id > m.last_id) return kInvalidRead;
  const StreamId first = FirstId(s);
  if (m.max_deleted == StreamId{0, 0} || m.max_deleted < first) {
    if (id < first) return added - length;
    if (id == first) return added - length + 1;
  }
  return kInvalidRead;
}

// Redis 7.0's streamReplyWithCGLag: false when the lag is unknown.
bool GroupLag(const StreamValue& s, const StreamGroups::View& last, int64_t* lag) {
  const StreamMeta m = s.meta();
  const auto added = static_cast<int64_t>(m.entries_added);
  const StreamId last_id{last.last_ms, last.last_seq};
  if (m.entries_added == 0) {
    *lag = 0;
    return true;
  }
  if (last.entries_read != kInvalidRead && !HasTombstonesFrom(s, last_id)) {
    *lag = added - last.entries_read;
    return true;
  }
  const int64_t read = EstimateDistance(s, last_id);
  if (read == kInvalidRead) return false;
  *lag = added - read;
  return true;
}

size_t ConsumerPending(const Group& g, std::string_view consumer) {
  size_t n = 0;
  for (const auto& [id, p] : g.pel) {
    if (p.shown().consumer == consumer) ++n;
  }
  return n;
}

void SubcommandSyntaxError(CommandContext& ctx, std::string_view container) {
  ctx.reply->Error(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                std::string(ctx.args[1].substr(0, 128)), "'. Try ",
                                std::string(container), " HELP."));
}

// ---- XGROUP ----

void XGroupHelp(CommandContext& ctx) {
  static constexpr std::string_view kHelp[] = {
      "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CREATE <key> <groupname> <id|$> [option]",
      "    Create a new consumer group. Options are:",
      "    * MKSTREAM",
      "      Create the empty stream if it does not exist.",
      "    * ENTRIESREAD entries_read",
      "      Set the group's entries_read counter (internal use).",
      "CREATECONSUMER <key> <groupname> <consumer>",
      "    Create a new consumer in the specified group.",
      "DELCONSUMER <key> <groupname> <consumer>",
      "    Remove the specified consumer.",
      "DESTROY <key> <groupname>",
      "    Remove the specified group.",
      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
      "    Set the current group ID and entries_read counter.",
      "HELP",
      "    Prints this help."};
  ctx.reply->ArrayLen(std::size(kHelp));
  for (std::string_view line : kHelp) ctx.reply->SimpleString(line);
}

void XGroup(CommandContext& ctx) {
  const auto& a = ctx.args;
  const size_t argc = a.size();
  std::string sub(a[1]);
  absl::AsciiStrToLower(&sub);
  struct Sub {
    std::string_view name;
    int arity;
  };
  static constexpr Sub kSubs[] = {{"create", -5},        {"setid", -5},      {"destroy", 4},
                                  {"createconsumer", 5}, {"delconsumer", 5}, {"help", 2}};
  bool known = false;
  for (const Sub& x : kSubs) {
    if (sub != x.name) continue;
    known = true;
    const bool bad =
        x.arity > 0 ? argc != static_cast<size_t>(x.arity) : argc < static_cast<size_t>(-x.arity);
    if (bad) {
      ctx.reply->Error(
          absl::StrCat("ERR wrong number of arguments for 'xgroup|", sub, "' command"));
      return;
    }
  }
  if (!known) {
    ctx.reply->Error(absl::StrCat("ERR unknown subcommand '", std::string(a[1].substr(0, 128)),
                                  "'. Try XGROUP HELP."));
    return;
  }
  if (sub == "help") {
    XGroupHelp(ctx);
    return;
  }
  const bool create = sub == "create";
  const bool setid = sub == "setid";
  bool mkstream = false;
  int64_t entries_read = kInvalidRead;
  for (size_t i = 5; i < argc;) {
    if (create && EqualsIgnoreCase(a[i], "mkstream")) {
      mkstream = true;
      ++i;
    } else if ((create || setid) && EqualsIgnoreCase(a[i], "entriesread") && i + 1 < argc) {
      if (!crdt::ParseRedisInt(a[i + 1], &entries_read)) {
        ctx.reply->Error(kErrNotInteger);
        return;
      }
      if (entries_read < 0 && entries_read != kInvalidRead) {
        ctx.reply->Error("ERR value for ENTRIESREAD must be positive or -1");
        return;
      }
      i += 2;
    } else {
      SubcommandSyntaxError(ctx, "XGROUP");
      return;
    }
  }
  // After the options, as Redis 7.0: a bad ENTRIESREAD value is reported first.
  if ((create && argc > 8) || (setid && argc > 7)) {
    SubcommandSyntaxError(ctx, "XGROUP");
    return;
  }
  std::string_view key = a[2];
  std::string_view name = a[3];
  const StreamValue* s;
  if (!LookupStream(ctx, key, &s)) return;
  if (s == nullptr && !mkstream) {
    ctx.reply->Error(
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
        "to use the MKSTREAM option to create an empty stream automatically.");
    return;
  }
  const Group* g = FindGroup(s, name);
  if (g == nullptr && (setid || sub == "createconsumer" || sub == "delconsumer")) {
    ctx.reply->Error(absl::StrCat("NOGROUP No such consumer group '", CText(name),
                                  "' for key name '", CText(key), "'"));
    return;
  }
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  if (create) {
    StreamId id;
    if (a[4] == "$") {
      id = s != nullptr ? s->meta().last_id : StreamId{0, 0};
    } else if (!ParseStreamIdOrReply(ctx, a[4], 0, true, &id)) {
      return;
    }
    if (g != nullptr) {
      ctx.reply->Error("BUSYGROUP Consumer Group name already exists");
      return;
    }
    // The stream's metadata as a creating view: a group created concurrently with a DEL keeps
    // the (empty) stream, as a write would.
    const StreamMeta meta = s != nullptr ? s->meta() : StreamMeta{};
    if (s == nullptr) ctx.region->PrepareCreate(key);
    ctx.region->EmitStreamOp(key, [&](crdt::Hlc, v1::Op* op) {
      SetStreamMeta(meta, op->mutable_xmeta()->mutable_meta());
    });
    const crdt::Entry* e = ctx.region->Find(key);
    const Group* old = e->stream()->groups().groups().count(std::string(name)) > 0
                           ? &e->stream()->groups().groups().at(std::string(name))
                           : nullptr;
    ctx.region->NameEvents("xgroup-create", kNotifyStream);
    EmitGroup(ctx, key, name, [&](v1::StreamGroupChange* out) {
      out->set_create(true);
      out->set_set_last(true);
      SetStreamId(id, out->mutable_last_id());
      out->set_entries_read(entries_read);
      if (old == nullptr) return;
      // Leftovers of a destroyed group (delivered concurrently with its DESTROY) go.
      for (const auto& [r, v] : old->views) {
        v1::StreamTag* t = out->add_views_removed();
        t->set_region(std::string(regions.Name(r)));
        t->set_seq(v.seq);
      }
      for (const auto& [c, x] : old->consumers) {
        v1::StreamConsumerChange* cc = out->add_consumers();
        cc->set_name(c);
        for (const crdt::Tag& t : x.tags) SetTag(t, regions, cc->add_removed());
      }
      for (const auto& [pid, p] : old->pel) {
        v1::StreamPendingChange* pc = out->add_pending();
        SetStreamId(PelId(pid), pc->mutable_id());
        for (const auto& in : p.instances) SetTag(in.tag, regions, pc->add_removed());
      }
    });
    ctx.reply->Ok();
    return;
  }
  if (setid) {
    StreamId id;
    if (a[4] == "$") {
      id = s->meta().last_id;
    } else if (!ParseStreamIdOrReply(ctx, a[4], 0, false, &id)) {
      return;
    }
    ctx.region->NameEvents("xgroup-setid", kNotifyStream);
    EmitGroup(ctx, key, name, [&](v1::StreamGroupChange* out) {
      out->set_set_last(true);
      SetStreamId(id, out->mutable_last_id());
      out->set_entries_read(entries_read);
      for (const auto& [r, v] : g->views) {
        v1::StreamTag* t = out->add_views_removed();
        t->set_region(std::string(regions.Name(r)));
        t->set_seq(v.seq);
      }
    });
    ctx.reply->Ok();
    return;
  }
  if (sub == "destroy") {
    if (g == nullptr) {
      ctx.reply->Integer(0);
      return;
    }
    ctx.region->NameEvents("xgroup-destroy", kNotifyStream);
    EmitGroup(ctx, key, name, [&](v1::StreamGroupChange* out) {
      for (const crdt::Tag& t : g->created) SetTag(t, regions, out->add_destroyed());
    });
    ctx.reply->Integer(1);
    return;
  }
  std::string_view consumer = a[4];
  const bool exists = g->consumers.count(std::string(consumer)) > 0;
  if (sub == "createconsumer") {
    if (!exists) {
      ctx.region->NameEvents("xgroup-createconsumer", kNotifyStream);
      EmitGroup(ctx, key, name, [&](v1::StreamGroupChange* out) {
        TouchConsumer(ctx, g, consumer, StreamNowMs(ctx), out);
      });
    }
    ctx.reply->Integer(exists ? 0 : 1);
    return;
  }
  // DELCONSUMER: the consumer and its pending entries.
  if (!exists) {
    ctx.reply->Integer(0);
    return;
  }
  const size_t pending = ConsumerPending(*g, consumer);
  ctx.region->NameEvents("xgroup-delconsumer", kNotifyStream);
  EmitGroup(ctx, key, name, [&](v1::StreamGroupChange* out) {
    v1::StreamConsumerChange* c = out->add_consumers();
    c->set_name(consumer.data(), consumer.size());
    for (const crdt::Tag& t : g->consumers.at(std::string(consumer)).tags) {
      SetTag(t, regions, c->add_removed());
    }
    for (const auto& [pid, p] : g->pel) {
      if (p.shown().consumer != consumer) continue;
      v1::StreamPendingChange* pc = out->add_pending();
      SetStreamId(PelId(pid), pc->mutable_id());
      for (const auto& in : p.instances) {
        if (in.consumer == consumer) SetTag(in.tag, regions, pc->add_removed());
      }
    }
  });
  ctx.reply->Integer(static_cast<int64_t>(pending));
}

// ---- XREADGROUP ----

// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key [key ...] id [id ...]
void XReadGroup(CommandContext& ctx) {
  const auto& a = ctx.args;
  XReadArgs x;
  if (!ParseXReadArgs(ctx, /*xreadgroup=*/true, &x)) return;
  int64_t timeout = x.timeout;
  int64_t count = x.count;
  const size_t streams_arg = x.streams_arg;
  const size_t n = x.n;
  const bool noack = x.noack;
  const std::string_view group_name = x.group;
  const std::string_view consumer = x.consumer;
  const bool has_group = x.has_group;
  if (!has_group) {
    ctx.reply->Error("ERR Missing GROUP option for XREADGROUP");
    return;
  }
  std::vector<StreamId> ids(n);
  std::vector<bool> newer(n, false);
  for (size_t k = 0; k < n; ++k) {
    std::string_view key = a[streams_arg + k];
    const StreamValue* s;
    if (!LookupStream(ctx, key, &s)) return;
    if (FindGroup(s, group_name) == nullptr) {
      ctx.reply->Error(absl::StrCat("NOGROUP No such key '", CText(key), "' or consumer group '",
                                    CText(group_name), "' in XREADGROUP with GROUP option"));
      return;
    }
    std::string_view arg = a[streams_arg + n + k];
    if (arg == "$") {
      ctx.reply->Error(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
          "history of this consumer by specifying a proper ID, or use the > ID to get new "
          "messages. The $ ID would just return an empty result set.");
      return;
    }
    if (arg == ">") {
      newer[k] = true;
      continue;
    }
    if (!ParseStreamIdOrReply(ctx, arg, 0, true, &ids[k])) return;
  }
  const int64_t now = StreamNowMs(ctx);
  const bool resp3 = ctx.reply->protocol() == 3;
  // Streams are served one after another, as Redis does: each stream's group op is applied
  // before the next stream is read, so a key named twice sees its first serving. The per-stream
  // replies go to `body` because their count is known only at the end.
  std::string body;
  resp::ReplyBuilder body_reply(&body, ctx.reply->protocol());
  size_t served = 0;
  for (size_t k = 0; k < n; ++k) {
    std::string_view key = a[streams_arg + k];
    const StreamValue* s = ctx.region->Find(key)->stream();
    const Group* g = FindGroup(s, group_name);
    std::vector<std::pair<StreamId, const StreamValue::Item*>> entries;  // null: deleted
    if (!newer[k]) {  // the consumer's history: always served
      StreamId start = ids[k];
      if (start != StreamId{UINT64_MAX, UINT64_MAX}) {
        start =
            start.seq == UINT64_MAX ? StreamId{start.ms + 1, 0} : StreamId{start.ms, start.seq + 1};
      }
      for (auto it = g->pel.lower_bound(PelKeyOf(start));
           it != g->pel.end() && (count == 0 || static_cast<int64_t>(entries.size()) < count);
           ++it) {
        if (it->second.shown().consumer != consumer) continue;
        const StreamId id = PelId(it->first);
        auto item = s->items().find(id);
        entries.emplace_back(id, item == s->items().end() ? nullptr : &item->second);
      }
    } else {
      const StreamGroups::View last = g->last();
      const StreamId last_id{last.last_ms, last.last_seq};
      if (s->items().empty() || s->items().rbegin()->first <= last_id) continue;
      for (auto it = s->items().upper_bound(last_id);
           it != s->items().end() && (count == 0 || static_cast<int64_t>(entries.size()) < count);
           ++it) {
        entries.emplace_back(it->first, &it->second);
      }
    }
    ++served;
    resp::ReplyBuilder* const outer = ctx.reply;
    ctx.reply = &body_reply;
    if (!resp3) ctx.reply->ArrayLen(2);
    ctx.reply->Bulk(key);
    ctx.reply->ArrayLen(entries.size());
    std::vector<StreamId> delivered;
    for (const auto& [id, item] : entries) {
      if (item != nullptr) {
        ReplyStreamEntry(ctx, id, *item);
        delivered.push_back(id);
      } else {
        ctx.reply->ArrayLen(2);
        ctx.reply->Bulk(StreamIdText(id));
        ctx.reply->NullArray();
      }
    }
    ctx.reply = outer;
    // The group op (after the entries were rendered: it may change the state they point into).
    // The consumer's first read of this group creates it (Redis notifies that); the rest of the
    // group op (deliveries, seen time) fires nothing.
    ctx.region->NameEvents(g->consumers.count(std::string(consumer)) > 0 ? std::string_view()
                                                                         : "xgroup-createconsumer",
                           kNotifyStream);
    if (!newer[k]) {
      EmitGroup(ctx, key, group_name, [&](v1::StreamGroupChange* out) {
        TouchConsumer(ctx, g, consumer, now, out);
        for (const StreamId& id : delivered) {
          const auto& p = g->pel.at(PelKeyOf(id)).shown();
          PendingChange(ctx, g, id, true, consumer, now, p.count + 1, out);
        }
      });
      continue;
    }
    StreamGroups::View last = g->last();
    for (const StreamId& id : delivered) {  // Redis's per-entry entries_read bookkeeping
      if (last.entries_read != kInvalidRead && !HasTombstonesFrom(*s, id)) {
        ++last.entries_read;
      } else if (s->meta().entries_added != 0) {
        last.entries_read = EstimateDistance(*s, id);
      }
      last.last_ms = id.ms;
      last.last_seq = id.seq;
    }
    EmitGroup(ctx, key, group_name, [&](v1::StreamGroupChange* out) {
      TouchConsumer(ctx, g, consumer, now, out);
      out->set_set_last(true);
      SetStreamId(StreamId{last.last_ms, last.last_seq}, out->mutable_last_id());
      out->set_entries_read(last.entries_read);
      if (noack) return;
      for (const StreamId& id : delivered) PendingChange(ctx, g, id, true, consumer, now, 1, out);
    });
  }
  if (served == 0) {
    if (timeout < 0) {
      ctx.reply->NullArray();
      return;
    }
    BlockXRead(ctx, x, std::vector<std::string>(a.begin(), a.end()));
    return;
  }
  if (resp3) {
    ctx.reply->MapLen(served);
  } else {
    ctx.reply->ArrayLen(served);
  }
  ctx.reply->Raw(body);
}

}  // namespace

// ---- XINFO GROUPS / CONSUMERS (called by stream_family.cc's XINFO) ----

namespace {
// XINFO's "entries-read" and "lag" fields of a group (null when unknown, as Redis).
void ReplyReadAndLag(CommandContext& ctx, const StreamValue& s, const StreamGroups::View& last) {
  ctx.reply->Bulk("entries-read");
  if (last.entries_read != kInvalidRead) {
    ctx.reply->Integer(last.entries_read);
  } else {
    ctx.reply->Null();
  }
  ctx.reply->Bulk("lag");
  int64_t lag;
  if (GroupLag(s, last, &lag)) {
    ctx.reply->Integer(lag);
  } else {
    ctx.reply->Null();
  }
}

// The groups that exist (a destroyed one may linger until its removal is collected), by name.
std::vector<std::pair<const std::string*, const Group*>> VisibleGroups(const StreamValue& s) {
  std::vector<std::pair<const std::string*, const Group*>> groups;
  for (const auto& [name, g] : s.groups().groups()) {
    if (g.exists()) groups.emplace_back(&name, &g);
  }
  return groups;
}
}  // namespace

void XInfoGroups(CommandContext& ctx, const StreamValue& s) {
  const std::vector<std::pair<const std::string*, const Group*>> groups = VisibleGroups(s);
  ctx.reply->ArrayLen(groups.size());
  for (const auto& [name, g] : groups) {
    const StreamGroups::View last = g->last();
    ctx.reply->MapLen(6);
    ctx.reply->Bulk("name");
    ctx.reply->Bulk(*name);
    ctx.reply->Bulk("consumers");
    ctx.reply->Integer(static_cast<int64_t>(g->consumers.size()));
    ctx.reply->Bulk("pending");
    ctx.reply->Integer(static_cast<int64_t>(g->pel.size()));
    ctx.reply->Bulk("last-delivered-id");
    ctx.reply->Bulk(StreamIdText(StreamId{last.last_ms, last.last_seq}));
    ReplyReadAndLag(ctx, s, last);
  }
}

void XInfoConsumers(CommandContext& ctx, const StreamValue& s) {
  const Group* g = s.groups().Find(ctx.args[3]);
  if (g == nullptr) {
    ctx.reply->Error(absl::StrCat("NOGROUP No such consumer group '", CText(ctx.args[3]),
                                  "' for key name '", CText(ctx.args[2]), "'"));
    return;
  }
  const int64_t now = StreamNowMs(ctx);
  ctx.reply->ArrayLen(g->consumers.size());
  for (const auto& [name, c] : g->consumers) {
    ctx.reply->MapLen(3);
    ctx.reply->Bulk("name");
    ctx.reply->Bulk(name);
    ctx.reply->Bulk("pending");
    ctx.reply->Integer(static_cast<int64_t>(ConsumerPending(*g, name)));
    ctx.reply->Bulk("idle");
    ctx.reply->Integer(std::max<int64_t>(0, now - c.seen_ms));
  }
}

void XInfoFullGroups(CommandContext& ctx, const StreamValue& s, int64_t count) {
  const std::vector<std::pair<const std::string*, const Group*>> groups = VisibleGroups(s);
  ctx.reply->ArrayLen(groups.size());
  for (const auto& [name, g] : groups) {
    const StreamGroups::View last = g->last();
    ctx.reply->MapLen(7);
    ctx.reply->Bulk("name");
    ctx.reply->Bulk(*name);
    ctx.reply->Bulk("last-delivered-id");
    ctx.reply->Bulk(StreamIdText(StreamId{last.last_ms, last.last_seq}));
    ReplyReadAndLag(ctx, s, last);
    ctx.reply->Bulk("pel-count");
    ctx.reply->Integer(static_cast<int64_t>(g->pel.size()));
    ctx.reply->Bulk("pending");
    const size_t n = count == 0 ? g->pel.size() : std::min<size_t>(g->pel.size(), count);
    ctx.reply->ArrayLen(n);
    size_t k = 0;
    for (auto it = g->pel.begin(); k < n; ++it, ++k) {
      const auto& p = it->second.shown();
      ctx.reply->ArrayLen(4);
      ctx.reply->Bulk(StreamIdText(PelId(it->first)));
      ctx.reply->Bulk(p.consumer);
      ctx.reply->Integer(p.delivery_ms);
      ctx.reply->Integer(static_cast<int64_t>(p.count));
    }
    ctx.reply->Bulk("consumers");
    ctx.reply->ArrayLen(g->consumers.size());
    for (const auto& [cname, c] : g->consumers) {
      std::vector<std::pair<StreamId, const StreamGroups::PendingInstance*>> mine;
      for (const auto& [id, p] : g->pel) {
        if (p.shown().consumer == cname) mine.emplace_back(PelId(id), &p.shown());
      }
      ctx.reply->MapLen(4);
      ctx.reply->Bulk("name");
      ctx.reply->Bulk(cname);
      ctx.reply->Bulk("seen-time");
      ctx.reply->Integer(c.seen_ms);
      ctx.reply->Bulk("pel-count");
      ctx.reply->Integer(static_cast<int64_t>(mine.size()));
      ctx.reply->Bulk("pending");
      const size_t m = count == 0 ? mine.size() : std::min<size_t>(mine.size(), count);
      ctx.reply->ArrayLen(m);
      for (size_t i = 0; i < m; ++i) {
        ctx.reply->ArrayLen(3);
        ctx.reply->Bulk(StreamIdText(mine[i].first));
        ctx.reply->Integer(mine[i].second->delivery_ms);
        ctx.reply->Integer(static_cast<int64_t>(mine[i].second->count));
      }
    }
  }
}

size_t StreamGroupCount(const StreamValue& s) { return VisibleGroups(s).size(); }

void RegisterStreamGroupFamily(CommandTable* t) {
  constexpr std::string_view kG = "stream";
  t->Register(
      {"xgroup", -2, 0, 0, 0, 0, XGroup, kG, "A container for consumer groups commands.", "5.0.0"});
  t->Register({"xreadgroup", -7, kWrite | kBlocking | kMovableKeys, 0, 0, 0, XReadGroup, kG,
               "Returns new or historical messages from a stream for a consumer in a group. "
               "Blocks until a message is available otherwise.",
               "5.0.0"});
}

}  // namespace activekv::server
