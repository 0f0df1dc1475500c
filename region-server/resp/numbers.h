// Integer <-> decimal text conversions with Redis's exact rules, for the RESP hot path.
//
// Thread-safe (pure functions). No allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace activekv::resp {

// Enough for "-9223372036854775808" and for any uint64_t.
inline constexpr size_t kMaxInt64Chars = 20;

// Writes the decimal form of `v` to `buf` (at least kMaxInt64Chars bytes, not NUL-terminated)
// and returns the number of bytes written. Two digits per step, no snprintf.
size_t FormatUint64(uint64_t v, char* buf);
size_t FormatInt64(int64_t v, char* buf);

// Parses `s` exactly like Redis's string2ll (util.c): an optional '-', then either "0" alone or
// a digit 1-9 followed by digits; the whole of `s` must be used and fit in int64_t; at most 20
// bytes. Rejects "", "+1", "01", "-0", " 1", "1 ". This is deliberately stricter than
// absl::SimpleAtoi (which accepts '+', leading zeros and surrounding spaces): RESP length headers
// and Redis integer arguments must reject exactly what Redis rejects.
bool ParseInt64Strict(std::string_view s, int64_t* value);

}  // namespace activekv::resp
