// A consumer group's pending entries list (Redis 7.0's t_stream.c): XACK XPENDING XCLAIM
// XAUTOCLAIM, on crdt/values/stream_groups.h. Replies and errors as redis-server 7.0; what a
// claim does across regions is docs/crdt-semantics.md, "Streams".
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/notify.h"
#include "region-server/region.h"
#include "region-server/resp/reply.h"
#include "region-server/stream_args.h"
#include "region-server/stream_group_ops.h"

namespace activekv::server {
namespace {

using crdt::StreamGroups;
using crdt::StreamId;
using crdt::StreamValue;
using Group = StreamGroups::Group;

void NoGroupError(CommandContext& ctx) {
  ctx.reply->Error(absl::StrCat("NOGROUP No such key '", CText(ctx.args[1]),
                                "' or consumer group '", CText(ctx.args[2]), "'"));
}

// The group named by ctx.args[2] of the stream at ctx.args[1] (and the stream in `*s`); null
// after replying WRONGTYPE or NOGROUP.
const Group* LookupGroupOrReply(CommandContext& ctx, const StreamValue** s) {
  if (!LookupStream(ctx, ctx.args[1], s)) return nullptr;
  const Group* g = FindGroup(*s, ctx.args[2]);
  if (g == nullptr) NoGroupError(ctx);
  return g;
}

void XAck(CommandContext& ctx) {
  const StreamValue* s;
  if (!LookupStream(ctx, ctx.args[1], &s)) return;
  const Group* g = FindGroup(s, ctx.args[2]);
  if (g == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  std::vector<StreamId> ids;
  if (!ParseStreamIdsOrReply(ctx, 3, &ids)) return;
  std::vector<StreamId> acked;
  for (const StreamId& id : ids) {
    if (g->pel.count(PelKeyOf(id)) > 0 &&
        std::find(acked.begin(), acked.end(), id) == acked.end()) {
      acked.push_back(id);
    }
  }
  if (!acked.empty()) {
    EmitGroup(ctx, ctx.args[1], ctx.args[2], [&](v1::StreamGroupChange* out) {
      for (const StreamId& id : acked) PendingChange(ctx, g, id, false, "", 0, 0, out);
    });
  }
  ctx.reply->Integer(static_cast<int64_t>(acked.size()));
}

// XPENDING key group [[IDLE min-idle] start end count [consumer]]
void XPending(CommandContext& ctx) {
  const auto& a = ctx.args;
  const size_t argc = a.size();
  const bool summary = argc == 3;
  if (argc != 3 && (argc < 6 || argc > 9)) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  int64_t min_idle = 0;
  int64_t count = 0;
  StreamId start, end;
  std::string_view consumer;
  bool has_consumer = false;
  if (!summary) {
    size_t si = 3;
    if (EqualsIgnoreCase(a[3], "idle")) {
      if (!crdt::ParseRedisInt(a[4], &min_idle)) {
        ctx.reply->Error(kErrNotInteger);
        return;
      }
      if (argc < 8) {
        ctx.reply->Error(kErrSyntax);
        return;
      }
      si += 2;
    }
    if (!crdt::ParseRedisInt(a[si + 2], &count)) {
      ctx.reply->Error(kErrNotInteger);
      return;
    }
    if (count < 0) count = 0;
    if (!ParseStreamBoundOrReply(ctx, a[si], /*start=*/true, &start)) return;
    if (!ParseStreamBoundOrReply(ctx, a[si + 1], /*start=*/false, &end)) return;
    if (si + 3 < argc) {
      consumer = a[si + 3];
      has_consumer = true;
    }
  }
  const StreamValue* s;
  const Group* g = LookupGroupOrReply(ctx, &s);
  if (g == nullptr) return;
  const int64_t now = StreamNowMs(ctx);
  if (summary) {
    ctx.reply->ArrayLen(4);
    ctx.reply->Integer(static_cast<int64_t>(g->pel.size()));
    if (g->pel.empty()) {
      ctx.reply->Null();
      ctx.reply->Null();
      ctx.reply->NullArray();
      return;
    }
    ctx.reply->Bulk(StreamIdText(PelId(g->pel.begin()->first)));
    ctx.reply->Bulk(StreamIdText(PelId(g->pel.rbegin()->first)));
    std::map<std::string, int64_t> per;
    for (const auto& [id, p] : g->pel) ++per[p.shown().consumer];
    ctx.reply->ArrayLen(per.size());
    for (const auto& [c, k] : per) {
      ctx.reply->ArrayLen(2);
      ctx.reply->Bulk(c);
      ctx.reply->BulkInteger(k);
    }
    return;
  }
  if (has_consumer && g->consumers.count(std::string(consumer)) == 0) {
    ctx.reply->ArrayLen(0);
    return;
  }
  std::vector<std::pair<StreamId, const StreamGroups::PendingInstance*>> out;
  if (start <= end) {
    for (auto it = g->pel.lower_bound(PelKeyOf(start));
         it != g->pel.end() && PelId(it->first) <= end && static_cast<int64_t>(out.size()) < count;
         ++it) {
      const auto& p = it->second.shown();
      if (has_consumer && p.consumer != consumer) continue;
      if (min_idle != 0 && now - p.delivery_ms < min_idle) continue;
      out.emplace_back(PelId(it->first), &p);
    }
  }
  ctx.reply->ArrayLen(out.size());
  for (const auto& [id, p] : out) {
    ctx.reply->ArrayLen(4);
    ctx.reply->Bulk(StreamIdText(id));
    ctx.reply->Bulk(p->consumer);
    ctx.reply->Integer(std::max<int64_t>(0, now - p->delivery_ms));
    ctx.reply->Integer(static_cast<int64_t>(p->count));
  }
}

// ---- XCLAIM / XAUTOCLAIM ----

// What a claim command has done to the pending list so far, over the group's state: a command
// may name an id twice (XCLAIM), and its second claim sees the first, as in Redis. The whole
// command is one group op, written by Emit.
class ClaimLog {
 public:
  ClaimLog(CommandContext& ctx, const Group* g, std::string_view consumer)
      : ctx_(ctx), g_(g), consumer_(consumer) {}

  struct State {
    bool pending = false;
    bool mine = false;  // owned by the claiming consumer
    int64_t delivery_ms = 0;
    uint64_t count = 0;
  };
  State Get(const StreamId& id) const {
    auto it = changed_.find(PelKeyOf(id));
    if (it != changed_.end()) return it->second;
    auto p = g_->pel.find(PelKeyOf(id));
    if (p == g_->pel.end()) return State{};
    const auto& in = p->second.shown();
    return State{true, in.consumer == consumer_, in.delivery_ms, in.count};
  }
  void Claim(const StreamId& id, int64_t delivery_ms, uint64_t count) {
    claimed_ = true;
    changed_[PelKeyOf(id)] = State{true, true, delivery_ms, count};
  }
  void Drop(const StreamId& id) { changed_[PelKeyOf(id)] = State{}; }
  void SetLast(const StreamId& id) {
    set_last_ = true;
    last_ = id;
  }

  // The group op, if the command changed anything. Claiming refreshes the consumer (creating it
  // with Redis's "xgroup-createconsumer" event when new); nothing else fires an event.
  void Emit(std::string_view key, std::string_view group, int64_t now) {
    if (changed_.empty() && !set_last_) return;
    const bool created = claimed_ && g_->consumers.count(std::string(consumer_)) == 0;
    ctx_.region->NameEvents(created ? "xgroup-createconsumer" : std::string_view(), kNotifyStream);
    EmitGroup(ctx_, key, group, [&](v1::StreamGroupChange* out) {
      if (claimed_) TouchConsumer(ctx_, g_, consumer_, now, out);
      for (const auto& [k, st] : changed_) {
        PendingChange(ctx_, g_, PelId(k), st.pending, consumer_, st.delivery_ms, st.count, out);
      }
      if (!set_last_) return;
      out->set_set_last(true);
      SetStreamId(last_, out->mutable_last_id());
      out->set_entries_read(g_->last().entries_read);
    });
  }

 private:
  CommandContext& ctx_;
  const Group* g_;
  std::string_view consumer_;
  std::map<PelKey, State> changed_;
  bool claimed_ = false;
  bool set_last_ = false;
  StreamId last_;
};

// One claimed entry of the reply: its id (JUSTID) or the entry.
void ReplyClaimed(CommandContext& ctx, const StreamId& id, const StreamValue::Item& item,
                  bool justid) {
  if (justid) {
    ctx.reply->Bulk(StreamIdText(id));
  } else {
    ReplyStreamEntry(ctx, id, item);
  }
}

// Parses an integer option argument, replying Redis's "Invalid <what> ..." error when it is not.
bool ParseClaimInt(CommandContext& ctx, std::string_view arg, absl::string_view what,
                   absl::string_view command, int64_t* v) {
  if (crdt::ParseRedisInt(arg, v)) return true;
  ctx.reply->Error(absl::StrCat("ERR Invalid ", what, " argument for ", command));
  return false;
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms]
//        [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
void XClaim(CommandContext& ctx) {
  const auto& a = ctx.args;
  const StreamValue* s;
  const Group* g = LookupGroupOrReply(ctx, &s);
  if (g == nullptr) return;
  int64_t min_idle;
  if (!ParseClaimInt(ctx, a[4], "min-idle-time", "XCLAIM", &min_idle)) return;
  if (min_idle < 0) min_idle = 0;
  // The ids run up to the first argument that is not one; options follow.
  std::vector<StreamId> ids;
  size_t j = 5;
  for (StreamId id; j < a.size() && ParseStreamId(a[j], 0, /*strict=*/true, nullptr, &id); ++j) {
    ids.push_back(id);
  }
  const int64_t now = StreamNowMs(ctx);
  int64_t delivery = -1;  // -1: neither IDLE nor TIME
  int64_t retry = -1;     // -1: no RETRYCOUNT
  bool force = false;
  bool justid = false;
  StreamId last_id{0, 0};
  for (; j < a.size(); ++j) {
    const bool more = j + 1 < a.size();
    const std::string_view opt = a[j];
    if (EqualsIgnoreCase(opt, "force")) {
      force = true;
    } else if (EqualsIgnoreCase(opt, "justid")) {
      justid = true;
    } else if (EqualsIgnoreCase(opt, "idle") && more) {
      int64_t idle;
      if (!ParseClaimInt(ctx, a[++j], "IDLE option", "XCLAIM", &idle)) return;
      // Redis subtracts in wrapping arithmetic; a bogus result becomes now below.
      delivery = static_cast<int64_t>(static_cast<uint64_t>(now) - static_cast<uint64_t>(idle));
    } else if (EqualsIgnoreCase(opt, "time") && more) {
      if (!ParseClaimInt(ctx, a[++j], "TIME option", "XCLAIM", &delivery)) return;
    } else if (EqualsIgnoreCase(opt, "retrycount") && more) {
      if (!ParseClaimInt(ctx, a[++j], "RETRYCOUNT option", "XCLAIM", &retry)) return;
    } else if (EqualsIgnoreCase(opt, "lastid") && more) {
      if (!ParseStreamIdOrReply(ctx, a[++j], 0, /*strict=*/true, &last_id)) return;
    } else {
      ctx.reply->Error(absl::StrCat("ERR Unrecognized XCLAIM option '", CText(opt), "'"));
      return;
    }
  }
  // A delivery time from the client's clock that is not in [0, now] becomes now, as in Redis.
  if (delivery < 0 || delivery > now) delivery = now;
  ClaimLog log(ctx, g, a[3]);
  const crdt::StreamGroups::View last = g->last();
  if (last_id > StreamId{last.last_ms, last.last_seq}) log.SetLast(last_id);
  std::string body;
  resp::ReplyBuilder body_reply(&body, ctx.reply->protocol());
  resp::ReplyBuilder* const outer = ctx.reply;
  ctx.reply = &body_reply;
  size_t claimed = 0;
  for (const StreamId& id : ids) {
    ClaimLog::State st = log.Get(id);
    auto item = s->items().find(id);
    if (item == s->items().end()) {  // a deleted entry leaves the pending list
      if (st.pending) log.Drop(id);
      continue;
    }
    if (!st.pending) {
      if (!force) continue;
      st.count = 1;  // FORCE creates the pending entry (Redis's streamCreateNACK)
    } else if (min_idle != 0 && now - st.delivery_ms < min_idle) {
      continue;
    }
    const uint64_t count = retry >= 0 ? static_cast<uint64_t>(retry)
                           : justid   ? st.count
                                      : st.count + 1;
    log.Claim(id, delivery, count);
    ReplyClaimed(ctx, id, item->second, justid);
    ++claimed;
  }
  ctx.reply = outer;
  ctx.reply->ArrayLen(claimed);
  ctx.reply->Raw(body);
  log.Emit(a[1], a[2], now);
}

// Redis 7.0 refuses a COUNT above LONG_MAX / 16 as out of range, and fails the allocation of a
// COUNT-long id array it cannot get; this is the largest COUNT whose array (16 GiB) we take as
// allocatable. Never reached by a sane client.
constexpr int64_t kXAutoClaimCountMax = INT64_MAX / 16;
constexpr int64_t kXAutoClaimCountAllocatable = int64_t{1} << 30;

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
void XAutoClaim(CommandContext& ctx) {
  const auto& a = ctx.args;
  int64_t min_idle;
  if (!ParseClaimInt(ctx, a[4], "min-idle-time", "XAUTOCLAIM", &min_idle)) return;
  if (min_idle < 0) min_idle = 0;
  StreamId start;
  if (!ParseStreamBoundOrReply(ctx, a[5], /*start=*/true, &start)) return;
  int64_t count = 100;
  bool justid = false;
  for (size_t j = 6; j < a.size(); ++j) {
    if (EqualsIgnoreCase(a[j], "count") && j + 1 < a.size()) {
      if (!crdt::ParseRedisInt(a[++j], &count) || count < 1 || count > kXAutoClaimCountMax) {
        ctx.reply->Error("ERR COUNT must be > 0");
        return;
      }
    } else if (EqualsIgnoreCase(a[j], "justid")) {
      justid = true;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  const StreamValue* s;
  const Group* g = LookupGroupOrReply(ctx, &s);
  if (g == nullptr) return;
  if (count > kXAutoClaimCountAllocatable) {
    ctx.reply->Error(
        "ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
    return;
  }
  const int64_t now = StreamNowMs(ctx);
  ClaimLog log(ctx, g, a[3]);
  std::string body;
  resp::ReplyBuilder body_reply(&body, ctx.reply->protocol());
  resp::ReplyBuilder* const outer = ctx.reply;
  ctx.reply = &body_reply;
  size_t claimed = 0;
  std::vector<StreamId> deleted;
  // Redis looks at up to 10 * COUNT pending entries from `start`, deleted ones included.
  int64_t attempts = count * 10;
  auto it = g->pel.lower_bound(PelKeyOf(start));
  for (; attempts > 0 && count > 0 && it != g->pel.end(); ++it) {
    --attempts;
    const StreamId id = PelId(it->first);
    auto item = s->items().find(id);
    if (item == s->items().end()) {
      log.Drop(id);
      deleted.push_back(id);
      continue;
    }
    const ClaimLog::State st = log.Get(id);
    if (min_idle != 0 && now - st.delivery_ms < min_idle) continue;
    log.Claim(id, now, justid ? st.count : st.count + 1);
    ReplyClaimed(ctx, id, item->second, justid);
    ++claimed;
    --count;
  }
  ctx.reply = outer;
  // The cursor: the first pending entry not looked at, 0-0 at the end.
  ctx.reply->ArrayLen(3);
  ctx.reply->Bulk(StreamIdText(it == g->pel.end() ? StreamId{0, 0} : PelId(it->first)));
  ctx.reply->ArrayLen(claimed);
  ctx.reply->Raw(body);
  ctx.reply->ArrayLen(deleted.size());
  for (const StreamId& id : deleted) ctx.reply->Bulk(StreamIdText(id));
  log.Emit(a[1], a[2], now);
}

}  // namespace

void RegisterStreamPelFamily(CommandTable* t) {
  constexpr std::string_view kG = "stream";
  t->Register({"xack", -4, kWrite | kFast, 1, 1, 1, XAck, kG,
               "Returns the number of messages that were successfully acknowledged by the "
               "consumer group member of a stream.",
               "5.0.0"});
  t->Register({"xpending", -3, kReadOnly, 1, 1, 1, XPending, kG,
               "Returns the information and entries from a stream consumer group's pending "
               "entries list.",
               "5.0.0"});
  t->Register({"xclaim", -6, kWrite | kFast, 1, 1, 1, XClaim, kG,
               "Changes (or acquires) ownership of a message in a consumer group, as if the "
               "message was delivered to the specified consumer.",
               "5.0.0"});
  t->Register({"xautoclaim", -6, kWrite | kFast, 1, 1, 1, XAutoClaim, kG,
               "Changes (or acquires) ownership of messages in a consumer group, as if the "
               "messages were delivered to the specified consumer.",
               "6.2.0"});
}

}  // namespace activekv::server
