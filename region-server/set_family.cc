// SADD SREM SISMEMBER SMISMEMBER SMEMBERS SCARD SPOP SRANDMEMBER SMOVE SINTER SINTERCARD
// SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN, with Redis 7.0's replies and error order
// (t_set.c). CRDT semantics of each: docs/crdt-semantics.md, "Sets".
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/glob.h"
#include "region-server/region.h"

namespace activekv::server {
namespace {

using crdt::SetValue;
using crdt::ValueType;

constexpr size_t kMaxIntsetEntries = 512;  // set-max-intset-entries

bool LookupSet(CommandContext& ctx, std::string_view key, const SetValue** s) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, ValueType::kSet, &e)) return false;
  *s = e == nullptr ? nullptr : e->set();
  return true;
}

// Distinct arguments from args[first] on, in order.
std::vector<std::string_view> Distinct(CommandContext& ctx, size_t first) {
  std::vector<std::string_view> out;
  if (ctx.args.size() == first + 1) {  // the common single member: no hash set
    out.push_back(ctx.args[first]);
    return out;
  }
  absl::flat_hash_set<std::string_view> seen;
  for (size_t i = first; i < ctx.args.size(); ++i) {
    if (seen.insert(ctx.args[i]).second) out.push_back(ctx.args[i]);
  }
  return out;
}

// Members in the order Redis 7.0 replies a set it built from them (SUNION, SDIFF, SINTERSTORE's
// result): numeric when they would form an intset, else as given.
void OrderLikeNewSet(std::vector<std::string_view>* members) {
  if (members->size() > kMaxIntsetEntries) return;
  std::vector<std::pair<int64_t, std::string_view>> ints;
  for (std::string_view m : *members) {
    int64_t v;
    if (!crdt::ParseRedisInt(m, &v)) return;
    ints.emplace_back(v, m);
  }
  std::sort(ints.begin(), ints.end());
  for (size_t i = 0; i < ints.size(); ++i) (*members)[i] = ints[i].second;
}

void ReplyMembers(CommandContext& ctx, const std::vector<std::string_view>& members) {
  ctx.reply->SetLen(members.size());
  for (std::string_view m : members) ctx.reply->Bulk(m);
}

void SAdd(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return;
  std::vector<std::string_view> members = Distinct(ctx, 2);
  int64_t added = 0;
  for (std::string_view m : members) {
    if (s == nullptr || s->Find(m) == nullptr) ++added;
  }
  // Members present already get a new instance too: a concurrent SREM elsewhere then does not
  // remove them (add-wins).
  if (s == nullptr) ctx.region->PrepareCreate(ctx.args[1]);
  if (added == 0) ctx.region->NextOpUnsignalled();  // Redis signals only when it added one
  if (added > 0 || ctx.region->NeedsReAdds()) ctx.region->EmitSetAdd(ctx.args[1], members);
  ctx.reply->Integer(added);
}

void SRem(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return;
  std::vector<std::string_view> members;
  for (std::string_view m : Distinct(ctx, 2)) {
    if (s != nullptr && s->Find(m) != nullptr) members.push_back(m);
  }
  if (!members.empty()) ctx.region->EmitSetRemove(ctx.args[1], members);
  ctx.reply->Integer(static_cast<int64_t>(members.size()));
}

void SIsMember(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return;
  ctx.reply->Integer(s != nullptr && s->Find(ctx.args[2]) != nullptr ? 1 : 0);
}

void SMIsMember(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return;
  ctx.reply->ArrayLen(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    ctx.reply->Integer(s != nullptr && s->Find(ctx.args[i]) != nullptr ? 1 : 0);
  }
}

std::vector<std::string_view> MembersOf(const SetValue& s) {
  std::vector<std::string_view> out;
  out.reserve(s.size());
  for (uint32_t i : s.ReplyOrder()) out.push_back(s.at(i).name);
  return out;
}

void SMembers(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return;
  if (s == nullptr) {
    ctx.reply->SetLen(0);
    return;
  }
  ReplyMembers(ctx, MembersOf(*s));
}

void SCard(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return;
  ctx.reply->Integer(s == nullptr ? 0 : static_cast<int64_t>(s->size()));
}

