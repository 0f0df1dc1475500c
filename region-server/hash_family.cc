// HSET HSETNX HMSET HGET HMGET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL HINCRBY
// HINCRBYFLOAT HRANDFIELD HSCAN, with Redis 7.0's replies and error order (t_hash.c). CRDT
// semantics of each: docs/crdt-semantics.md, "Hashes".
#include <climits>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/glob.h"
#include "region-server/region.h"

namespace activekv::server {
namespace {

using crdt::HashValue;
using crdt::ValueType;

const HashValue* HashOf(const crdt::Entry* e) { return e == nullptr ? nullptr : e->hash(); }

// The hash at `key` for a command on hashes: false after WRONGTYPE; `*h` null when absent.
bool LookupHash(CommandContext& ctx, std::string_view key, const HashValue** h) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, ValueType::kHash, &e)) return false;
  *h = HashOf(e);
  return true;
}

constexpr size_t kListpackValue = 64;  // hash-max-listpack-value

// Redis converts a listpack hash to a hashtable when any field or value argument of HSET,
// HMSET or HSETNX (one that sets) is longer than hash-max-listpack-value, before it looks at the
// fields (so also for a value a later argument of the same HSET overwrites).
bool LongArgument(CommandContext& ctx, size_t first) {
  for (size_t i = first; i < ctx.args.size(); ++i) {
    if (ctx.args[i].size() > kListpackValue) return true;
  }
  return false;
}

// Before writing to `key` when it does not exist: clears invisible leftover state.
void PrepareWrite(CommandContext& ctx, std::string_view key, const HashValue* h) {
  if (h == nullptr) ctx.region->PrepareCreate(key);
}

void HSetGeneric(CommandContext& ctx, bool hmset) {
  if (ctx.args.size() % 2 == 1) {
    ReplyArityError(ctx);
    return;
  }
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  // A field given twice: the last value wins, as Redis applies them in order.
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  absl::flat_hash_map<std::string_view, size_t> seen;
  int64_t created = 0;
  const bool many = ctx.args.size() > 4;  // one field: no duplicate to look for
  for (size_t i = 2; i < ctx.args.size(); i += 2) {
    if (many) {
      auto [it, fresh] = seen.emplace(ctx.args[i], fields.size());
      if (!fresh) {
        fields[it->second].second = ctx.args[i + 1];
        continue;
      }
    }
    fields.emplace_back(ctx.args[i], ctx.args[i + 1]);
    if (h == nullptr || h->Find(ctx.args[i]) == nullptr) ++created;
  }
  PrepareWrite(ctx, ctx.args[1], h);
  ctx.region->EmitHashSet(ctx.args[1], fields, LongArgument(ctx, 2));
  if (hmset) {
    ctx.reply->Ok();
  } else {
    ctx.reply->Integer(created);
  }
}

void HSet(CommandContext& ctx) { HSetGeneric(ctx, false); }
void HMSet(CommandContext& ctx) { HSetGeneric(ctx, true); }

void HSetNx(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  if (h != nullptr && h->Find(ctx.args[2]) != nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  PrepareWrite(ctx, ctx.args[1], h);
  const std::pair<std::string_view, std::string_view> field{ctx.args[2], ctx.args[3]};
  ctx.region->EmitHashSet(ctx.args[1], {&field, 1}, LongArgument(ctx, 2));
  ctx.reply->Integer(1);
}

void ReplyFieldValue(CommandContext& ctx, const HashValue* h, std::string_view field) {
  const HashValue::Field* f = h == nullptr ? nullptr : h->Find(field);
  if (f == nullptr) {
    ctx.reply->Null();
  } else {
    ctx.reply->Bulk(h->ValueOf(*f, ctx.region->ks().regions()));
  }
}

void HGet(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  ReplyFieldValue(ctx, h, ctx.args[2]);
}

void HMGet(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  ctx.reply->ArrayLen(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) ReplyFieldValue(ctx, h, ctx.args[i]);
}

void HDel(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  std::vector<std::string_view> fields;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (h == nullptr || h->Find(ctx.args[i]) == nullptr) continue;
    if (std::find(fields.begin(), fields.end(), ctx.args[i]) != fields.end()) continue;
    fields.push_back(ctx.args[i]);
  }
  if (!fields.empty()) ctx.region->EmitHashDel(ctx.args[1], fields);
  ctx.reply->Integer(static_cast<int64_t>(fields.size()));
}

void HExists(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  ctx.reply->Integer(h != nullptr && h->Find(ctx.args[2]) != nullptr ? 1 : 0);
}

void HLen(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  ctx.reply->Integer(h == nullptr ? 0 : static_cast<int64_t>(h->size()));
}

void HStrLen(CommandContext& ctx) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  const HashValue::Field* f = h == nullptr ? nullptr : h->Find(ctx.args[2]);
  ctx.reply->Integer(
      f == nullptr ? 0 : static_cast<int64_t>(h->ValueOf(*f, ctx.region->ks().regions()).size()));
}

enum GetAllFlags { kKeys = 1, kValues = 2 };

