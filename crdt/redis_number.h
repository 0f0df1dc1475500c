#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace activekv::crdt {

// Number <-> text conversions with Redis 7.0's exact rules (util.c), so values and replies are
// byte-identical to redis-server. Shared by the counter CRDT and the command handlers.

// Strict integer parse (Redis string2ll): optional '-', no leading zeros, no spaces, no '+',
// fits in int64. "0" is valid, "-0" and "01" are not.
bool ParseRedisInt(std::string_view s, int64_t* out);

// Long double parse (Redis string2ld): strtold must consume everything, no leading space, no NaN,
// overflow/underflow to 0 or inf rejected, at most 5 KiB of text. "inf" is accepted.
bool ParseRedisLongDouble(std::string_view s, long double* out);
// Double parse (Redis string2d, ZADD scores and weights): strtod must consume everything, no
// leading space, not empty, no NaN, no overflow to infinity or underflow to zero.
bool ParseRedisDouble(std::string_view s, double* out);

// Redis ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros (and a trailing '.') removed,
// "-0" -> "0", infinities as "inf"/"-inf". The form INCRBYFLOAT stores and replies.
std::string FormatLongDoubleHuman(long double value);

// Decimal text of an integer (Redis ll2string).
std::string FormatInt(int64_t value);

}  // namespace activekv::crdt
