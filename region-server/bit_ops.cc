#include "region-server/bit_ops.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/numeric/int128.h"
#include "crdt/redis_number.h"

namespace activekv::server::bits {
namespace {

uint8_t ByteAt(std::string_view s, uint64_t i) {
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

// Redis's conversion of a start..end range (negative: from the end) into [start, end] within
// `total` units; start > end when it is empty.
void Normalize(int64_t total, int64_t* start, int64_t* end) {
  if (*start < 0) *start = total + *start;
  if (*end < 0) *end = total + *end;
  if (*start < 0) *start = 0;
  if (*end < 0) *end = 0;
  if (*end >= total) *end = total - 1;
}

uint64_t ReadBits(std::string_view s, uint64_t offset, int bits) {
  uint64_t v = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    v = (v << 1) | static_cast<uint64_t>((ByteAt(s, offset >> 3) >> (7 - (offset & 7))) & 1);
  }
  return v;
}

// The low `bits` bits of `v` as a signed number (two's complement).
int64_t SignExtend(uint64_t v, int bits) {
  if (bits < 64) {
    uint64_t high = ~uint64_t{0} << bits;
    v = (v >> (bits - 1)) & 1 ? v | high : v & ~high;
  }
  return static_cast<int64_t>(v);
}

}  // namespace

int64_t PopCount(std::string_view s) {
  int64_t n = 0;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    memcpy(&w, s.data() + i, sizeof(w));
    n += __builtin_popcountll(w);
  }
  for (; i < s.size(); ++i) n += __builtin_popcount(static_cast<uint8_t>(s[i]));
  return n;
}

int GetBit(std::string_view s, uint64_t offset) {
  return (ByteAt(s, offset >> 3) >> (7 - (offset & 7))) & 1;
}

int64_t CountInRange(std::string_view s, const Range& range) {
  int64_t start = range.start, end = range.end;
  if (start < 0 && end < 0 && start > end) return 0;
  int64_t len = static_cast<int64_t>(s.size());
  Normalize(range.in_bits ? len * 8 : len, &start, &end);
  if (start > end) return 0;
  if (!range.in_bits) return PopCount(s.substr(start, end - start + 1));
  int64_t first = start >> 3, last = end >> 3;
  int64_t n = PopCount(s.substr(first, last - first + 1));
  // Minus the bits of the edge bytes outside the range.
  n -= __builtin_popcount(ByteAt(s, first) & ~(0xFFu >> (start & 7)) & 0xFFu);
  n -= __builtin_popcount(ByteAt(s, last) & (0xFFu >> ((end & 7) + 1)));
  return n;
}

int64_t FirstBit(std::string_view s, int bit, const Range& range, bool end_given) {
  int64_t start = range.start, end = range.end;
  int64_t len = static_cast<int64_t>(s.size());
  Normalize(range.in_bits ? len * 8 : len, &start, &end);
  if (start > end) return -1;
  uint64_t pos = range.in_bits ? start : static_cast<uint64_t>(start) * 8;
  uint64_t last = range.in_bits ? end : static_cast<uint64_t>(end) * 8 + 7;
  const uint8_t skip = bit ? 0x00 : 0xFF;  // bytes without the bit sought
  while (pos <= last) {
    if ((pos & 7) == 0) {
      while (pos + 7 <= last && static_cast<uint8_t>(s[pos >> 3]) == skip) pos += 8;
      if (pos > last) break;
    }
    if (GetBit(s, pos) == bit) return static_cast<int64_t>(pos);
    ++pos;
  }
  // No such bit in the range. Without an end, the string continues with zeros.
  if (bit == 1 || end_given) return -1;
  return static_cast<int64_t>(last + 1);
}

std::string ApplyBitOp(BitOp op, absl::Span<const std::string_view> sources) {
  size_t max_len = 0;
  for (std::string_view src : sources) max_len = std::max(max_len, src.size());
  std::string out(max_len, '\0');
  if (sources.empty() || max_len == 0) return out;
  // A missing key is an empty view whose data() may be null: memcpy's pointers must not be.
  if (!sources[0].empty()) memcpy(out.data(), sources[0].data(), sources[0].size());
  if (op == BitOp::kNot) {
    for (char& c : out) c = static_cast<char>(~c);
    return out;
  }
  for (size_t i = 1; i < sources.size(); ++i) {
    std::string_view src = sources[i];
    switch (op) {
      case BitOp::kAnd:
        for (size_t j = 0; j < src.size(); ++j) out[j] = static_cast<char>(out[j] & src[j]);
        for (size_t j = src.size(); j < max_len; ++j) out[j] = '\0';
        break;
      case BitOp::kOr:
        for (size_t j = 0; j < src.size(); ++j) out[j] = static_cast<char>(out[j] | src[j]);
        break;
      case BitOp::kXor:
        for (size_t j = 0; j < src.size(); ++j) out[j] = static_cast<char>(out[j] ^ src[j]);
        break;
      case BitOp::kNot:
        break;
    }
  }
  return out;
}

bool ParseFieldType(std::string_view arg, FieldType* out) {
  if (arg.empty() || (arg[0] != 'i' && arg[0] != 'u')) return false;
  bool is_signed = arg[0] == 'i';
  std::string_view digits = arg.substr(1);
  digits = digits.substr(0, digits.find('\0'));  // Redis reads a C string
  int64_t bits;
  if (!crdt::ParseRedisInt(digits, &bits) || bits < 1 || bits > (is_signed ? 64 : 63)) {
    return false;
  }
  out->is_signed = is_signed;
  out->bits = static_cast<int>(bits);
  return true;
}

