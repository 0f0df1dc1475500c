// The sandbox of Redis 7.0's Lua (script_lua.c luaRegisterRedisAPI, eval.c scriptingInit,
// function_lua.c): which libraries and globals exist, Redis's `redis` API, the error handler,
// and the global protection (Debian's Lua 5.1 has no read-only tables, so protected tables are
// empty proxies whose __index reads the real table and whose __newindex refuses).
#include <cstdio>
#include <cstring>
#include <string>

#include "scripting/lua_internal.h"

namespace activekv::scripting {
namespace {

constexpr int kPropagateAof = 1;
constexpr int kPropagateRepl = 2;

int RaiseError(lua_State* L, const char* text) {
  PushErrorTable(L, text);
  return lua_error(L);
}

int RedisCallCommand(lua_State* L) { return LuaEngine::Internal::RedisCall(L, true); }
int RedisPcallCommand(lua_State* L) { return LuaEngine::Internal::RedisCall(L, false); }

// Redis's replacement of Lua's pcall: an error table becomes its "err" string.
int RedisPcall(lua_State* L) {
  luaL_checkany(L, 1);
  int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) lua_replace(L, -2);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

int Sha1hexCommand(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "wrong number of arguments");
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  char hex[41];
  {
    std::string digest = Sha1Hex(s == nullptr ? std::string_view() : std::string_view(s, len));
    memcpy(hex, digest.data(), 40);
  }
  hex[40] = '\0';
  lua_pushstring(L, hex);
  return 1;
}

int ErrorReplyCommand(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, -1, &len);
  if (len > 0 && s[0] == '-') {
    PushErrorTable(L, std::string_view(s, len));
  } else {
    lua_pushliteral(L, "-");
    lua_pushvalue(L, 1);
    lua_concat(L, 2);
    size_t n = 0;
    const char* t = lua_tolstring(L, -1, &n);
    PushErrorTable(L, std::string_view(t, n));
  }
  return 1;
}

int StatusReplyCommand(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, "ok");
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  return 1;
}

int SetReplCommand(lua_State* L) {
  if (LuaEngine::Internal::run(LuaEngine::Internal::Of(L)) == nullptr) {
    return RaiseError(L, "redis.set_repl can only be called inside a script invocation");
  }
  if (lua_gettop(L) != 1) return RaiseError(L, "redis.set_repl() requires two arguments.");
  int flags = static_cast<int>(lua_tonumber(L, -1));
  if ((flags & ~(kPropagateAof | kPropagateRepl)) != 0) {
    return RaiseError(L,
                      "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
                      "REPL_NONE.");
  }
  // Effects always replicate (docs/scripting.md): regions must converge.
  return 0;
}

int ReplicateCommandsCommand(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

int BreakpointCommand(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}

int DebugCommand(lua_State*) { return 0; }

int AclCheckCmdCommand(lua_State* L) {
  if (LuaEngine::Internal::run(LuaEngine::Internal::Of(L)) == nullptr) {
    return RaiseError(L, "redis.acl_check_cmd can only be called inside a script invocation");
  }
  if (lua_gettop(L) == 0) {
    return RaiseError(L, "Please specify at least one argument for this redis lib call");
  }
  size_t len = 0;
  const char* name = lua_tolstring(L, 1, &len);
  const LuaEngine::Run* run = LuaEngine::Internal::run(LuaEngine::Internal::Of(L));
  if (name == nullptr || run->host == nullptr ||
      !run->host->KnownCommand(std::string_view(name, len))) {
    return RaiseError(L, "Invalid command passed to redis.acl_check_cmd()");
  }
  // No ACLs: every command is permitted.
  lua_pushboolean(L, 1);
  return 1;
}

int LogCommand(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc < 2) return RaiseError(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, -argc)) return RaiseError(L, "First argument must be a number (log level).");
  int level = static_cast<int>(lua_tonumber(L, -argc));
  if (level < 0 || level > 3) return RaiseError(L, "Invalid debug level.");
  // Glue the arguments together on the Lua stack.
  int parts = 0;
  for (int j = 1; j < argc; ++j) {
    if (lua_isstring(L, j + 1) == 0) continue;
    if (parts > 0) {
      lua_pushliteral(L, " ");
      ++parts;
    }
    lua_pushvalue(L, j + 1);
    ++parts;
  }
  lua_concat(L, parts);
  size_t len = 0;
  const char* s = lua_tolstring(L, -1, &len);
  LuaEngine* e = LuaEngine::Internal::Of(L);
  const LuaEngine::Run* run = LuaEngine::Internal::run(e);
  if (run != nullptr && run->host != nullptr) run->host->Log(level, std::string_view(s, len));
  return 0;
}

