#include "region-server/acl/command_meta.h"

#include <string>

#include "absl/strings/ascii.h"
#include "crdt/redis_number.h"

namespace activekv::server::acl {
namespace {

constexpr std::string_view kCategoryNames[kCategoryCount] = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting"};

Channels ChannelsOf(std::string_view name) {
  if (name == "publish" || name == "spublish") return Channels::kFirst;
  if (name == "subscribe" || name == "ssubscribe") return Channels::kEvery;
  if (name == "psubscribe") return Channels::kEveryLiteral;
  return Channels::kNone;
}

// The commands whose keys come from Redis's getkeys procs (SpecialKeys), not their key specs.
bool HasGetkeysRule(std::string_view name) {
  return name == "set" || name == "bitfield" || name == "sort" || name == "sort_ro";
}

// Redis's getKeysUsingKeySpecs for one spec: false when the spec does not apply to `args` (an
// unknown spec, a missing or bad key count, keys past the end: Redis then finds no key).
bool KeysOfSpec(const KeySpec& spec, absl::Span<const std::string_view> args,
                std::vector<KeyRef>* out) {
  const int argc = static_cast<int>(args.size());
  int first = 0;
  if (spec.begin == BeginSearch::kIndex) {
    first = spec.start;
  } else if (spec.begin == BeginSearch::kKeyword) {
    const int start = spec.start > 0 ? spec.start : argc + spec.start;
    const int end = spec.start > 0 ? argc - 1 : 1;
    for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
      if (i >= argc || i < 1) break;
      if (EqualsNoCase(args[i], spec.keyword)) {
        first = i + 1;
        break;
      }
    }
    if (first == 0) return true;  // keyword absent: no keys from this spec
  } else {
    return false;
  }
  int last, step;
  if (spec.find == FindKeys::kRange) {
    step = spec.b;
    if (spec.a >= 0) {
      last = first + spec.a;
    } else if (spec.c == 0) {
      last = argc + spec.a;
    } else {
      last = first + ((argc - first) / spec.c + spec.a);
    }
  } else if (spec.find == FindKeys::kKeynum) {
    step = spec.c;
    if (first + spec.a >= argc) return false;
    int64_t numkeys;
    if (!crdt::ParseRedisInt(args[first + spec.a], &numkeys) || numkeys < 0 || numkeys > argc) {
      return false;
    }
    first += spec.b;
    last = first + static_cast<int>(numkeys) - 1;
  } else {
    return false;
  }
  if (last >= argc || last < first || first >= argc) {
    // Zero keys (numkeys 0) is no error; anything else is a syntax error the command reports.
    return last == first - 1 && spec.find == FindKeys::kKeynum;
  }
  for (int i = first; i <= last && step > 0; i += step) {
    out->push_back(KeyRef{static_cast<size_t>(i), spec.flags});
  }
  return true;
}

// Redis's native getkeys procs for the commands whose key specs cannot say it all (those
// HasGetkeysRule names; false for any other).
bool SpecialKeys(std::string_view name, absl::Span<const std::string_view> args,
                 std::vector<KeyRef>* out) {
  if (name == "set") {  // setGetKeys: GET reads the old value
    uint32_t flags = kKeyOW | kKeyUpdate;
    for (size_t i = 3; i < args.size(); ++i) {
      if (EqualsNoCase(args[i], "get")) flags = kKeyRW | kKeyAccess | kKeyUpdate;
    }
    if (args.size() > 1) out->push_back(KeyRef{1, flags});
    return true;
  }
  if (name == "bitfield") {  // bitfieldGetKeys: read-only with GETs alone
    bool readonly = true;
    for (size_t i = 2; i < args.size(); ++i) {
      const size_t rem = args.size() - i - 1;
      if (EqualsNoCase(args[i], "get") && rem >= 2) {
        i += 2;
      } else if (EqualsNoCase(args[i], "overflow") && rem >= 1) {
        i += 1;
      } else {  // SET / INCRBY, or anything else: the command may write
        readonly = false;
        break;
      }
    }
    if (args.size() > 1) {
      out->push_back(KeyRef{1, readonly ? kKeyRO | kKeyAccess : kKeyRW | kKeyAccess | kKeyUpdate});
    }
    return true;
  }
  if (name == "sort" || name == "sort_ro") {  // sortGetKeys: the key, and the last STORE's
    if (args.size() < 2) return true;
    out->push_back(KeyRef{1, kKeyRO | kKeyAccess});
    size_t store = 0;
    for (size_t i = 2; i < args.size(); ++i) {
      if (EqualsNoCase(args[i], "limit")) {
        i += 2;
      } else if (EqualsNoCase(args[i], "get") || EqualsNoCase(args[i], "by")) {
        i += 1;
      } else if (EqualsNoCase(args[i], "store") && i + 1 < args.size()) {
        store = i + 1;
      }
    }
    if (store != 0) out->push_back(KeyRef{store, kKeyOW | kKeyUpdate});
    return true;
  }
  return false;
}

}  // namespace

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(a[i])) !=
        absl::ascii_tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view CategoryName(size_t i) { return i < kCategoryCount ? kCategoryNames[i] : ""; }

uint32_t CategoryByName(std::string_view name) {
  for (size_t i = 0; i < kCategoryCount; ++i) {
    if (EqualsNoCase(name, kCategoryNames[i])) return 1u << i;
  }
  return 0;
}

CommandMetaTable::CommandMetaTable()
    : commands_{
#include "region-server/acl/redis_commands.inc"
      } {
  for (size_t i = 0; i < commands_.size(); ++i) {
    CommandMeta& m = commands_[i];
    m.id = static_cast<uint32_t>(i);
    m.channels = ChannelsOf(m.fullname);
    m.has_keys = HasGetkeysRule(m.fullname);
    for (const KeySpec& spec : m.key_specs) m.has_keys = m.has_keys || !(spec.flags & kKeyNotkey);
    by_name_[m.fullname] = i;
    if (!m.container.empty()) {
      for (size_t j = i; j-- > 0;) {
        if (commands_[j].fullname == m.container) {
          commands_[j].subcommands.push_back(m.id);
          break;
        }
      }
    }
  }
}

const CommandMetaTable& CommandMetaTable::Get() {
  static const CommandMetaTable* table = new CommandMetaTable();
  return *table;
}

const CommandMeta* CommandMetaTable::Find(std::string_view fullname) const {
  std::string lower(fullname);
  for (char& c : lower) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  auto it = by_name_.find(std::string_view(lower));
  return it == by_name_.end() ? nullptr : &commands_[it->second];
}

const CommandMeta* CommandMetaTable::Resolve(absl::Span<const std::string_view> args) const {
  if (args.empty()) return nullptr;
  const CommandMeta* meta = Find(args[0]);
  if (meta == nullptr || meta->subcommands.empty() || args.size() < 2) return meta;
  for (uint32_t id : meta->subcommands) {
    const CommandMeta& sub = commands_[id];
    if (EqualsNoCase(sub.fullname.substr(meta->fullname.size() + 1), args[1])) {
      return &sub;
    }
  }
  return nullptr;
}

void CommandMetaTable::GetKeys(const CommandMeta& meta, absl::Span<const std::string_view> args,
                               std::vector<KeyRef>* out) {
  out->clear();
  if (SpecialKeys(meta.fullname, args, out)) return;
  for (const KeySpec& spec : meta.key_specs) {
    if (spec.flags & kKeyNotkey) continue;
    if (!KeysOfSpec(spec, args, out)) {
      out->clear();  // Redis: an invalid spec means no keys
      return;
    }
  }
}

}  // namespace activekv::server::acl
