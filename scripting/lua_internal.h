// Internal to scripting/: the Lua C API, and what the sandbox's C functions share.
#pragma once

#include <cstddef>
#include <string_view>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
// Debian's lua-cjson-dev and lua-bitop-dev (C libraries without C++ guards).
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

#include "region-server/resp/reply.h"
#include "scripting/lua_engine.h"

namespace activekv::scripting {

// Our cmsgpack and struct libraries (Redis's APIs; Debian has no package for either).
int OpenCmsgpack(lua_State* L);
int OpenStruct(lua_State* L);

// Registry keys.
inline constexpr const char* kRegistryHandler = "akv_err_handler";
inline constexpr const char* kRegistryGlobals = "akv_globals";

struct LuaEngine::Internal {
  static LuaEngine* Of(lua_State* L) {
    void* ud = nullptr;
    lua_getallocf(L, &ud);
    return static_cast<LuaEngine*>(ud);
  }
  static const Run* run(LuaEngine* e) { return e->run_; }
  static int& resp(LuaEngine* e) { return e->resp_; }
  static bool loading(LuaEngine* e) { return e->loading_; }
  static void Hook(lua_State* L, lua_Debug* ar);
  static int RegisterFunction(lua_State* L);
  static int RedisCall(lua_State* L, bool raise);
  static uint64_t& rand_state(LuaEngine* e);
};

// Builds the sandbox in a fresh state (run under lua_cpcall): libraries, Redis's API, the error
// handler, global protection.
int SetupSandbox(lua_State* L);

// luaPushErrorBuff: pushes {err = "<CODE> <msg>"} for "-CODE msg" / "msg" (code ERR).
void PushErrorTable(lua_State* L, std::string_view text);
// Pushes the Lua form of the RESP reply at data[*pos] (redisProtocolToLuaType) and advances *pos.
// False (nothing pushed) for malformed input.
bool PushReply(lua_State* L, std::string_view data, size_t* pos);
// luaReplyToRedisReply: converts and pops the top value. `script_resp`: the script's
// redis.setresp protocol (decides how booleans are sent).
void LuaToReply(lua_State* L, int script_resp, resp::ReplyBuilder* out);
// A Lua number as Redis sends it: (long long) cast, x86 semantics (NaN and out-of-range values
// give INT64_MIN).
int64_t NumberToInteger(double d);

}  // namespace activekv::scripting
