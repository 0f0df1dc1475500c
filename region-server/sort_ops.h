#pragma once

// SORT's pure parts (Redis 7.0's sort.c): option parsing, BY/GET pattern substitution, score
// parsing, the LIMIT window and the comparator. region-server/sort_family.cc runs them against
// the keyspace. No state, no keyspace access: unit-tested in tests/unit/server/sort_test.cc.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace activekv::server::sort {

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
// [STORE destination]; SORT_RO takes all but STORE.
struct SortOptions {
  bool desc = false;
  bool alpha = false;
  int64_t limit_start = 0;
  int64_t limit_count = -1;  // negative: every element from limit_start on
  bool has_by = false;
  std::string_view by;
  // BY a pattern without '*' (Redis's "dontsort", e.g. BY nosort): the source's own order.
  bool dontsort = false;
  std::vector<std::string_view> gets;
  bool has_store = false;
  std::string_view store;
};

// Parses args[2..] (args[0] the command, args[1] the key) as sortCommandGeneric does; the last
// of repeated options wins. False with `*error` the reply's error text (no leading '-').
bool ParseSortOptions(absl::Span<const std::string_view> args, bool readonly, SortOptions* out,
                      std::string_view* error);

// What a BY / GET pattern names for one element (lookupKeyByPattern). The pattern is read as a
// C string where Redis reads it so (strchr, strstr): a NUL byte ends the search for '*' and "->".
struct PatternTarget {
  enum class Kind { kNothing, kElement, kKey };
  Kind kind = Kind::kNothing;  // kNothing: no '*' in the pattern; kElement: the pattern "#"
  std::string key;             // the first '*' replaced by the element
  bool has_field = false;      // "...->field": a field of the hash at `key`
  std::string field;
};
PatternTarget ResolvePattern(std::string_view pattern, std::string_view element);

// A numeric sort weight as SORT reads it: strtod over the value as a C string; false (Redis's
// "One or more scores can't be converted into double") for trailing bytes, overflow, underflow
// or NaN. An empty value is 0.
bool ParseSortScore(std::string_view text, double* score);

// The window [*start, *end] of a result of `len` elements that LIMIT keeps (end < start: none),
// with 7.0.15's clamping of both inputs to the length, which avoids overflow.
void NormalizeLimit(int64_t limit_start, int64_t limit_count, int64_t len, int64_t* start,
                    int64_t* end);

struct SortItem {
  std::string element;
  double score = 0;      // numeric sort
  bool has_cmp = false;  // ALPHA BY: the pattern found a value
  std::string cmp;
};

struct CompareMode {
  bool alpha = false;
  bool by_pattern = false;
  bool store = false;  // ALPHA compares bytes with STORE, as strcoll (C-string bytes) without
  bool desc = false;
};

// sortCompare: <0, 0, >0. Numeric ties are broken by the elements' bytes; ALPHA BY ties (equal
// or missing values) compare equal.
int Compare(const SortItem& a, const SortItem& b, const CompareMode& mode);

}  // namespace activekv::server::sort
