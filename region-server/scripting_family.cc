// EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT FUNCTION FCALL FCALL_RO (Redis 7.0 eval.c, functions.c,
// script.c), and the server's scripting state (scripting.h). docs/scripting.md.
#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/connection.h"
#include "region-server/errors.h"
#include "region-server/glob.h"
#include "region-server/region.h"
#include "region-server/scripting.h"
#include "spdlog/spdlog.h"

namespace activekv::server {
namespace {

// A script or function that declares flags, neither allow-oom nor no-writes, is refused above
// maxmemory before it starts, as Redis makes it a denyoom command. Replies and returns true then.
bool RefuseOom(CommandContext& ctx, uint32_t flags) {
  if ((flags & (scripting::kFlagAllowOom | scripting::kFlagNoWrites)) != 0) return false;
  if (ctx.server->memory_limit().maxmemory() == 0 || !ctx.server->OutOfMemory()) return false;
  ctx.reply->Error(Server::kErrOom);
  return true;
}

// Replies the error and returns true while the region refuses writes (MISCONF, joining).
bool RefuseWrites(CommandContext& ctx) {
  std::string refusal = WriteRefusal(*ctx.region);
  if (refusal.empty()) return false;
  ctx.reply->Error(refusal);
  return true;
}

using scripting::kFlagAllowOom;
using scripting::kFlagEvalCompat;
using scripting::kFlagNoWrites;
using scripting::LuaEngine;

constexpr std::string_view kErrBusyEval =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
constexpr std::string_view kErrBusyFunction =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
constexpr std::string_view kErrNoScript = "NOSCRIPT No matching script. Please use EVAL.";
constexpr std::string_view kErrWriteFlagRo =
    "ERR Can not execute a script with write flag using *_ro command.";
// Serve other clients at most this often while a script is busy.
constexpr auto kBusyServeInterval = std::chrono::milliseconds(2);

void SubcommandArityError(CommandContext& ctx) {
  std::string name = absl::StrCat(std::string(ctx.args[0]), "|", std::string(ctx.args[1]));
  absl::AsciiStrToLower(&name);
  ctx.reply->Error(absl::StrCat("ERR wrong number of arguments for '", name, "' command"));
}

void UnknownSubcommand(CommandContext& ctx, std::string_view family) {
  ctx.reply->Error(absl::StrCat("ERR unknown subcommand '", std::string(ctx.args[1].substr(0, 128)),
                                "'. Try ", std::string(family), " HELP."));
}

// numkeys at ctx.args[at]; keys and args after it. False after replying the error.
bool SplitKeys(CommandContext& ctx, size_t at, std::string_view not_integer,
               std::vector<std::string_view>* keys, std::vector<std::string_view>* args) {
  int64_t numkeys;
  if (!crdt::ParseRedisInt(ctx.args[at], &numkeys)) {
    ctx.reply->Error(not_integer);
    return false;
  }
  const int64_t rest = static_cast<int64_t>(ctx.args.size() - at - 1);
  if (numkeys > rest) {
    ctx.reply->Error("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (numkeys < 0) {
    ctx.reply->Error("ERR Number of keys can't be negative");
    return false;
  }
  keys->assign(ctx.args.begin() + at + 1, ctx.args.begin() + at + 1 + numkeys);
  args->assign(ctx.args.begin() + at + 1 + numkeys, ctx.args.end());
  return true;
}

Scripting& State(CommandContext& ctx) { return ctx.server->scripting(); }

void EvalGeneric(CommandContext& ctx, bool by_sha, bool ro) {
  std::vector<std::string_view> keys, args;
  if (!SplitKeys(ctx, 2, kErrNotInteger, &keys, &args)) return;
  LuaEngine& engine = State(ctx).eval();
  const LuaEngine::Script* script;
  if (by_sha) {
    script = engine.FindScript(ctx.args[1]);
    if (script == nullptr) {
      ctx.reply->Error(kErrNoScript);
      return;
    }
  } else {
    std::string error;
    script = engine.LoadScript(ctx.args[1], &error);
    if (script == nullptr) {
      ctx.reply->Error(error);
      return;
    }
  }
  const bool compat = (script->flags & kFlagEvalCompat) != 0;
  const bool no_writes = (script->flags & kFlagNoWrites) != 0;
  const bool allow_oom = (script->flags & kFlagAllowOom) != 0;
  if (!compat && RefuseOom(ctx, script->flags)) return;
  if (!compat && !no_writes) {
    if (RefuseWrites(ctx)) return;
    if (ro) {
      ctx.reply->Error(kErrWriteFlagRo);
      return;
    }
  }
  // Copied: FlushScripts (SCRIPT FLUSH) cannot run meanwhile, but keep the name independent.
  const std::string sha = script->sha;
  State(ctx).Run(ctx, script->ref, sha, true, ro || (!compat && no_writes), allow_oom, keys, args);
}

void Eval(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
void EvalSha(CommandContext& ctx) { EvalGeneric(ctx, true, false); }
void EvalRo(CommandContext& ctx) { EvalGeneric(ctx, false, true); }
void EvalShaRo(CommandContext& ctx) { EvalGeneric(ctx, true, true); }

void FcallGeneric(CommandContext& ctx, bool ro) {
  Scripting& state = State(ctx);
  state.SyncLibraries();
  const LuaEngine::Function* fn = state.functions().FindFunction(ctx.args[1]);
  if (fn == nullptr) {
    ctx.reply->Error("ERR Function not found");
    return;
  }
  std::vector<std::string_view> keys, args;
  if (!SplitKeys(ctx, 2, "ERR Bad number of keys provided", &keys, &args)) return;
  const bool no_writes = (fn->flags & kFlagNoWrites) != 0;
  if (RefuseOom(ctx, fn->flags)) return;
  if (!no_writes) {
    if (RefuseWrites(ctx)) return;
    if (ro) {
      ctx.reply->Error(kErrWriteFlagRo);
      return;
    }
  }
  const std::string name = fn->name;
  state.Run(ctx, fn->ref, name, false, ro || no_writes, (fn->flags & kFlagAllowOom) != 0, keys,
            args);
}

void Fcall(CommandContext& ctx) { FcallGeneric(ctx, false); }
void FcallRo(CommandContext& ctx) { FcallGeneric(ctx, true); }

void ScriptCommand(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  const size_t argc = ctx.args.size();
  LuaEngine& engine = State(ctx).eval();
  if (EqualsIgnoreCase(sub, "help")) {
    if (argc != 2) return SubcommandArityError(ctx);
    static const char* kHelp[] = {
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help."};
    ctx.reply->ArrayLen(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
  } else if (EqualsIgnoreCase(sub, "load")) {
    if (argc != 3) return SubcommandArityError(ctx);
    std::string error;
    const LuaEngine::Script* script = engine.LoadScript(ctx.args[2], &error);
    if (script == nullptr) {
      ctx.reply->Error(error);
      return;
    }
    ctx.reply->Bulk(script->sha);
  } else if (EqualsIgnoreCase(sub, "exists")) {
    if (argc < 3) return SubcommandArityError(ctx);
    ctx.reply->ArrayLen(argc - 2);
    for (size_t i = 2; i < argc; ++i) {
      ctx.reply->Integer(engine.FindScript(ctx.args[i]) != nullptr ? 1 : 0);
    }
  } else if (EqualsIgnoreCase(sub, "flush")) {
    if (argc > 3 || (argc == 3 && !EqualsIgnoreCase(ctx.args[2], "sync") &&
                     !EqualsIgnoreCase(ctx.args[2], "async"))) {
      ctx.reply->Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
      return;
    }
    engine.FlushScripts();
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "kill")) {
    if (argc != 2) return SubcommandArityError(ctx);
    State(ctx).Kill(ctx, true);
  } else if (EqualsIgnoreCase(sub, "debug")) {
    if (argc != 3) return SubcommandArityError(ctx);
    if (EqualsIgnoreCase(ctx.args[2], "no")) {
      ctx.reply->Ok();  // the debugger is off (it always is)
    } else if (EqualsIgnoreCase(ctx.args[2], "yes") || EqualsIgnoreCase(ctx.args[2], "sync")) {
      ctx.reply->Error("ERR SCRIPT DEBUG (the Lua debugger) is not supported by activekv");
    } else {
      ctx.reply->Error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
    }
  } else {
    UnknownSubcommand(ctx, "SCRIPT");
  }
}

void FunctionList(CommandContext& ctx, LuaEngine& engine) {
  bool with_code = false;
  std::string_view pattern;
  bool has_pattern = false;
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    std::string_view a = ctx.args[j];
    if (EqualsIgnoreCase(a, "withcode") && !with_code) {
      with_code = true;
    } else if (EqualsIgnoreCase(a, "libraryname") && !has_pattern) {
      if (j + 1 >= ctx.args.size()) {
        ctx.reply->Error("ERR library name argument was not given");
        return;
      }
      has_pattern = true;
      pattern = ctx.args[++j];
    } else {
      ctx.reply->Error(absl::StrCat("ERR Unknown argument ", std::string(a)));
      return;
    }
  }
  std::vector<const LuaEngine::Library*> libs;
  for (const auto& [name, lib] : engine.libraries()) {
    if (!has_pattern || GlobMatch(pattern, name)) libs.push_back(&lib);
  }
  ctx.reply->ArrayLen(libs.size());
  for (const LuaEngine::Library* lib : libs) {
    ctx.reply->MapLen(with_code ? 4 : 3);
    ctx.reply->Bulk("library_name");
    ctx.reply->Bulk(lib->name);
    ctx.reply->Bulk("engine");
    ctx.reply->Bulk("LUA");
    ctx.reply->Bulk("functions");
    ctx.reply->ArrayLen(lib->functions.size());
    for (const std::string& fname : lib->functions) {
      const LuaEngine::Function* fn = engine.FindFunction(fname);
      ctx.reply->MapLen(3);
      ctx.reply->Bulk("name");
      ctx.reply->Bulk(fname);
      ctx.reply->Bulk("description");
      if (fn != nullptr && fn->has_description) {
        ctx.reply->Bulk(fn->description);
      } else {
        ctx.reply->Null();
      }
      ctx.reply->Bulk("flags");
      std::vector<std::string_view> flags;
      for (uint32_t bit : scripting::kAllScriptFlags) {
        if (fn != nullptr && (fn->flags & bit)) flags.push_back(scripting::ScriptFlagName(bit));
      }
      ctx.reply->SetLen(flags.size());
      for (std::string_view f : flags) ctx.reply->SimpleString(f);
    }
    if (with_code) {
      ctx.reply->Bulk("library_code");
      ctx.reply->Bulk(lib->code);
    }
  }
}

void FunctionStats(CommandContext& ctx, LuaEngine& engine) {
  ScriptRun* run = State(ctx).current();
  ctx.reply->MapLen(2);
  ctx.reply->Bulk("running_script");
  if (run == nullptr || run->eval_mode()) {
    ctx.reply->Null();
  } else {
    ctx.reply->MapLen(3);
    ctx.reply->Bulk("name");
    ctx.reply->Bulk(run->name());
    ctx.reply->Bulk("command");
    ctx.reply->ArrayLen(run->command().size());
    for (const std::string& a : run->command()) ctx.reply->Bulk(a);
    ctx.reply->Bulk("duration_ms");
    ctx.reply->Integer(run->duration_ms());
  }
  ctx.reply->Bulk("engines");
  ctx.reply->MapLen(1);
  ctx.reply->Bulk("LUA");
  ctx.reply->MapLen(2);
  ctx.reply->Bulk("libraries_count");
  ctx.reply->Integer(static_cast<int64_t>(engine.libraries().size()));
  ctx.reply->Bulk("functions_count");
  ctx.reply->Integer(static_cast<int64_t>(engine.function_count()));
}

void FunctionCommand(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  const size_t argc = ctx.args.size();
  Scripting& state = State(ctx);
  state.SyncLibraries();
  LuaEngine& engine = state.functions();
  if (EqualsIgnoreCase(sub, "load")) {
    if (argc < 3) return SubcommandArityError(ctx);
    bool replace = false;
    for (size_t i = 2; i + 1 < argc; ++i) {
      if (!EqualsIgnoreCase(ctx.args[i], "replace")) {
        ctx.reply->Error(absl::StrCat("ERR Unknown option given: ", std::string(ctx.args[i])));
        return;
      }
      replace = true;
    }
    if (RefuseWrites(ctx)) return;
    std::string name, error;
    if (!engine.LoadLibrary(ctx.args[argc - 1], replace, &name, &error)) {
      ctx.reply->Error(absl::StrCat("ERR ", error));
      return;
    }
    // Replicated and persisted as one op (docs/crdt-semantics.md, "Function libraries").
    ctx.region->EmitFunctionLibrary(name, ctx.args[argc - 1]);
    state.SyncLibraries();
    ctx.reply->Bulk(name);
  } else if (EqualsIgnoreCase(sub, "delete")) {
    if (argc != 3) return SubcommandArityError(ctx);
    // The replicated map decides (a library another region loaded that does not load here,
    // see SyncLibraries, can still be deleted).
    const auto& map = ctx.region->ks().functions();
    auto it = map.find(std::string(ctx.args[2]));
    if (it == map.end() || it->second.code.empty()) {
      ctx.reply->Error("ERR Library not found");
      return;
    }
    if (RefuseWrites(ctx)) return;
    ctx.region->EmitFunctionLibrary(ctx.args[2], "");
    state.SyncLibraries();
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "flush")) {
    if (argc > 3 || (argc == 3 && !EqualsIgnoreCase(ctx.args[2], "sync") &&
                     !EqualsIgnoreCase(ctx.args[2], "async"))) {
      ctx.reply->Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
      return;
    }
    if (RefuseWrites(ctx)) return;
    // One delete per library this region sees: the ops of one command form one unit.
    std::vector<std::string> names;
    for (const auto& [name, lib] : ctx.region->ks().functions()) {
      if (!lib.code.empty()) names.push_back(name);
    }
    for (const std::string& name : names) ctx.region->EmitFunctionLibrary(name, "");
    state.SyncLibraries();
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "list")) {
    FunctionList(ctx, engine);
  } else if (EqualsIgnoreCase(sub, "stats")) {
    if (argc != 2) return SubcommandArityError(ctx);
    FunctionStats(ctx, engine);
  } else if (EqualsIgnoreCase(sub, "kill")) {
    if (argc != 2) return SubcommandArityError(ctx);
    state.Kill(ctx, false);
  } else if (EqualsIgnoreCase(sub, "dump") || EqualsIgnoreCase(sub, "restore")) {
    ctx.reply->Error(absl::StrCat("ERR FUNCTION ", absl::AsciiStrToUpper(std::string(sub)),
                                  " is not supported by activekv"));
  } else if (EqualsIgnoreCase(sub, "help")) {
    if (argc != 2) return SubcommandArityError(ctx);
    // Redis's help text, its long lines split to fit ours (adjacent literals, not missing commas).
    // NOLINTBEGIN(bugprone-suspicious-missing-comma)
    static const char* kHelp[] = {
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME "
        "argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored "
        "using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a "
        "restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
        "abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
        "replace the old",
        "      libraries with the new libraries (notice that even on this option there is a "
        "chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help."};
    // NOLINTEND(bugprone-suspicious-missing-comma)
    ctx.reply->ArrayLen(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
  } else {
    UnknownSubcommand(ctx, "FUNCTION");
  }
}

}  // namespace

// --- ScriptRun ---

ScriptRun::ScriptRun(Server* server, Client* caller, bool read_only, bool eval_mode, bool allow_oom,
                     std::string name, absl::Span<const std::string_view> command)
    : server_(server),
      caller_(caller),
      read_only_(read_only),
      eval_mode_(eval_mode),
      oom_at_start_(!allow_oom && server->memory_limit().maxmemory() != 0 && server->OutOfMemory()),
      name_(std::move(name)),
      start_(std::chrono::steady_clock::now()) {
  client_.id = caller->id;
  client_.db = caller->db;
  client_.name = caller->name;
  client_.addr = caller->addr;
  client_.user = caller->user;  // the script's commands run with its caller's permissions
  client_.authenticated = true;
  client_.laddr = caller->laddr;
  for (std::string_view a : command) command_.emplace_back(a);
}

std::string ScriptRun::Call(const std::vector<std::string_view>& args, int resp,
                            std::string* reply) {
  const CommandSpec* spec = server_->commands().Find(args[0]);
  const int argc = static_cast<int>(args.size());
  if (spec == nullptr) return "Unknown Redis command called from script";
  if ((spec->arity > 0 && argc != spec->arity) || argc < -spec->arity) {
    return "Wrong number of args calling Redis command from script";
  }
  if (spec->flags & kNoScript) return "This Redis command is not allowed from script";
  if (read_only_ && (spec->flags & kWrite)) {
    return "Write commands are not allowed from read-only scripts.";
  }
  std::string object;
  const acl::Verdict verdict = server_->CheckAcl(client_, args, &object);
  if (verdict != acl::Verdict::kOk) {
    // Redis's scriptCall wording; logged with the "lua" context.
    server_->LogAclDenial(client_, verdict, "lua", object);
    switch (verdict) {
      case acl::Verdict::kCommand:
        return "The user executing the script can't run this command or subcommand";
      case acl::Verdict::kKey:
        return "The user executing the script can't access at least one of the keys mentioned in "
               "the command";
      case acl::Verdict::kChannel:
        return "The user executing the script can't publish to the channel mentioned in the "
               "command";
      default:
        return "The user executing the script is lacking the permissions for the command";
    }
  }
  if (oom_at_start_ && !write_dirty_ && (spec->flags & kDenyOom)) {
    return absl::StrCat("-", std::string(Server::kErrOom));
  }
  if (spec->flags & kWrite) write_dirty_ = true;
  client_.protocol = resp;
  resp::ReplyBuilder builder(reply, resp);
  server_->Execute(args, &client_, &builder);
  return "";
}

bool ScriptRun::Interrupt() {
  const auto now = std::chrono::steady_clock::now();
  if (!timed_out_) {
    const int64_t threshold = server_->config().busy_reply_threshold;
    if (threshold <= 0 || now - start_ < std::chrono::milliseconds(threshold)) {
      return killed_;
    }
    timed_out_ = true;
    spdlog::warn(
        "Slow script detected: still in execution after {} milliseconds. You can try killing "
        "the script using the {} command. Script name is: {}.",
        duration_ms(), eval_mode_ ? "SCRIPT KILL" : "FUNCTION KILL", name_);
  }
  if (now - last_serve_ >= kBusyServeInterval) {
    last_serve_ = now;
    server_->ServeWhileBusy(caller_);
  }
  return killed_;
}

void ScriptRun::Log(int level, std::string_view message) {
  switch (level) {
    case 0:  // LOG_DEBUG
    case 1:  // LOG_VERBOSE
      spdlog::debug("{}", message);
      break;
    case 2:
      spdlog::info("{}", message);
      break;
    default:
      spdlog::warn("{}", message);
  }
}

bool ScriptRun::KnownCommand(std::string_view name) {
  return server_->commands().Find(name) != nullptr;
}

int64_t ScriptRun::duration_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start_)
      .count();
}

