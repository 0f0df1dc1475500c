// ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE
// ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZREVRANGE ZREMRANGEBYRANK
// ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF ZUNIONSTORE
// ZINTERSTORE ZDIFFSTORE ZINTERCARD ZSCAN, with Redis 7.0's replies and error order (t_zset.c).
// CRDT semantics of each: docs/crdt-semantics.md, "Sorted sets".
//
// Ranks and ranges come from the zset's ScoreIndex: O(log n) to find where a range starts, then
// O(1) a step.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/blocking.h"
#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/glob.h"
#include "region-server/region.h"

namespace activekv::server {
namespace {

using crdt::ScoreIndex;
using crdt::SetValue;
using crdt::ValueType;
using crdt::ZsetValue;

constexpr std::string_view kErrNan = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kErrScoreRange = "ERR min or max is not a float";
constexpr std::string_view kErrLexRange = "ERR min or max not valid string range item";

bool LookupZset(CommandContext& ctx, std::string_view key, const ZsetValue** z) {
  const crdt::Entry* e;
  if (!LookupOfType(ctx, key, ValueType::kZset, &e)) return false;
  *z = e == nullptr ? nullptr : e->zset();
  return true;
}

constexpr size_t kListpackEntries = 128;  // zset-max-listpack-entries
constexpr size_t kListpackValue = 64;     // zset-max-listpack-value

// A listpack stores a score as text that reads back -0 as 0 (the skiplist keeps -0): what a
// score written into a zset with that encoding becomes.
double ListpackScore(double score, bool listpack) { return listpack && score == 0 ? 0.0 : score; }

// One member of a reply or of a result to store: views into a zset (valid until it changes) or
// into `Owned` strings.
struct Item {
  std::string_view member;
  double score;
};

// The order of a zset: score, then member bytes.
bool ItemLess(const Item& a, const Item& b) {
  if (a.score != b.score) return a.score < b.score;
  return a.member < b.member;
}

// Members with scores (WITHSCORES): RESP2 a flat array, RESP3 an array of [member, score] pairs.
void ReplyItems(CommandContext& ctx, const std::vector<Item>& items, bool withscores) {
  const bool nested = withscores && ctx.reply->protocol() == 3;
  ctx.reply->ArrayLen(withscores && !nested ? items.size() * 2 : items.size());
  for (const Item& it : items) {
    if (nested) ctx.reply->ArrayLen(2);
    ctx.reply->Bulk(it.member);
    if (withscores) ctx.reply->Double(it.score);
  }
}

// Copies of the members of `items` (which point into a zset about to change), and `items`
// pointed at the copies.
std::vector<std::string> OwnMembers(std::vector<Item>* items) {
  std::vector<std::string> names;
  names.reserve(items->size());
  for (const Item& it : *items) names.emplace_back(it.member);
  for (size_t i = 0; i < items->size(); ++i) (*items)[i].member = names[i];
  return names;
}

// Writes `items` to `dst` as a new zset (replacing whatever it holds) and replies its size; an
// empty result deletes `dst` ("del"); a non-empty one fires "new" (when `dst` did not exist)
// and `event` ("zunionstore"...). `items` may point into `dst`'s own zset: they are copied first.
void StoreItems(CommandContext& ctx, std::string_view dst, std::vector<Item> items,
                std::string_view event) {
  const std::vector<std::string> names = OwnMembers(&items);
  size_t longest = 0;
  for (const std::string& n : names) longest = std::max(longest, n.size());
  const bool listpack = names.size() <= kListpackEntries && longest <= kListpackValue;
  std::vector<std::pair<std::string_view, double>> members;
  members.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    members.emplace_back(names[i], ListpackScore(items[i].score, listpack));
  }
  Region& region = *ctx.region;
  const crdt::Entry* old = region.Find(dst);
  const bool existed = old != nullptr && old->Exists();
  if (members.empty()) {
    if (old != nullptr) region.EmitDelete(dst);
  } else {
    region.MuteEvents(true);
    if (old != nullptr) region.EmitDelete(dst);
    region.EmitZsetAdd(dst, members);
    region.MuteEvents(false);
    if (!existed) region.Notify(kNotifyNew, "new", dst);
    region.Notify(kNotifyZset, event, dst);
  }
  ctx.reply->Integer(static_cast<int64_t>(members.size()));
}

// zslParseRange: "(" makes a bound exclusive; strtod must consume the rest (empty is 0); no NaN.
bool ParseScoreBound(std::string_view text, double* value, bool* exclusive) {
  *exclusive = !text.empty() && text[0] == '(';
  if (*exclusive) text.remove_prefix(1);
  const std::string buf(text);
  char* end = nullptr;
  *value = strtod(buf.c_str(), &end);
  return end == buf.c_str() + buf.size() && !std::isnan(*value);
}

struct ScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
};

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* r) {
  return ParseScoreBound(min, &r->min, &r->minex) && ParseScoreBound(max, &r->max, &r->maxex);
}

// zslParseLexRangeItem: "+", "-", "[member" or "(member".
bool ParseLexBound(std::string_view text, ScoreIndex::LexBound* out) {
  if (text.empty()) return false;
  switch (text[0]) {
    case '+':
      if (text.size() != 1) return false;
      *out = ScoreIndex::LexBound::PlusInf();
      return true;
    case '-':
      if (text.size() != 1) return false;
      *out = ScoreIndex::LexBound::MinusInf();
      return true;
    case '(':
      *out = ScoreIndex::LexBound::Exclusive(text.substr(1));
      return true;
    case '[':
      *out = ScoreIndex::LexBound::Inclusive(text.substr(1));
      return true;
    default:
      return false;
  }
}

// The ranks [lo, hi) of the members within a range (lo >= hi: none).
void ScoreRanks(const ScoreIndex& index, const ScoreRange& r, size_t* lo, size_t* hi) {
  *lo = index.FirstRankAbove(r.min, r.minex);
  *hi = index.CountBelow(r.max, r.maxex);
}

void LexRanks(const ScoreIndex& index, const ScoreIndex::LexBound& min,
              const ScoreIndex::LexBound& max, size_t* lo, size_t* hi) {
  *lo = index.LexFirstRankAbove(min);
  *hi = index.LexCountBelow(max);
}

// Z*RANGE by rank: Redis's index sanitizing. False when the range is empty; else the ranks
// [*first, *last] in forward order.
bool RankRange(int64_t start, int64_t end, size_t size, size_t* first, size_t* last) {
  const int64_t n = static_cast<int64_t>(size);
  if (start < 0) start += n;
  if (end < 0) end += n;
  if (start < 0) start = 0;
  if (start > end || start >= n) return false;
  if (end >= n) end = n - 1;
  *first = static_cast<size_t>(start);
  *last = static_cast<size_t>(end);
  return true;
}

