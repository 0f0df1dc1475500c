#include "region-server/sort_ops.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "crdt/redis_number.h"
#include "region-server/command.h"
#include "region-server/errors.h"

namespace activekv::server::sort {

bool ParseSortOptions(absl::Span<const std::string_view> args, bool readonly, SortOptions* out,
                      std::string_view* error) {
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t left = args.size() - j - 1;
    const std::string_view a = args[j];
    if (EqualsIgnoreCase(a, "asc")) {
      out->desc = false;
    } else if (EqualsIgnoreCase(a, "desc")) {
      out->desc = true;
    } else if (EqualsIgnoreCase(a, "alpha")) {
      out->alpha = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!crdt::ParseRedisInt(args[j + 1], &out->limit_start) ||
          !crdt::ParseRedisInt(args[j + 2], &out->limit_count)) {
        *error = kErrNotInteger;
        return false;
      }
      j += 2;
    } else if (!readonly && EqualsIgnoreCase(a, "store") && left >= 1) {
      out->has_store = true;
      out->store = args[++j];
    } else if (EqualsIgnoreCase(a, "by") && left >= 1) {
      out->has_by = true;
      out->by = args[++j];
      // strchr: the pattern as a C string.
      const std::string_view c_str = out->by.substr(0, out->by.find('\0'));
      out->dontsort = c_str.find('*') == std::string_view::npos;
    } else if (EqualsIgnoreCase(a, "get") && left >= 1) {
      out->gets.push_back(args[++j]);
    } else {
      *error = kErrSyntax;
      return false;
    }
  }
  return true;
}

PatternTarget ResolvePattern(std::string_view pattern, std::string_view element) {
  PatternTarget t;
  const std::string_view c_str = pattern.substr(0, pattern.find('\0'));
  if (c_str == "#") {
    t.kind = PatternTarget::Kind::kElement;
    return t;
  }
  const size_t star = c_str.find('*');
  if (star == std::string_view::npos) return t;
  t.kind = PatternTarget::Kind::kKey;
  // "->" after the '*' with something after it (the field runs to the pattern's real end).
  const size_t arrow = c_str.find("->", star + 1);
  size_t field_len = 0;
  if (arrow != std::string_view::npos && arrow + 2 < c_str.size()) {
    t.has_field = true;
    t.field = std::string(pattern.substr(arrow + 2));
    field_len = t.field.size();
  }
  const size_t postfix_len = pattern.size() - (star + 1) - (t.has_field ? field_len + 2 : 0);
  t.key.reserve(star + element.size() + postfix_len);
  t.key.append(pattern.substr(0, star));
  t.key.append(element);
  t.key.append(pattern.substr(star + 1, postfix_len));
  return t;
}

bool ParseSortScore(std::string_view text, double* score) {
  const std::string copy(text);  // NUL-terminated; an inner NUL ends the number as in Redis
  char* end = nullptr;
  errno = 0;
  *score = std::strtod(copy.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(*score);
}

void NormalizeLimit(int64_t limit_start, int64_t limit_count, int64_t len, int64_t* start,
                    int64_t* end) {
  *start = std::min(std::max<int64_t>(limit_start, 0), len);
  const int64_t count = std::min(std::max<int64_t>(limit_count, -1), len);
  *end = count < 0 ? len - 1 : *start + count - 1;
  if (*start >= len) {
    *start = len - 1;
    *end = len - 2;
  }
  if (*end >= len) *end = len - 1;
}

namespace {

// compareStringObjects: bytes, a proper prefix first.
int CompareBytes(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// strcoll under the reference's locale (C.UTF-8: code point order, which is byte order) over C
// strings: bytes up to the first NUL.
int Collate(const std::string& a, const std::string& b) {
  const int c = std::strcmp(a.c_str(), b.c_str());
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

int Compare(const SortItem& a, const SortItem& b, const CompareMode& mode) {
  int cmp;
  if (!mode.alpha) {
    if (a.score > b.score) {
      cmp = 1;
    } else if (a.score < b.score) {
      cmp = -1;
    } else {
      cmp = CompareBytes(a.element, b.element);
    }
  } else if (mode.by_pattern) {
    if (!a.has_cmp || !b.has_cmp) {
      cmp = a.has_cmp == b.has_cmp ? 0 : (a.has_cmp ? 1 : -1);
    } else {
      cmp = mode.store ? CompareBytes(a.cmp, b.cmp) : Collate(a.cmp, b.cmp);
    }
  } else {
    cmp = mode.store ? CompareBytes(a.element, b.element) : Collate(a.element, b.element);
  }
  return mode.desc ? -cmp : cmp;
}

}  // namespace activekv::server::sort
