// The "#!lua" first line of an EVAL script or a FUNCTION library (Redis 7.0's
// evalExtractShebangFlags and functionExtractLibMetaData), parsed without Lua.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace activekv::scripting {

// Script flags (Redis 7.0 scripts_flags_def).
enum ScriptFlag : uint32_t {
  kFlagNoWrites = 1 << 0,
  kFlagAllowOom = 1 << 1,
  kFlagAllowStale = 1 << 2,
  kFlagNoCluster = 1 << 3,
  kFlagAllowCrossSlot = 1 << 4,
  // No shebang: an EVAL script of the pre-7.0 kind (SCRIPT_FLAG_EVAL_COMPAT_MODE).
  kFlagEvalCompat = 1 << 5,
};

// Maps a flag name ("no-writes") to its bit; 0 for an unknown name.
uint32_t ScriptFlagByName(std::string_view name);
// The names of `flags`' bits, in Redis's order (FUNCTION LIST).
std::string_view ScriptFlagName(uint32_t bit);
inline constexpr uint32_t kAllScriptFlags[] = {kFlagNoWrites, kFlagAllowOom, kFlagAllowStale,
                                               kFlagNoCluster, kFlagAllowCrossSlot};

struct EvalShebang {
  uint32_t flags = kFlagEvalCompat;
  // Bytes of `body` before the code Lua compiles: the shebang line without its '\n' (so line
  // numbers stay those of the user's text).
  size_t length = 0;
};

// An EVAL body: no "#!" -> compat flags; "#!lua [flags=a,b]" -> those flags. False with `*error`
// set to Redis's error text (without "ERR ") otherwise.
bool ParseEvalShebang(std::string_view body, EvalShebang* out, std::string* error);

struct LibraryMetadata {
  std::string name;
  std::string engine;  // "lua"
  size_t length = 0;   // of the shebang line, as EvalShebang::length
};

// A FUNCTION LOAD library's "#!<engine> name=<name>" line. False with Redis's error text.
bool ParseLibraryMetadata(std::string_view code, LibraryMetadata* out, std::string* error);

// Redis's library and function name rule: [A-Za-z0-9_]+.
bool ValidName(std::string_view name);

}  // namespace activekv::scripting
