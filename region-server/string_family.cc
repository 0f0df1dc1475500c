// GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND STRLEN GETRANGE
// SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT, with Redis 7.0's replies and error order
// (t_string.c). CRDT semantics of each: docs/crdt-semantics.md.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "crdt/redis_number.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/expire_args.h"
#include "region-server/region.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {

using v1::ExpiryChange;

// Redis checkStringLength: the resulting string may not exceed proto-max-bulk-len.
bool CheckStringLength(CommandContext& ctx, int64_t size, int64_t append) {
  uint64_t total = static_cast<uint64_t>(size) + static_cast<uint64_t>(append);
  if (total > ctx.server->config().proto_max_bulk_len || static_cast<int64_t>(total) < size ||
      static_cast<int64_t>(total) < append) {
    ctx.reply->Error(kErrStringTooLong);
    return false;
  }
  return true;
}

void ReplyValueOrNull(CommandContext& ctx, const crdt::Entry* e) {
  if (e == nullptr) {
    ctx.reply->Null();
  } else {
    ctx.reply->Bulk(ctx.region->ValueOf(*e));
  }
}

// SET and friends (setGenericCommand).
void SetGeneric(CommandContext& ctx, const SetArgs& args, std::string_view key,
                std::string_view value, bool reply_int) {
  Region& region = *ctx.region;
  int64_t deadline = 0;
  if (args.has_expire() && !ExpireArgToDeadline(ctx, args, region.NowMs(), &deadline)) return;
  // SET overwrites a key of any type; only SET ... GET must read a string.
  const crdt::Entry* old = region.Lookup(key);
  if ((args.flags & kSetGet) && old != nullptr && region.TypeOf(*old) != crdt::ValueType::kString) {
    ctx.reply->Error(kErrWrongType);
    return;
  }
  if (args.flags & kSetGet) {
    if (old == nullptr) region.NotifyKeyMiss(key);  // Redis reads it with lookupKeyRead
    ReplyValueOrNull(ctx, old);
  }
  bool found = old != nullptr;
  if (((args.flags & kSetNx) && found) || ((args.flags & kSetXx) && !found)) {
    if (!(args.flags & kSetGet)) {
      if (reply_int) {
        ctx.reply->Integer(0);
      } else {
        ctx.reply->Null();
      }
    }
    return;
  }
  if (!found && (args.flags & kSetKeepTtl)) region.PrepareCreate(key);
  if (args.has_expire()) {
    region.EmitSet(key, value, ExpiryChange::DEADLINE, deadline);
  } else {
    region.EmitSet(key, value,
                   (args.flags & kSetKeepTtl) ? ExpiryChange::KEEP : ExpiryChange::PERSIST);
  }
  if (!(args.flags & kSetGet)) {
    if (reply_int) {
      ctx.reply->Integer(1);
    } else {
      ctx.reply->Ok();
    }
  }
}

void Set(CommandContext& ctx) {
  SetArgs args;
  if (!ParseSetArgs(ctx, true, &args)) return;
  SetGeneric(ctx, args, ctx.args[1], ctx.args[2], false);
}

void SetNx(CommandContext& ctx) {
  SetArgs args;
  args.flags = kSetNx;
  SetGeneric(ctx, args, ctx.args[1], ctx.args[2], true);
}

void SetEx(CommandContext& ctx) {
  SetArgs args;
  args.flags = kSetEx;
  args.expire = ctx.args[2];
  SetGeneric(ctx, args, ctx.args[1], ctx.args[3], false);
}

void PSetEx(CommandContext& ctx) {
  SetArgs args;
  args.flags = kSetPx;
  args.expire = ctx.args[2];
  SetGeneric(ctx, args, ctx.args[1], ctx.args[3], false);
}

void GetSet(CommandContext& ctx) {
  SetArgs args;
  args.flags = kSetGet;
  SetGeneric(ctx, args, ctx.args[1], ctx.args[2], false);
}

