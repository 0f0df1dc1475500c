// SORT and SORT_RO (Redis 7.0's sort.c) over lists, sets and sorted sets, with BY and GET
// patterns looked up in the selected database. Replies and errors as redis-server 7.0.15; the
// option parsing, patterns and comparator are region-server/sort_ops.h. What STORE does across
// regions: docs/crdt-semantics.md, "SORT".
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "region-server/command.h"
#include "region-server/errors.h"
#include "region-server/region.h"
#include "region-server/scripting.h"
#include "region-server/server.h"
#include "region-server/sort_ops.h"

namespace activekv::server {
namespace {

using crdt::ValueType;
using sort::PatternTarget;
using sort::SortItem;
using sort::SortOptions;

// lookupKeyByPattern: the string value, or hash field, the pattern names for `element`; nullopt
// when there is none (no '*', no such key, another type, no such field).
std::optional<std::string> LookupByPattern(CommandContext& ctx, std::string_view pattern,
                                           std::string_view element) {
  const PatternTarget t = sort::ResolvePattern(pattern, element);
  if (t.kind == PatternTarget::Kind::kElement) return std::string(element);
  if (t.kind == PatternTarget::Kind::kNothing) return std::nullopt;
  const crdt::Entry* e = ctx.region->Lookup(t.key);  // expires the key lazily, as Redis does
  if (e == nullptr) {
    ctx.region->NotifyKeyMiss(t.key);  // Redis's lookupKeyByPattern reads with lookupKeyRead
    return std::nullopt;
  }
  const ValueType type = ctx.region->TypeOf(*e);
  if (!t.has_field) {
    if (type != ValueType::kString) return std::nullopt;
    return std::string(ctx.region->ValueOf(*e));
  }
  if (type != ValueType::kHash) return std::nullopt;
  const crdt::HashValue* h = e->hash();
  const crdt::HashValue::Field* f = h == nullptr ? nullptr : h->Find(t.field);
  if (f == nullptr) return std::nullopt;
  return std::string(h->ValueOf(*f, ctx.region->ks().regions()));
}

// The elements to sort, copied (pattern lookups may expire keys). With `dontsort` on a list or
// sorted set only the LIMIT window [start, end] is loaded, in the source's order (reversed for
// DESC), and the window is moved to [0, end - start].
std::vector<SortItem> LoadElements(const crdt::Entry* e, ValueType type, bool dontsort, bool desc,
                                   int64_t* start, int64_t* end) {
  std::vector<SortItem> items;
  auto add = [&items](std::string_view v) { items.emplace_back().element = std::string(v); };
  if (e == nullptr) return items;
  if (type == ValueType::kList || type == ValueType::kZset) {
    const bool list = type == ValueType::kList;
    const int64_t len = static_cast<int64_t>(list ? e->list()->size() : e->zset()->size());
    if (dontsort) {
      const int64_t n = std::max<int64_t>(0, *end - *start + 1);
      for (int64_t k = 0; k < n; ++k) {
        const auto i = static_cast<size_t>(desc ? len - 1 - *start - k : *start + k);
        add(list ? e->list()->at(i).value.view() : e->zset()->index().At(i).member());
      }
      if (list && *end < *start) return items;  // the list branch leaves the window alone
      *end -= *start;
      *start = 0;
      return items;
    }
    if (list) {
      for (size_t i = 0; i < e->list()->size(); ++i) add(e->list()->at(i).value.view());
    } else {
      for (auto h = e->zset()->index().First(); h.valid(); ++h) add(h.member());
    }
    return items;
  }
  const crdt::SetValue& s = *e->set();
  for (uint32_t i : s.ReplyOrder()) add(s.at(i).name);
  return items;
}

void SortGeneric(CommandContext& ctx, bool readonly) {
  SortOptions opt;
  std::string_view error;
  if (!sort::ParseSortOptions(ctx.args, readonly, &opt, &error)) {
    ctx.reply->Error(error);
    return;
  }
  const std::string_view key = ctx.args[1];
  const crdt::Entry* e = ctx.region->Lookup(key);
  if (e == nullptr) ctx.region->NotifyKeyMiss(key);  // SORT reads it with lookupKeyRead
  ValueType type = ValueType::kList;                 // a missing key sorts as an empty list
  if (e != nullptr) {
    type = ctx.region->TypeOf(*e);
    if (type != ValueType::kList && type != ValueType::kSet && type != ValueType::kZset) {
      ctx.reply->Error(kErrWrongType);
      return;
    }
  }
  bool dontsort = opt.dontsort;
  sort::CompareMode mode{opt.alpha, opt.has_by && !opt.dontsort, opt.has_store, opt.desc};
  // A set's own order is a hash table's: sorted for STORE and scripts, so that what is written
  // or replicated does not depend on it.
  if (dontsort && type == ValueType::kSet && (opt.has_store || InScript(ctx))) {
    dontsort = false;
    mode.alpha = true;
    mode.by_pattern = false;
  }
  int64_t len = 0;
  if (e != nullptr) {
    len = static_cast<int64_t>(type == ValueType::kList  ? e->list()->size()
                               : type == ValueType::kSet ? e->set()->size()
                                                         : e->zset()->size());
  }
  int64_t start, end;
  sort::NormalizeLimit(opt.limit_start, opt.limit_count, len, &start, &end);
  std::vector<SortItem> items = LoadElements(e, type, dontsort, opt.desc, &start, &end);
  // Redis converts a sorted set it sorts to the skiplist encoding for good (zsetConvert), even
  // for SORT_RO: one op with no members that marks the encoding (presentation only).
  if (type == ValueType::kZset && e->zset()->listpack() && WriteRefusal(*ctx.region).empty()) {
    ctx.region->NextOpUnsignalled();
    ctx.region->EmitZsetAdd(key, {}, true);
  }
  e = nullptr;

  bool bad_score = false;
  if (!dontsort) {
    for (SortItem& item : items) {
      std::optional<std::string> by;
      if (mode.by_pattern) {
        by = LookupByPattern(ctx, opt.by, item.element);
        if (!by) continue;
      }
      if (mode.alpha) {
        if (mode.by_pattern) {
          item.has_cmp = true;
          item.cmp = std::move(*by);
        }
      } else if (!sort::ParseSortScore(by ? *by : item.element, &item.score)) {
        bad_score = true;
      }
    }
    // Redis uses qsort (glibc's is a stable merge sort) or, for BY with a LIMIT window, its own
    // partial quicksort: only ALPHA BY ties (equal or missing values) can tell them apart.
    if (!bad_score) {
      std::stable_sort(items.begin(), items.end(), [&mode](const SortItem& a, const SortItem& b) {
        return sort::Compare(a, b, mode) < 0;
      });
    }
  }
  if (bad_score) {
    ctx.reply->Error("ERR One or more scores can't be converted into double");
    return;
  }

  const int64_t n = std::max<int64_t>(0, end - start + 1);
  const size_t per = opt.gets.empty() ? 1 : opt.gets.size();
  const size_t outputlen = static_cast<size_t>(n) * per;
  if (!opt.has_store) {
    ctx.reply->ArrayLen(outputlen);
    for (int64_t j = start; j <= end; ++j) {
      const std::string& element = items[static_cast<size_t>(j)].element;
      if (opt.gets.empty()) ctx.reply->Bulk(element);
      for (std::string_view pattern : opt.gets) {
        std::optional<std::string> v = LookupByPattern(ctx, pattern, element);
        if (v) {
          ctx.reply->Bulk(*v);
        } else {
          ctx.reply->Null();
        }
      }
    }
    return;
  }
  std::vector<std::string> out;
  out.reserve(outputlen);
  for (int64_t j = start; j <= end; ++j) {
    const std::string& element = items[static_cast<size_t>(j)].element;
    if (opt.gets.empty()) out.push_back(element);
    for (std::string_view pattern : opt.gets) {
      out.push_back(LookupByPattern(ctx, pattern, element).value_or(std::string()));
    }
  }
  // The destination is replaced: a whole-key removal of what it held, then one RPUSH of the
  // result (an empty result only deletes it), one unit.
  // Events as Redis's: "new" (the destination did not exist) and "sortstore", or "del" when an
  // empty result deletes it.
  Region& region = *ctx.region;
  const crdt::Entry* old = region.Find(opt.store);
  const bool existed = old != nullptr && old->Exists();
  if (out.empty()) {
    if (old != nullptr) region.EmitDelete(opt.store);
  } else {
    region.MuteEvents(true);
    if (old != nullptr) region.EmitDelete(opt.store);
    std::vector<std::string_view> views(out.begin(), out.end());
    region.EmitListPush(opt.store, views, false);
    region.MuteEvents(false);
    if (!existed) region.Notify(kNotifyNew, "new", opt.store);
    region.Notify(kNotifyList, "sortstore", opt.store);
  }
  ctx.reply->Integer(static_cast<int64_t>(outputlen));
}

void Sort(CommandContext& ctx) { SortGeneric(ctx, false); }
void SortRo(CommandContext& ctx) { SortGeneric(ctx, true); }

}  // namespace

void RegisterSortFamily(CommandTable* t) {
  constexpr std::string_view kG = "generic";
  t->Register({"sort", -2, kWrite | kDenyOom | kMovableKeys, 1, 1, 1, Sort, kG,
               "Sorts the elements in a list, a set, or a sorted set, optionally storing the "
               "result.",
               "1.0.0"});
  t->Register({"sort_ro", -2, kReadOnly | kMovableKeys, 1, 1, 1, SortRo, kG,
               "Returns the sorted elements of a list, a set, or a sorted set.", "7.0.0"});
}

}  // namespace activekv::server
