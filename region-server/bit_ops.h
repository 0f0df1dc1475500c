#pragma once

// The arithmetic of the bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD) and of
// LCS on plain byte strings, with Redis 7.0's rules (bitops.c, t_string.c). Pure: no server, no
// replies; region-server/bit_family.cc parses arguments, looks keys up and replies.
//
// Bit numbering is Redis's: bit 0 is the most significant bit of the first byte. Reads past the
// end of a string see zero bits.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"

namespace activekv::server::bits {

// Number of bits set in `s`.
int64_t PopCount(std::string_view s);

// The bit at `offset` (0 past the end).
int GetBit(std::string_view s, uint64_t offset);

// A BITCOUNT / BITPOS range as the client gave it: negative indexes count from the end; in bytes
// or (BIT) in bits.
struct Range {
  int64_t start = 0;
  int64_t end = -1;
  bool in_bits = false;
};

// BITCOUNT key start end [BYTE|BIT]: the bits set in `range` of `s` (0 for an empty range).
int64_t CountInRange(std::string_view s, const Range& range);

// BITPOS key bit [start [end [BYTE|BIT]]]: the position of the first bit equal to `bit` (0 or 1)
// in `range`, or -1. Looking for a 0 without an explicit end (`end_given` false: the string is
// seen as padded with zeros on the right) finds the bit just after the range when the range has
// none; an empty range has neither a 0 nor a 1.
int64_t FirstBit(std::string_view s, int bit, const Range& range, bool end_given);

// BITOP. NOT takes exactly one source (the caller checks). Missing sources are empty strings;
// shorter ones are padded with zero bytes. The result is as long as the longest source.
enum class BitOp { kAnd, kOr, kXor, kNot };
std::string ApplyBitOp(BitOp op, absl::Span<const std::string_view> sources);

// --- BITFIELD ---

// "i<bits>" (1..64) or "u<bits>" (1..63): Redis reads the digits up to a NUL byte.
struct FieldType {
  bool is_signed = false;
  int bits = 0;
};
bool ParseFieldType(std::string_view arg, FieldType* out);

// A bit offset (getBitOffsetFromArgument): a non-negative integer whose byte (offset / 8) is below
// `max_bytes` (proto-max-bulk-len); with `field_bits` > 0, "#N" means N * field_bits (computed
// as Redis does, wrapping on overflow).
bool ParseBitOffset(std::string_view arg, int field_bits, uint64_t max_bytes, uint64_t* out);

enum class Overflow { kWrap, kSat, kFail };

// The field of `type` at `offset` (bits past the end of `s` read as 0), as Redis replies it.
int64_t GetField(std::string_view s, uint64_t offset, FieldType type);
// Writes the low `type.bits` bits of `value` at `offset`; `*s` must hold the field.
void PutField(std::string* s, uint64_t offset, FieldType type, uint64_t value);

// SET (`incr` false: stores `arg`, replies the old value) or INCRBY (`incr` true: adds `arg`,
// replies the new value) on the field at `offset` of `*s` (which must hold the field), with
// `overflow`'s rule. Returns false, leaving `*s` alone, when the value overflows under FAIL.
bool UpdateField(std::string* s, uint64_t offset, FieldType type, int64_t arg, bool incr,
                 Overflow overflow, int64_t* reply);

// --- LCS ---

struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
  uint32_t len;
};
struct LcsResult {
  uint32_t len = 0;
  std::string text;               // with_text only
  std::vector<LcsMatch> matches;  // with_matches only, from the end of the strings backwards
};
// Bytes of the dynamic programming table for strings of these lengths (Redis refuses more than
// proto-max-bulk-len).
uint64_t LcsTableBytes(uint64_t a_len, uint64_t b_len);
// The longest common subsequence of `a` and `b` (the table is built, then walked back from the
// end, as Redis does: where two choices are equally long, the same one is taken, so the string
// and the matched ranges are Redis's). Matches shorter than `min_match_len` are left out.
LcsResult Lcs(std::string_view a, std::string_view b, bool with_text, bool with_matches,
              int64_t min_match_len);

}  // namespace activekv::server::bits
