#include "region-server/command.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/acl/command_meta.h"
#include "region-server/errors.h"
#include "region-server/region.h"

namespace activekv::server {

void CommandTable::Register(const CommandSpec& spec) {
  index_[std::string(spec.name)] = specs_.size();
  specs_.push_back(spec);
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char buf[64];
  if (name.size() > sizeof(buf)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) {
    buf[i] = static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(name[i])));
  }
  auto it = index_.find(absl::string_view(buf, name.size()));
  return it == index_.end() ? nullptr : &specs_[it->second];
}

std::vector<std::string_view> CommandTable::FlagNames(uint32_t flags) {
  std::vector<std::string_view> out;
  if (flags & kWrite) out.push_back("write");
  if (flags & kReadOnly) out.push_back("readonly");
  if (flags & kDenyOom) out.push_back("denyoom");
  if (flags & kAdmin) out.push_back("admin");
  if (flags & kPubSub) out.push_back("pubsub");
  if (flags & kNoScript) out.push_back("noscript");
  if (flags & kBlocking) out.push_back("blocking");
  if (flags & kLoading) out.push_back("loading");
  if (flags & kStale) out.push_back("stale");
  if (flags & kFast) out.push_back("fast");
  if (flags & kNoMulti) out.push_back("no_multi");
  if (flags & kMovableKeys) out.push_back("movablekeys");
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return acl::EqualsNoCase(a, b); }

void ReplyArityError(CommandContext& ctx) {
  std::string name(ctx.args[0]);
  absl::AsciiStrToLower(&name);
  ctx.reply->Error(absl::StrCat("ERR wrong number of arguments for '", name, "' command"));
}

bool ParseDbIndex(CommandContext& ctx, std::string_view arg, uint32_t* db) {
  int64_t id;
  if (!crdt::ParseRedisInt(arg, &id)) {
    ctx.reply->Error(kErrNotInteger);
    return false;
  }
  if (id < INT32_MIN || id > INT32_MAX) {
    ctx.reply->Error("ERR value is out of range, value must between -2147483648 and 2147483647");
    return false;
  }
  if (id < 0 || id >= static_cast<int64_t>(crdt::kDatabases)) {
    ctx.reply->Error(kErrDbIndexOutOfRange);
    return false;
  }
  *db = static_cast<uint32_t>(id);
  return true;
}

bool ParseScanCursor(CommandContext& ctx, std::string_view text, uint64_t* cursor) {
  std::string cursor_text(text);
  errno = 0;
  char* end = nullptr;
  *cursor = strtoull(cursor_text.c_str(), &end, 10);
  if (isspace(static_cast<unsigned char>(cursor_text.c_str()[0])) || *end != '\0' ||
      errno == ERANGE) {
    ctx.reply->Error("ERR invalid cursor");
    return false;
  }
  return true;
}

bool ParseScanOptions(CommandContext& ctx, size_t first, bool allow_type, ScanArgs* out) {
  for (size_t j = first; j < ctx.args.size(); j += 2) {
    std::string_view opt = ctx.args[j];
    bool has_value = j + 1 < ctx.args.size();
    if (EqualsIgnoreCase(opt, "count") && has_value) {
      if (!crdt::ParseRedisInt(ctx.args[j + 1], &out->count)) {
        ctx.reply->Error(kErrNotInteger);
        return false;
      }
      if (out->count < 1) {
        ctx.reply->Error(kErrSyntax);
        return false;
      }
    } else if (EqualsIgnoreCase(opt, "match") && has_value) {
      out->pattern = ctx.args[j + 1];
      out->has_pattern = !(out->pattern.size() == 1 && out->pattern[0] == '*');
    } else if (allow_type && EqualsIgnoreCase(opt, "type") && has_value) {
      out->type = ctx.args[j + 1];
      out->has_type = true;
    } else {
      ctx.reply->Error(kErrSyntax);
      return false;
    }
  }
  return true;
}

