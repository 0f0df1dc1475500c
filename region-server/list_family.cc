// List commands (Redis 7.0's t_list.c), on the list CRDT (crdt/values/list_value.h). Replies
// and errors as redis-server 7.0; what a list does across regions is docs/crdt-semantics.md,
// "Lists". The blocking variants (BLPOP ...) wait in region-server/blocking.cc and are served
// through the same pop helpers.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "crdt/redis_number.h"
#include "region-server/blocking.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/list_ops.h"
#include "region-server/region.h"
#include "region-server/resp/reply.h"

namespace activekv::server {
namespace {

using crdt::ListValue;
using crdt::ValueType;

// The key's list for a command on lists: true with `*out` the list (null when the key does not
// exist); false after replying WRONGTYPE.
bool LookupList(CommandContext& ctx, std::string_view key, const ListValue** out) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, ValueType::kList, &e)) return false;
  *out = e == nullptr ? nullptr : e->list();
  return true;
}

bool ParseLong(CommandContext& ctx, std::string_view arg, int64_t* v) {
  if (crdt::ParseRedisInt(arg, v)) return true;
  ctx.reply->Error(kErrNotInteger);
  return false;
}

// Redis's getPositiveLongFromObjectOrReply: `msg` for a value that is not an integer or is
// negative.
bool ParsePositive(CommandContext& ctx, std::string_view arg, std::string_view msg, int64_t* v) {
  if (crdt::ParseRedisInt(arg, v) && *v >= 0) return true;
  ctx.reply->Error(msg);
  return false;
}

// LEFT / RIGHT (LMOVE, LMPOP): true with `*left`; false after replying a syntax error.
bool ParseWhere(CommandContext& ctx, std::string_view arg, bool* left) {
  if (EqualsIgnoreCase(arg, "left")) {
    *left = true;
  } else if (EqualsIgnoreCase(arg, "right")) {
    *left = false;
  } else {
    ctx.reply->Error(kErrSyntax);
    return false;
  }
  return true;
}

// Redis's index range normalisation (addListRangeReply, LTRIM): [*start, *end] within
// [0, len), false when empty.
bool NormalizeRange(int64_t len, int64_t* start, int64_t* end) {
  if (*start < 0) *start = len + *start;
  if (*end < 0) *end = len + *end;
  if (*start < 0) *start = 0;
  if (*start > *end || *start >= len) return false;
  if (*end >= len) *end = len - 1;
  return true;
}

void ReplyRange(CommandContext& ctx, const ListValue& l, size_t first, size_t n, bool reverse) {
  ctx.reply->ArrayLen(n);
  for (size_t k = 0; k < n; ++k) {
    ctx.reply->Bulk(l.at(reverse ? first + n - 1 - k : first + k).value.view());
  }
}

// ---- Pushes ----

void PushGeneric(CommandContext& ctx, bool left, bool only_existing) {
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    if (only_existing) {
      ctx.reply->Raw(resp::kReplyZero);
      return;
    }
    ctx.region->PrepareCreate(ctx.args[1]);
  }
  ctx.region->EmitListPush(ctx.args[1], ctx.args.subspan(2), left);
  ctx.reply->Integer(static_cast<int64_t>(ListLength(ctx, ctx.args[1])));
}

void LPush(CommandContext& ctx) { PushGeneric(ctx, true, false); }
void RPush(CommandContext& ctx) { PushGeneric(ctx, false, false); }
void LPushX(CommandContext& ctx) { PushGeneric(ctx, true, true); }
void RPushX(CommandContext& ctx) { PushGeneric(ctx, false, true); }

// ---- Pops ----

void PopGeneric(CommandContext& ctx, bool left) {
  if (ctx.args.size() > 3) {
    ReplyArityError(ctx);
    return;
  }
  const bool has_count = ctx.args.size() == 3;
  int64_t count = 0;
  if (has_count && !ParsePositive(ctx, ctx.args[2], kErrCountPositive, &count)) return;
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    if (has_count) {
      ctx.reply->NullArray();
    } else {
      ctx.reply->Null();
    }
    return;
  }
  if (has_count && count == 0) {
    ctx.reply->Raw(resp::kReplyEmptyArray);
    return;
  }
  if (!has_count) {
    ctx.reply->Bulk(l->at(left ? 0 : l->size() - 1).value.view());
    ctx.region->EmitListPop(ctx.args[1], 1, left);
    return;
  }
  const size_t n = std::min(l->size(), static_cast<size_t>(count));
  ReplyRange(ctx, *l, left ? 0 : l->size() - n, n, !left);
  ctx.region->EmitListPop(ctx.args[1], n, left);
}