// The items of ranks [lo, hi) after skipping `offset` and keeping at most `limit` (negative:
// all), from the low end or (reverse) from the high end, in that order. A negative offset
// selects nothing, as in Redis.
std::vector<Item> Collect(const ScoreIndex& index, size_t lo, size_t hi, int64_t offset,
                          int64_t limit, bool reverse) {
  std::vector<Item> out;
  if (lo >= hi || offset < 0 || static_cast<uint64_t>(offset) >= hi - lo) return out;
  size_t n = hi - lo - static_cast<size_t>(offset);
  if (limit >= 0 && static_cast<uint64_t>(limit) < n) n = static_cast<size_t>(limit);
  out.reserve(n);
  ScoreIndex::Handle h =
      reverse ? index.At(hi - 1 - static_cast<size_t>(offset)) : index.At(lo + offset);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(Item{h.member(), h.score()});
    if (reverse) {
      --h;
    } else {
      ++h;
    }
  }
  return out;
}

using LexBound = ScoreIndex::LexBound;

// zslLexValueGteMin / zslLexValueLteMax.
bool GteMin(std::string_view v, const LexBound& min) {
  switch (min.kind) {
    case LexBound::Kind::kMinusInf:
      return true;
    case LexBound::Kind::kPlusInf:
      return false;
    case LexBound::Kind::kInclusive:
      return v >= min.member;
    case LexBound::Kind::kExclusive:
      return v > min.member;
  }
  return false;
}

bool LteMax(std::string_view v, const LexBound& max) {
  switch (max.kind) {
    case LexBound::Kind::kMinusInf:
      return false;
    case LexBound::Kind::kPlusInf:
      return true;
    case LexBound::Kind::kInclusive:
      return v <= max.member;
    case LexBound::Kind::kExclusive:
      return v < max.member;
  }
  return false;
}

// zzlIsInLexRange's first test (sdscmplex of the bounds; '-' and '+' count as exclusive).
bool LexRangeEmpty(const LexBound& min, const LexBound& max) {
  auto rank = [](const LexBound& b) {
    return b.kind == LexBound::Kind::kMinusInf ? 0 : b.kind == LexBound::Kind::kPlusInf ? 2 : 1;
  };
  int cmp = rank(min) - rank(max);
  if (cmp == 0 && rank(min) == 1) cmp = min.member.compare(max.member);
  const bool ex = min.kind != LexBound::Kind::kInclusive || max.kind != LexBound::Kind::kInclusive;
  return cmp > 0 || (cmp == 0 && ex);
}

// The members of a lexicographical range after OFFSET/LIMIT, in reply order. Redis walks a
// listpack linearly (zzlFirstInLexRange: from the first member >= min while <= max), which
// gives a defined answer even when the scores differ; a skiplist is searched as if ordered by
// member, which the ScoreIndex's ranks reproduce whenever the scores are equal (otherwise Redis
// documents the result as unspecified).
std::vector<Item> LexItems(const ZsetValue& z, const LexBound& min, const LexBound& max,
                           int64_t offset, int64_t limit, bool reverse) {
  if (!z.listpack()) {
    size_t lo, hi;
    LexRanks(z.index(), min, max, &lo, &hi);
    return Collect(z.index(), lo, hi, offset, limit, reverse);
  }
  std::vector<Item> all;
  for (ScoreIndex::Handle h = z.index().First(); h.valid(); ++h) {
    all.push_back(Item{h.member(), h.score()});
  }
  std::vector<Item> out;
  const size_t n = all.size();
  if (n == 0 || offset < 0 || LexRangeEmpty(min, max) || !GteMin(all[n - 1].member, min) ||
      !LteMax(all[0].member, max)) {
    return out;
  }
  if (!reverse) {
    size_t i = 0;
    while (i < n && !GteMin(all[i].member, min)) ++i;
    if (i == n || !LteMax(all[i].member, max)) return out;
    if (static_cast<uint64_t>(offset) >= n - i) return out;
    for (i += static_cast<size_t>(offset); i < n && limit-- != 0; ++i) {
      if (!LteMax(all[i].member, max)) break;
      out.push_back(all[i]);
    }
  } else {
    size_t i = n;  // one past the candidate
    while (i > 0 && !LteMax(all[i - 1].member, max)) --i;
    if (i == 0 || !GteMin(all[i - 1].member, min)) return out;
    if (static_cast<uint64_t>(offset) >= i) return out;
    for (i -= static_cast<size_t>(offset); i > 0 && limit-- != 0; --i) {
      if (!GteMin(all[i - 1].member, min)) break;
      out.push_back(all[i - 1]);
    }
  }
  return out;
}

enum class RangeType { kAuto, kRank, kScore, kLex };

// A Z*RANGE / ZREMRANGEBY* range as parsed (zrangeGenericCommand's step 2): ranks, scores or
// lexicographical bounds.
struct RangeSpec {
  RangeType type = RangeType::kRank;
  int64_t start = 0, end = 0;
  ScoreRange score;
  LexBound lex_min, lex_max;
};

// Parses `min` and `max` as a range of `type` (kAuto counts as kRank); replies Redis's error and
// returns false when they are not one.
bool ParseRange(CommandContext& ctx, RangeType type, std::string_view min, std::string_view max,
                RangeSpec* out) {
  out->type = type == RangeType::kAuto ? RangeType::kRank : type;
  switch (out->type) {
    case RangeType::kAuto:
    case RangeType::kRank:
      if (!crdt::ParseRedisInt(min, &out->start) || !crdt::ParseRedisInt(max, &out->end)) {
        ctx.reply->Error(kErrNotInteger);
        return false;
      }
      return true;
    case RangeType::kScore:
      if (!ParseScoreRange(min, max, &out->score)) {
        ctx.reply->Error(kErrScoreRange);
        return false;
      }
      return true;
    case RangeType::kLex:
      if (!ParseLexBound(min, &out->lex_min) || !ParseLexBound(max, &out->lex_max)) {
        ctx.reply->Error(kErrLexRange);
        return false;
      }
      return true;
  }
  return false;
}