bool ParseBitOffset(std::string_view arg, int field_bits, uint64_t max_bytes, uint64_t* out) {
  bool by_field = field_bits > 0 && !arg.empty() && arg[0] == '#';
  int64_t offset;
  if (!crdt::ParseRedisInt(by_field ? arg.substr(1) : arg, &offset)) return false;
  if (by_field) {
    offset =
        static_cast<int64_t>(static_cast<uint64_t>(offset) * static_cast<uint64_t>(field_bits));
  }
  if (offset < 0 || static_cast<uint64_t>(offset >> 3) >= max_bytes) return false;
  *out = static_cast<uint64_t>(offset);
  return true;
}

int64_t GetField(std::string_view s, uint64_t offset, FieldType type) {
  uint64_t v = ReadBits(s, offset, type.bits);
  return type.is_signed ? SignExtend(v, type.bits) : static_cast<int64_t>(v);
}

void PutField(std::string* s, uint64_t offset, FieldType type, uint64_t value) {
  int bits = std::min(type.bits, 64);  // ParseFieldType's range
  for (int j = bits - 1; j >= 0; --j, ++offset) {
    char& byte = (*s)[offset >> 3];
    uint8_t mask = static_cast<uint8_t>(1u << (7 - (offset & 7)));
    if ((value >> j) & 1) {
      byte = static_cast<char>(static_cast<uint8_t>(byte) | mask);
    } else {
      byte = static_cast<char>(static_cast<uint8_t>(byte) & ~mask);
    }
  }
}

bool UpdateField(std::string* s, uint64_t offset, FieldType type, int64_t arg, bool incr,
                 Overflow overflow, int64_t* reply) {
  int bits = type.bits;
  int64_t old = GetField(*s, offset, type);
  absl::int128 min, max, value;
  if (type.is_signed) {
    max = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
    min = -max - 1;
    value = incr ? absl::int128(old) + arg : absl::int128(arg);
  } else {
    // In unsigned arithmetic: for a u63, 2^63 - 1 computed in int64_t overflows (UBSan).
    max = static_cast<int64_t>((uint64_t{1} << bits) - 1);
    min = 0;
    // Redis stores SET's value as an unsigned 64-bit number: a negative one is above the maximum.
    value = incr ? absl::int128(old) + arg : absl::int128(static_cast<uint64_t>(arg));
  }
  int64_t updated;
  if (value >= min && value <= max) {
    updated = static_cast<int64_t>(value);
  } else if (overflow == Overflow::kFail) {
    return false;
  } else if (overflow == Overflow::kSat) {
    bool above = value > max;
    if (!above && type.is_signed && !incr && bits < 64) {
      // Redis tests a signed SET's value with an increment of 0 against max - value computed in
      // 64 bits: for a value so far below the minimum that the difference overflows (any value
      // below the minimum of an i63), it takes the overflow as upwards and saturates to the max.
      uint64_t max_incr =
          static_cast<uint64_t>(static_cast<int64_t>(max)) - static_cast<uint64_t>(arg);
      above = static_cast<int64_t>(max_incr) < 0;
    }
    updated = static_cast<int64_t>(above ? max : min);
  } else {  // kWrap: the low bits of the two's complement result
    uint64_t low = absl::Int128Low64(value);
    updated = type.is_signed ? SignExtend(low, bits)
                             : static_cast<int64_t>(low & static_cast<uint64_t>(max));
  }
  PutField(s, offset, type, static_cast<uint64_t>(updated));
  *reply = incr ? updated : old;
  return true;
}

uint64_t LcsTableBytes(uint64_t a_len, uint64_t b_len) {
  return (a_len + 1) * (b_len + 1) * sizeof(uint32_t);
}

LcsResult Lcs(std::string_view a, std::string_view b, bool with_text, bool with_matches,
              int64_t min_match_len) {
  const uint32_t alen = static_cast<uint32_t>(a.size());
  const uint32_t blen = static_cast<uint32_t>(b.size());
  // table[i][j]: the LCS length of a[0..i) and b[0..j).
  std::vector<uint32_t> table(static_cast<size_t>(alen + 1) * (blen + 1));
  auto at = [&](uint32_t i, uint32_t j) -> uint32_t& {
    return table[j + static_cast<size_t>(i) * (blen + 1)];
  };
  for (uint32_t i = 1; i <= alen; ++i) {
    for (uint32_t j = 1; j <= blen; ++j) {
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  LcsResult r;
  r.len = at(alen, blen);
  if (!with_text && !with_matches) return r;
  r.text.resize(r.len);
  uint32_t idx = r.len;
  // The range being extended backwards; a_start == alen: none.
  uint32_t a_start = alen, a_end = 0, b_start = 0, b_end = 0;
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool close = false;
    if (a[i - 1] == b[j - 1]) {
      r.text[idx - 1] = a[i - 1];
      if (a_start == alen) {
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) {
        --a_start;
        --b_start;
      } else {
        // Not contiguous: Redis closes the range here without opening one for this byte.
        close = true;
      }
      if (a_start == 0 || b_start == 0) close = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (a_start != alen) close = true;
    }
    if (close) {
      uint32_t match_len = a_end - a_start + 1;
      if (with_matches && (min_match_len == 0 || match_len >= min_match_len)) {
        r.matches.push_back({a_start, a_end, b_start, b_end, match_len});
      }
      a_start = alen;
    }
  }
  if (!with_text) r.text.clear();
  return r;
}

}  // namespace activekv::server::bits