void LPop(CommandContext& ctx) { PopGeneric(ctx, true); }
void RPop(CommandContext& ctx) { PopGeneric(ctx, false); }

void LMPop(CommandContext& ctx) {
  MPopArgs args;
  if (!ParseMPopArgs(ctx, 1, "left", "right", &args)) return;
  for (std::string_view key : args.keys) {
    const ListValue* l;
    if (!LookupList(ctx, key, &l)) return;
    if (l == nullptr || l->empty()) continue;
    PopRangeWithKey(ctx, key, !args.second, static_cast<size_t>(args.count));
    return;
  }
  ctx.reply->NullArray();
}

// ---- Reads ----

void LLen(CommandContext& ctx) {
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  ctx.reply->Integer(l == nullptr ? 0 : static_cast<int64_t>(l->size()));
}

void LRange(CommandContext& ctx) {
  int64_t start, end;
  if (!ParseLong(ctx, ctx.args[2], &start) || !ParseLong(ctx, ctx.args[3], &end)) return;
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || !NormalizeRange(static_cast<int64_t>(l->size()), &start, &end)) {
    ctx.reply->Raw(resp::kReplyEmptyArray);
    return;
  }
  ReplyRange(ctx, *l, static_cast<size_t>(start), static_cast<size_t>(end - start + 1), false);
}

// Index `index` (negative from the tail) of a list of `len`: true with `*i`.
bool ResolveIndex(int64_t index, size_t len, size_t* i) {
  const int64_t n = static_cast<int64_t>(len);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  *i = static_cast<size_t>(index);
  return true;
}

void LIndex(CommandContext& ctx) {
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr) {
    ctx.reply->Null();
    return;
  }
  int64_t index;
  if (!ParseLong(ctx, ctx.args[2], &index)) return;
  size_t i;
  if (!ResolveIndex(index, l->size(), &i)) {
    ctx.reply->Null();
    return;
  }
  ctx.reply->Bulk(l->at(i).value.view());
}

void LPos(CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    const bool more = j + 1 < ctx.args.size();
    if (EqualsIgnoreCase(ctx.args[j], "rank") && more) {
      if (!ParseLong(ctx, ctx.args[++j], &rank)) return;
      if (rank == 0) {
        ctx.reply->Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
        return;
      }
    } else if (EqualsIgnoreCase(ctx.args[j], "count") && more) {
      if (!ParsePositive(ctx, ctx.args[++j], "ERR COUNT can't be negative", &count)) return;
    } else if (EqualsIgnoreCase(ctx.args[j], "maxlen") && more) {
      if (!ParsePositive(ctx, ctx.args[++j], "ERR MAXLEN can't be negative", &maxlen)) return;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  const bool from_tail = rank < 0;
  // Redis negates LONG_MIN into itself, a rank every match reaches, and its COUNT test
  // (matches - rank + 1 >= count) then overflows and never stops: every match from the tail.
  if (from_tail && rank == INT64_MIN && count > 0) count = 0;
  if (from_tail) rank = rank == INT64_MIN ? 1 : -rank;
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr) {
    if (count != -1) {
      ctx.reply->Raw(resp::kReplyEmptyArray);
    } else {
      ctx.reply->Null();
    }
    return;
  }
  const std::string_view want = ctx.args[2];
  const size_t len = l->size();
  std::vector<int64_t> found;
  int64_t matches = 0;
  for (size_t k = 0; k < len && (maxlen == 0 || k < static_cast<size_t>(maxlen)); ++k) {
    const size_t i = from_tail ? len - 1 - k : k;
    if (l->at(i).value.view() != want) continue;
    if (++matches < rank) continue;
    found.push_back(static_cast<int64_t>(i));
    if (count == -1) break;
    if (count != 0 && matches - rank + 1 >= count) break;
  }
  if (count == -1) {
    if (found.empty()) {
      ctx.reply->Null();
    } else {
      ctx.reply->Integer(found[0]);
    }
    return;
  }
  ctx.reply->ArrayLen(found.size());
  for (int64_t i : found) ctx.reply->Integer(i);
}

// ---- Writes in place ----