// --- Scripting ---

Scripting::Scripting(Server* server) : server_(server) {
  scripting::LuaEngine::Options eval_options;
  eval_options.kind = LuaEngine::Kind::kEval;
  eval_options.memory_limit = static_cast<size_t>(server->config().lua_memory_limit);
  eval_ = std::make_unique<LuaEngine>(eval_options);
}

Scripting::~Scripting() = default;

scripting::LuaEngine& Scripting::functions() {
  if (functions_ == nullptr) {
    scripting::LuaEngine::Options options;
    options.kind = LuaEngine::Kind::kFunction;
    options.memory_limit = static_cast<size_t>(server_->config().lua_memory_limit);
    functions_ = std::make_unique<LuaEngine>(options);
  }
  return *functions_;
}

void Scripting::SetMemoryLimit(size_t bytes) {
  eval_->set_memory_limit(bytes);
  if (functions_ != nullptr) functions_->set_memory_limit(bytes);
}

bool Scripting::RefuseWhileBusy(const CommandSpec& spec, absl::Span<const std::string_view> args,
                                const Client* client, resp::ReplyBuilder* reply) {
  if (current_ == nullptr || !current_->timed_out() || client == current_->caller() ||
      client == current_->script_client()) {
    return false;  // the script's own redis.call, or its caller (never read meanwhile)
  }
  // Redis 7.0's CMD_ALLOW_BUSY commands.
  std::string_view name = spec.name;
  if (name == "hello" || name == "auth" || name == "reset" || name == "multi" ||
      name == "discard" || name == "watch" || name == "unwatch" || name == "shutdown") {
    return false;
  }
  if (args.size() >= 2 && ((name == "script" && EqualsIgnoreCase(args[1], "kill")) ||
                           (name == "function" && (EqualsIgnoreCase(args[1], "kill") ||
                                                   EqualsIgnoreCase(args[1], "stats"))))) {
    return false;
  }
  reply->Error(current_->eval_mode() ? kErrBusyEval : kErrBusyFunction);
  return true;
}