// `n` distinct random members (n < size), by a partial shuffle of the indices.
std::vector<std::string> RandomDistinct(const SetValue& s, size_t n) {
  std::vector<uint32_t> idx(s.size());
  for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::swap(idx[i], idx[i + RandomU64() % (idx.size() - i)]);
    out.emplace_back(s.at(idx[i]).name);
  }
  return out;
}

// SPOP / SRANDMEMBER without a count: a random member of the set at args[1], or null (after
// replying nil or WRONGTYPE).
const SetValue::Member* PickOne(CommandContext& ctx) {
  const SetValue* s;
  if (!LookupSet(ctx, ctx.args[1], &s)) return nullptr;
  if (s == nullptr) {
    ctx.reply->Null();
    return nullptr;
  }
  return &s->at(RandomU64() % s->size());
}

void SPop(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  if (ctx.args.size() == 2) {
    const SetValue::Member* picked = PickOne(ctx);
    if (picked == nullptr) return;
    const std::string member(picked->name);
    const std::string_view m = member;
    ctx.region->NameEvents("spop");
    ctx.region->EmitSetRemove(ctx.args[1], {&m, 1});
    ctx.reply->Bulk(member);
    return;
  }
  int64_t count;
  if (!crdt::ParseRedisInt(ctx.args[2], &count) || count < 0) {
    ctx.reply->Error("ERR value is out of range, must be positive");
    return;
  }
  const crdt::Entry* e;
  const std::string_view empty_set = ctx.reply->protocol() == 3 ? "~0\r\n" : "*0\r\n";
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kSet, empty_set, &e)) return;
  const SetValue* s = e->set();
  if (count == 0) {
    ctx.reply->SetLen(0);
    return;
  }
  std::vector<std::string> popped;
  if (static_cast<uint64_t>(count) >= s->size()) {
    for (std::string_view m : MembersOf(*s)) popped.emplace_back(m);
  } else {
    popped = RandomDistinct(*s, static_cast<size_t>(count));
  }
  std::vector<std::string_view> views(popped.begin(), popped.end());
  ctx.region->NameEvents("spop");
  ctx.region->EmitSetRemove(ctx.args[1], views);
  ReplyMembers(ctx, views);
}

void SRandMember(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  if (ctx.args.size() == 2) {
    if (const SetValue::Member* picked = PickOne(ctx)) ctx.reply->Bulk(picked->name);
    return;
  }
  int64_t count;
  if (!ParsePickCount(ctx, ctx.args[2], &count)) return;
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kSet, resp::kReplyEmptyArray, &e)) return;
  const SetValue& s = *e->set();
  if (count == 0) {
    ctx.reply->Raw(resp::kReplyEmptyArray);
    return;
  }
  if (count < 0) {
    const uint64_t n = static_cast<uint64_t>(-count);
    ctx.reply->ArrayLen(n);
    for (uint64_t i = 0; i < n; ++i) ctx.reply->Bulk(s.at(RandomU64() % s.size()).name);
    return;
  }
  if (static_cast<uint64_t>(count) >= s.size()) {
    const std::vector<std::string_view> all = MembersOf(s);
    ctx.reply->ArrayLen(all.size());
    for (std::string_view m : all) ctx.reply->Bulk(m);
    return;
  }
  std::vector<std::string> picked = RandomDistinct(s, static_cast<size_t>(count));
  ctx.reply->ArrayLen(picked.size());
  for (const std::string& m : picked) ctx.reply->Bulk(m);
}

