#include "region-server/stream_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/blocking.h"
#include "region-server/errors.h"
#include "region-server/region.h"
#include "region-server/resp/reply.h"
#include "region-server/scripting.h"

namespace activekv::server {
namespace {

using crdt::StreamId;

// Redis's string2ull: string2ll (a negative value fails), else strtoull over the whole text
// (which, unlike string2ll, takes leading spaces and a '+').
bool ParseU64(const std::string& s, uint64_t* v) {
  int64_t ll;
  if (crdt::ParseRedisInt(s, &ll)) {
    if (ll < 0) return false;
    *v = static_cast<uint64_t>(ll);
    return true;
  }
  errno = 0;
  char* end = nullptr;
  const uint64_t x = std::strtoull(s.c_str(), &end, 10);
  if (errno == EINVAL || errno == ERANGE || s.empty() || *end != '\0') return false;
  *v = x;
  return true;
}

constexpr size_t kNodeEntries = 100;  // Redis's default stream-node-max-entries

}  // namespace

bool ParseStreamId(std::string_view arg, uint64_t missing_seq, bool strict, bool* seq_given,
                   StreamId* id) {
  if (arg.size() > 127) return false;
  // The C string stops at a NUL, as Redis's does.
  std::string buf(arg.substr(0, std::min(arg.size(), arg.find('\0'))));
  if (seq_given != nullptr) *seq_given = true;
  if (buf == "-" || buf == "+") {
    if (strict) return false;
    *id = buf == "-" ? StreamId{0, 0} : StreamId{UINT64_MAX, UINT64_MAX};
    return true;
  }
  const size_t dash = buf.find('-');
  uint64_t ms;
  uint64_t seq = missing_seq;
  if (!ParseU64(buf.substr(0, dash), &ms)) return false;
  if (dash != std::string::npos) {
    const std::string rest = buf.substr(dash + 1);
    if (seq_given != nullptr && rest == "*") {
      *seq_given = false;
      seq = 0;
    } else if (!ParseU64(rest, &seq)) {
      return false;
    }
  }
  *id = StreamId{ms, seq};
  return true;
}

bool ParseStreamIdOrReply(CommandContext& ctx, std::string_view arg, uint64_t missing_seq,
                          bool strict, StreamId* id) {
  if (ParseStreamId(arg, missing_seq, strict, nullptr, id)) return true;
  ctx.reply->Error(kErrInvalidStreamId);
  return false;
}

std::string StreamIdText(const StreamId& id) { return absl::StrCat(id.ms, "-", id.seq); }

std::string CText(std::string_view s) { return std::string(s.substr(0, s.find('\0'))); }

bool ParseStreamBoundOrReply(CommandContext& ctx, std::string_view arg, bool start, StreamId* id) {
  const bool exclusive = arg.size() > 1 && arg[0] == '(';
  if (!ParseStreamIdOrReply(ctx, exclusive ? arg.substr(1) : arg, start ? 0 : UINT64_MAX,
                            /*strict=*/exclusive, id)) {
    return false;
  }
  if (!exclusive) return true;
  if (start) {
    if (*id == StreamId{UINT64_MAX, UINT64_MAX}) {
      ctx.reply->Error("ERR invalid start ID for the interval");
      return false;
    }
    *id = id->seq == UINT64_MAX ? StreamId{id->ms + 1, 0} : StreamId{id->ms, id->seq + 1};
    return true;
  }
  if (*id == StreamId{0, 0}) {
    ctx.reply->Error("ERR invalid end ID for the interval");
    return false;
  }
  *id = id->seq == 0 ? StreamId{id->ms - 1, UINT64_MAX} : StreamId{id->ms, id->seq - 1};
  return true;
}

bool ParseStreamIdsOrReply(CommandContext& ctx, size_t first, std::vector<crdt::StreamId>* ids) {
  ids->resize(ctx.args.size() - first);
  for (size_t j = first; j < ctx.args.size(); ++j) {
    if (!ParseStreamIdOrReply(ctx, ctx.args[j], 0, true, &(*ids)[j - first])) return false;
  }
  return true;
}

bool ParseXReadArgs(CommandContext& ctx, bool xreadgroup, XReadArgs* out) {
  const auto& a = ctx.args;
  for (size_t i = 1; i < a.size(); ++i) {
    const size_t more = a.size() - i - 1;
    if (EqualsIgnoreCase(a[i], "block") && more > 0) {
      if (InScript(ctx)) {  // Redis refuses it outright from a script (not inside MULTI)
        ctx.reply->Error(absl::StrCat("ERR ", std::string(a[0]),
                                      " command is not allowed with BLOCK option from scripts"));
        return false;
      }
      ++i;
      if (!crdt::ParseRedisInt(a[i], &out->timeout)) {
        ctx.reply->Error("ERR timeout is not an integer or out of range");
        return false;
      }
      if (out->timeout < 0) {
        ctx.reply->Error("ERR timeout is negative");
        return false;
      }
    } else if (EqualsIgnoreCase(a[i], "count") && more > 0) {
      ++i;
      if (!crdt::ParseRedisInt(a[i], &out->count)) {
        ctx.reply->Error(kErrNotInteger);
        return false;
      }
      if (out->count < 0) out->count = 0;
    } else if (EqualsIgnoreCase(a[i], "streams") && more > 0) {
      out->streams_arg = i + 1;
      if ((a.size() - out->streams_arg) % 2 != 0) {
        ctx.reply->Error(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
            "specified.");
        return false;
      }
      out->n = (a.size() - out->streams_arg) / 2;
      return true;
    } else if (EqualsIgnoreCase(a[i], "group") && more >= 2) {
      if (!xreadgroup) {
        ctx.reply->Error(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return false;
      }
      out->group = a[i + 1];
      out->consumer = a[i + 2];
      out->has_group = true;
      i += 2;
    } else if (EqualsIgnoreCase(a[i], "noack")) {
      if (!xreadgroup) {
        ctx.reply->Error(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return false;
      }
      out->noack = true;
    } else {
      ctx.reply->Error(kErrSyntax);
      return false;
    }
  }
  ctx.reply->Error(kErrSyntax);  // no STREAMS
  return false;
}

int ParseStreamTrimArgs(CommandContext& ctx, bool xadd, StreamTrimArgs* out) {
  *out = StreamTrimArgs();
  const auto& a = ctx.args;
  const size_t argc = a.size();
  bool limit_given = false;
  size_t i = 2;
  for (; i < argc; ++i) {
    const size_t more = argc - 1 - i;
    std::string_view opt = a[i];
    if (xadd && opt == "*") break;
    const bool maxlen = EqualsIgnoreCase(opt, "maxlen");
    if ((maxlen || EqualsIgnoreCase(opt, "minid")) && more > 0) {
      if (out->strategy != StreamTrimArgs::Strategy::kNone) {
        ctx.reply->Error(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      out->approx = false;
      std::string_view next = a[i + 1];
      if (more >= 2 && next == "~") {
        out->approx = true;
        ++i;
      } else if (more >= 2 && next == "=") {
        ++i;
      }
      if (maxlen) {
        if (!crdt::ParseRedisInt(a[i + 1], &out->maxlen)) {
          ctx.reply->Error(kErrNotInteger);
          return -1;
        }
        if (out->maxlen < 0) {
          ctx.reply->Error("ERR The MAXLEN argument must be >= 0.");
          return -1;
        }
        out->strategy = StreamTrimArgs::Strategy::kMaxLen;
      } else {
        if (!ParseStreamIdOrReply(ctx, a[i + 1], 0, true, &out->minid)) return -1;
        out->strategy = StreamTrimArgs::Strategy::kMinId;
      }
      ++i;
    } else if (EqualsIgnoreCase(opt, "limit") && more > 0) {
      if (!crdt::ParseRedisInt(a[i + 1], &out->limit)) {
        ctx.reply->Error(kErrNotInteger);
        return -1;
      }
      if (out->limit < 0) {
        ctx.reply->Error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      ++i;
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      out->nomkstream = true;
    } else if (xadd) {
      if (!ParseStreamId(opt, 0, true, &out->seq_given, &out->id)) {
        ctx.reply->Error(kErrInvalidStreamId);
        return -1;
      }
      out->id_given = true;
      break;
    } else {
      ctx.reply->Error(kErrSyntax);
      return -1;
    }
  }
  if (out->limit != 0 && out->strategy == StreamTrimArgs::Strategy::kNone) {
    ctx.reply->Error(
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && out->strategy == StreamTrimArgs::Strategy::kNone) {
    ctx.reply->Error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (limit_given) {
    if (!out->approx) {
      ctx.reply->Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else {
    out->limit = out->approx ? static_cast<int64_t>(100 * kNodeEntries) : 0;
  }
  return static_cast<int>(i);
}

std::vector<StreamId> StreamTrimVictims(const crdt::StreamValue& s, const StreamTrimArgs& args) {
  std::vector<StreamId> out;
  if (args.strategy == StreamTrimArgs::Strategy::kNone) return out;
  const bool by_len = args.strategy == StreamTrimArgs::Strategy::kMaxLen;
  const auto& items = s.items();
  size_t length = items.size();
  auto it = items.begin();
  // Whole nodes (kNodeEntries entries each, counted from the head) while they may go.
  while (it != items.end()) {
    if (by_len && length <= static_cast<uint64_t>(args.maxlen)) return out;
    const size_t entries = std::min(kNodeEntries, length);
    if (args.limit != 0 && static_cast<int64_t>(out.size() + entries) > args.limit) return out;
    auto last = it;
    std::advance(last, entries - 1);
    const bool remove_node =
        by_len ? length - entries >= static_cast<uint64_t>(args.maxlen) : last->first < args.minid;
    if (!remove_node) break;
    for (size_t k = 0; k < entries; ++k, ++it) out.push_back(it->first);
    length -= entries;
  }
  if (args.approx) return out;
  // Exact: entry by entry inside the node.
  for (; it != items.end(); ++it) {
    if (by_len ? length <= static_cast<uint64_t>(args.maxlen) : it->first >= args.minid) break;
    out.push_back(it->first);
    --length;
  }
  return out;
}

void BlockXRead(CommandContext& ctx, const XReadArgs& x, std::vector<std::string> args) {
  size_t streams_arg = x.streams_arg;
  if (x.count == 0) {  // the last COUNT wins: it goes just before STREAMS
    const auto at = args.begin() + static_cast<std::ptrdiff_t>(streams_arg - 1);
    args.insert(at, {"COUNT", "1000"});
    streams_arg += 2;
  }
  std::vector<std::string_view> views(args.begin(), args.end());
  CommandContext blocked = ctx;
  blocked.args = views;
  BlockOrTimeout(blocked, absl::MakeConstSpan(views).subspan(streams_arg, x.n), x.timeout,
                 BlockingKeys::TimeoutReply::kNullArray);
}

bool LookupStream(CommandContext& ctx, std::string_view key, const crdt::StreamValue** out) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kStream, &e)) return false;
  *out = e == nullptr ? nullptr : e->stream();
  return true;
}

bool LookupExistingStream(CommandContext& ctx, std::string_view key,
                          const crdt::StreamValue** out) {
  if (!LookupStream(ctx, key, out)) return false;
  if (*out != nullptr) return true;
  ctx.reply->Error(kErrNoSuchKey);
  return false;
}

void SetStreamId(const StreamId& id, v1::StreamId* out) {
  out->set_ms(id.ms);
  out->set_seq(id.seq);
}

void SetStreamMeta(const crdt::StreamMeta& m, v1::StreamMeta* out) {
  SetStreamId(m.last_id, out->mutable_last_id());
  out->set_entries_added(m.entries_added);
  SetStreamId(m.max_deleted, out->mutable_max_deleted_id());
}

int64_t StreamNowMs(CommandContext& ctx) { return std::max<int64_t>(0, ctx.region->wall_ms()); }

void ReplyStreamEntry(CommandContext& ctx, const StreamId& id,
                      const crdt::StreamValue::Item& item) {
  ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(StreamIdText(id));
  const auto& fields = item.shown().fields;
  ctx.reply->ArrayLen(fields.size());
  for (const std::string& f : fields) ctx.reply->Bulk(f);
}

void CopyStream(Region& region, const crdt::StreamValue& src, std::string_view dst) {
  const crdt::StreamMeta meta = src.meta();
  std::vector<std::pair<StreamId, const crdt::StreamValue::Item*>> items;
  for (const auto& [id, item] : src.items()) items.emplace_back(id, &item);
  region.EmitStreamOp(dst, [&](crdt::Hlc, v1::Op* op) {
    v1::StreamAdd* add = op->mutable_xadd();
    for (const auto& [id, item] : items) {
      v1::StreamEntry* e = add->add_entries();
      e->mutable_id()->set_ms(id.ms);
      e->mutable_id()->set_seq(id.seq);
      for (const std::string& f : item->shown().fields) e->add_fields(f);
    }
    v1::StreamMeta* m = add->mutable_meta();
    m->mutable_last_id()->set_ms(meta.last_id.ms);
    m->mutable_last_id()->set_seq(meta.last_id.seq);
    m->set_entries_added(meta.entries_added);
    m->mutable_max_deleted_id()->set_ms(meta.max_deleted.ms);
    m->mutable_max_deleted_id()->set_seq(meta.max_deleted.seq);
  });
  // Each consumer group as it is: its last id, consumers and pending entries.
  for (const auto& group : src.groups().groups()) {
    // Named, not structured bindings: C++17 lambdas cannot capture those (clang refuses).
    const auto& name = group.first;
    const auto& g = group.second;
    if (!g.exists()) continue;
    const crdt::StreamGroups::View last = g.last();
    region.EmitStreamOp(dst, [&](crdt::Hlc, v1::Op* op) {
      v1::StreamGroupChange* out = op->mutable_xgroup();
      out->set_group(name);
      out->set_create(true);
      out->set_set_last(true);
      SetStreamId(StreamId{last.last_ms, last.last_seq}, out->mutable_last_id());
      out->set_entries_read(last.entries_read);
      for (const auto& [cname, c] : g.consumers) {
        v1::StreamConsumerChange* cc = out->add_consumers();
        cc->set_name(cname);
        cc->set_add(true);
        cc->set_seen_ms(c.seen_ms);
      }
      for (const auto& [id, p] : g.pel) {
        v1::StreamPendingChange* pc = out->add_pending();
        SetStreamId(StreamId{id.first, id.second}, pc->mutable_id());
        pc->set_add(true);
        pc->set_consumer(p.shown().consumer);
        pc->set_delivery_ms(p.shown().delivery_ms);
        pc->set_delivery_count(p.shown().count);
      }
    });
  }
}

}  // namespace activekv::server