void LSet(CommandContext& ctx) {
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    ctx.reply->Error(kErrNoSuchKey);
    return;
  }
  int64_t index;
  if (!ParseLong(ctx, ctx.args[2], &index)) return;
  size_t i;
  if (!ResolveIndex(index, l->size(), &i)) {
    ctx.reply->Error("ERR index out of range");
    return;
  }
  ctx.region->EmitListSet(ctx.args[1], i, ctx.args[3]);
  ctx.reply->Ok();
}

void LInsert(CommandContext& ctx) {
  bool after;
  if (EqualsIgnoreCase(ctx.args[2], "after")) {
    after = true;
  } else if (EqualsIgnoreCase(ctx.args[2], "before")) {
    after = false;
  } else {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    ctx.reply->Raw(resp::kReplyZero);
    return;
  }
  size_t pivot = l->size();
  for (size_t i = 0; i < l->size(); ++i) {
    if (l->at(i).value.view() == ctx.args[3]) {
      pivot = i;
      break;
    }
  }
  if (pivot == l->size()) {
    ctx.reply->Raw(resp::kReplyMinusOne);
    return;
  }
  if (!ctx.region->EmitListInsert(ctx.args[1], after ? pivot + 1 : pivot, ctx.args[4])) {
    ctx.reply->Error("ERR no list position left at this place (too many inserts at one spot)");
    return;
  }
  ctx.reply->Integer(static_cast<int64_t>(ListLength(ctx, ctx.args[1])));
}

void LRem(CommandContext& ctx) {
  int64_t to_remove;
  if (!ParseLong(ctx, ctx.args[2], &to_remove)) return;
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    ctx.reply->Raw(resp::kReplyZero);
    return;
  }
  const bool from_tail = to_remove < 0;
  // |INT64_MIN| does not fit: any count beyond the list's length means "all" anyway.
  const uint64_t limit = to_remove == INT64_MIN ? static_cast<uint64_t>(INT64_MAX) + 1
                         : from_tail            ? static_cast<uint64_t>(-to_remove)
                                                : static_cast<uint64_t>(to_remove);
  std::vector<size_t> hits;
  const size_t len = l->size();
  for (size_t k = 0; k < len; ++k) {
    const size_t i = from_tail ? len - 1 - k : k;
    if (l->at(i).value.view() != ctx.args[3]) continue;
    hits.push_back(i);
    if (limit != 0 && hits.size() == limit) break;
  }
  if (!hits.empty()) ctx.region->EmitListRemove(ctx.args[1], hits);
  ctx.reply->Integer(static_cast<int64_t>(hits.size()));
}

void LTrim(CommandContext& ctx) {
  int64_t start, end;
  if (!ParseLong(ctx, ctx.args[2], &start) || !ParseLong(ctx, ctx.args[3], &end)) return;
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    ctx.reply->Ok();
    return;
  }
  const int64_t len = static_cast<int64_t>(l->size());
  std::vector<size_t> removed;
  if (!NormalizeRange(len, &start, &end)) {
    start = len;  // everything goes
    end = len - 1;
  }
  for (int64_t i = 0; i < len; ++i) {
    if (i < start || i > end) removed.push_back(static_cast<size_t>(i));
  }
  // Redis notifies "ltrim" even when nothing was trimmed ("del" when nothing is left).
  if (removed.empty()) {
    ctx.region->Notify(kNotifyList, "ltrim", ctx.args[1]);
  } else {
    ctx.region->NameEvents("ltrim");
    ctx.region->EmitListRemove(ctx.args[1], removed);
  }
  ctx.reply->Ok();
}

// ---- Moves ----

void LMove(CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(ctx, ctx.args[3], &from_left) || !ParseWhere(ctx, ctx.args[4], &to_left)) return;
  MoveOne(ctx, ctx.args[1], ctx.args[2], from_left, to_left);
}

void RPopLPush(CommandContext& ctx) { MoveOne(ctx, ctx.args[1], ctx.args[2], false, true); }

// ---- Blocking variants (blocking.h) ----

// BLPOP / BRPOP key [key ...] timeout
void BPopGeneric(CommandContext& ctx, bool left) {
  int64_t timeout;
  if (!ParseTimeout(ctx, ctx.args.back(), &timeout)) return;
  const auto keys = ctx.args.subspan(1, ctx.args.size() - 2);
  for (std::string_view key : keys) {
    const ListValue* l;
    if (!LookupList(ctx, key, &l)) return;
    if (l == nullptr || l->empty()) continue;
    ctx.reply->ArrayLen(2);
    ctx.reply->Bulk(key);
    ctx.reply->Bulk(l->at(left ? 0 : l->size() - 1).value.view());
    ctx.region->EmitListPop(key, 1, left);
    return;
  }
  BlockOrTimeout(ctx, keys, timeout, BlockingKeys::TimeoutReply::kNullArray);
}