bool ParsePickCount(CommandContext& ctx, std::string_view arg, int64_t* count) {
  if (!crdt::ParseRedisInt(arg, count)) {
    ctx.reply->Error(kErrNotInteger);
    return false;
  }
  if (*count < -std::numeric_limits<int64_t>::max()) {
    ctx.reply->Error(kErrCountRange);
    return false;
  }
  return true;
}

bool LookupExisting(CommandContext& ctx, std::string_view key, crdt::ValueType type,
                    std::string_view missing, const crdt::Entry** out) {
  *out = ctx.region->Lookup(key);
  if (*out == nullptr) {
    ctx.reply->Raw(missing);
    return false;
  }
  if (ctx.region->TypeOf(**out) != type) {
    ctx.reply->Error(kErrWrongType);
    return false;
  }
  return true;
}

uint64_t RandomU64() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

std::string_view TypeName(crdt::ValueType type) {
  switch (type) {
    case crdt::ValueType::kString:
      return "string";
    case crdt::ValueType::kHash:
      return "hash";
    case crdt::ValueType::kSet:
      return "set";
    case crdt::ValueType::kZset:
      return "zset";
    case crdt::ValueType::kList:
      return "list";
    case crdt::ValueType::kStream:
      return "stream";
    case crdt::ValueType::kNone:
      break;
  }
  return "none";
}

bool LookupOfType(CommandContext& ctx, std::string_view key, crdt::ValueType type,
                  const crdt::Entry** out) {
  *out = ctx.region->Lookup(key);
  if (*out != nullptr && ctx.region->TypeOf(**out) != type) {
    ctx.reply->Error(kErrWrongType);
    return false;
  }
  return true;
}

std::string WriteRefusal(Region& region) {
  if (region.joining()) {
    return "TRYAGAIN this region's data directory is new: waiting for its peers to say which of "
           "its ops they hold, so that it never reuses an op id";
  }
  if (region.catching_up()) {
    return "TRYAGAIN this region restarted without all of its data: catching up from its peers "
           "before it writes, so that no write misses what they hold";
  }
  // As Redis: a failed snapshot first (while save rules exist and stop-writes-on-bgsave-error).
  if (region.stop_writes_on_save_error() && !region.save_stats().last_status.ok()) {
    return std::string(kErrMisconfSave);
  }
  if (region.aof()->healthy()) return "";
  absl::Status health = region.aof()->health();
  if (health.ok()) return "";
  return absl::StrCat(std::string(kErrMisconfAof), health.message());
}

bool ParseMPopArgs(CommandContext& ctx, size_t numkeys_idx, std::string_view first,
                   std::string_view second, MPopArgs* out) {
  int64_t numkeys;
  if (!crdt::ParseRedisInt(ctx.args[numkeys_idx], &numkeys) || numkeys < 1) {
    ctx.reply->Error("ERR numkeys should be greater than 0");
    return false;
  }
  const uint64_t where_idx = numkeys_idx + static_cast<uint64_t>(numkeys) + 1;
  if (where_idx >= ctx.args.size()) {
    ctx.reply->Error(kErrSyntax);
    return false;
  }
  if (EqualsIgnoreCase(ctx.args[where_idx], first)) {
    out->second = false;
  } else if (EqualsIgnoreCase(ctx.args[where_idx], second)) {
    out->second = true;
  } else {
    ctx.reply->Error(kErrSyntax);
    return false;
  }
  int64_t count = -1;
  for (size_t j = where_idx + 1; j < ctx.args.size(); ++j) {
    const bool more = j + 1 < ctx.args.size();
    if (count == -1 && EqualsIgnoreCase(ctx.args[j], "count") && more) {
      ++j;
      if (!crdt::ParseRedisInt(ctx.args[j], &count) || count < 1) {
        ctx.reply->Error("ERR count should be greater than 0");
        return false;
      }
    } else {
      ctx.reply->Error(kErrSyntax);
      return false;
    }
  }
  out->count = count == -1 ? 1 : count;
  out->keys = ctx.args.subspan(numkeys_idx + 1, static_cast<size_t>(numkeys));
  return true;
}

}  // namespace activekv::server
