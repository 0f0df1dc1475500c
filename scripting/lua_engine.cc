#include "scripting/lua_engine.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "scripting/lua_internal.h"

namespace activekv::scripting {
namespace {

constexpr const char* kEvalChunk = "@user_script";
constexpr const char* kFunctionChunk = "@user_function";

int Panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  fprintf(stderr, "unprotected Lua error: %s\n", msg == nullptr ? "?" : msg);
  abort();
}

// lua_cpcall payloads.
struct CompileJob {
  LuaEngine* engine;
  const char* data;
  size_t size;
  const char* chunk;
  bool ok = false;
  int ref = 0;
  std::string message;  // the compiler's error
};

int CompileProtected(lua_State* L) {
  auto* job = static_cast<CompileJob*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  if (luaL_loadbuffer(L, job->data, job->size, job->chunk) != 0) {
    const char* msg = lua_tostring(L, -1);
    job->message = msg == nullptr ? "not enough memory" : msg;
    return 0;
  }
  job->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  job->ok = true;
  return 0;
}

}  // namespace

std::string Sha1Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size_t{2} * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

uint64_t& LuaEngine::Internal::rand_state(LuaEngine* e) {
  static uint64_t state = 0x330E;  // redisSrand48(0) at start, shared as in Redis
  (void)e;
  return state;
}

LuaEngine::LuaEngine(Options options) : options_(options) { Open(); }

LuaEngine::~LuaEngine() { Close(); }

void* LuaEngine::Alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* e = static_cast<LuaEngine*>(ud);
  if (nsize == 0) {
    free(ptr);
    e->used_ -= osize;
    return nullptr;
  }
  if (nsize > osize && e->used_ - osize + nsize > e->options_.memory_limit) {
    e->limit_hit_ = true;
    return nullptr;  // Lua raises "not enough memory"
  }
  void* p = realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  e->used_ = e->used_ - osize + nsize;
  return p;
}

void LuaEngine::Open() {
  used_ = 0;
  L_ = lua_newstate(&LuaEngine::Alloc, this);
  if (L_ == nullptr) abort();
  lua_atpanic(L_, Panic);
  if (lua_cpcall(L_, SetupSandbox, nullptr) != 0) {
    fprintf(stderr, "Lua sandbox setup failed: %s\n", lua_tostring(L_, -1));
    abort();
  }
}

void LuaEngine::Close() {
  if (L_ != nullptr) lua_close(L_);
  L_ = nullptr;
  scripts_.clear();
  libraries_.clear();
  functions_.clear();
}

// --- EVAL scripts ---

const LuaEngine::Script* LuaEngine::LoadScript(std::string_view body, std::string* error) {
  std::string sha = Sha1Hex(body);
  auto it = scripts_.find(sha);
  if (it != scripts_.end()) return &it->second;
  EvalShebang shebang;
  std::string why;
  if (!ParseEvalShebang(body, &shebang, &why)) {
    *error = absl::StrCat("ERR ", why);
    return nullptr;
  }
  CompileJob job{
      this, body.data() + shebang.length, body.size() - shebang.length, kEvalChunk, false, 0, {}};
  int status = lua_cpcall(L_, CompileProtected, &job);
  if (status != 0 || !job.ok) {
    *error = absl::StrCat("ERR Error compiling script (new function): ",
                          job.message.empty() ? "not enough memory" : job.message);
    lua_settop(L_, 0);
    return nullptr;
  }
  lua_settop(L_, 0);
  Script& s = scripts_[sha];
  s.sha = std::move(sha);
  s.flags = shebang.flags;
  s.ref = job.ref;
  return &s;
}

const LuaEngine::Script* LuaEngine::FindScript(std::string_view sha) const {
  if (sha.size() != 40) return nullptr;
  std::string lower(sha);
  absl::AsciiStrToLower(&lower);
  auto it = scripts_.find(lower);
  return it == scripts_.end() ? nullptr : &it->second;
}