void SMove(CommandContext& ctx) {
  std::string_view src = ctx.args[1];
  std::string_view dst = ctx.args[2];
  std::string_view member = ctx.args[3];
  const crdt::Entry* se = ctx.region->Lookup(src);
  const crdt::Entry* de = ctx.region->Lookup(dst);
  if (se == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  if (ctx.region->TypeOf(*se) != ValueType::kSet ||
      (de != nullptr && ctx.region->TypeOf(*de) != ValueType::kSet)) {
    ctx.reply->Error(kErrWrongType);
    return;
  }
  if (src == dst) {
    ctx.reply->Integer(se->set()->Find(member) != nullptr ? 1 : 0);
    return;
  }
  if (se->set()->Find(member) == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  const bool dst_exists = de != nullptr;
  const bool dst_has = dst_exists && de->set()->Find(member) != nullptr;
  ctx.region->EmitSetRemove(src, {&member, 1});
  if (!dst_exists) ctx.region->PrepareCreate(dst);
  // Redis signals dst only when the member was not in it already.
  if (dst_has) ctx.region->NextOpUnsignalled();
  if (!dst_has || ctx.region->NeedsReAdds()) ctx.region->EmitSetAdd(dst, {&member, 1});
  ctx.reply->Integer(1);
}

// The sets at `keys` for SINTER/SUNION/SDIFF: false after WRONGTYPE (every key is checked).
// Missing keys are null, and set `*missing`.
bool LookupSets(CommandContext& ctx, absl::Span<const std::string_view> keys,
                std::vector<const SetValue*>* sets, bool* missing) {
  *missing = false;
  for (std::string_view key : keys) {
    const crdt::Entry* e = ctx.region->Lookup(key);
    if (e == nullptr) {
      ctx.region->NotifyKeyMiss(key);  // *STORE: Redis 7.0 reads the sources with lookupKeyRead
      *missing = true;
      sets->push_back(nullptr);
      continue;
    }
    if (ctx.region->TypeOf(*e) != ValueType::kSet) {
      ctx.reply->Error(kErrWrongType);
      return false;
    }
    sets->push_back(e->set());
  }
  return true;
}

// SINTER's members in Redis's order: those of the smallest set, in its order, that all others
// hold. Stops after `limit` (0: no limit).
std::vector<std::string_view> Intersect(std::vector<const SetValue*> sets, size_t limit) {
  std::stable_sort(sets.begin(), sets.end(),
                   [](const SetValue* a, const SetValue* b) { return a->size() < b->size(); });
  std::vector<std::string_view> out;
  for (std::string_view m : MembersOf(*sets[0])) {
    bool all = true;
    for (size_t j = 1; j < sets.size() && all; ++j) {
      if (sets[j] != sets[0] && sets[j]->Find(m) == nullptr) all = false;
    }
    if (!all) continue;
    out.push_back(m);
    if (limit != 0 && out.size() >= limit) break;
  }
  return out;
}

// `*hashtable`: Redis's result set is a hashtable whatever its members (see below).
std::vector<std::string_view> UnionOrDiff(const std::vector<const SetValue*>& sets, bool diff,
                                          bool* hashtable) {
  std::vector<std::string_view> out;
  absl::flat_hash_set<std::string_view> seen;
  if (diff) {
    if (sets[0] == nullptr) return out;
    for (size_t i = 0; i < sets[0]->size(); ++i) {
      std::string_view m = sets[0]->at(i).name;
      bool elsewhere = false;
      for (size_t j = 1; j < sets.size() && !elsewhere; ++j) {
        if (sets[j] == sets[0] || (sets[j] != nullptr && sets[j]->Find(m) != nullptr)) {
          elsewhere = true;
        }
      }
      if (!elsewhere) out.push_back(m);
    }
  } else {
    for (const SetValue* s : sets) {
      if (s == nullptr) continue;
      for (size_t i = 0; i < s->size(); ++i) {
        if (seen.insert(s->at(i).name).second) out.push_back(s->at(i).name);
      }
    }
  }
  // Redis builds the result in a new set, which stays an intset (ascending) only while every
  // member it is given is an integer and it holds at most 512. SDIFF's second algorithm (chosen
  // by sunionDiffGenericCommand's work estimate) first adds all of the first set, then removes
  // the others': a non-integer member of the first set makes the result a hashtable even when it
  // is removed again (found by the differential test, AKV_SEED=37).
  *hashtable = false;
  if (diff && sets[0] != nullptr) {
    uint64_t algo_one = 0, algo_two = 0;
    for (const SetValue* s : sets) {
      if (s == nullptr) continue;
      algo_one += sets[0]->size();
      algo_two += s->size();
    }
    if (algo_one / 2 > algo_two) {  // algorithm 2
      *hashtable = sets[0]->size() > kMaxIntsetEntries;
      for (size_t i = 0; i < sets[0]->size() && !*hashtable; ++i) {
        int64_t v;
        if (!crdt::ParseRedisInt(sets[0]->at(i).name, &v)) *hashtable = true;
      }
    }
  }
  if (!*hashtable) OrderLikeNewSet(&out);
  return out;
}

// Replaces `dst` with a set of `members` (or deletes it when there are none); replies the size.
// `hashtable`: the new set has Redis's hashtable encoding whatever its members.
// `event`: the command's ("sinterstore"...), fired after "new" when the result is not empty;
// an empty one deletes `dst` ("del").
void Store(CommandContext& ctx, std::string_view dst, std::vector<std::string_view> members,
           std::string_view event, bool hashtable = false) {
  // The members may live in `dst`'s own set: copy them before it changes.
  std::vector<std::string> copies(members.begin(), members.end());
  std::vector<std::string_view> views(copies.begin(), copies.end());
  Region& region = *ctx.region;
  const crdt::Entry* old = region.Find(dst);
  const bool existed = old != nullptr && old->Exists();
  if (views.empty()) {
    if (old != nullptr) region.EmitDelete(dst);
  } else {
    region.MuteEvents(true);
    if (old != nullptr) region.EmitDelete(dst);
    region.EmitSetAdd(dst, views, hashtable);
    region.MuteEvents(false);
    if (!existed) region.Notify(kNotifyNew, "new", dst);
    region.Notify(kNotifySet, event, dst);
  }
  ctx.reply->Integer(static_cast<int64_t>(views.size()));
}

void SInterGeneric(CommandContext& ctx, size_t first, bool store) {
  std::vector<const SetValue*> sets;
  bool missing;
  if (!LookupSets(ctx, ctx.args.subspan(first), &sets, &missing)) return;
  std::vector<std::string_view> out;
  if (!missing) out = Intersect(sets, 0);
  if (store) {
    OrderLikeNewSet(&out);
    Store(ctx, ctx.args[1], std::move(out), "sinterstore");
  } else {
    ReplyMembers(ctx, out);
  }
}

void SInter(CommandContext& ctx) { SInterGeneric(ctx, 1, false); }
void SInterStore(CommandContext& ctx) { SInterGeneric(ctx, 2, true); }

void SUnionDiff(CommandContext& ctx, size_t first, bool diff, bool store) {
  std::vector<const SetValue*> sets;
  bool missing;
  if (!LookupSets(ctx, ctx.args.subspan(first), &sets, &missing)) return;
  bool hashtable = false;
  std::vector<std::string_view> out = UnionOrDiff(sets, diff, &hashtable);
  if (store) {
    Store(ctx, ctx.args[1], std::move(out), diff ? "sdiffstore" : "sunionstore", hashtable);
  } else {
    ReplyMembers(ctx, out);
  }
}

void SUnion(CommandContext& ctx) { SUnionDiff(ctx, 1, false, false); }
void SUnionStore(CommandContext& ctx) { SUnionDiff(ctx, 2, false, true); }
void SDiff(CommandContext& ctx) { SUnionDiff(ctx, 1, true, false); }
void SDiffStore(CommandContext& ctx) { SUnionDiff(ctx, 2, true, true); }

void SInterCard(CommandContext& ctx) {
  int64_t numkeys;
  if (!crdt::ParseRedisInt(ctx.args[1], &numkeys) || numkeys < 1) {
    ctx.reply->Error("ERR numkeys should be greater than 0");
    return;
  }
  if (numkeys > static_cast<int64_t>(ctx.args.size()) - 2) {
    ctx.reply->Error("ERR Number of keys can't be greater than number of args");
    return;
  }
  int64_t limit = 0;
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < ctx.args.size(); ++j) {
    if (EqualsIgnoreCase(ctx.args[j], "limit") && j + 1 < ctx.args.size()) {
      if (!crdt::ParseRedisInt(ctx.args[j + 1], &limit) || limit < 0) {
        ctx.reply->Error("ERR LIMIT can't be negative");
        return;
      }
      ++j;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  std::vector<const SetValue*> sets;
  bool missing;
  if (!LookupSets(ctx, ctx.args.subspan(2, static_cast<size_t>(numkeys)), &sets, &missing)) {
    return;
  }
  ctx.reply->Integer(
      missing ? 0 : static_cast<int64_t>(Intersect(sets, static_cast<size_t>(limit)).size()));
}

void SScan(CommandContext& ctx) {
  ScanArgs args;
  if (!ParseScanCursor(ctx, ctx.args[2], &args.cursor)) return;
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kSet, resp::kReplyEmptyScan, &e)) return;
  if (!ParseScanOptions(ctx, 3, false, &args)) return;
  const SetValue& s = *e->set();
  std::vector<std::string_view> out;
  size_t stop = 0;
  if (s.intset()) {  // returned whole (cursor 0), in order, as Redis does
    for (std::string_view m : MembersOf(s)) {
      if (!args.has_pattern || GlobMatch(args.pattern, m)) out.push_back(m);
    }
  } else {  // positions from the end (crdt/values/element_table.h)
    size_t pos = s.size();
    if (args.cursor != 0 && args.cursor < pos) pos = static_cast<size_t>(args.cursor);
    stop = pos > static_cast<size_t>(args.count) ? pos - static_cast<size_t>(args.count) : 0;
    for (size_t i = pos; i > stop;) {
      std::string_view m = s.at(--i).name;
      if (!args.has_pattern || GlobMatch(args.pattern, m)) out.push_back(m);
    }
  }
  ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(absl::StrCat(stop));
  ctx.reply->ArrayLen(out.size());
  for (std::string_view m : out) ctx.reply->Bulk(m);
}

}  // namespace

void RegisterSetFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite | kDenyOom;
  constexpr uint32_t kR = kReadOnly;
  t->Register({"sadd", -3, kW | kFast, 1, 1, 1, SAdd, "set", "Adds one or more members to a set.",
               "1.0.0"});
  t->Register({"srem", -3, kWrite | kFast, 1, 1, 1, SRem, "set",
               "Removes one or more members from a set.", "1.0.0"});
  t->Register({"sismember", 3, kR | kFast, 1, 1, 1, SIsMember, "set",
               "Determines whether a member belongs to a set.", "1.0.0"});
  t->Register({"smismember", -3, kR | kFast, 1, 1, 1, SMIsMember, "set",
               "Determines whether multiple members belong to a set.", "6.2.0"});
  t->Register(
      {"smembers", 2, kR, 1, 1, 1, SMembers, "set", "Returns all members of a set.", "1.0.0"});
  t->Register({"scard", 2, kR | kFast, 1, 1, 1, SCard, "set",
               "Returns the number of members in a set.", "1.0.0"});
  t->Register({"spop", -2, kWrite | kFast, 1, 1, 1, SPop, "set",
               "Returns one or more random members from a set after removing them.", "1.0.0"});
  t->Register({"srandmember", -2, kR, 1, 1, 1, SRandMember, "set",
               "Get one or multiple random members from a set.", "1.0.0"});
  t->Register({"smove", 4, kWrite | kFast, 1, 2, 1, SMove, "set",
               "Moves a member from one set to another.", "1.0.0"});
  t->Register({"sinter", -2, kR, 1, -1, 1, SInter, "set", "Returns the intersect of multiple sets.",
               "1.0.0"});
  t->Register({"sintercard", -3, kR, 0, 0, 0, SInterCard, "set",
               "Returns the number of members of the intersect of multiple sets.", "7.0.0"});
  t->Register({"sinterstore", -3, kW, 1, -1, 1, SInterStore, "set",
               "Stores the intersect of multiple sets in a key.", "1.0.0"});
  t->Register(
      {"sunion", -2, kR, 1, -1, 1, SUnion, "set", "Returns the union of multiple sets.", "1.0.0"});
  t->Register({"sunionstore", -3, kW, 1, -1, 1, SUnionStore, "set",
               "Stores the union of multiple sets in a key.", "1.0.0"});
  t->Register({"sdiff", -2, kR, 1, -1, 1, SDiff, "set", "Returns the difference of multiple sets.",
               "1.0.0"});
  t->Register({"sdiffstore", -3, kW, 1, -1, 1, SDiffStore, "set",
               "Stores the difference of multiple sets in a key.", "1.0.0"});
  t->Register({"sscan", -3, kR, 1, 1, 1, SScan, "set", "Iterates over members of a set.", "2.6.0"});
}

}  // namespace activekv::server
