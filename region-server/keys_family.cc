// DEL UNLINK EXISTS TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME
// PERSIST KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE OBJECT (Redis 7.0 db.c / expire.c /
// object.c). Each works on the client's selected database (Region::SelectDb).
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/expire_args.h"
#include "region-server/glob.h"
#include "region-server/region.h"
#include "region-server/stream_args.h"

namespace activekv::server {
namespace {

using v1::ExpiryChange;

void Del(CommandContext& ctx) {
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (ctx.region->Lookup(ctx.args[i]) != nullptr) {
      ctx.region->EmitDelete(ctx.args[i]);
      ++deleted;
    }
  }
  ctx.reply->Integer(deleted);
}

void Exists(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (ctx.region->Lookup(ctx.args[i]) != nullptr) ++n;
  }
  ctx.reply->Integer(n);
}

void Type(CommandContext& ctx) {
  const crdt::Entry* e = ctx.region->Lookup(ctx.args[1]);
  ctx.reply->SimpleString(e == nullptr ? "none" : TypeName(ctx.region->TypeOf(*e)));
}

enum ExpireFlag { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// expireGenericCommand: `base_ms` is now for EXPIRE/PEXPIRE, 0 for the *AT forms.
void ExpireGeneric(CommandContext& ctx, int64_t base_ms, bool seconds) {
  int flags = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    std::string_view opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "nx")) {
      flags |= kNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      flags |= kXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      flags |= kGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      flags |= kLt;
    } else {
      ctx.reply->Error(absl::StrCat("ERR Unsupported option ", std::string(opt)));
      return;
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    ctx.reply->Error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if ((flags & kGt) && (flags & kLt)) {
    ctx.reply->Error("ERR GT and LT options at the same time are not compatible");
    return;
  }
  int64_t when;
  if (!crdt::ParseRedisInt(ctx.args[2], &when)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (seconds) {
    if (when > kMax / 1000 || when < kMin / 1000) {
      ReplyInvalidExpireTime(ctx);
      return;
    }
    when *= 1000;
  }
  if (when > kMax - base_ms) {
    ReplyInvalidExpireTime(ctx);
    return;
  }
  when += base_ms;
  Region& region = *ctx.region;
  std::string_view key = ctx.args[1];
  const crdt::Entry* e = region.Lookup(key);
  if (e == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  int64_t current = e->DeadlineMs();  // kNoDeadline (0) = no expiry
  bool has = current != crdt::kNoDeadline;
  if (((flags & kNx) && has) || ((flags & kXx) && !has) ||
      ((flags & kGt) && (!has || when <= current)) || ((flags & kLt) && has && when >= current)) {
    ctx.reply->Integer(0);
    return;
  }
  if (when <= region.NowMs()) {
    region.EmitDelete(key);
  } else {
    region.EmitExpire(key, ExpiryChange::DEADLINE, when);
  }
  ctx.reply->Integer(1);
}

void Expire(CommandContext& ctx) { ExpireGeneric(ctx, ctx.region->NowMs(), true); }
void PExpire(CommandContext& ctx) { ExpireGeneric(ctx, ctx.region->NowMs(), false); }
void ExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, 0, true); }
void PExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, 0, false); }

// ttlGenericCommand.
void TtlGeneric(CommandContext& ctx, bool ms, bool absolute) {
  const crdt::Entry* e = ctx.region->Lookup(ctx.args[1]);
  if (e == nullptr) {
    ctx.reply->Integer(-2);
    return;
  }
  int64_t deadline = e->DeadlineMs();
  if (deadline == crdt::kNoDeadline) {
    ctx.reply->Integer(-1);
    return;
  }
  int64_t ttl = absolute ? deadline : deadline - ctx.region->NowMs();
  if (ttl < 0) ttl = 0;
  // Rounded to the nearest second without overflowing (ttl can be INT64_MAX): ttl >= 0 here.
  ctx.reply->Integer(ms ? ttl : ttl / 1000 + (ttl % 1000 >= 500 ? 1 : 0));
}