void LuaEngine::FlushScripts() {
  Close();
  Open();
}

// --- FUNCTION libraries ---

namespace {
struct LoadJob {
  LuaEngine* engine;
  int ref;
  bool ok = false;
};
}  // namespace

bool LuaEngine::LoadLibrary(std::string_view code, bool replace, std::string* name,
                            std::string* error) {
  LibraryMetadata md;
  if (!ParseLibraryMetadata(code, &md, error)) return false;
  if (absl::AsciiStrToLower(md.engine) != "lua") {
    *error = absl::StrCat("Engine '", md.engine, "' not found");
    return false;
  }
  if (!ValidName(md.name)) {
    *error =
        "Library names can only contain letters, numbers, or underscores(_) and must be at least "
        "one character long";
    return false;
  }
  if (libraries_.count(md.name) > 0 && !replace) {
    *error = absl::StrCat("Library '", md.name, "' already exists");
    return false;
  }
  CompileJob job{this, code.data() + md.length, code.size() - md.length, kFunctionChunk, false, 0,
                 {}};
  if (lua_cpcall(L_, CompileProtected, &job) != 0 || !job.ok) {
    *error = absl::StrCat("Error compiling function: ",
                          job.message.empty() ? "not enough memory" : job.message);
    lua_settop(L_, 0);
    return false;
  }
  lua_settop(L_, 0);
  // Run the registration code with the load environment.
  pending_.clear();
  loading_ = true;
  load_started_ = std::chrono::steady_clock::now();
  lua_sethook(L_, &LuaEngine::Internal::Hook, LUA_MASKCOUNT, kHookInstructions);
  lua_getfield(L_, LUA_REGISTRYINDEX, kRegistryHandler);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, job.ref);
  int status = lua_pcall(L_, 0, 0, 1);
  lua_sethook(L_, nullptr, 0, 0);
  loading_ = false;
  luaL_unref(L_, LUA_REGISTRYINDEX, job.ref);
  auto drop_pending = [this] {
    for (const Function& f : pending_) luaL_unref(L_, LUA_REGISTRYINDEX, f.ref);
    pending_.clear();
  };
  if (status != 0) {
    std::string msg = "unknown error";
    if (lua_istable(L_, -1)) {
      lua_getfield(L_, -1, "err");
      if (lua_isstring(L_, -1)) msg = lua_tostring(L_, -1);
      lua_pop(L_, 1);
    } else if (lua_isstring(L_, -1)) {
      msg = lua_tostring(L_, -1);
    }
    lua_settop(L_, 0);
    drop_pending();
    *error = absl::StrCat("Error registering functions: ", msg);
    return false;
  }
  lua_settop(L_, 0);
  if (pending_.empty()) {
    *error = "No functions registered";
    return false;
  }
  for (const Function& f : pending_) {
    auto it = functions_.find(f.name);
    if (it != functions_.end() && it->second.library != md.name) {
      *error = absl::StrCat("Function ", f.name, " already exists");
      drop_pending();
      return false;
    }
  }
  DeleteLibrary(md.name);
  Library& lib = libraries_[md.name];
  lib.name = md.name;
  lib.code = std::string(code);
  for (Function& f : pending_) {
    f.library = md.name;
    lib.functions.push_back(f.name);
    std::string fname = f.name;
    functions_[fname] = std::move(f);
  }
  pending_.clear();
  *name = md.name;
  return true;
}

bool LuaEngine::DeleteLibrary(std::string_view name) {
  auto it = libraries_.find(std::string(name));
  if (it == libraries_.end()) return false;
  for (const std::string& f : it->second.functions) {
    auto fit = functions_.find(f);
    if (fit == functions_.end()) continue;
    luaL_unref(L_, LUA_REGISTRYINDEX, fit->second.ref);
    functions_.erase(fit);
  }
  libraries_.erase(it);
  return true;
}