// The members of `spec` in `z` after OFFSET/LIMIT, in reply order: from the low end, or
// (reverse) from the high end, where a rank range counts its indexes from the high end too
// (ZREVRANGE).
std::vector<Item> SelectRange(const ZsetValue& z, const RangeSpec& spec, int64_t offset,
                              int64_t limit, bool reverse) {
  size_t lo = 0, hi = 0;
  switch (spec.type) {
    case RangeType::kAuto:
    case RangeType::kRank: {
      size_t first, last;
      if (RankRange(spec.start, spec.end, z.size(), &first, &last)) {
        lo = reverse ? z.size() - 1 - last : first;
        hi = reverse ? z.size() - first : last + 1;
      }
      break;
    }
    case RangeType::kScore:
      ScoreRanks(z.index(), spec.score, &lo, &hi);
      break;
    case RangeType::kLex:
      return LexItems(z, spec.lex_min, spec.lex_max, offset, limit, reverse);
  }
  return Collect(z.index(), lo, hi, offset, limit, reverse);
}

// ---- ZADD ZINCRBY ZREM ----

void ZAddGeneric(CommandContext& ctx, bool zincrby) {
  const std::string_view key = ctx.args[1];
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = zincrby;
  size_t scoreidx = 2;
  if (!zincrby) {
    for (; scoreidx < ctx.args.size(); ++scoreidx) {
      const std::string_view opt = ctx.args[scoreidx];
      if (EqualsIgnoreCase(opt, "nx")) {
        nx = true;
      } else if (EqualsIgnoreCase(opt, "xx")) {
        xx = true;
      } else if (EqualsIgnoreCase(opt, "ch")) {
        ch = true;
      } else if (EqualsIgnoreCase(opt, "incr")) {
        incr = true;
      } else if (EqualsIgnoreCase(opt, "gt")) {
        gt = true;
      } else if (EqualsIgnoreCase(opt, "lt")) {
        lt = true;
      } else {
        break;
      }
    }
  }
  const size_t rest = ctx.args.size() - scoreidx;
  if (rest == 0 || rest % 2 != 0) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  const size_t elements = rest / 2;
  if (nx && xx) {
    ctx.reply->Error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.reply->Error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    ctx.reply->Error("ERR INCR option supports a single increment-element pair");
    return;
  }
  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; ++j) {
    if (!crdt::ParseRedisDouble(ctx.args[scoreidx + j * 2], &scores[j])) {
      ctx.reply->Error(kErrNotFloat);
      return;
    }
  }
  const ZsetValue* z;
  if (!LookupZset(ctx, key, &z)) return;
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  if (z == nullptr && xx) {
    if (incr) {
      ctx.reply->Null();
    } else {
      ctx.reply->Integer(0);
    }
    return;
  }

  // zsetAdd for each pair, in order: a later pair for the same member sees the earlier one.
  // Members this command set, with their latest score (a member given twice is written once).
  absl::flat_hash_map<std::string_view, double> pending;
  std::vector<std::string_view> order;
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  bool incremented = false;
  // The encoding as Redis's zsetAdd goes (a member that does not fit converts before it is
  // added), for ListpackScore.
  bool listpack = z == nullptr ? ctx.args[scoreidx + 1].size() <= kListpackValue : z->listpack();
  size_t size = z == nullptr ? 0 : z->size();
  for (size_t j = 0; j < elements; ++j) {
    const std::string_view member = ctx.args[scoreidx + 1 + j * 2];
    score = scores[j];
    bool exists = false;
    double cur = 0;
    if (auto it = pending.find(member); it != pending.end()) {
      exists = true;
      cur = it->second;
    } else if (z != nullptr) {
      if (const ZsetValue::Member* m = z->Find(member)) {
        exists = true;
        cur = z->Score(*m, regions);
      }
    }
    if (exists) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (std::isnan(score)) {
          ctx.reply->Error(kErrNan);
          return;
        }
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      ++processed;
      if (score != cur) ++updated;
    } else {
      if (xx) continue;
      ++processed;
      ++added;
      if (++size > kListpackEntries || member.size() > kListpackValue) listpack = false;
    }
    // The reply shows the score as computed, the zset holds it as stored.
    if (pending.insert_or_assign(member, ListpackScore(score, listpack)).second) {
      order.push_back(member);
    }
    if (incr) incremented = true;
  }
  std::vector<std::pair<std::string_view, double>> writes;
  if (!incr) {
    writes.reserve(order.size());
    for (std::string_view m : order) writes.emplace_back(m, pending[m]);
  }
  if (z == nullptr && (!writes.empty() || incremented)) ctx.region->PrepareCreate(key);
  // Every processed member gets a new score instance, also when its score did not change: a
  // concurrent ZREM elsewhere then does not remove it (add-wins).
  // Redis signals the key only when a member was added or its score changed.
  const bool readd_only = added == 0 && updated == 0;
  if (readd_only && (!writes.empty() || incremented)) ctx.region->NextOpUnsignalled();
  if (!writes.empty() && (!readd_only || ctx.region->NeedsReAdds())) {
    ctx.region->EmitZsetAdd(key, writes);
  }
  if (incremented) {
    ctx.region->EmitZsetIncrement(key, ctx.args[scoreidx + 1], ListpackScore(scores[0], listpack));
  }
  if (incr) {
    if (processed > 0) {
      ctx.reply->Double(score);
    } else {
      ctx.reply->Null();
    }
  } else {
    ctx.reply->Integer(ch ? added + updated : added);
  }
}

void ZAdd(CommandContext& ctx) { ZAddGeneric(ctx, false); }
void ZIncrBy(CommandContext& ctx) { ZAddGeneric(ctx, true); }

void ZRem(CommandContext& ctx) {
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyZero, &e)) return;
  const ZsetValue& z = *e->zset();
  std::vector<std::string_view> removed;
  absl::flat_hash_set<std::string_view> seen;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (z.Find(ctx.args[i]) != nullptr && seen.insert(ctx.args[i]).second) {
      removed.push_back(ctx.args[i]);
    }
  }
  if (!removed.empty()) ctx.region->EmitZsetRemove(ctx.args[1], removed);
  ctx.reply->Integer(static_cast<int64_t>(removed.size()));
}

// ---- Point reads ----

void ZCard(CommandContext& ctx) {
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyZero, &e)) return;
  ctx.reply->Integer(static_cast<int64_t>(e->zset()->size()));
}

void ZScore(CommandContext& ctx) {
  const ZsetValue* z;
  if (!LookupZset(ctx, ctx.args[1], &z)) return;
  const ZsetValue::Member* m = z == nullptr ? nullptr : z->Find(ctx.args[2]);
  if (m == nullptr) {
    ctx.reply->Null();
  } else {
    ctx.reply->Double(z->Score(*m, ctx.region->ks().regions()));
  }
}