void Get(CommandContext& ctx) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  ReplyValueOrNull(ctx, e);
}

void GetDel(CommandContext& ctx) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  if (e == nullptr) {
    ctx.region->NotifyKeyMiss(ctx.args[1]);  // Redis reads it with lookupKeyRead
    ctx.reply->Null();
    return;
  }
  ctx.reply->Bulk(ctx.region->ValueOf(*e));
  ctx.region->EmitDelete(ctx.args[1]);
}

void GetEx(CommandContext& ctx) {
  SetArgs args;
  if (!ParseSetArgs(ctx, false, &args)) return;
  Region& region = *ctx.region;
  std::string_view key = ctx.args[1];
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  if (e == nullptr) {
    region.NotifyKeyMiss(key);  // Redis reads it with lookupKeyRead
    ctx.reply->Null();
    return;
  }
  int64_t deadline = 0;
  if (args.has_expire() && !ExpireArgToDeadline(ctx, args, region.NowMs(), &deadline)) return;
  ctx.reply->Bulk(region.ValueOf(*e));
  if ((args.flags & (kSetExAt | kSetPxAt)) && deadline <= region.NowMs()) {
    region.EmitDelete(key);
  } else if (args.has_expire()) {
    region.EmitExpire(key, ExpiryChange::DEADLINE, deadline);
  } else if ((args.flags & kSetPersist) && e->DeadlineMs() != crdt::kNoDeadline) {
    region.EmitExpire(key, ExpiryChange::PERSIST);
  }
}

void MGet(CommandContext& ctx) {
  ctx.reply->ArrayLen(ctx.args.size() - 1);
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    // Keys of another type read as nil, as in Redis.
    const crdt::Entry* e = ctx.region->Lookup(ctx.args[i]);
    ReplyValueOrNull(
        ctx, e != nullptr && ctx.region->TypeOf(*e) == crdt::ValueType::kString ? e : nullptr);
  }
}

void MSetGeneric(CommandContext& ctx, bool nx) {
  if (ctx.args.size() % 2 == 0) {
    ReplyArityError(ctx);
    return;
  }
  if (nx) {
    for (size_t i = 1; i < ctx.args.size(); i += 2) {
      if (ctx.region->Lookup(ctx.args[i]) != nullptr) {
        ctx.reply->Integer(0);
        return;
      }
    }
  }
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    ctx.region->EmitSet(ctx.args[i], ctx.args[i + 1], ExpiryChange::PERSIST);
  }
  if (nx) {
    ctx.reply->Integer(1);
  } else {
    ctx.reply->Ok();
  }
}

void MSet(CommandContext& ctx) { MSetGeneric(ctx, false); }
void MSetNx(CommandContext& ctx) { MSetGeneric(ctx, true); }

void Append(CommandContext& ctx) {
  Region& region = *ctx.region;
  std::string_view key = ctx.args[1];
  std::string_view suffix = ctx.args[2];
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  region.NameEvents("append");
  if (e == nullptr) {
    region.PrepareCreate(key);
    region.EmitSet(key, suffix, ExpiryChange::KEEP);
    ctx.reply->Integer(static_cast<int64_t>(suffix.size()));
    return;
  }
  std::string_view current = region.ValueOf(*e);
  if (!CheckStringLength(ctx, static_cast<int64_t>(current.size()),
                         static_cast<int64_t>(suffix.size()))) {
    return;
  }
  std::string value;
  value.reserve(current.size() + suffix.size());
  value.append(current).append(suffix);
  region.EmitSet(key, value, ExpiryChange::KEEP);
  ctx.reply->Integer(static_cast<int64_t>(value.size()));
}

void StrLen(CommandContext& ctx) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  ctx.reply->Integer(e == nullptr ? 0 : static_cast<int64_t>(ctx.region->ValueOf(*e).size()));
}

