#pragma once

#include <cstdint>
#include <string_view>

#include "region-server/command.h"

namespace activekv::server {

// Option parsing shared by SET, GETEX, SETEX & co (Redis 7.0 parseExtendedStringArguments).
enum SetFlag : uint32_t {
  kSetNx = 1 << 0,
  kSetXx = 1 << 1,
  kSetGet = 1 << 2,
  kSetKeepTtl = 1 << 3,
  kSetPersist = 1 << 4,
  kSetEx = 1 << 5,
  kSetPx = 1 << 6,
  kSetExAt = 1 << 7,
  kSetPxAt = 1 << 8,
};

struct SetArgs {
  uint32_t flags = 0;
  std::string_view expire;  // the EX/PX/EXAT/PXAT argument, empty if none
  bool has_expire() const { return flags & (kSetEx | kSetPx | kSetExAt | kSetPxAt); }
};

// `is_set`: SET's options (NX XX GET KEEPTTL EX PX EXAT PXAT) from args[3]; otherwise GETEX's
// (EX PX EXAT PXAT PERSIST) from args[2]. Replies "ERR syntax error" and returns false on error.
bool ParseSetArgs(CommandContext& ctx, bool is_set, SetArgs* out);

// Converts the EX/PX/EXAT/PXAT argument into an absolute unix-ms deadline, replying Redis's error
// ("ERR value is not an integer or out of range", "ERR invalid expire time in '<cmd>' command")
// and returning false when it is not valid.
bool ExpireArgToDeadline(CommandContext& ctx, const SetArgs& args, int64_t now_ms,
                         int64_t* deadline_ms);

// "ERR invalid expire time in '<cmd>' command".
void ReplyInvalidExpireTime(CommandContext& ctx);

}  // namespace activekv::server