int SetRespCommand(lua_State* L) {
  LuaEngine* e = LuaEngine::Internal::Of(L);
  if (LuaEngine::Internal::run(e) == nullptr) {
    return RaiseError(L, "redis.setresp can only be called inside a script invocation");
  }
  if (lua_gettop(L) != 1) return RaiseError(L, "redis.setresp() requires one argument.");
  int resp = static_cast<int>(lua_tonumber(L, -1));
  if (resp != 2 && resp != 3) return RaiseError(L, "RESP version must be 2 or 3.");
  LuaEngine::Internal::resp(e) = resp;
  return 0;
}

// Redis's rand48 (rand.c): the same sequence on every platform.
int32_t Lrand48(uint64_t* x) {
  *x = (*x * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
  return static_cast<int32_t>(*x >> 17);
}
constexpr int32_t kLrand48Max = INT32_MAX;

int MathRandom(lua_State* L) {
  LuaEngine* e = LuaEngine::Internal::Of(L);
  if (LuaEngine::Internal::run(e) == nullptr) {
    return luaL_error(L, "math.random can only be called inside a script invocation");
  }
  lua_Number r =
      static_cast<lua_Number>(Lrand48(&LuaEngine::Internal::rand_state(e)) % kLrand48Max) /
      static_cast<lua_Number>(kLrand48Max);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, floor(r * u) + 1);
      break;
    }
    case 2: {
      int l = luaL_checkint(L, 1);
      int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int MathRandomseed(lua_State* L) {
  LuaEngine* e = LuaEngine::Internal::Of(L);
  if (LuaEngine::Internal::run(e) == nullptr) {
    return luaL_error(L, "math.randomseed can only be called inside a script invocation");
  }
  uint32_t seed = static_cast<uint32_t>(luaL_checkint(L, 1));
  LuaEngine::Internal::rand_state(e) = (static_cast<uint64_t>(seed) << 16) | 0x330E;
  return 0;
}

int ReadonlyError(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

// __index of a protected table whose missing names are errors (the globals; the `redis` table
// FUNCTION LOAD's code sees). Upvalue 1: the real table; upvalue 2 (function engine): the table
// read instead while a library loads.
int ProtectedIndex(lua_State* L) {
  int table = lua_upvalueindex(1);
  if (!lua_isnone(L, lua_upvalueindex(2)) &&
      LuaEngine::Internal::loading(LuaEngine::Internal::Of(L))) {
    table = lua_upvalueindex(2);
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, table);
  if (!lua_isnil(L, -1)) return 1;
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name == nullptr ? "?" : name);
}

// Replaces the table at the top of the stack by a read-only proxy of it. `strict`: reading a
// missing name is an error (globals); else it is nil (library tables).
void Protect(lua_State* L, bool strict) {
  lua_newtable(L);  // proxy
  lua_newtable(L);  // its metatable
  if (strict) {
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, ProtectedIndex, 1);
  } else {
    lua_pushvalue(L, -3);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyError);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_remove(L, -2);
}