void GetAll(CommandContext& ctx, int flags) {
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  const size_t n = h == nullptr ? 0 : h->size();
  if (flags == (kKeys | kValues)) {
    ctx.reply->MapLen(n);
  } else {
    ctx.reply->ArrayLen(n);
  }
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  for (size_t i = 0; i < n; ++i) {
    const HashValue::Field& f = h->at(i);
    if (flags & kKeys) ctx.reply->Bulk(f.name);
    if (flags & kValues) ctx.reply->Bulk(h->ValueOf(f, regions));
  }
}

void HKeys(CommandContext& ctx) { GetAll(ctx, kKeys); }
void HVals(CommandContext& ctx) { GetAll(ctx, kValues); }
void HGetAll(CommandContext& ctx) { GetAll(ctx, kKeys | kValues); }

void HIncrBy(CommandContext& ctx) {
  int64_t incr;
  if (!crdt::ParseRedisInt(ctx.args[3], &incr)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  const HashValue::Field* f = h == nullptr ? nullptr : h->Find(ctx.args[2]);
  int64_t value = 0;
  if (f != nullptr && !crdt::ParseRedisInt(h->ValueOf(*f, ctx.region->ks().regions()), &value)) {
    ctx.reply->Error("ERR hash value is not an integer");
    return;
  }
  if ((incr < 0 && value < 0 && incr < std::numeric_limits<int64_t>::min() - value) ||
      (incr > 0 && value > 0 && incr > std::numeric_limits<int64_t>::max() - value)) {
    ctx.reply->Error(kErrOverflow);
    return;
  }
  PrepareWrite(ctx, ctx.args[1], h);
  ctx.region->EmitHashIncrement(ctx.args[1], ctx.args[2], incr, "");
  ctx.reply->Integer(value + incr);
}

void HIncrByFloat(CommandContext& ctx) {
  long double incr;
  if (!crdt::ParseRedisLongDouble(ctx.args[3], &incr)) {
    ctx.reply->Error(kErrNotFloat);
    return;
  }
  if (std::isnan(incr) || std::isinf(incr)) {
    ctx.reply->Error("ERR value is NaN or Infinity");
    return;
  }
  const HashValue* h;
  if (!LookupHash(ctx, ctx.args[1], &h)) return;
  const HashValue::Field* f = h == nullptr ? nullptr : h->Find(ctx.args[2]);
  long double value = 0;
  if (f != nullptr &&
      !crdt::ParseRedisLongDouble(h->ValueOf(*f, ctx.region->ks().regions()), &value)) {
    ctx.reply->Error("ERR hash value is not a float");
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply->Error(kErrNanOrInf);
    return;
  }
  PrepareWrite(ctx, ctx.args[1], h);
  // The increment travels as its exact text; the field's value becomes Redis's text of the sum.
  ctx.region->EmitHashIncrement(ctx.args[1], ctx.args[2], 0, ctx.args[3]);
  const crdt::Entry* e = ctx.region->Find(ctx.args[1]);
  const HashValue::Field* now = HashOf(e) == nullptr ? nullptr : e->hash()->Find(ctx.args[2]);
  if (now != nullptr) {
    ctx.reply->Bulk(e->hash()->ValueOf(*now, ctx.region->ks().regions()));
  } else {
    ctx.reply->Bulk(crdt::FormatLongDoubleHuman(value));
  }
}

void ReplyField(CommandContext& ctx, const HashValue& h, size_t i, bool withvalues) {
  const HashValue::Field& f = h.at(i);
  if (withvalues && ctx.reply->protocol() == 3) ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(f.name);
  if (withvalues) ctx.reply->Bulk(h.ValueOf(f, ctx.region->ks().regions()));
}

void HRandField(CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    const HashValue* h;
    if (!LookupHash(ctx, ctx.args[1], &h)) return;
    if (h == nullptr) {
      ctx.reply->Null();
      return;
    }
    ctx.reply->Bulk(h->at(RandomU64() % h->size()).name);
    return;
  }
  int64_t count;
  if (!ParsePickCount(ctx, ctx.args[2], &count)) return;
  bool withvalues = false;
  if (ctx.args.size() > 4 ||
      (ctx.args.size() == 4 && !EqualsIgnoreCase(ctx.args[3], "withvalues"))) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  if (ctx.args.size() == 4) {
    withvalues = true;
    if (count < -LONG_MAX / 2 || count > LONG_MAX / 2) {
      ctx.reply->Error("ERR value is out of range");
      return;
    }
  }
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kHash, resp::kReplyEmptyArray, &e)) return;
  const HashValue& h = *e->hash();
  const size_t size = h.size();
  if (count == 0) {
    ctx.reply->Raw(resp::kReplyEmptyArray);
    return;
  }
  const bool flat = withvalues && ctx.reply->protocol() == 2;
  if (count < 0) {  // repetitions allowed
    const uint64_t n = static_cast<uint64_t>(-count);
    ctx.reply->ArrayLen(flat ? n * 2 : n);
    for (uint64_t i = 0; i < n; ++i) ReplyField(ctx, h, RandomU64() % size, withvalues);
    return;
  }
  if (static_cast<uint64_t>(count) >= size) {  // the whole hash
    ctx.reply->ArrayLen(flat ? size * 2 : size);
    for (size_t i = 0; i < size; ++i) ReplyField(ctx, h, i, withvalues);
    return;
  }
  // Distinct fields: a partial Fisher-Yates shuffle of the indices.
  std::vector<size_t> idx(size);
  for (size_t i = 0; i < size; ++i) idx[i] = i;
  const size_t n = static_cast<size_t>(count);
  ctx.reply->ArrayLen(flat ? n * 2 : n);
  for (size_t i = 0; i < n; ++i) {
    // i < n = count < size: never a modulo by zero.
    // NOLINTNEXTLINE(clang-analyzer-core.DivideZero)
    std::swap(idx[i], idx[i + RandomU64() % (size - i)]);
    ReplyField(ctx, h, idx[i], withvalues);
  }
}

