// LuaEngine: one sandboxed Lua 5.1 interpreter running EVAL scripts or FUNCTION libraries the
// way Redis 7.0 does (script_lua.c, eval.c, function_lua.c): Redis's Lua API, the RESP <-> Lua
// conversions, global protection, a memory cap and a count hook for SCRIPT KILL / -BUSY.
// docs/scripting.md.
//
// The engine has no dependency on the server: redis.call reaches the dispatcher through a
// ScriptHost, and replies are written with resp::ReplyBuilder. Not thread-safe: the event loop
// owns it. Every entry point catches Lua errors (nothing unwinds out of it).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "region-server/resp/reply.h"
#include "scripting/shebang.h"

struct lua_State;

namespace activekv::scripting {

// What a running script needs from the server.
class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  // redis.call / redis.pcall. Either runs `args` (args[0]: the command name) as the script's
  // client, appending its reply in protocol `resp` (2 or 3) to `*reply`, and returns ""; or
  // refuses it before it runs and returns Redis's error text ("Unknown Redis command called
  // from script", "-BUSY ...": without a leading '-' the code ERR is added).
  virtual std::string Call(const std::vector<std::string_view>& args, int resp,
                           std::string* reply) = 0;
  // Called every kHookInstructions VM instructions while a script runs: true once the script
  // must stop (SCRIPT KILL / FUNCTION KILL). May serve other clients meanwhile (-BUSY).
  virtual bool Interrupt() = 0;
  // redis.log(level, ...): level 0 debug .. 3 warning.
  virtual void Log(int level, std::string_view message) = 0;
  // redis.acl_check_cmd: whether `name` is a command (activekv has no ACLs: every command is
  // permitted).
  virtual bool KnownCommand(std::string_view name) = 0;
};

// Redis 7.0.15's identity as scripts see it (redis.REDIS_VERSION*).
inline constexpr std::string_view kRedisVersion = "7.0.15";
inline constexpr int kRedisVersionNum = 0x0007000f;
// VM instructions between two hook calls (Redis's 100000).
inline constexpr int kHookInstructions = 100000;

// Lowercase hex SHA1 of `data` (redis.sha1hex, script ids).
std::string Sha1Hex(std::string_view data);

class LuaEngine {
 public:
  enum class Kind { kEval, kFunction };
  struct Options {
    Kind kind = Kind::kEval;
    // Bytes the interpreter may hold; an allocation beyond fails ("not enough memory"), the
    // script ends with an error and the memory is collected.
    size_t memory_limit = size_t{1} << 30;
    // FUNCTION LOAD: the registration code may run this long ("FUNCTION LOAD timeout").
    std::chrono::milliseconds load_timeout{500};
  };

  explicit LuaEngine(Options options);
  ~LuaEngine();
  LuaEngine(const LuaEngine&) = delete;
  LuaEngine& operator=(const LuaEngine&) = delete;

  size_t memory_used() const { return used_; }
  // Takes effect for the next allocation (a lower cap than what is held fails the next growth).
  void set_memory_limit(size_t bytes) { options_.memory_limit = bytes; }
  Kind kind() const { return options_.kind; }

  // --- EVAL scripts (Kind::kEval) ---
  struct Script {
    std::string sha;
    uint32_t flags = kFlagEvalCompat;
    int ref = 0;  // the compiled chunk in the Lua registry
  };
  // Compiles `body` unless cached (by SHA1). Null with `*error` (the reply text, e.g.
  // "ERR Error compiling script (new function): user_script:1: ...") on failure.
  const Script* LoadScript(std::string_view body, std::string* error);
  // `sha`: 40 hex digits, any case. Null when not cached.
  const Script* FindScript(std::string_view sha) const;
  size_t script_count() const { return scripts_.size(); }
  // SCRIPT FLUSH: drops every script and restarts the interpreter.
  void FlushScripts();

  // --- FUNCTION libraries (Kind::kFunction) ---
  struct Function {
    std::string name;
    std::string library;
    std::string description;
    bool has_description = false;
    uint32_t flags = 0;
    int ref = 0;
  };
  struct Library {
    std::string name;
    std::string code;
    std::vector<std::string> functions;  // in registration order
  };
  // FUNCTION LOAD: compiles `code`, runs its registration and installs the library (replacing
  // the one of the same name when `replace`). False with `*error` (the reply text without
  // "ERR ") on failure, leaving the installed libraries as they were.
  bool LoadLibrary(std::string_view code, bool replace, std::string* name, std::string* error);
  bool DeleteLibrary(std::string_view name);
  void FlushLibraries();
  const Function* FindFunction(std::string_view name) const;
  const std::map<std::string, Library>& libraries() const { return libraries_; }
  size_t function_count() const { return functions_.size(); }

  // --- Running (either kind) ---
  struct Run {
    int ref = 0;
    std::string_view name;  // the SHA1 (eval) or the function's name: "script: <name>, on ..."
    const std::vector<std::string_view>* keys = nullptr;
    const std::vector<std::string_view>* args = nullptr;
    ScriptHost* host = nullptr;
  };
  // Runs a script or function, appending its reply (or Redis's error) to `reply`.
  void Execute(const Run& run, resp::ReplyBuilder* reply);

  // Internal: the Lua C functions of the sandbox reach the engine through these.
  struct Internal;

 private:
  friend struct Internal;
  void Open();
  void Close();
  static void* Alloc(void* ud, void* ptr, size_t osize, size_t nsize);

  Options options_;
  lua_State* L_ = nullptr;
  size_t used_ = 0;
  bool limit_hit_ = false;
  // Set while a script runs.
  const Run* run_ = nullptr;
  int resp_ = 2;  // redis.setresp
  bool killed_ = false;
  // While FUNCTION LOAD runs a library's registration code.
  bool loading_ = false;
  std::chrono::steady_clock::time_point load_started_;
  struct PendingFunction {
    Function fn;
  };
  std::vector<Function> pending_;  // functions registered by the code being loaded
  std::string pending_error_;
  // Scratch buffers used while Lua frames are live (no C++ temporaries across a Lua error).
  std::vector<std::string> arg_storage_;
  std::vector<std::string_view> arg_views_;
  std::string call_reply_;
  std::string convert_out_;
  std::string error_text_;
  absl::flat_hash_map<std::string, Script> scripts_;
  std::map<std::string, Library> libraries_;
  absl::flat_hash_map<std::string, Function> functions_;
};

}  // namespace activekv::scripting