void ZMScore(CommandContext& ctx) {
  const ZsetValue* z;
  if (!LookupZset(ctx, ctx.args[1], &z)) return;
  ctx.reply->ArrayLen(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    const ZsetValue::Member* m = z == nullptr ? nullptr : z->Find(ctx.args[i]);
    if (m == nullptr) {
      ctx.reply->Null();
    } else {
      ctx.reply->Double(z->Score(*m, ctx.region->ks().regions()));
    }
  }
}

void ZRankGeneric(CommandContext& ctx, bool reverse) {
  const ZsetValue* z;
  if (!LookupZset(ctx, ctx.args[1], &z)) return;
  const ZsetValue::Member* m = z == nullptr ? nullptr : z->Find(ctx.args[2]);
  if (m == nullptr) {
    ctx.reply->Null();
    return;
  }
  const size_t rank = z->index().Rank(z->Score(*m, ctx.region->ks().regions()), m->name);
  ctx.reply->Integer(static_cast<int64_t>(reverse ? z->size() - 1 - rank : rank));
}

void ZRank(CommandContext& ctx) { ZRankGeneric(ctx, false); }
void ZRevRank(CommandContext& ctx) { ZRankGeneric(ctx, true); }

void ZCount(CommandContext& ctx) {
  ScoreRange r;
  if (!ParseScoreRange(ctx.args[2], ctx.args[3], &r)) {
    ctx.reply->Error(kErrScoreRange);
    return;
  }
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyZero, &e)) return;
  size_t lo, hi;
  ScoreRanks(e->zset()->index(), r, &lo, &hi);
  ctx.reply->Integer(hi > lo ? static_cast<int64_t>(hi - lo) : 0);
}

void ZLexCount(CommandContext& ctx) {
  ScoreIndex::LexBound min, max;
  if (!ParseLexBound(ctx.args[2], &min) || !ParseLexBound(ctx.args[3], &max)) {
    ctx.reply->Error(kErrLexRange);
    return;
  }
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyZero, &e)) return;
  const ZsetValue& z = *e->zset();
  if (z.listpack()) {
    ctx.reply->Integer(static_cast<int64_t>(LexItems(z, min, max, 0, -1, false).size()));
    return;
  }
  size_t lo, hi;
  LexRanks(z.index(), min, max, &lo, &hi);
  ctx.reply->Integer(hi > lo ? static_cast<int64_t>(hi - lo) : 0);
}

// ---- ZRANGE and its variants (zrangeGenericCommand) ----

enum class Direction { kAuto, kForward, kReverse };

void ZRangeGeneric(CommandContext& ctx, size_t argc_start, bool store, RangeType type,
                   Direction dir) {
  const std::string_view key = ctx.args[argc_start];
  size_t minidx = argc_start + 1, maxidx = argc_start + 2;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  for (size_t j = argc_start + 3; j < ctx.args.size(); ++j) {
    const size_t left = ctx.args.size() - j - 1;
    const std::string_view a = ctx.args[j];
    if (!store && EqualsIgnoreCase(a, "withscores")) {
      withscores = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!crdt::ParseRedisInt(ctx.args[j + 1], &offset) ||
          !crdt::ParseRedisInt(ctx.args[j + 2], &limit)) {
        ctx.reply->Error(kErrNotInteger);
        return;
      }
      j += 2;
    } else if (dir == Direction::kAuto && EqualsIgnoreCase(a, "rev")) {
      dir = Direction::kReverse;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(a, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(a, "byscore")) {
      type = RangeType::kScore;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  if (dir == Direction::kAuto) dir = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  if (limit != -1 && type == RangeType::kRank) {
    ctx.reply->Error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return;
  }
  if (withscores && type == RangeType::kLex) {
    ctx.reply->Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  const bool reverse = dir == Direction::kReverse;
  if (reverse && type != RangeType::kRank) std::swap(minidx, maxidx);  // given as max, min

  RangeSpec spec;
  if (!ParseRange(ctx, type, ctx.args[minidx], ctx.args[maxidx], &spec)) return;
  const ZsetValue* z;
  if (!LookupZset(ctx, key, &z)) return;
  std::vector<Item> items;
  if (z != nullptr) {
    // LIMIT comes with BYSCORE and BYLEX only; with a rank range Redis refuses a limit other than
    // -1 (above) and ignores the offset: "LIMIT -1 -1" is the whole range.
    items = SelectRange(*z, spec, type == RangeType::kRank ? 0 : offset, limit, reverse);
  }
  if (store) {
    if (z == nullptr) ctx.region->NotifyKeyMiss(key);  // Redis reads it with lookupKeyRead
    StoreItems(ctx, ctx.args[1], items, "zrangestore");
  } else {
    ReplyItems(ctx, items, withscores);
  }
}

void ZRange(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kAuto, Direction::kAuto);
}
void ZRangeStore(CommandContext& ctx) {
  ZRangeGeneric(ctx, 2, true, RangeType::kAuto, Direction::kAuto);
}
void ZRevRange(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kRank, Direction::kReverse);
}
void ZRangeByScore(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kScore, Direction::kForward);
}
void ZRevRangeByScore(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kScore, Direction::kReverse);
}
void ZRangeByLex(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kLex, Direction::kForward);
}
void ZRevRangeByLex(CommandContext& ctx) {
  ZRangeGeneric(ctx, 1, false, RangeType::kLex, Direction::kReverse);
}

// ---- ZREMRANGEBY* ----

void ZRemRangeGeneric(CommandContext& ctx, RangeType type) {
  RangeSpec spec;
  if (!ParseRange(ctx, type, ctx.args[2], ctx.args[3], &spec)) return;
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyZero, &e)) return;
  std::vector<Item> items = SelectRange(*e->zset(), spec, 0, -1, false);
  const std::vector<std::string> names = OwnMembers(&items);
  const std::vector<std::string_view> views(names.begin(), names.end());
  if (!views.empty()) {
    ctx.region->NameEvents(type == RangeType::kRank    ? "zremrangebyrank"
                           : type == RangeType::kScore ? "zremrangebyscore"
                                                       : "zremrangebylex");
    ctx.region->EmitZsetRemove(ctx.args[1], views);
  }
  ctx.reply->Integer(static_cast<int64_t>(views.size()));
}

void ZRemRangeByRank(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kRank); }
void ZRemRangeByScore(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kScore); }
void ZRemRangeByLex(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kLex); }

// ---- ZPOPMIN ZPOPMAX ZMPOP (genericZpopCommand) ----