void HScan(CommandContext& ctx) {
  ScanArgs args;
  if (!ParseScanCursor(ctx, ctx.args[2], &args.cursor)) return;
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kHash, resp::kReplyEmptyScan, &e)) return;
  if (!ParseScanOptions(ctx, 3, false, &args)) return;
  const HashValue& h = *e->hash();
  // A listpack hash is returned whole (cursor 0), as Redis does; otherwise positions from the
  // end (crdt/values/element_table.h: never skips an element that stays).
  size_t pos = h.size();
  size_t stop = 0;
  if (!h.listpack()) {
    if (args.cursor != 0 && args.cursor < pos) pos = static_cast<size_t>(args.cursor);
    stop = pos > static_cast<size_t>(args.count) ? pos - static_cast<size_t>(args.count) : 0;
  }
  std::vector<size_t> out;
  for (size_t i = h.listpack() ? 0 : pos; h.listpack() ? i < pos : i > stop;) {
    const size_t at = h.listpack() ? i++ : --i;
    if (args.has_pattern && !GlobMatch(args.pattern, h.at(at).name)) continue;
    out.push_back(at);
  }
  ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(absl::StrCat(stop));
  ctx.reply->ArrayLen(out.size() * 2);
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  for (size_t i : out) {
    ctx.reply->Bulk(h.at(i).name);
    ctx.reply->Bulk(h.ValueOf(h.at(i), regions));
  }
}

}  // namespace

void RegisterHashFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite | kDenyOom;
  constexpr uint32_t kR = kReadOnly;
  t->Register({"hset", -4, kW | kFast, 1, 1, 1, HSet, "hash",
               "Sets the values of one or more fields in a hash.", "2.0.0"});
  t->Register({"hmset", -4, kW | kFast, 1, 1, 1, HMSet, "hash",
               "Sets the values of multiple fields.", "2.0.0"});
  t->Register({"hsetnx", 4, kW | kFast, 1, 1, 1, HSetNx, "hash",
               "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0"});
  t->Register({"hget", 3, kR | kFast, 1, 1, 1, HGet, "hash",
               "Returns the value of a field in a hash.", "2.0.0"});
  t->Register({"hmget", -3, kR | kFast, 1, 1, 1, HMGet, "hash",
               "Returns the values of all fields in a hash.", "2.0.0"});
  t->Register({"hdel", -3, kWrite | kFast, 1, 1, 1, HDel, "hash",
               "Deletes one or more fields and their values from a hash.", "2.0.0"});
  t->Register({"hexists", 3, kR | kFast, 1, 1, 1, HExists, "hash",
               "Determines whether a field exists in a hash.", "2.0.0"});
  t->Register({"hlen", 2, kR | kFast, 1, 1, 1, HLen, "hash",
               "Returns the number of fields in a hash.", "2.0.0"});
  t->Register({"hstrlen", 3, kR | kFast, 1, 1, 1, HStrLen, "hash",
               "Returns the length of the value of a field.", "3.2.0"});
  t->Register({"hkeys", 2, kR, 1, 1, 1, HKeys, "hash", "Returns all fields in a hash.", "2.0.0"});
  t->Register({"hvals", 2, kR, 1, 1, 1, HVals, "hash", "Returns all values in a hash.", "2.0.0"});
  t->Register({"hgetall", 2, kR, 1, 1, 1, HGetAll, "hash",
               "Returns all fields and values in a hash.", "2.0.0"});
  t->Register({"hincrby", 4, kW | kFast, 1, 1, 1, HIncrBy, "hash",
               "Increments the integer value of a field in a hash by a number.", "2.0.0"});
  t->Register({"hincrbyfloat", 4, kW | kFast, 1, 1, 1, HIncrByFloat, "hash",
               "Increments the floating point value of a field by a number.", "2.6.0"});
  t->Register({"hrandfield", -2, kR, 1, 1, 1, HRandField, "hash",
               "Returns one or more random fields from a hash.", "6.2.0"});
  t->Register({"hscan", -3, kR, 1, 1, 1, HScan, "hash",
               "Iterates over fields and values of a hash.", "2.8.0"});
}

}  // namespace activekv::server