void LuaEngine::FlushLibraries() {
  Close();
  Open();
}

const LuaEngine::Function* LuaEngine::FindFunction(std::string_view name) const {
  auto it = functions_.find(std::string(name));
  return it == functions_.end() ? nullptr : &it->second;
}

int LuaEngine::Internal::RegisterFunction(lua_State* L) {
  LuaEngine* e = Of(L);
  if (!e->loading_) {
    PushErrorTable(L, "redis.register_function can only be called on FUNCTION LOAD command");
    return lua_error(L);
  }
  const int argc = lua_gettop(L);
  const char* problem = nullptr;
  const char* fname = nullptr;
  const char* desc = nullptr;
  size_t desc_len = 0;
  uint32_t flags = 0;
  int callback = 0;  // stack index
  if (argc < 1 || argc > 2) {
    problem = "wrong number of arguments to redis.register_function";
  } else if (argc == 1) {
    if (!lua_istable(L, 1)) {
      problem =
          "calling redis.register_function with a single argument is only applicable to Lua "
          "table (representing named arguments).";
    } else {
      lua_pushnil(L);
      while (problem == nullptr && lua_next(L, 1)) {
        const char* key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
        if (strcmp(key, "function_name") == 0) {
          if (!lua_isstring(L, -1)) {
            problem = "function_name argument given to redis.register_function must be a string";
          } else {
            fname = lua_tostring(L, -1);
            lua_pushvalue(L, -1);
            lua_insert(L, 2);  // keep it alive below the iteration
          }
        } else if (strcmp(key, "description") == 0) {
          if (!lua_isstring(L, -1)) {
            problem = "description argument given to redis.register_function must be a string";
          } else {
            desc = lua_tolstring(L, -1, &desc_len);
            lua_pushvalue(L, -1);
            lua_insert(L, 2);
          }
        } else if (strcmp(key, "callback") == 0) {
          if (!lua_isfunction(L, -1)) {
            problem = "callback argument given to redis.register_function must be a function";
          } else {
            callback = 1;  // fetched again below
          }
        } else if (strcmp(key, "flags") == 0) {
          if (!lua_istable(L, -1)) {
            problem =
                "flags argument to redis.register_function must be a table representing function "
                "flags";
          } else {
            lua_pushnil(L);
            while (lua_next(L, -2)) {
              uint32_t bit = lua_isstring(L, -1) ? ScriptFlagByName(lua_tostring(L, -1)) : 0;
              lua_pop(L, 1);
              if (bit == 0) {
                problem = "unknown flag given";
                lua_pop(L, 1);
                break;
              }
              flags |= bit;
            }
          }
        } else {
          problem = "unknown argument given to redis.register_function";
        }
        lua_pop(L, 1);
      }
      if (problem == nullptr && fname == nullptr) {
        problem = "redis.register_function must get a function name argument";
      } else if (problem == nullptr && callback == 0) {
        problem = "redis.register_function must get a callback argument";
      }
      if (problem == nullptr) {
        lua_getfield(L, 1, "callback");
        callback = lua_gettop(L);
      }
    }
  } else {
    fname = lua_tostring(L, 1);
    if (!lua_isfunction(L, 2)) {
      problem = "second argument to redis.register_function must be a function";
    } else {
      callback = 2;
    }
  }
  if (problem == nullptr && (fname == nullptr || !ValidName(fname))) {
    problem =
        "Library names can only contain letters, numbers, or underscores(_) and must be at "
        "least one character long";
  }
  if (problem == nullptr) {
    for (const Function& f : e->pending_) {
      if (f.name == fname) {
        problem = "Function already exists in the library";
        break;
      }
    }
  }
  if (problem != nullptr) {
    PushErrorTable(L, problem);
    return lua_error(L);
  }
  lua_pushvalue(L, callback);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  e->pending_.emplace_back();
  Function& f = e->pending_.back();
  f.name = fname;
  if (desc != nullptr) {
    f.description.assign(desc, desc_len);
    f.has_description = true;
  }
  f.flags = flags;
  f.ref = ref;
  return 0;
}