// Pops from the first existing key of `keys`. `count` -1: a plain single pop. `emitkey` and
// `nested`: the reply shapes of genericZpopCommand; `nil_when_empty` for ZMPOP.
void PopGeneric(CommandContext& ctx, absl::Span<const std::string_view> keys, bool max,
                bool emitkey, int64_t count, bool nested, bool nil_when_empty) {
  const crdt::Entry* e = nullptr;
  std::string_view key;
  for (std::string_view k : keys) {
    const crdt::Entry* found;
    if (!LookupOfType(ctx, k, ValueType::kZset, &found)) return;
    if (found != nullptr) {
      e = found;
      key = k;
      break;
    }
  }
  if (e == nullptr) {
    if (nil_when_empty) {
      ctx.reply->NullArray();
    } else {
      ctx.reply->Raw(resp::kReplyEmptyArray);
    }
    return;
  }
  if (count == 0) {
    ctx.reply->Raw(resp::kReplyEmptyArray);
    return;
  }
  if (count == -1) count = 1;
  const ZsetValue& z = *e->zset();
  const size_t n = std::min<uint64_t>(static_cast<uint64_t>(count), z.size());
  std::vector<Item> items = max ? Collect(z.index(), z.size() - n, z.size(), 0, -1, true)
                                : Collect(z.index(), 0, n, 0, -1, false);
  const std::vector<std::string> names = OwnMembers(&items);
  const std::vector<std::string_view> views(names.begin(), names.end());
  ctx.region->NameEvents(max ? "zpopmax" : "zpopmin");
  ctx.region->EmitZsetRemove(key, views);

  if (!nested && !emitkey) {
    ctx.reply->ArrayLen(n * 2);
  } else if (nested && !emitkey) {
    ctx.reply->ArrayLen(n);
  } else if (!nested && emitkey) {
    ctx.reply->ArrayLen(n * 2 + 1);
    ctx.reply->Bulk(key);
  } else {
    ctx.reply->ArrayLen(2);
    ctx.reply->Bulk(key);
    ctx.reply->ArrayLen(n);
  }
  for (const Item& it : items) {
    if (nested) ctx.reply->ArrayLen(2);
    ctx.reply->Bulk(it.member);
    ctx.reply->Double(it.score);
  }
}

void ZPopMinMax(CommandContext& ctx, bool max) {
  if (ctx.args.size() > 3) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  int64_t count = -1;
  if (ctx.args.size() == 3) {
    if (!crdt::ParseRedisInt(ctx.args[2], &count) || count < 0) {
      ctx.reply->Error("ERR value is out of range, must be positive");
      return;
    }
  }
  const bool nested = ctx.reply->protocol() == 3 && count != -1;
  PopGeneric(ctx, ctx.args.subspan(1, 1), max, false, count, nested, false);
}

void ZPopMin(CommandContext& ctx) { ZPopMinMax(ctx, false); }
void ZPopMax(CommandContext& ctx) { ZPopMinMax(ctx, true); }

void ZMPop(CommandContext& ctx) {
  MPopArgs a;
  if (!ParseMPopArgs(ctx, 1, "min", "max", &a)) return;
  PopGeneric(ctx, a.keys, a.second, true, a.count, true, true);
}

// ---- Blocking pops (blocking.h) ----

// The first of `keys` that holds a sorted set: true with `*key` (false: none; false after
// replying WRONGTYPE, with `*wrongtype`).
bool FirstZset(CommandContext& ctx, absl::Span<const std::string_view> keys, std::string_view* key,
               bool* wrongtype) {
  *wrongtype = false;
  for (std::string_view k : keys) {
    const crdt::Entry* e;
    if (!LookupOfType(ctx, k, ValueType::kZset, &e)) {
      *wrongtype = true;
      return false;
    }
    if (e != nullptr) {
      *key = k;
      return true;
    }
  }
  return false;
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score].
void BZPopMinMax(CommandContext& ctx, bool max) {
  int64_t timeout;
  if (!ParseTimeout(ctx, ctx.args.back(), &timeout)) return;
  const auto keys = ctx.args.subspan(1, ctx.args.size() - 2);
  std::string_view key;
  bool wrongtype;
  if (FirstZset(ctx, keys, &key, &wrongtype)) {
    PopGeneric(ctx, {&key, 1}, max, true, -1, false, true);
  } else if (!wrongtype) {
    BlockOrTimeout(ctx, keys, timeout, BlockingKeys::TimeoutReply::kNullArray);
  }
}

void BZPopMin(CommandContext& ctx) { BZPopMinMax(ctx, false); }
void BZPopMax(CommandContext& ctx) { BZPopMinMax(ctx, true); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void BZMPop(CommandContext& ctx) {
  MPopArgs a;
  if (!ParseMPopArgs(ctx, 2, "min", "max", &a)) return;
  int64_t timeout;
  if (!ParseTimeout(ctx, ctx.args[1], &timeout)) return;
  std::string_view key;
  bool wrongtype;
  if (FirstZset(ctx, a.keys, &key, &wrongtype)) {
    PopGeneric(ctx, {&key, 1}, a.second, true, a.count, true, true);
  } else if (!wrongtype) {
    BlockOrTimeout(ctx, a.keys, timeout, BlockingKeys::TimeoutReply::kNullArray);
  }
}

// ---- ZRANDMEMBER ----

void ZRandMember(CommandContext& ctx) {
  if (ctx.args.size() == 2) {
    const crdt::Entry* e;
    if (!LookupOfType(ctx, ctx.args[1], ValueType::kZset, &e)) return;
    if (e == nullptr) {
      ctx.reply->Null();
      return;
    }
    const ZsetValue& z = *e->zset();
    ctx.reply->Bulk(z.at(RandomU64() % z.size()).name);
    return;
  }
  int64_t l;
  if (!ParsePickCount(ctx, ctx.args[2], &l)) return;
  bool withscores = false;
  if (ctx.args.size() > 4 ||
      (ctx.args.size() == 4 && !EqualsIgnoreCase(ctx.args[3], "withscores"))) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  withscores = ctx.args.size() == 4;
  // Redis 7.0.8 on (CVE-2023-22458): a pair count that would overflow is refused.
  if (withscores && (l < -std::numeric_limits<int64_t>::max() / 2 ||
                     l > std::numeric_limits<int64_t>::max() / 2)) {
    ctx.reply->Error("ERR value is out of range");
    return;
  }
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyEmptyArray, &e)) return;
  const ZsetValue& z = *e->zset();
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  const size_t size = z.size();
  const bool uniq = l >= 0;
  const uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  if (count == 0) {
    ctx.reply->Raw(resp::kReplyEmptyArray);
    return;
  }
  std::vector<Item> items;
  if (!uniq || count == 1) {
    // Sampled with repetition, in random order. (Replied as they are picked: a huge count
    // must not be held in memory first.)
    const bool nested = withscores && ctx.reply->protocol() == 3;
    ctx.reply->ArrayLen(withscores && !nested ? count * 2 : count);
    for (uint64_t i = 0; i < count; ++i) {
      const ZsetValue::Member& m = z.at(RandomU64() % size);
      if (nested) ctx.reply->ArrayLen(2);
      ctx.reply->Bulk(m.name);
      if (withscores) ctx.reply->Double(z.Score(m, regions));
    }
    return;
  }
  if (count >= size) {
    // The whole zset, in Redis's iteration order (highest first).
    items = Collect(z.index(), 0, size, 0, -1, true);
  } else {
    // `count` distinct members: a partial Fisher-Yates shuffle of the positions.
    std::vector<uint32_t> pos(size);
    for (size_t i = 0; i < size; ++i) pos[i] = static_cast<uint32_t>(i);
    for (size_t i = 0; i < count; ++i) {
      // i < count < size: never a modulo by zero.
      // NOLINTNEXTLINE(clang-analyzer-core.DivideZero)
      std::swap(pos[i], pos[i + RandomU64() % (size - i)]);
      const ZsetValue::Member& m = z.at(pos[i]);
      items.push_back(Item{m.name, z.Score(m, regions)});
    }
  }
  ReplyItems(ctx, items, withscores);
}