void SetNumber(lua_State* L, const char* name, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

void SetFunction(lua_State* L, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

void LoadLib(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

// A module whose luaopen_ returns its table (Debian's cjson sets no global): the global `name`.
void LoadModule(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_istable(L, -1)) {
    lua_setglobal(L, name);
  } else {
    lua_pop(L, 1);
  }
}

void RegisterLogAndVersion(lua_State* L) {
  SetFunction(L, "log", LogCommand);
  SetNumber(L, "LOG_DEBUG", 0);
  SetNumber(L, "LOG_VERBOSE", 1);
  SetNumber(L, "LOG_NOTICE", 2);
  SetNumber(L, "LOG_WARNING", 3);
  SetNumber(L, "REDIS_VERSION_NUM", kRedisVersionNum);
  lua_pushlstring(L, kRedisVersion.data(), kRedisVersion.size());
  lua_setfield(L, -2, "REDIS_VERSION");
}

// Redis's __redis__err__handler: a table {err=, source=, line=} for any error.
constexpr const char* kErrorHandler =
    "local dbg = debug\n"
    "__redis__err__handler = function(err)\n"
    "  local i = dbg.getinfo(2,'nSl')\n"
    "  if i and i.what == 'C' then\n"
    "    i = dbg.getinfo(3,'nSl')\n"
    "  end\n"
    "  if type(err) ~= 'table' then\n"
    "    err = {err='ERR ' .. tostring(err)}\n"
    "  end\n"
    "  if i then\n"
    "    err['source'] = i.source\n"
    "    err['line'] = i.currentline\n"
    "  end\n"
    "  return err\n"
    "end\n";

}  // namespace

int SetupSandbox(lua_State* L) {
  LuaEngine* engine = LuaEngine::Internal::Of(L);
  const bool functions = engine->kind() == LuaEngine::Kind::kFunction;
  LoadLib(L, "", luaopen_base);
  LoadLib(L, LUA_TABLIBNAME, luaopen_table);
  LoadLib(L, LUA_STRLIBNAME, luaopen_string);
  LoadLib(L, LUA_MATHLIBNAME, luaopen_math);
  LoadLib(L, LUA_DBLIBNAME, luaopen_debug);
  LoadModule(L, "cjson", luaopen_cjson);
  LoadModule(L, "struct", OpenStruct);
  LoadModule(L, "cmsgpack", OpenCmsgpack);
  LoadModule(L, "bit", luaopen_bit);
  // Not in Redis 7.0.15's globals.
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  lua_pushcfunction(L, RedisPcall);
  lua_setglobal(L, "pcall");

  lua_newtable(L);
  SetFunction(L, "call", RedisCallCommand);
  SetFunction(L, "pcall", RedisPcallCommand);
  RegisterLogAndVersion(L);
  SetFunction(L, "setresp", SetRespCommand);
  SetFunction(L, "sha1hex", Sha1hexCommand);
  SetFunction(L, "error_reply", ErrorReplyCommand);
  SetFunction(L, "status_reply", StatusReplyCommand);
  SetFunction(L, "set_repl", SetReplCommand);
  SetNumber(L, "REPL_NONE", 0);
  SetNumber(L, "REPL_AOF", kPropagateAof);
  SetNumber(L, "REPL_SLAVE", kPropagateRepl);
  SetNumber(L, "REPL_REPLICA", kPropagateRepl);
  SetNumber(L, "REPL_ALL", kPropagateAof | kPropagateRepl);
  SetFunction(L, "replicate_commands", ReplicateCommandsCommand);
  SetFunction(L, "breakpoint", BreakpointCommand);
  SetFunction(L, "debug", DebugCommand);
  SetFunction(L, "acl_check_cmd", AclCheckCmdCommand);
  lua_setglobal(L, "redis");

  lua_getglobal(L, "math");
  SetFunction(L, "random", MathRandom);
  SetFunction(L, "randomseed", MathRandomseed);
  lua_pop(L, 1);

  if (luaL_loadbuffer(L, kErrorHandler, strlen(kErrorHandler), "@err_handler") != 0) {
    return lua_error(L);
  }
  lua_call(L, 0, 0);
  lua_getglobal(L, "__redis__err__handler");
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryHandler);
  lua_pushnil(L);
  lua_setglobal(L, "debug");

  // Global protection. G: the real globals (kept in the registry, where KEYS/ARGV are set).
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  const int g = lua_gettop(L);
  lua_pushvalue(L, g);
  lua_setfield(L, LUA_REGISTRYINDEX, kRegistryGlobals);
  for (const char* lib :
       {"string", "math", "table", "cjson", "bit", "struct", "cmsgpack", "coroutine", "redis"}) {
    lua_getfield(L, g, lib);
    Protect(L, false);
    lua_setfield(L, g, lib);
  }
  // Strings' methods ("x":upper()) go through the protected table too, so that
  // getmetatable('').__index == string holds as in Redis.
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_getfield(L, g, "string");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  // The globals proxy P: scripts compiled from now on see P as their environment.
  lua_newtable(L);
  lua_newtable(L);
  lua_pushvalue(L, g);
  int upvalues = 1;
  if (functions) {
    // What FUNCTION LOAD's registration code sees instead: `redis` with register_function and
    // log only; every other global is missing.
    lua_newtable(L);
    lua_newtable(L);
    lua_pushcfunction(L, LuaEngine::Internal::RegisterFunction);
    lua_setfield(L, -2, "register_function");
    RegisterLogAndVersion(L);
    Protect(L, true);
    lua_setfield(L, -2, "redis");
    upvalues = 2;
  }
  lua_pushcclosure(L, ProtectedIndex, upvalues);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyError);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, g, "_G");
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_settop(L, 0);
  return 0;
}

}  // namespace activekv::scripting