// --- Running ---

void LuaEngine::Internal::Hook(lua_State* L, lua_Debug*) {
  LuaEngine* e = Of(L);
  if (e->loading_) {
    if (std::chrono::steady_clock::now() - e->load_started_ >= e->options_.load_timeout) {
      lua_sethook(L, &LuaEngine::Internal::Hook, LUA_MASKLINE, 0);
      PushErrorTable(L, "FUNCTION LOAD timeout");
      lua_error(L);
    }
    return;
  }
  if (e->run_ == nullptr || e->run_->host == nullptr) return;
  if (e->killed_ || e->run_->host->Interrupt()) {
    e->killed_ = true;
    // Every line from now on raises again, so pcall cannot keep the script alive.
    lua_sethook(L, &LuaEngine::Internal::Hook, LUA_MASKLINE, 0);
    PushErrorTable(L, "Script killed by user with SCRIPT KILL...");
    lua_error(L);
  }
}

int LuaEngine::Internal::RedisCall(lua_State* L, bool raise) {
  LuaEngine* e = Of(L);
  if (e->run_ == nullptr || e->run_->host == nullptr) {
    PushErrorTable(L, "redis.call/pcall can only be called inside a script invocation");
    return lua_error(L);
  }
  const int argc = lua_gettop(L);
  if (argc == 0) {
    PushErrorTable(L, "Please specify at least one argument for this redis lib call");
    return raise ? lua_error(L) : 1;
  }
  e->arg_storage_.resize(argc);
  int j = 0;
  for (; j < argc; ++j) {
    if (lua_type(L, j + 1) == LUA_TNUMBER) {
      // Not lua_tolstring: Lua's "%.14g" loses precision.
      char buf[64];
      int n = snprintf(buf, sizeof(buf), "%.17g", static_cast<double>(lua_tonumber(L, j + 1)));
      e->arg_storage_[j].assign(buf, n);
    } else {
      size_t len = 0;
      const char* s = lua_tolstring(L, j + 1, &len);
      if (s == nullptr) break;
      e->arg_storage_[j].assign(s, len);
    }
  }
  lua_pop(L, argc);
  if (j != argc) {
    PushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
    return raise ? lua_error(L) : 1;
  }
  e->arg_views_.assign(e->arg_storage_.begin(), e->arg_storage_.end());
  e->call_reply_.clear();
  e->error_text_ = e->run_->host->Call(e->arg_views_, e->resp_, &e->call_reply_);
  if (!e->error_text_.empty()) {
    PushErrorTable(L, e->error_text_);
    lua_pushstring(L, "ignore_error_stats_update");
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    return raise ? lua_error(L) : 1;
  }
  size_t pos = 0;
  if (!PushReply(L, e->call_reply_, &pos)) {
    lua_pushnil(L);
    return 1;
  }
  if (raise && !e->call_reply_.empty() && e->call_reply_[0] == '-') return lua_error(L);
  return 1;
}