// ---- ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD (zunionInterDiffGenericCommand) ----

enum class SetOp { kUnion, kInter, kDiff };

// An input: a zset, or a set whose members all score 1.
struct Source {
  const ZsetValue* zset = nullptr;
  const SetValue* set = nullptr;
  double weight = 1;
  size_t size() const { return zset ? zset->size() : set ? set->size() : 0; }
  bool Find(std::string_view member, const crdt::RegionTable& regions, double* score) const {
    if (zset != nullptr) {
      const ZsetValue::Member* m = zset->Find(member);
      if (m == nullptr) return false;
      *score = zset->Score(*m, regions);
      return true;
    }
    if (set != nullptr && set->Find(member) != nullptr) {
      *score = 1;
      return true;
    }
    return false;
  }
  // Calls f(member, score) for every element.
  template <typename F>
  void ForEach(const crdt::RegionTable& regions, F f) const {
    if (zset != nullptr) {
      for (size_t i = 0; i < zset->size(); ++i) {
        f(zset->at(i).name, zset->Score(zset->at(i), regions));
      }
    } else if (set != nullptr) {
      for (size_t i = 0; i < set->size(); ++i) f(std::string_view(set->at(i).name), 1.0);
    }
  }
  bool Same(const Source& o) const {
    return (zset != nullptr && zset == o.zset) || (set != nullptr && set == o.set);
  }
};

enum class Aggregate { kSum, kMin, kMax };

void AggregateInto(double* target, double value, Aggregate agg) {
  switch (agg) {
    case Aggregate::kSum:
      *target += value;
      if (std::isnan(*target)) *target = 0;  // +inf + -inf
      break;
    case Aggregate::kMin:
      *target = std::min(*target, value);
      break;
    case Aggregate::kMax:
      *target = std::max(*target, value);
      break;
  }
}