void Scripting::Run(CommandContext& ctx, int ref, std::string_view name, bool eval_mode,
                    bool read_only, bool allow_oom, const std::vector<std::string_view>& keys,
                    const std::vector<std::string_view>& args) {
  ScriptRun run(server_, ctx.client, read_only, eval_mode, allow_oom, std::string(name), ctx.args);
  current_ = &run;
  LuaEngine::Run r;
  r.ref = ref;
  r.name = name;
  r.keys = &keys;
  r.args = &args;
  r.host = &run;
  (eval_mode ? eval() : functions()).Execute(r, ctx.reply);
  current_ = nullptr;
  // The caller's database again (the script may have SELECTed another for itself).
  ctx.region->SelectDb(ctx.client->db);
}

void Scripting::Kill(CommandContext& ctx, bool eval_mode) {
  if (current_ == nullptr) {
    ctx.reply->Error("NOTBUSY No scripts in execution right now.");
    return;
  }
  if (current_->write_dirty()) {
    ctx.reply->Error(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
        "can either wait the script termination or kill the server in a hard way using the "
        "SHUTDOWN NOSAVE command.");
    return;
  }
  if (eval_mode && !current_->eval_mode()) {
    ctx.reply->Error(kErrBusyFunction);
    return;
  }
  if (!eval_mode && current_->eval_mode()) {
    ctx.reply->Error(kErrBusyEval);
    return;
  }
  current_->Kill();
  ctx.reply->Ok();
}

