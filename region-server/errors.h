#pragma once

// Client-visible error texts, byte-identical to Redis 7.0 (without the leading '-').
#include <string_view>

namespace activekv::server {

inline constexpr std::string_view kErrWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kErrNanOrInf = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kErrNoSuchKey = "ERR no such key";
inline constexpr std::string_view kErrStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kErrOffsetOutOfRange = "ERR offset is out of range";
inline constexpr std::string_view kErrDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kErrSameObject =
    "ERR source and destination objects are the same";
inline constexpr std::string_view kErrMisconfAof = "MISCONF Errors writing to the AOF file: ";
// stop-writes-on-bgsave-error (Redis's shared.bgsaveerr).
inline constexpr std::string_view kErrMisconfSave =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB "
    "error.";
// getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX) for SRANDMEMBER / HRANDFIELD counts
// (Redis's wording, "must between", kept).
inline constexpr std::string_view kErrCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
// getPositiveLongFromObjectOrReply without a message of its own (LPOP/RPOP counts).
inline constexpr std::string_view kErrCountPositive = "ERR value is out of range, must be positive";
inline constexpr std::string_view kErrLoading = "LOADING Redis is loading the dataset in memory";
// Bitmap commands (bitops.c) and LCS (t_string.c).
inline constexpr std::string_view kErrBitOffset =
    "ERR bit offset is not an integer or out of range";
inline constexpr std::string_view kErrBitValue = "ERR bit is not an integer or out of range";
inline constexpr std::string_view kErrBitPosBit = "ERR The bit argument must be 1 or 0.";
inline constexpr std::string_view kErrBitOpNot =
    "ERR BITOP NOT must be called with a single source key.";
inline constexpr std::string_view kErrBitfieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "
    "is.";
inline constexpr std::string_view kErrBitfieldOverflow = "ERR Invalid OVERFLOW type specified";
inline constexpr std::string_view kErrBitfieldRo =
    "ERR BITFIELD_RO only supports the GET subcommand";
inline constexpr std::string_view kErrLcsKeys = "ERR The specified keys must contain string values";
inline constexpr std::string_view kErrLcsLenAndIdx =
    "ERR If you want both the length and indexes, please just use IDX.";
inline constexpr std::string_view kErrLcsTooLong = "ERR String too long for LCS";
inline constexpr std::string_view kErrLcsMemory =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";

}  // namespace activekv::server
