#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "crdt/entry.h"
#include "region-server/resp/reply.h"

namespace activekv::server {

class Region;
class Server;
struct Client;

// Redis command flags we act on (and report in COMMAND INFO).
enum CommandFlag : uint32_t {
  kWrite = 1 << 0,
  kReadOnly = 1 << 1,
  kFast = 1 << 2,
  kDenyOom = 1 << 3,
  kAdmin = 1 << 4,
  kNoScript = 1 << 5,
  kLoading = 1 << 6,  // allowed while the AOF is replayed (Redis CMD_LOADING); others -LOADING
  kStale = 1 << 7,
  kNoMulti = 1 << 8,       // refused inside MULTI (Redis CMD_NO_MULTI)
  kBlocking = 1 << 9,      // may block the client (Redis CMD_BLOCKING; region-server/blocking.h)
  kMovableKeys = 1 << 10,  // keys beyond first/last/step (Redis's getkeys_proc: SORT ... STORE)
  kPubSub = 1 << 11,       // pub/sub (Redis CMD_PUBSUB; region-server/pubsub.h)
};

// What a handler sees. `args[0]` is the command name as the client sent it.
struct CommandContext {
  absl::Span<const std::string_view> args;
  resp::ReplyBuilder* reply;
  Client* client;
  Region* region;
  Server* server;
};

using CommandHandler = void (*)(CommandContext& ctx);

// One line of a family's registration block (dragonfly style). Arity is Redis's: N = exactly N
// arguments including the name, -N = at least N.
struct CommandSpec {
  std::string_view name;  // lower case
  int arity;
  uint32_t flags;
  int first_key;
  int last_key;
  int step;
  CommandHandler handler;
  std::string_view group;    // COMMAND DOCS
  std::string_view summary;  // COMMAND DOCS
  std::string_view since;    // COMMAND DOCS
};

class CommandTable {
 public:
  void Register(const CommandSpec& spec);
  // Case-insensitive.
  const CommandSpec* Find(std::string_view name) const;
  const std::vector<CommandSpec>& all() const { return specs_; }
  // Redis's flag names, e.g. {"write", "denyoom"}.
  static std::vector<std::string_view> FlagNames(uint32_t flags);

 private:
  std::vector<CommandSpec> specs_;
  absl::flat_hash_map<std::string, size_t> index_;
};

// Registration blocks, one per family.
void RegisterStringFamily(CommandTable* table);
void RegisterKeysFamily(CommandTable* table);
void RegisterServerFamily(CommandTable* table);
void RegisterHashFamily(CommandTable* table);
void RegisterSetFamily(CommandTable* table);
void RegisterZsetFamily(CommandTable* table);
void RegisterBitFamily(CommandTable* table);
void RegisterListFamily(CommandTable* table);
void RegisterStreamFamily(CommandTable* table);       // stream_family.cc
void RegisterStreamGroupFamily(CommandTable* table);  // stream_group_family.cc
void RegisterStreamPelFamily(CommandTable* table);    // stream_pel_family.cc
void RegisterTransactionFamily(CommandTable* table);  // multi_family.cc
void RegisterScriptingFamily(CommandTable* table);
void RegisterSortFamily(CommandTable* table);    // sort_family.cc
void RegisterPubsubFamily(CommandTable* table);  // pubsub_family.cc
void RegisterAclFamily(CommandTable* table);     // acl_family.cc

// Helpers shared by the families.
// Looks `key` up for a command that works on `type`: true with `*out` the entry (null when the
// key does not exist); false, after replying WRONGTYPE, when it holds another type.
// SCAN / HSCAN / SSCAN arguments (Redis's parseScanCursorOrReply and scanGenericCommand).
struct ScanArgs {
  uint64_t cursor = 0;
  int64_t count = 10;
  std::string_view pattern;  // empty with has_pattern false: every element
  bool has_pattern = false;
  std::string_view type;  // SCAN ... TYPE
  bool has_type = false;
};
// Replies "ERR invalid cursor" and returns false unless `text` is a cursor (strtoul's rules).
bool ParseScanCursor(CommandContext& ctx, std::string_view text, uint64_t* cursor);
// The options from ctx.args[first] on: MATCH, COUNT, and TYPE when `allow_type`. Replies the
// error and returns false on a bad one.
bool ParseScanOptions(CommandContext& ctx, size_t first, bool allow_type, ScanArgs* out);
// The count of SRANDMEMBER / HRANDFIELD (getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)):
// replies the error and returns false when `arg` is not such an integer.
bool ParsePickCount(CommandContext& ctx, std::string_view arg, int64_t* count);
// For a command with a count on a key of `type`: true with `*out` the entry; false after
// replying `missing` (the key does not exist) or WRONGTYPE.
bool LookupExisting(CommandContext& ctx, std::string_view key, crdt::ValueType type,
                    std::string_view missing, const crdt::Entry** out);
// A random number generator for SPOP, SRANDMEMBER, HRANDFIELD, RANDOMKEY.
uint64_t RandomU64();

// TYPE's name of a value type ("string", "hash", "set", "zset"; "none").
std::string_view TypeName(crdt::ValueType type);
bool LookupOfType(CommandContext& ctx, std::string_view key, crdt::ValueType type,
                  const crdt::Entry** out);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// A database index (SELECT, MOVE, COPY ... DB): true with `*db` in 0..15 (Redis's
// getIntFromObjectOrReply + selectDb); false after replying Redis's error.
bool ParseDbIndex(CommandContext& ctx, std::string_view arg, uint32_t* db);
// LMPOP / ZMPOP and their blocking forms, from `numkeys_idx` on: numkeys key [key ...] and a
// direction, `first` or `second` (LEFT|RIGHT, MIN|MAX), then [COUNT count] (Redis 7.0's
// lmpopGenericCommand / zmpopGenericCommand, errors in their order). False after replying the
// error.
struct MPopArgs {
  absl::Span<const std::string_view> keys;
  bool second = false;  // the direction given was `second`
  int64_t count = 1;
};
bool ParseMPopArgs(CommandContext& ctx, size_t numkeys_idx, std::string_view first,
                   std::string_view second, MPopArgs* out);
// "ERR wrong number of arguments for '<name>' command".
void ReplyArityError(CommandContext& ctx);
// The error a write gets while the AOF is failing or the region is joining (no leading '-');
// empty while writes are accepted. The dispatcher checks it for every kWrite command (and an
// EXEC that queued one).
std::string WriteRefusal(Region& region);

}  // namespace activekv::server