void Scripting::SyncLibraries() {
  // Never while a script runs (FUNCTION STATS is served during -BUSY): the function engine may
  // be the one running. Nothing changes the map meanwhile anyway.
  if (current_ != nullptr) return;
  const crdt::Keyspace& ks = server_->region().ks();
  if (ks.functions_generation() == synced_generation_) return;
  synced_generation_ = ks.functions_generation();
  LuaEngine& engine = functions();
  // Deleted (or tombstoned) libraries first, then loads and replacements in name order.
  std::vector<std::string> gone;
  for (const auto& [name, lib] : engine.libraries()) {
    auto it = ks.functions().find(name);
    if (it == ks.functions().end() || it->second.code.empty()) gone.push_back(name);
  }
  for (const std::string& name : gone) engine.DeleteLibrary(name);
  for (const auto& [name, lib] : ks.functions()) {
    if (lib.code.empty()) continue;
    auto it = engine.libraries().find(name);
    if (it != engine.libraries().end() && it->second.code == lib.code) continue;
    std::string loaded, error;
    const bool ok = engine.LoadLibrary(lib.code, true, &loaded, &error);
    if (ok && loaded != name) engine.DeleteLibrary(loaded);  // its code names another library
    if (!ok || loaded != name) {
      // Cannot happen for a library its origin validated, except when two regions loaded
      // libraries defining the same function concurrently: the one first by name keeps it.
      spdlog::error("function library '{}' from the replicated state is not installed here: {}",
                    name, error.empty() ? "its code names another library" : error);
    }
  }
}