void GetRange(CommandContext& ctx) {
  int64_t start, end;
  if (!crdt::ParseRedisInt(ctx.args[2], &start) || !crdt::ParseRedisInt(ctx.args[3], &end)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  const crdt::Entry* e;
  if (!LookupOfType(ctx, ctx.args[1], crdt::ValueType::kString, &e)) return;
  if (e == nullptr) {
    ctx.reply->Raw(resp::kReplyEmptyBulk);
    return;
  }
  std::string_view str = ctx.region->ValueOf(*e);
  int64_t len = static_cast<int64_t>(str.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.reply->Raw(resp::kReplyEmptyBulk);
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    ctx.reply->Raw(resp::kReplyEmptyBulk);
    return;
  }
  ctx.reply->Bulk(str.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

void SetRange(CommandContext& ctx) {
  Region& region = *ctx.region;
  std::string_view key = ctx.args[1];
  std::string_view patch = ctx.args[3];
  int64_t offset;
  if (!crdt::ParseRedisInt(ctx.args[2], &offset)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  if (offset < 0) {
    ctx.reply->Error(kErrOffsetOutOfRange);
    return;
  }
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  std::string value;
  if (e == nullptr) {
    if (patch.empty()) {
      ctx.reply->Integer(0);
      return;
    }
    if (!CheckStringLength(ctx, offset, static_cast<int64_t>(patch.size()))) return;
  } else {
    std::string_view current = region.ValueOf(*e);
    if (patch.empty()) {
      ctx.reply->Integer(static_cast<int64_t>(current.size()));
      return;
    }
    if (!CheckStringLength(ctx, offset, static_cast<int64_t>(patch.size()))) return;
    value.assign(current);
  }
  if (e == nullptr) region.PrepareCreate(key);
  region.NameEvents("setrange");
  size_t end = static_cast<size_t>(offset) + patch.size();
  if (value.size() < end) value.resize(end, '\0');
  memcpy(value.data() + offset, patch.data(), patch.size());
  region.EmitSet(key, value, ExpiryChange::KEEP);
  ctx.reply->Integer(static_cast<int64_t>(value.size()));
}

void IncrDecr(CommandContext& ctx, int64_t incr) {
  Region& region = *ctx.region;
  std::string_view key = ctx.args[1];
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  int64_t value = 0;
  if (e != nullptr && !crdt::ParseRedisInt(region.ValueOf(*e), &value)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  if ((incr < 0 && value < 0 && incr < std::numeric_limits<int64_t>::min() - value) ||
      (incr > 0 && value > 0 && incr > std::numeric_limits<int64_t>::max() - value)) {
    ctx.reply->Error(kErrOverflow);
    return;
  }
  if (e == nullptr) region.PrepareCreate(key);
  region.EmitIncrement(key, incr);
  const crdt::Entry* now = region.Find(key);
  int64_t result = value + incr;
  if (now != nullptr && now->Exists()) crdt::ParseRedisInt(region.ValueOf(*now), &result);
  ctx.reply->Integer(result);
}

void Incr(CommandContext& ctx) { IncrDecr(ctx, 1); }
void Decr(CommandContext& ctx) { IncrDecr(ctx, -1); }

void IncrBy(CommandContext& ctx) {
  int64_t incr;
  if (!crdt::ParseRedisInt(ctx.args[2], &incr)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  IncrDecr(ctx, incr);
}

void DecrBy(CommandContext& ctx) {
  int64_t incr;
  if (!crdt::ParseRedisInt(ctx.args[2], &incr)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  if (incr == std::numeric_limits<int64_t>::min()) {
    ctx.reply->Error("ERR decrement would overflow");
    return;
  }
  IncrDecr(ctx, -incr);
}

void IncrByFloat(CommandContext& ctx) {
  Region& region = *ctx.region;
  std::string_view key = ctx.args[1];
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, crdt::ValueType::kString, &e)) return;
  long double value = 0, incr;
  if ((e != nullptr && !crdt::ParseRedisLongDouble(region.ValueOf(*e), &value)) ||
      !crdt::ParseRedisLongDouble(ctx.args[2], &incr)) {
    ctx.reply->Error(kErrNotFloat);
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply->Error(kErrNanOrInf);
    return;
  }
  if (e == nullptr) region.PrepareCreate(key);
  region.EmitFloatIncrement(key, ctx.args[2]);
  const crdt::Entry* now = region.Find(key);
  if (now != nullptr && now->Exists()) {
    ctx.reply->Bulk(region.ValueOf(*now));
  } else {
    ctx.reply->Bulk(crdt::FormatLongDoubleHuman(value));
  }
}

}  // namespace

void RegisterStringFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite | kDenyOom;
  constexpr uint32_t kR = kReadOnly | kFast;
  t->Register({"get", 2, kR, 1, 1, 1, Get, "string", "Get the value of a key", "1.0.0"});
  t->Register({"set", -3, kW, 1, 1, 1, Set, "string", "Set the string value of a key", "1.0.0"});
  t->Register({"setnx", 3, kW | kFast, 1, 1, 1, SetNx, "string",
               "Set the value of a key, only if the key does not exist", "1.0.0"});
  t->Register(
      {"setex", 4, kW, 1, 1, 1, SetEx, "string", "Set the value and expiration of a key", "2.0.0"});
  t->Register({"psetex", 4, kW, 1, 1, 1, PSetEx, "string",
               "Set the value and expiration in milliseconds of a key", "2.6.0"});
  t->Register({"getset", 3, kW | kFast, 1, 1, 1, GetSet, "string",
               "Set the string value of a key and return its old value", "1.0.0"});
  t->Register({"getdel", 2, kWrite | kFast, 1, 1, 1, GetDel, "string",
               "Get the value of a key and delete the key", "6.2.0"});
  t->Register({"getex", -2, kWrite | kFast, 1, 1, 1, GetEx, "string",
               "Get the value of a key and optionally set its expiration", "6.2.0"});
  t->Register(
      {"mget", -2, kR, 1, -1, 1, MGet, "string", "Get the values of all the given keys", "1.0.0"});
  t->Register(
      {"mset", -3, kW, 1, -1, 2, MSet, "string", "Set multiple keys to multiple values", "1.0.1"});
  t->Register({"msetnx", -3, kW, 1, -1, 2, MSetNx, "string",
               "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1"});
  t->Register(
      {"append", 3, kW | kFast, 1, 1, 1, Append, "string", "Append a value to a key", "2.0.0"});
  t->Register({"strlen", 2, kR, 1, 1, 1, StrLen, "string",
               "Get the length of the value stored in a key", "2.2.0"});
  t->Register({"getrange", 4, kReadOnly, 1, 1, 1, GetRange, "string",
               "Get a substring of the string stored at a key", "2.4.0"});
  t->Register({"substr", 4, kReadOnly, 1, 1, 1, GetRange, "string",
               "Get a substring of the string stored at a key", "1.0.0"});
  t->Register({"setrange", 4, kW, 1, 1, 1, SetRange, "string",
               "Overwrite part of a string at key starting at the specified offset", "2.2.0"});
  t->Register({"incr", 2, kW | kFast, 1, 1, 1, Incr, "string",
               "Increment the integer value of a key by one", "1.0.0"});
  t->Register({"decr", 2, kW | kFast, 1, 1, 1, Decr, "string",
               "Decrement the integer value of a key by one", "1.0.0"});
  t->Register({"incrby", 3, kW | kFast, 1, 1, 1, IncrBy, "string",
               "Increment the integer value of a key by the given amount", "1.0.0"});
  t->Register({"decrby", 3, kW | kFast, 1, 1, 1, DecrBy, "string",
               "Decrement the integer value of a key by the given number", "1.0.0"});
  t->Register({"incrbyfloat", 3, kW | kFast, 1, 1, 1, IncrByFloat, "string",
               "Increment the float value of a key by the given amount", "2.6.0"});
}

}  // namespace activekv::server