void SetOpGeneric(CommandContext& ctx, bool store, size_t numkeys_idx, SetOp op,
                  bool cardinality_only, std::string_view name) {
  int64_t setnum;
  if (!crdt::ParseRedisInt(ctx.args[numkeys_idx], &setnum)) {
    ctx.reply->Error(kErrNotInteger);
    return;
  }
  if (setnum < 1) {
    ctx.reply->Error("ERR at least 1 input key is needed for '" + std::string(name) + "' command");
    return;
  }
  if (setnum > static_cast<int64_t>(ctx.args.size()) - static_cast<int64_t>(numkeys_idx + 1)) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  std::vector<Source> src(static_cast<size_t>(setnum));
  size_t j = numkeys_idx + 1;
  for (size_t i = 0; i < src.size(); ++i, ++j) {
    const crdt::Entry* e = ctx.region->Lookup(ctx.args[j]);
    if (e == nullptr) {
      ctx.region->NotifyKeyMiss(ctx.args[j]);  // *STORE: Redis 7.0 reads with lookupKeyRead
      continue;
    }
    const ValueType t = ctx.region->TypeOf(*e);
    if (t == ValueType::kZset) {
      src[i].zset = e->zset();
    } else if (t == ValueType::kSet) {
      src[i].set = e->set();
    } else {
      ctx.reply->Error(kErrWrongType);
      return;
    }
  }
  Aggregate agg = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;
  while (j < ctx.args.size()) {
    const size_t remaining = ctx.args.size() - j;
    const std::string_view a = ctx.args[j];
    if (op != SetOp::kDiff && !cardinality_only && remaining >= src.size() + 1 &&
        EqualsIgnoreCase(a, "weights")) {
      ++j;
      for (Source& s : src) {
        if (!crdt::ParseRedisDouble(ctx.args[j++], &s.weight)) {
          ctx.reply->Error("ERR weight value is not a float");
          return;
        }
      }
    } else if (op != SetOp::kDiff && !cardinality_only && remaining >= 2 &&
               EqualsIgnoreCase(a, "aggregate")) {
      const std::string_view v = ctx.args[j + 1];
      if (EqualsIgnoreCase(v, "sum")) {
        agg = Aggregate::kSum;
      } else if (EqualsIgnoreCase(v, "min")) {
        agg = Aggregate::kMin;
      } else if (EqualsIgnoreCase(v, "max")) {
        agg = Aggregate::kMax;
      } else {
        ctx.reply->Error(kErrSyntax);
        return;
      }
      j += 2;
    } else if (!store && !cardinality_only && EqualsIgnoreCase(a, "withscores")) {
      withscores = true;
      ++j;
    } else if (cardinality_only && remaining >= 2 && EqualsIgnoreCase(a, "limit")) {
      if (!crdt::ParseRedisInt(ctx.args[j + 1], &limit) || limit < 0) {
        ctx.reply->Error("ERR LIMIT can't be negative");
        return;
      }
      j += 2;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  // Smallest first (Redis sorts the inputs by cardinality for union and intersection; the order
  // also decides the order of SUM's additions).
  if (op != SetOp::kDiff) {
    std::stable_sort(src.begin(), src.end(),
                     [](const Source& a, const Source& b) { return a.size() < b.size(); });
  }
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  std::vector<Item> out;
  int64_t cardinality = 0;
  switch (op) {
    case SetOp::kInter: {
      if (src[0].size() == 0) break;
      bool stop = false;
      src[0].ForEach(regions, [&](std::string_view member, double s0) {
        if (stop) return;
        double score = src[0].weight * s0;
        if (std::isnan(score)) score = 0;
        size_t k = 1;
        for (; k < src.size(); ++k) {
          double value;
          if (src[k].Same(src[0])) {
            value = s0 * src[k].weight;
          } else if (src[k].Find(member, regions, &value)) {
            value *= src[k].weight;
          } else {
            break;
          }
          AggregateInto(&score, value, agg);
        }
        if (k < src.size()) return;
        if (cardinality_only) {
          ++cardinality;
          if (limit != 0 && cardinality >= limit) stop = true;
        } else {
          out.push_back(Item{member, score});
        }
      });
      break;
    }
    case SetOp::kUnion: {
      absl::flat_hash_map<std::string_view, size_t> at;
      for (const Source& s : src) {
        s.ForEach(regions, [&](std::string_view member, double raw) {
          double score = s.weight * raw;
          if (std::isnan(score)) score = 0;
          auto [it, inserted] = at.try_emplace(member, out.size());
          if (inserted) {
            out.push_back(Item{member, score});
          } else {
            AggregateInto(&out[it->second].score, score, agg);
          }
        });
      }
      break;
    }
    case SetOp::kDiff: {
      src[0].ForEach(regions, [&](std::string_view member, double s0) {
        double unused;
        for (size_t k = 1; k < src.size(); ++k) {
          if (src[k].Find(member, regions, &unused)) return;
        }
        out.push_back(Item{member, s0});
      });
      break;
    }
  }
  if (cardinality_only) {
    ctx.reply->Integer(cardinality);
    return;
  }
  std::sort(out.begin(), out.end(), ItemLess);
  if (store) {
    StoreItems(ctx, ctx.args[1], out, name);
  } else {
    ReplyItems(ctx, out, withscores);
  }
}

void ZUnion(CommandContext& ctx) { SetOpGeneric(ctx, false, 1, SetOp::kUnion, false, "zunion"); }
void ZInter(CommandContext& ctx) { SetOpGeneric(ctx, false, 1, SetOp::kInter, false, "zinter"); }
void ZDiff(CommandContext& ctx) { SetOpGeneric(ctx, false, 1, SetOp::kDiff, false, "zdiff"); }
void ZUnionStore(CommandContext& ctx) {
  SetOpGeneric(ctx, true, 2, SetOp::kUnion, false, "zunionstore");
}
void ZInterStore(CommandContext& ctx) {
  SetOpGeneric(ctx, true, 2, SetOp::kInter, false, "zinterstore");
}
void ZDiffStore(CommandContext& ctx) {
  SetOpGeneric(ctx, true, 2, SetOp::kDiff, false, "zdiffstore");
}
void ZInterCard(CommandContext& ctx) {
  SetOpGeneric(ctx, false, 1, SetOp::kInter, true, "zintercard");
}

// ---- ZSCAN ----

// A score as Redis's ZSCAN writes it: a skiplist's as "%.17g" (ld2string; "inf", "-inf"); a
// listpack's as the listpack holds it, an integer when the score is one within +-LLONG_MAX/2
// (zzlInsertAt's double2ll; -0 too), else d2string's text.
std::string ScoreText(double score, bool listpack) {
  constexpr int64_t kLongLimitInt = std::numeric_limits<int64_t>::max() / 2;  // LLONG_MAX/2
  constexpr double kLongLimit = static_cast<double>(kLongLimitInt);
  if (listpack && score >= -kLongLimit && score <= kLongLimit) {
    const auto ll = static_cast<int64_t>(score);
    if (static_cast<double>(ll) == score) return absl::StrCat(ll);
  }
  char buf[resp::kDoubleTextMax];
  return std::string(resp::DoubleText(score, buf));
}

void ZScan(CommandContext& ctx) {
  ScanArgs args;
  if (!ParseScanCursor(ctx, ctx.args[2], &args.cursor)) return;
  const crdt::Entry* e;
  if (!LookupExisting(ctx, ctx.args[1], ValueType::kZset, resp::kReplyEmptyScan, &e)) return;
  if (!ParseScanOptions(ctx, 3, false, &args)) return;
  const ZsetValue& z = *e->zset();
  const crdt::RegionTable& regions = ctx.region->ks().regions();
  std::vector<Item> out;
  size_t stop = 0;
  if (z.listpack()) {
    // Returned whole, in score order (cursor 0), as Redis does for a listpack.
    for (ScoreIndex::Handle h = z.index().First(); h.valid(); ++h) {
      if (args.has_pattern && !GlobMatch(args.pattern, h.member())) continue;
      out.push_back(Item{h.member(), h.score()});
    }
  } else {
    // Positions from the end (crdt/values/element_table.h: never skips a member that stays).
    size_t pos = z.size();
    if (args.cursor != 0 && args.cursor < pos) pos = static_cast<size_t>(args.cursor);
    stop = pos > static_cast<size_t>(args.count) ? pos - static_cast<size_t>(args.count) : 0;
    for (size_t i = pos; i > stop;) {
      const ZsetValue::Member& m = z.at(--i);
      if (args.has_pattern && !GlobMatch(args.pattern, m.name)) continue;
      out.push_back(Item{m.name, z.Score(m, regions)});
    }
  }
  ctx.reply->ArrayLen(2);
  ctx.reply->Bulk(absl::StrCat(stop));
  ctx.reply->ArrayLen(out.size() * 2);
  for (const Item& it : out) {
    ctx.reply->Bulk(it.member);
    ctx.reply->Bulk(ScoreText(it.score, z.listpack()));
  }
}

}  // namespace

void RegisterZsetFamily(CommandTable* t) {
  constexpr uint32_t kW = kWrite | kDenyOom;
  constexpr uint32_t kR = kReadOnly;
  constexpr std::string_view kG = "sorted-set";
  t->Register({"zadd", -4, kW | kFast, 1, 1, 1, ZAdd, kG,
               "Adds one or more members to a sorted set, or updates their scores.", "1.2.0"});
  t->Register({"zincrby", 4, kW | kFast, 1, 1, 1, ZIncrBy, kG,
               "Increments the score of a member in a sorted set.", "1.2.0"});
  t->Register({"zrem", -3, kWrite | kFast, 1, 1, 1, ZRem, kG,
               "Removes one or more members from a sorted set.", "1.2.0"});
  t->Register({"zcard", 2, kR | kFast, 1, 1, 1, ZCard, kG,
               "Returns the number of members in a sorted set.", "1.2.0"});
  t->Register({"zscore", 3, kR | kFast, 1, 1, 1, ZScore, kG,
               "Returns the score of a member in a sorted set.", "1.2.0"});
  t->Register({"zmscore", -3, kR | kFast, 1, 1, 1, ZMScore, kG,
               "Returns the score of one or more members in a sorted set.", "6.2.0"});
  t->Register({"zrank", 3, kR | kFast, 1, 1, 1, ZRank, kG,
               "Returns the index of a member in a sorted set ordered by ascending scores.",
               "2.0.0"});
  t->Register({"zrevrank", 3, kR | kFast, 1, 1, 1, ZRevRank, kG,
               "Returns the index of a member in a sorted set ordered by descending scores.",
               "2.0.0"});
  t->Register({"zcount", 4, kR | kFast, 1, 1, 1, ZCount, kG,
               "Returns the count of members in a sorted set that have scores within a range.",
               "2.0.0"});
  t->Register({"zlexcount", 4, kR | kFast, 1, 1, 1, ZLexCount, kG,
               "Returns the number of members in a sorted set within a lexicographical range.",
               "2.8.9"});
  t->Register({"zrange", -4, kR, 1, 1, 1, ZRange, kG,
               "Returns members in a sorted set within a range of indexes.", "1.2.0"});
  t->Register({"zrangestore", -5, kW, 1, 2, 1, ZRangeStore, kG,
               "Stores a range of members from sorted set in a key.", "6.2.0"});
  t->Register({"zrevrange", -4, kR, 1, 1, 1, ZRevRange, kG,
               "Returns members in a sorted set within a range of indexes in reverse order.",
               "1.2.0"});
  t->Register({"zrangebyscore", -4, kR, 1, 1, 1, ZRangeByScore, kG,
               "Returns members in a sorted set within a range of scores.", "1.0.5"});
  t->Register({"zrevrangebyscore", -4, kR, 1, 1, 1, ZRevRangeByScore, kG,
               "Returns members in a sorted set within a range of scores in reverse order.",
               "2.2.0"});
  t->Register({"zrangebylex", -4, kR, 1, 1, 1, ZRangeByLex, kG,
               "Returns members in a sorted set within a lexicographical range.", "2.8.9"});
  t->Register({"zrevrangebylex", -4, kR, 1, 1, 1, ZRevRangeByLex, kG,
               "Returns members in a sorted set within a lexicographical range in reverse order.",
               "2.8.9"});
  t->Register({"zremrangebyrank", 4, kWrite, 1, 1, 1, ZRemRangeByRank, kG,
               "Removes members in a sorted set within a range of indexes.", "2.0.0"});
  t->Register({"zremrangebyscore", 4, kWrite, 1, 1, 1, ZRemRangeByScore, kG,
               "Removes members in a sorted set within a range of scores.", "1.2.0"});
  t->Register({"zremrangebylex", 4, kWrite, 1, 1, 1, ZRemRangeByLex, kG,
               "Removes members in a sorted set within a lexicographical range.", "2.8.9"});
  t->Register({"zpopmin", -2, kWrite | kFast, 1, 1, 1, ZPopMin, kG,
               "Returns the lowest-scoring members from a sorted set after removing them.",
               "5.0.0"});
  t->Register({"zpopmax", -2, kWrite | kFast, 1, 1, 1, ZPopMax, kG,
               "Returns the highest-scoring members from a sorted set after removing them.",
               "5.0.0"});
  constexpr uint32_t kB = kWrite | kNoScript | kBlocking;
  t->Register({"bzpopmin", -3, kB | kFast, 1, -2, 1, BZPopMin, kG,
               "Removes and returns the member with the lowest score from one or more sorted "
               "sets. Blocks until a member is available otherwise. Deletes the sorted set if the "
               "last element was popped.",
               "5.0.0"});
  t->Register({"bzpopmax", -3, kB | kFast, 1, -2, 1, BZPopMax, kG,
               "Removes and returns the member with the highest score from one or more sorted "
               "sets. Blocks until a member available otherwise. Deletes the sorted set if the "
               "last element was popped.",
               "5.0.0"});
  t->Register({"bzmpop", -5, kWrite | kBlocking, 0, 0, 0, BZMPop, kG,
               "Removes and returns a member by score from one or more sorted sets. Blocks until "
               "a member is available otherwise. Deletes the sorted set if the last element was "
               "popped.",
               "7.0.0"});
  t->Register({"zmpop", -4, kWrite, 0, 0, 0, ZMPop, kG,
               "Returns the highest- or lowest-scoring members from one or more sorted sets "
               "after removing them.",
               "7.0.0"});
  t->Register({"zrandmember", -2, kR, 1, 1, 1, ZRandMember, kG,
               "Returns one or more random members from a sorted set.", "6.2.0"});
  t->Register({"zunion", -3, kR, 0, 0, 0, ZUnion, kG, "Returns the union of multiple sorted sets.",
               "6.2.0"});
  t->Register({"zinter", -3, kR, 0, 0, 0, ZInter, kG,
               "Returns the intersect of multiple sorted sets.", "6.2.0"});
  t->Register({"zdiff", -3, kR, 0, 0, 0, ZDiff, kG,
               "Returns the difference between multiple sorted sets.", "6.2.0"});
  t->Register({"zunionstore", -4, kW, 1, 1, 1, ZUnionStore, kG,
               "Stores the union of multiple sorted sets in a key.", "2.0.0"});
  t->Register({"zinterstore", -4, kW, 1, 1, 1, ZInterStore, kG,
               "Stores the intersect of multiple sorted sets in a key.", "2.0.0"});
  t->Register({"zdiffstore", -4, kW, 1, 1, 1, ZDiffStore, kG,
               "Stores the difference of multiple sorted sets in a key.", "6.2.0"});
  t->Register({"zintercard", -3, kR, 0, 0, 0, ZInterCard, kG,
               "Returns the number of members of the intersect of multiple sorted sets.", "7.0.0"});
  t->Register({"zscan", -3, kR, 1, 1, 1, ZScan, kG,
               "Iterates over members and scores of a sorted set.", "2.8.0"});
}

}  // namespace activekv::server
