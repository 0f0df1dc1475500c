#pragma once

// Redis 7.0's command table as ACLs see it: every command and subcommand with its ACL categories
// and key specs (generated from redis-server's COMMAND by tools/gen_command_meta.py into
// redis_commands.inc). ACL rules, ACL CAT, COMMAND INFO's categories and the keys a permission
// check looks at all come from here, so they match redis-server's even for commands activekv
// does not implement (docs/security.md, "ACLs"). Immutable after its first use; thread-safe.

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"

namespace activekv::server::acl {

// ACL categories, in Redis's order (ACL CAT, COMMAND INFO, the describe heuristics).
enum Category : uint32_t {
  kCatKeyspace = 1u << 0,
  kCatRead = 1u << 1,
  kCatWrite = 1u << 2,
  kCatSet = 1u << 3,
  kCatSortedset = 1u << 4,
  kCatList = 1u << 5,
  kCatHash = 1u << 6,
  kCatString = 1u << 7,
  kCatBitmap = 1u << 8,
  kCatHyperloglog = 1u << 9,
  kCatGeo = 1u << 10,
  kCatStream = 1u << 11,
  kCatPubsub = 1u << 12,
  kCatAdmin = 1u << 13,
  kCatFast = 1u << 14,
  kCatSlow = 1u << 15,
  kCatBlocking = 1u << 16,
  kCatDangerous = 1u << 17,
  kCatConnection = 1u << 18,
  kCatTransaction = 1u << 19,
  kCatScripting = 1u << 20,
};
constexpr size_t kCategoryCount = 21;
// The name of category bit `i` ("keyspace" ... "scripting").
std::string_view CategoryName(size_t i);
// The bit of a category name (case-insensitive), 0 when there is none.
uint32_t CategoryByName(std::string_view name);

// Key spec flags (Redis's CMD_KEY_*).
enum KeyFlag : uint32_t {
  kKeyRO = 1u << 0,
  kKeyRW = 1u << 1,
  kKeyOW = 1u << 2,
  kKeyRM = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotkey = 1u << 8,
  kKeyIncomplete = 1u << 9,
  kKeyVariableflags = 1u << 10,
};

enum class BeginSearch : uint8_t { kUnknown, kIndex, kKeyword };
enum class FindKeys : uint8_t { kUnknown, kRange, kKeynum };

struct KeySpec {
  uint32_t flags;
  BeginSearch begin;
  int start;  // kIndex: the index; kKeyword: where the search starts (negative: from the end)
  std::string_view keyword;
  FindKeys find;
  int a, b, c;  // kRange: lastkey, keystep, limit; kKeynum: keynumidx, firstkey, keystep
};

enum MetaFlag : uint32_t {
  kMetaNoAuth = 1u << 0,  // runs before AUTH and past every ACL command rule (AUTH, HELLO ...)
  kMetaMovableKeys = 1u << 1,
};

// Which arguments name pub/sub channels for ACLs (Redis 7.0's commands_with_channels; the
// UNSUBSCRIBEs are never checked).
enum class Channels : uint8_t {
  kNone,
  kFirst,         // PUBLISH SPUBLISH: argument 1
  kEvery,         // SUBSCRIBE SSUBSCRIBE: every argument, matched against the patterns
  kEveryLiteral,  // PSUBSCRIBE: every argument, equal to a pattern
};

struct CommandMeta {
  std::string_view fullname;   // "get", "client|list"
  std::string_view container;  // "client" for "client|list"; empty for a command
  int arity;
  uint32_t categories;
  uint32_t flags;
  std::vector<KeySpec> key_specs;
  // Filled in by the table: the bit index of this command in a selector's bitmap, the indexes
  // of a container's subcommands, its channel arguments, and whether it can name keys (a key
  // spec that is not NOT_KEY, or a getkeys rule of Redis's own).
  uint32_t id = 0;
  std::vector<uint32_t> subcommands;
  Channels channels = Channels::kNone;
  bool has_keys = false;
};

// ASCII case-insensitive equality (absl's takes absl::string_view, which is not
// std::string_view in Debian's Abseil).
bool EqualsNoCase(std::string_view a, std::string_view b);

// A key a command names: argument index and the key spec's flags for it.
struct KeyRef {
  size_t pos;
  uint32_t flags;
};

class CommandMetaTable {
 public:
  // Commands first-level in name order, each followed by its subcommands.
  absl::Span<const CommandMeta> all() const { return commands_; }
  // A command or "container|sub" (case-insensitive); null when Redis has none.
  const CommandMeta* Find(std::string_view fullname) const;
  // The command `args` runs: the subcommand for a container when args[1] names one (null when
  // it names none: Redis answers "unknown subcommand" before any ACL check).
  const CommandMeta* Resolve(absl::Span<const std::string_view> args) const;
  // The keys `args` names for `meta` (Redis's getKeysFromCommandWithSpecs).
  static void GetKeys(const CommandMeta& meta, absl::Span<const std::string_view> args,
                      std::vector<KeyRef>* out);

  static const CommandMetaTable& Get();

 private:
  CommandMetaTable();
  std::vector<CommandMeta> commands_;
  absl::flat_hash_map<std::string_view, size_t> by_name_;
};

}  // namespace activekv::server::acl