namespace {

struct RunJob {
  LuaEngine* engine;
  const LuaEngine::Run* run;
  bool functions;
  int caller_protocol;
  int* resp;
  std::string* out;    // the reply on success
  std::string* error;  // the error text on failure
};

void ExtractError(lua_State* L, const LuaEngine::Run& run, std::string* error) {
  if (!lua_istable(L, -1)) {
    const char* msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
    std::string_view m(msg);
    *error = absl::StrCat("ERR Error running script ", std::string(run.name), ", ",
                          std::string(m.substr(0, 100)));
    return;
  }
  lua_getfield(L, -1, "err");
  const char* msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : nullptr;
  std::string text = msg == nullptr ? std::string("ERR unknown error") : std::string(msg);
  lua_pop(L, 1);
  lua_getfield(L, -1, "source");
  const char* source = lua_isstring(L, -1) ? lua_tostring(L, -1) : nullptr;
  std::string source_text = source == nullptr ? "" : source;
  lua_pop(L, 1);
  lua_getfield(L, -1, "line");
  const char* line = lua_isstring(L, -1) ? lua_tostring(L, -1) : nullptr;
  std::string line_text = line == nullptr ? "" : line;
  lua_pop(L, 1);
  if (line != nullptr && source != nullptr) {
    absl::StrAppend(&text, " script: ", std::string(run.name), ", on ", source_text, ":", line_text,
                    ".");
  }
  *error = std::move(text);
}

int RunProtected(lua_State* L) {
  auto* job = static_cast<RunJob*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  const LuaEngine::Run& run = *job->run;
  lua_getfield(L, LUA_REGISTRYINDEX, kRegistryHandler);  // 1
  lua_rawgeti(L, LUA_REGISTRYINDEX, run.ref);            // 2
  auto push_array = [L](const std::vector<std::string_view>* v) {
    lua_createtable(L, v == nullptr ? 0 : static_cast<int>(v->size()), 0);
    if (v == nullptr) return;
    for (size_t i = 0; i < v->size(); ++i) {
      lua_pushlstring(L, (*v)[i].data(), (*v)[i].size());
      lua_rawseti(L, -2, static_cast<int>(i + 1));
    }
  };
  int nargs = 0;
  if (job->functions) {
    push_array(run.keys);
    push_array(run.args);
    nargs = 2;
  } else {
    lua_getfield(L, LUA_REGISTRYINDEX, kRegistryGlobals);
    push_array(run.keys);
    lua_setfield(L, -2, "KEYS");
    push_array(run.args);
    lua_setfield(L, -2, "ARGV");
    lua_pop(L, 1);
  }
  if (lua_pcall(L, nargs, 1, 1) != 0) {
    ExtractError(L, run, job->error);
    lua_settop(L, 0);
    return 0;
  }
  resp::ReplyBuilder builder(job->out, job->caller_protocol);
  LuaToReply(L, *job->resp, &builder);
  lua_settop(L, 0);
  return 0;
}

}  // namespace

void LuaEngine::Execute(const Run& run, resp::ReplyBuilder* reply) {
  run_ = &run;
  resp_ = 2;
  killed_ = false;
  limit_hit_ = false;
  convert_out_.clear();
  std::string error;
  lua_sethook(L_, &LuaEngine::Internal::Hook, LUA_MASKCOUNT, kHookInstructions);
  RunJob job{this,          &run,  options_.kind == Kind::kFunction, reply->protocol(), &resp_,
             &convert_out_, &error};
  int status = lua_cpcall(L_, RunProtected, &job);
  lua_sethook(L_, nullptr, 0, 0);
  run_ = nullptr;
  if (status != 0) {
    const char* msg = lua_tostring(L_, -1);
    reply->Error(absl::StrCat("ERR Error running script ", std::string(run.name), ", ",
                              msg == nullptr ? "execution failure" : msg));
  } else if (!error.empty()) {
    reply->Error(error);
  } else {
    reply->Raw(convert_out_);
  }
  lua_settop(L_, 0);
  // A script that hit the memory cap leaves garbage behind: collect it now. Otherwise a step
  // now and then, as Redis does every 50 calls.
  static int runs = 0;
  if (limit_hit_ || used_ > options_.memory_limit / 2) {
    lua_gc(L_, LUA_GCCOLLECT, 0);
  } else if (++runs % 50 == 0) {
    lua_gc(L_, LUA_GCSTEP, 50);
  }
  convert_out_.clear();
  if (convert_out_.capacity() > (1 << 20)) std::string().swap(convert_out_);
}

}  // namespace activekv::scripting