void BLPop(CommandContext& ctx) { BPopGeneric(ctx, true); }
void BRPop(CommandContext& ctx) { BPopGeneric(ctx, false); }

// BLMOVE / BRPOPLPUSH: waits on the source only.
void BMoveGeneric(CommandContext& ctx, bool from_left, bool to_left, std::string_view timeout_arg) {
  int64_t timeout;
  if (!ParseTimeout(ctx, timeout_arg, &timeout)) return;
  const ListValue* l;
  if (!LookupList(ctx, ctx.args[1], &l)) return;
  if (l == nullptr || l->empty()) {
    BlockOrTimeout(ctx, ctx.args.subspan(1, 1), timeout, BlockingKeys::TimeoutReply::kNull);
    return;
  }
  MoveOne(ctx, ctx.args[1], ctx.args[2], from_left, to_left);
}

void BLMove(CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseWhere(ctx, ctx.args[3], &from_left) || !ParseWhere(ctx, ctx.args[4], &to_left)) return;
  BMoveGeneric(ctx, from_left, to_left, ctx.args[5]);
}

void BRPopLPush(CommandContext& ctx) { BMoveGeneric(ctx, false, true, ctx.args[3]); }

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void BLMPop(CommandContext& ctx) {
  MPopArgs args;
  if (!ParseMPopArgs(ctx, 2, "left", "right", &args)) return;
  int64_t timeout;
  if (!ParseTimeout(ctx, ctx.args[1], &timeout)) return;
  for (std::string_view key : args.keys) {
    const ListValue* l;
    if (!LookupList(ctx, key, &l)) return;
    if (l == nullptr || l->empty()) continue;
    PopRangeWithKey(ctx, key, !args.second, static_cast<size_t>(args.count));
    return;
  }
  BlockOrTimeout(ctx, args.keys, timeout, BlockingKeys::TimeoutReply::kNullArray);
}

}  // namespace

// ---- Shared with the blocking variants (list_ops.h) ----

size_t ListLength(CommandContext& ctx, std::string_view key) {
  const crdt::Entry* e = ctx.region->Find(key);
  return e == nullptr || e->list() == nullptr ? 0 : e->list()->size();
}

void PopRangeWithKey(CommandContext& ctx, std::string_view key, bool left, size_t count) {
  const ListValue& l = *ctx.region->Find(key)->list();
  const size_t n = std::min(l.size(), count);
  ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(key);
  ReplyRange(ctx, l, left ? 0 : l.size() - n, n, !left);
  ctx.region->EmitListPop(key, n, left);
}

void MoveOne(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left,
             bool to_left) {
  const ListValue* s;
  if (!LookupList(ctx, src, &s)) return;
  if (s == nullptr || s->empty()) {
    ctx.reply->Null();
    return;
  }
  const ListValue* d;
  if (!LookupList(ctx, dst, &d)) return;
  const std::string value(s->at(from_left ? 0 : s->size() - 1).value.view());
  const bool dst_existed = d != nullptr && !d->empty();
  Region& region = *ctx.region;
  region.MuteEvents(true);
  region.EmitListPop(src, 1, from_left);
  // The destination is looked up again: it is the source when src == dst, and a pop of its last
  // element leaves it without a list.
  if (ListLength(ctx, dst) == 0) region.PrepareCreate(dst);
  const std::string_view v = value;
  region.EmitListPush(dst, {&v, 1}, to_left);
  region.MuteEvents(false);
  // Redis (lmoveGenericCommand) pushes first: "new", the push, then the pop and "del".
  if (!dst_existed) region.Notify(kNotifyNew, "new", dst);
  region.Notify(kNotifyList, to_left ? "lpush" : "rpush", dst);
  region.Notify(kNotifyList, from_left ? "lpop" : "rpop", src);
  if (ListLength(ctx, src) == 0) region.Notify(kNotifyGeneric, "del", src);
  ctx.reply->Bulk(value);
}

void RegisterListFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite | kDenyOom;
  constexpr std::string_view kG = "list";
  t->Register({"lpush", -3, kW | kFast, 1, 1, 1, LPush, kG,
               "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
               "1.0.0"});
  t->Register({"rpush", -3, kW | kFast, 1, 1, 1, RPush, kG,
               "Appends one or more elements to a list. Creates the key if it doesn't exist.",
               "1.0.0"});
  t->Register({"lpushx", -3, kW | kFast, 1, 1, 1, LPushX, kG,
               "Prepends one or more elements to a list only when the list exists.", "2.2.0"});
  t->Register({"rpushx", -3, kW | kFast, 1, 1, 1, RPushX, kG,
               "Appends an element to a list only when the list exists.", "2.2.0"});
  t->Register({"lpop", -2, kWrite | kFast, 1, 1, 1, LPop, kG,
               "Returns the first elements in a list after removing it. Deletes the list if the "
               "last element was popped.",
               "1.0.0"});
  t->Register({"rpop", -2, kWrite | kFast, 1, 1, 1, RPop, kG,
               "Returns and removes the last elements of a list. Deletes the list if the last "
               "element was popped.",
               "1.0.0"});
  t->Register({"lmpop", -4, kWrite, 0, 0, 0, LMPop, kG,
               "Returns multiple elements from a list after removing them. Deletes the list if "
               "the last element was popped.",
               "7.0.0"});
  t->Register(
      {"llen", 2, kReadOnly | kFast, 1, 1, 1, LLen, kG, "Returns the length of a list.", "1.0.0"});
  t->Register({"lrange", 4, kReadOnly, 1, 1, 1, LRange, kG,
               "Returns a range of elements from a list.", "1.0.0"});
  t->Register({"lindex", 3, kReadOnly, 1, 1, 1, LIndex, kG,
               "Returns an element from a list by its index.", "1.0.0"});
  t->Register({"lpos", -3, kReadOnly, 1, 1, 1, LPos, kG,
               "Returns the index of matching elements in a list.", "6.0.6"});
  t->Register({"lset", 4, kW, 1, 1, 1, LSet, kG,
               "Sets the value of an element in a list by its index.", "1.0.0"});
  t->Register({"linsert", 5, kW, 1, 1, 1, LInsert, kG,
               "Inserts an element before or after another element in a list.", "2.2.0"});
  t->Register({"lrem", 4, kWrite, 1, 1, 1, LRem, kG, "Removes elements from a list.", "1.0.0"});
  t->Register({"ltrim", 4, kWrite, 1, 1, 1, LTrim, kG,
               "Removes elements from both ends a list. Deletes the list if all elements were "
               "trimmed.",
               "1.0.0"});
  t->Register({"lmove", 5, kW, 1, 2, 1, LMove, kG,
               "Returns an element after popping it from one list and pushing it to another. "
               "Deletes the list if the last element was moved.",
               "6.2.0"});
  constexpr uint32_t kB = kWrite | kNoScript | kBlocking;
  t->Register({"blpop", -3, kB, 1, -2, 1, BLPop, kG,
               "Removes and returns the first element in a list. Blocks until an element is "
               "available otherwise. Deletes the list if the last element was popped.",
               "2.0.0"});
  t->Register({"brpop", -3, kB, 1, -2, 1, BRPop, kG,
               "Removes and returns the last element in a list. Blocks until an element is "
               "available otherwise. Deletes the list if the last element was popped.",
               "2.0.0"});
  t->Register({"blmove", 6, kB | kDenyOom, 1, 2, 1, BLMove, kG,
               "Pops an element from a list, pushes it to another list and returns it. Blocks "
               "until an element is available otherwise. Deletes the list if the last element "
               "was moved.",
               "6.2.0"});
  t->Register({"brpoplpush", 4, kB | kDenyOom, 1, 2, 1, BRPopLPush, kG,
               "Pops an element from a list, pushes it to another list and returns it. Block "
               "until an element is available otherwise. Deletes the list if the last element "
               "was popped.",
               "2.2.0"});
  t->Register({"blmpop", -5, kWrite | kBlocking, 0, 0, 0, BLMPop, kG,
               "Pops the first element from one of multiple lists. Blocks until an element is "
               "available otherwise. Deletes the list if the last element was popped.",
               "7.0.0"});
  t->Register({"rpoplpush", 3, kW, 1, 2, 1, RPopLPush, kG,
               "Returns the last element of a list after removing and pushing it to another "
               "list. Deletes the list if the last element was popped.",
               "1.2.0"});
}

}  // namespace activekv::server