void RegisterScriptingFamily(CommandTable* t) {
  constexpr uint32_t kScriptFlags = kNoScript | kStale;
  t->Register({"eval", -3, kScriptFlags, 0, 0, 0, Eval, "scripting",
               "Execute a Lua script server side", "2.6.0"});
  t->Register({"evalsha", -3, kScriptFlags, 0, 0, 0, EvalSha, "scripting",
               "Execute a Lua script server side", "2.6.0"});
  t->Register({"eval_ro", -3, kScriptFlags | kReadOnly, 0, 0, 0, EvalRo, "scripting",
               "Execute a read-only Lua script server side", "7.0.0"});
  t->Register({"evalsha_ro", -3, kScriptFlags | kReadOnly, 0, 0, 0, EvalShaRo, "scripting",
               "Execute a read-only Lua script server side", "7.0.0"});
  t->Register(
      {"fcall", -3, kScriptFlags, 0, 0, 0, Fcall, "scripting", "Invoke a function", "7.0.0"});
  t->Register({"fcall_ro", -3, kScriptFlags | kReadOnly, 0, 0, 0, FcallRo, "scripting",
               "Invoke a read-only function", "7.0.0"});
  t->Register({"script", -2, kNoScript, 0, 0, 0, ScriptCommand, "scripting",
               "A container for Lua scripts management commands", "2.6.0"});
  t->Register({"function", -2, kNoScript, 0, 0, 0, FunctionCommand, "scripting",
               "A container for function commands", "7.0.0"});
}

bool InScript(const CommandContext& ctx) {
  if (ctx.server == nullptr) return false;
  const ScriptRun* run = ctx.server->scripting().current();
  return run != nullptr && run->script_client() == ctx.client;
}

}  // namespace activekv::server