void Ttl(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void PTtl(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void ExpireTime(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void PExpireTime(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

void Persist(CommandContext& ctx) {
  const crdt::Entry* e = ctx.region->Lookup(ctx.args[1]);
  if (e == nullptr || e->DeadlineMs() == crdt::kNoDeadline) {
    ctx.reply->Integer(0);
    return;
  }
  ctx.region->EmitExpire(ctx.args[1], ExpiryChange::PERSIST);
  ctx.reply->Integer(1);
}

bool Visible(const crdt::Entry& e, int64_t now) {
  if (!e.Exists()) return false;
  int64_t d = e.DeadlineMs();
  return d == crdt::kNoDeadline || d > now;
}

void Keys(CommandContext& ctx) {
  std::string_view pattern = ctx.args[1];
  bool all = pattern == "*";
  Region& region = *ctx.region;
  int64_t now = region.NowMs();
  std::vector<std::string_view> out;
  for (const crdt::Keyspace::Indexed& i : region.ks().entries(region.ns())) {
    if (!Visible(i.entry(), now)) continue;
    if (all || GlobMatch(pattern, i.key())) out.push_back(i.key());
  }
  ctx.reply->ArrayLen(out.size());
  for (std::string_view k : out) ctx.reply->Bulk(k);
}

void Scan(CommandContext& ctx) {
  ScanArgs args;
  if (!ParseScanCursor(ctx, ctx.args[1], &args.cursor)) return;
  if (!ParseScanOptions(ctx, 2, true, &args)) return;
  const int64_t count = args.count;
  const bool has_pattern = args.has_pattern;
  const std::string_view pattern = args.pattern;
  const uint64_t cursor = args.cursor;
  Region& region = *ctx.region;
  int64_t now = region.NowMs();
  const auto& map = region.ks().entries(region.ns());
  auto it = map.lower_bound(crdt::Keyspace::KeyRef{cursor, std::string_view()});
  std::vector<std::string_view> out;
  for (int64_t visited = 0; it != map.end() && visited < count; ++it, ++visited) {
    if (!Visible(it->entry(), now)) continue;
    if (has_pattern && !GlobMatch(pattern, it->key())) continue;
    if (args.has_type && !EqualsIgnoreCase(args.type, TypeName(region.TypeOf(it->entry())))) {
      continue;
    }
    out.push_back(it->key());
  }
  // Keys sharing the next key's hash are all >= (hash, "") and so none is skipped.
  uint64_t next = it == map.end() ? 0 : it->hash;
  ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(absl::StrCat(next));
  ctx.reply->ArrayLen(out.size());
  for (std::string_view k : out) ctx.reply->Bulk(k);
}

void RandomKey(CommandContext& ctx) {
  Region& region = *ctx.region;
  int64_t now = region.NowMs();
  const auto& map = region.ks().entries(region.ns());
  // A bounded number of probes: each lands on a random point of the hash ring.
  if (region.ks().key_count(region.ns()) == 0) {
    ctx.reply->Null();
    return;
  }
  auto probe = [&] {
    auto it = map.lower_bound(
        crdt::Keyspace::KeyRef{RandomU64() & crdt::Keyspace::kKeyHashMask, std::string_view()});
    return it == map.end() ? map.begin() : it;
  };
  for (int tries = 0; tries < 100; ++tries) {
    auto it = probe();
    if (Visible(it->entry(), now)) {
      ctx.reply->Bulk(it->key());
      return;
    }
  }
  // Live keys are rare among the entries (the others hold only CRDT state of removed keys): walk
  // on from a random point, once around, rather than answer nil while a key exists.
  const auto start = probe();
  for (auto it = start;;) {
    if (Visible(it->entry(), now)) {
      ctx.reply->Bulk(it->key());
      return;
    }
    if (++it == map.end()) it = map.begin();
    if (it == start) break;
  }
  ctx.reply->Null();
}

// Writes `e`'s value (of any type) and expiry deadline to `dst` as new instances, replacing
// whatever `dst` holds (RENAME's and COPY's destination). The value is copied as Redis would see
// it: a counter's pending increments become part of the copied number.
void CopyValue(Region& region, const crdt::Entry& e, std::string_view dst) {
  const int64_t deadline = e.DeadlineMs();
  const auto expiry =
      deadline != crdt::kNoDeadline ? ExpiryChange::DEADLINE : ExpiryChange::PERSIST;
  const crdt::RegionTable& regions = region.ks().regions();
  switch (region.TypeOf(e)) {
    case crdt::ValueType::kString: {
      // A SET observes (and so replaces) every type `dst` holds.
      const std::string value(region.ValueOf(e));
      region.EmitSet(dst, value, expiry, deadline);
      return;
    }
    case crdt::ValueType::kHash: {
      std::vector<std::pair<std::string, std::string>> copy;
      for (size_t i = 0; i < e.hash()->size(); ++i) {
        const crdt::HashValue::Field& f = e.hash()->at(i);
        copy.emplace_back(f.name, std::string(e.hash()->ValueOf(f, regions)));
      }
      std::vector<std::pair<std::string_view, std::string_view>> fields(copy.begin(), copy.end());
      if (region.Find(dst) != nullptr) region.EmitDelete(dst);
      region.EmitHashSet(dst, fields, !e.hash()->listpack());
      break;
    }
    case crdt::ValueType::kSet: {
      std::vector<std::string> copy;
      for (size_t i = 0; i < e.set()->size(); ++i) copy.emplace_back(e.set()->at(i).name);
      std::vector<std::string_view> members(copy.begin(), copy.end());
      if (region.Find(dst) != nullptr) region.EmitDelete(dst);
      region.EmitSetAdd(dst, members, !e.set()->intset());
      break;
    }
    case crdt::ValueType::kZset: {
      const crdt::ZsetValue& z = *e.zset();
      std::vector<std::pair<std::string, double>> copy;
      for (auto h = z.index().First(); h.valid(); ++h) copy.emplace_back(h.member(), h.score());
      std::vector<std::pair<std::string_view, double>> members(copy.begin(), copy.end());
      if (region.Find(dst) != nullptr) region.EmitDelete(dst);
      region.EmitZsetAdd(dst, members, !z.listpack());
      break;
    }
    case crdt::ValueType::kList: {
      std::vector<std::string> copy;
      for (size_t i = 0; i < e.list()->size(); ++i) copy.emplace_back(e.list()->at(i).value.view());
      std::vector<std::string_view> values(copy.begin(), copy.end());
      if (region.Find(dst) != nullptr) region.EmitDelete(dst);
      region.EmitListPush(dst, values, false);
      break;
    }
    case crdt::ValueType::kStream:
      if (region.Find(dst) != nullptr) region.EmitDelete(dst);
      CopyStream(region, *e.stream(), dst);
      break;
    case crdt::ValueType::kNone:
      return;
  }
  if (deadline != crdt::kNoDeadline) region.EmitExpire(dst, ExpiryChange::DEADLINE, deadline);
}

void RenameGeneric(CommandContext& ctx, bool nx) {
  Region& region = *ctx.region;
  std::string_view src = ctx.args[1];
  std::string_view dst = ctx.args[2];
  const crdt::Entry* e = region.Lookup(src);
  if (e == nullptr) {
    ctx.reply->Error(kErrNoSuchKey);
    return;
  }
  if (src == dst) {
    if (nx) {
      ctx.reply->Integer(0);
    } else {
      ctx.reply->Ok();
    }
    return;
  }
  if (nx && region.Lookup(dst) != nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  // Redis: "new" (dbAdd of the destination), rename_from, rename_to.
  region.MuteEvents(true);
  CopyValue(region, *e, dst);
  region.EmitDelete(src);
  region.MuteEvents(false);
  region.Notify(kNotifyNew, "new", dst);
  region.Notify(kNotifyGeneric, "rename_from", src);
  region.Notify(kNotifyGeneric, "rename_to", dst);
  if (nx) {
    ctx.reply->Integer(1);
  } else {
    ctx.reply->Ok();
  }
}

// COPY source destination [DB destination-db] [REPLACE].
void Copy(CommandContext& ctx) {
  bool replace = false;
  Region& region = *ctx.region;
  const uint32_t src_db = region.db();
  uint32_t dst_db = src_db;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.args[j], "db") && j + 1 < ctx.args.size()) {
      if (!ParseDbIndex(ctx, ctx.args[j + 1], &dst_db)) return;
      ++j;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  std::string_view src = ctx.args[1];
  std::string_view dst = ctx.args[2];
  if (src_db == dst_db && src == dst) {
    ctx.reply->Error(kErrSameObject);
    return;
  }
  const crdt::Entry* e = region.Lookup(src);
  if (e == nullptr) {
    region.NotifyKeyMiss(src);  // Redis reads the source with lookupKeyRead
    ctx.reply->Integer(0);
    return;
  }
  region.SelectDb(dst_db);  // the source entry stays valid: ops on dst leave it alone
  if (!replace && region.Lookup(dst) != nullptr) {
    region.SelectDb(src_db);
    ctx.reply->Integer(0);
    return;
  }
  // Redis: "new" (dbAdd of the destination), copy_to, in the destination's database.
  region.MuteEvents(true);
  CopyValue(region, *e, dst);
  region.MuteEvents(false);
  region.Notify(kNotifyNew, "new", dst);
  region.Notify(kNotifyGeneric, "copy_to", dst);
  region.SelectDb(src_db);
  ctx.reply->Integer(1);
}

// MOVE key db: one unit of a copy of the value (and deadline) to `db` and a DEL in the selected
// database (docs/crdt-semantics.md, "Databases"); 0 when the key is missing or `db` has it.
void Move(CommandContext& ctx) {
  Region& region = *ctx.region;
  const uint32_t src_db = region.db();
  uint32_t dst_db;
  if (!ParseDbIndex(ctx, ctx.args[2], &dst_db)) return;
  if (dst_db == src_db) {
    ctx.reply->Error(kErrSameObject);
    return;
  }
  std::string_view key = ctx.args[1];
  const crdt::Entry* e = region.Lookup(key);
  if (e == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  region.SelectDb(dst_db);
  if (region.Lookup(key) != nullptr) {
    region.SelectDb(src_db);
    ctx.reply->Integer(0);
    return;
  }
  // Redis: "new" in the destination database, move_from, move_to.
  region.MuteEvents(true);
  CopyValue(region, *e, key);
  region.Notify(kNotifyNew, "new", key);
  region.SelectDb(src_db);
  region.EmitDelete(key);
  region.MuteEvents(false);
  region.Notify(kNotifyGeneric, "move_from", key);
  region.SelectDb(dst_db);
  region.Notify(kNotifyGeneric, "move_to", key);
  region.SelectDb(src_db);
  ctx.reply->Integer(1);
}

// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP. Encodings are the ones Redis 7.0 would
// use for the value (docs/crdt-semantics.md, "Differences from Redis": APPEND/SETRANGE results).
std::string_view EncodingOf(Region& region, const crdt::Entry& e) {
  switch (region.TypeOf(e)) {
    case crdt::ValueType::kString: {
      std::string_view v = region.ValueOf(e);
      int64_t n;
      if (v.size() <= 20 && crdt::ParseRedisInt(v, &n)) return "int";
      return v.size() <= 44 ? "embstr" : "raw";
    }
    case crdt::ValueType::kHash:
      return e.hash()->listpack() ? "listpack" : "hashtable";
    case crdt::ValueType::kSet:
      return e.set()->intset() ? "intset" : "hashtable";
    case crdt::ValueType::kZset:
      return e.zset()->listpack() ? "listpack" : "skiplist";
    case crdt::ValueType::kList:
      return "quicklist";
    case crdt::ValueType::kStream:
      return "stream";
    case crdt::ValueType::kNone:
      break;
  }
  return "none";
}

void Object(CommandContext& ctx) {
  ctx.region->BeginCommand(false);  // Redis's OBJECT looks keys up without "keymiss"
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "help")) {
    if (ctx.args.size() != 2) {
      ctx.reply->Error("ERR wrong number of arguments for 'object|help' command");
      return;
    }
    static const char* kHelp[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help."};
    ctx.reply->ArrayLen(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
    return;
  }
  const bool known = EqualsIgnoreCase(sub, "encoding") || EqualsIgnoreCase(sub, "freq") ||
                     EqualsIgnoreCase(sub, "idletime") || EqualsIgnoreCase(sub, "refcount");
  if (!known) {
    ctx.reply->Error(absl::StrCat("ERR unknown subcommand '", std::string(sub.substr(0, 128)),
                                  "'. Try OBJECT HELP."));
    return;
  }
  if (ctx.args.size() != 3) {
    std::string lower(sub);
    for (char& c : lower) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    ctx.reply->Error(
        absl::StrCat("ERR wrong number of arguments for 'object|", lower, "' command"));
    return;
  }
  const crdt::Entry* e = ctx.region->Lookup(ctx.args[2]);
  if (e == nullptr) {
    ctx.reply->Null();
    return;
  }
  if (EqualsIgnoreCase(sub, "encoding")) {
    ctx.reply->Bulk(EncodingOf(*ctx.region, *e));
  } else if (EqualsIgnoreCase(sub, "freq")) {
    ctx.reply->Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
  } else if (EqualsIgnoreCase(sub, "idletime")) {
    ctx.reply->Integer(0);  // access times are not tracked (docs/crdt-semantics.md)
  } else {
    // Redis shares the objects of the integers 0..9999 (OBJ_SHARED_REFCOUNT).
    int64_t n;
    const bool shared = ctx.region->TypeOf(*e) == crdt::ValueType::kString &&
                        crdt::ParseRedisInt(ctx.region->ValueOf(*e), &n) && n >= 0 && n < 10000;
    ctx.reply->Integer(shared ? 2147483647 : 1);
  }
}

void Rename(CommandContext& ctx) { RenameGeneric(ctx, false); }
void RenameNx(CommandContext& ctx) { RenameGeneric(ctx, true); }

}  // namespace

void RegisterKeysFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite;
  constexpr uint32_t kR = kReadOnly | kFast;
  t->Register({"del", -2, kW, 1, -1, 1, Del, "generic", "Delete a key", "1.0.0"});
  t->Register({"unlink", -2, kW | kFast, 1, -1, 1, Del, "generic",
               "Delete a key asynchronously in another thread", "4.0.0"});
  t->Register(
      {"exists", -2, kR, 1, -1, 1, Exists, "generic", "Determine if a key exists", "1.0.0"});
  t->Register(
      {"type", 2, kR, 1, 1, 1, Type, "generic", "Determine the type stored at key", "1.0.0"});
  t->Register({"expire", -3, kW | kFast, 1, 1, 1, Expire, "generic",
               "Set a key's time to live in seconds", "1.0.0"});
  t->Register({"pexpire", -3, kW | kFast, 1, 1, 1, PExpire, "generic",
               "Set a key's time to live in milliseconds", "2.6.0"});
  t->Register({"expireat", -3, kW | kFast, 1, 1, 1, ExpireAt, "generic",
               "Set the expiration for a key as a UNIX timestamp", "1.2.0"});
  t->Register({"pexpireat", -3, kW | kFast, 1, 1, 1, PExpireAt, "generic",
               "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
               "2.6.0"});
  t->Register({"ttl", 2, kR, 1, 1, 1, Ttl, "generic", "Get the time to live for a key in seconds",
               "1.0.0"});
  t->Register({"pttl", 2, kR, 1, 1, 1, PTtl, "generic",
               "Get the time to live for a key in milliseconds", "2.6.0"});
  t->Register({"expiretime", 2, kR, 1, 1, 1, ExpireTime, "generic",
               "Get the expiration Unix timestamp for a key", "7.0.0"});
  t->Register({"pexpiretime", 2, kR, 1, 1, 1, PExpireTime, "generic",
               "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0"});
  t->Register({"persist", 2, kW | kFast, 1, 1, 1, Persist, "generic",
               "Remove the expiration from a key", "2.2.0"});
  t->Register({"keys", 2, kReadOnly, 0, 0, 0, Keys, "generic",
               "Find all keys matching the given pattern", "1.0.0"});
  t->Register({"copy", -3, kW | kDenyOom, 1, 2, 1, Copy, "generic",
               "Copies the value of a key to a new key.", "6.2.0"});
  t->Register(
      {"move", 3, kW | kFast, 1, 1, 1, Move, "generic", "Move a key to another database", "1.0.0"});
  t->Register({"object", -2, kReadOnly, 0, 0, 0, Object, "generic",
               "A container for object introspection commands.", "2.2.3"});
  t->Register({"scan", -2, kReadOnly, 0, 0, 0, Scan, "generic",
               "Incrementally iterate the keys space", "2.8.0"});
  t->Register({"randomkey", 1, kReadOnly, 0, 0, 0, RandomKey, "generic",
               "Return a random key from the keyspace", "1.0.0"});
  t->Register({"rename", 3, kW, 1, 2, 1, Rename, "generic", "Rename a key", "1.0.0"});
  t->Register({"renamenx", 3, kW | kFast, 1, 2, 1, RenameNx, "generic",
               "Rename a key, only if the new key does not exist", "1.0.0"});
}

}  // namespace activekv::server
