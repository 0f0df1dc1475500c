#include "region-server/expire_args.h"

#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/errors.h"

namespace activekv::server {

bool ParseSetArgs(CommandContext& ctx, bool is_set, SetArgs* out) {
  constexpr uint32_t kAnyExpire = kSetEx | kSetPx | kSetExAt | kSetPxAt;
  const auto& args = ctx.args;
  for (size_t j = is_set ? 3 : 2; j < args.size(); ++j) {
    std::string_view opt = args[j];
    bool has_next = j + 1 < args.size();
    uint32_t f = out->flags;
    auto take_expire = [&](uint32_t flag) {
      out->flags |= flag;
      out->expire = args[++j];
    };
    if (is_set && EqualsIgnoreCase(opt, "nx") && !(f & kSetXx)) {
      out->flags |= kSetNx;
    } else if (is_set && EqualsIgnoreCase(opt, "xx") && !(f & kSetNx)) {
      out->flags |= kSetXx;
    } else if (is_set && EqualsIgnoreCase(opt, "get")) {
      out->flags |= kSetGet;
    } else if (is_set && EqualsIgnoreCase(opt, "keepttl") && !(f & (kSetPersist | kAnyExpire))) {
      out->flags |= kSetKeepTtl;
    } else if (!is_set && EqualsIgnoreCase(opt, "persist") && !(f & (kAnyExpire | kSetKeepTtl))) {
      out->flags |= kSetPersist;
    } else if (EqualsIgnoreCase(opt, "ex") && has_next &&
               !(f & (kSetKeepTtl | kSetPersist | kSetExAt | kSetPx | kSetPxAt))) {
      take_expire(kSetEx);
    } else if (EqualsIgnoreCase(opt, "px") && has_next &&
               !(f & (kSetKeepTtl | kSetPersist | kSetEx | kSetExAt | kSetPxAt))) {
      take_expire(kSetPx);
    } else if (EqualsIgnoreCase(opt, "exat") && has_next &&
               !(f & (kSetKeepTtl | kSetPersist | kSetEx | kSetPx | kSetPxAt))) {
      take_expire(kSetExAt);
    } else if (EqualsIgnoreCase(opt, "pxat") && has_next &&
               !(f & (kSetKeepTtl | kSetPersist | kSetEx | kSetExAt | kSetPx))) {
      take_expire(kSetPxAt);
    } else {
      ctx.reply->Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

void ReplyInvalidExpireTime(CommandContext& ctx) {
  std::string name(ctx.args[0]);
  absl::AsciiStrToLower(&name);
  ctx.reply->Error(absl::StrCat("ERR invalid expire time in '", name, "' command"));
}

bool ExpireArgToDeadline(CommandContext& ctx, const SetArgs& args, int64_t now_ms,
                         int64_t* deadline_ms) {
  int64_t v;
  if (!crdt::ParseRedisInt(args.expire, &v)) {
    ctx.reply->Error(kErrNotInteger);
    return false;
  }
  bool seconds = args.flags & (kSetEx | kSetExAt);
  if (v <= 0 || (seconds && v > std::numeric_limits<int64_t>::max() / 1000)) {
    ReplyInvalidExpireTime(ctx);
    return false;
  }
  if (seconds) v *= 1000;
  if (args.flags & (kSetEx | kSetPx)) {
    if (__builtin_add_overflow(v, now_ms, &v)) v = -1;
  }
  if (v <= 0) {
    ReplyInvalidExpireTime(ctx);
    return false;
  }
  *deadline_ms = v;
  return true;
}

}  // namespace activekv::server
