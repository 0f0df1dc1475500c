// RESP <-> Lua conversions, as Redis 7.0's script_lua.c (redisProtocolToLuaType,
// luaReplyToRedisReply, luaPushErrorBuff). Tables are read raw (no metamethods run while a reply
// is built).
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "scripting/lua_internal.h"

namespace activekv::scripting {
namespace {

// Trims `chars` from both ends (sdstrim).
std::string_view Trim(std::string_view s, std::string_view chars) {
  while (!s.empty() && chars.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
  while (!s.empty() && chars.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return s;
}

// One CRLF-terminated line at data[*pos] (without the CRLF); false if there is none.
bool Line(std::string_view data, size_t* pos, std::string_view* line) {
  size_t end = data.find("\r\n", *pos);
  if (end == std::string_view::npos) return false;
  *line = data.substr(*pos, end - *pos);
  *pos = end + 2;
  return true;
}

bool ParseLen(std::string_view text, int64_t* n) {
  if (text.empty() || text.size() > 20) return false;
  char buf[24];
  memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  char* end = nullptr;
  *n = strtoll(buf, &end, 10);
  return *end == '\0';
}

void PushStringField(lua_State* L, const char* field, std::string_view value) {
  lua_newtable(L);
  lua_pushstring(L, field);
  lua_pushlstring(L, value.data(), value.size());
  lua_rawset(L, -3);
}

// Does the table at `index` have a string (or number) at `field`? Leaves the value pushed.
int RawField(lua_State* L, int index, const char* field) {
  lua_pushstring(L, field);
  lua_rawget(L, index < 0 ? index - 1 : index);
  return lua_type(L, -1);
}

}  // namespace

int64_t NumberToInteger(double d) {
  // cvttsd2si: NaN and values outside int64_t give 0x8000000000000000.
  if (std::isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    return INT64_MIN;
  }
  return static_cast<int64_t>(d);
}

void PushErrorTable(lua_State* L, std::string_view text) {
  // Redis builds the message with C-string calls: it ends at the first NUL.
  text = text.substr(0, text.find('\0'));
  std::string_view code = "ERR";
  std::string_view msg = text;
  if (!text.empty() && text[0] == '-') {
    size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      msg = text.substr(1);
    } else {
      code = text.substr(1, space - 1);
      msg = text.substr(space + 1);
    }
  }
  msg = Trim(msg, "\r\n");
  luaL_checkstack(L, 4, "reached lua stack limit");
  lua_newtable(L);
  lua_pushstring(L, "err");
  // "<code> <msg>" built on the Lua stack (no C++ temporaries across a possible Lua error).
  lua_pushlstring(L, code.data(), code.size());
  lua_pushlstring(L, " ", 1);
  lua_pushlstring(L, msg.data(), msg.size());
  lua_concat(L, 3);
  lua_rawset(L, -3);
}

bool PushReply(lua_State* L, std::string_view data, size_t* pos) {
  if (*pos >= data.size()) return false;
  luaL_checkstack(L, 4, "reached lua stack limit");
  const char type = data[(*pos)++];
  std::string_view line;
  if (!Line(data, pos, &line)) return false;
  int64_t n = 0;
  switch (type) {
    case '+':
      PushStringField(L, "ok", line);
      return true;
    case '-': {
      // luaPushErrorBuff("-" + text), flagged as already counted.
      std::string_view text(line.data() - 1, line.size() + 1);
      PushErrorTable(L, text);
      lua_pushstring(L, "ignore_error_stats_update");
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
      return true;
    }
    case ':':
      if (!ParseLen(line, &n)) return false;
      lua_pushnumber(L, static_cast<lua_Number>(n));
      return true;
    case '$':
      if (!ParseLen(line, &n)) return false;
      if (n < 0) {
        lua_pushboolean(L, 0);
        return true;
      }
      if (*pos + n + 2 > data.size()) return false;
      lua_pushlstring(L, data.data() + *pos, n);
      *pos += n + 2;
      return true;
    case '=': {  // verbatim: "fmt:text"
      if (!ParseLen(line, &n) || n < 4 || *pos + n + 2 > data.size()) return false;
      std::string_view body = data.substr(*pos, n);
      *pos += n + 2;
      lua_newtable(L);
      lua_pushstring(L, "verbatim_string");
      lua_newtable(L);
      lua_pushstring(L, "string");
      lua_pushlstring(L, body.data() + 4, body.size() - 4);
      lua_rawset(L, -3);
      lua_pushstring(L, "format");
      lua_pushlstring(L, body.data(), 3);
      lua_rawset(L, -3);
      lua_rawset(L, -3);
      return true;
    }
    case '*':
    case '>':
      if (!ParseLen(line, &n)) return false;
      if (n < 0) {
        lua_pushboolean(L, 0);
        return true;
      }
      lua_newtable(L);
      for (int64_t j = 0; j < n; ++j) {
        lua_pushnumber(L, static_cast<lua_Number>(j + 1));
        if (!PushReply(L, data, pos)) return false;
        lua_settable(L, -3);
      }
      return true;
    case '%':
      if (!ParseLen(line, &n)) return false;
      lua_newtable(L);
      lua_pushstring(L, "map");
      lua_newtable(L);
      for (int64_t j = 0; j < n; ++j) {
        if (!PushReply(L, data, pos) || !PushReply(L, data, pos)) return false;
        if (lua_isnil(L, -2)) {
          lua_pop(L, 2);  // a nil key cannot be stored
          continue;
        }
        lua_settable(L, -3);
      }
      lua_settable(L, -3);
      return true;
    case '~':
      if (!ParseLen(line, &n)) return false;
      lua_newtable(L);
      lua_pushstring(L, "set");
      lua_newtable(L);
      for (int64_t j = 0; j < n; ++j) {
        if (!PushReply(L, data, pos)) return false;
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          continue;
        }
        lua_pushboolean(L, 1);
        lua_settable(L, -3);
      }
      lua_settable(L, -3);
      return true;
    case '|': {  // attributes: parsed and dropped, then the reply itself
      if (!ParseLen(line, &n)) return false;
      int top = lua_gettop(L);
      for (int64_t j = 0; j < 2 * n; ++j) {
        if (!PushReply(L, data, pos)) return false;
      }
      lua_settop(L, top);
      return PushReply(L, data, pos);
    }
    case '_':
      lua_pushnil(L);
      return true;
    case '#':
      lua_pushboolean(L, line == "t");
      return true;
    case ',': {
      char buf[64];
      size_t len = std::min(line.size(), sizeof(buf) - 1);
      memcpy(buf, line.data(), len);
      buf[len] = '\0';
      double d = strtod(buf, nullptr);
      lua_newtable(L);
      lua_pushstring(L, "double");
      lua_pushnumber(L, d);
      lua_rawset(L, -3);
      return true;
    }
    case '(':
      PushStringField(L, "big_number", line);
      return true;
    default:
      return false;
  }
}

void LuaToReply(lua_State* L, int script_resp, resp::ReplyBuilder* out) {
  if (!lua_checkstack(L, 4)) {
    out->Error("ERR reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      out->Bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1)) {
          out->Raw(resp::kReplyOne);
        } else {
          out->Null();
        }
      } else {
        out->Bool(lua_toboolean(L, -1) != 0);
      }
      break;
    case LUA_TNUMBER:
      out->Integer(NumberToInteger(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE: {
      if (RawField(L, -1, "err") == LUA_TSTRING) {
        // addReplyErrorFormat("-%s") of a C string (cut at a NUL): CR/LF trimmed at both
        // ends, the rest mapped to spaces.
        std::string_view msg(lua_tostring(L, -1));
        while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.remove_suffix(1);
        while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) msg.remove_prefix(1);
        out->Error(msg);
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (RawField(L, -1, "ok") == LUA_TSTRING) {
        out->SimpleString(std::string_view(lua_tostring(L, -1)));  // a C string, as Redis's
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (RawField(L, -1, "double") == LUA_TNUMBER) {
        out->Double(lua_tonumber(L, -1));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (RawField(L, -1, "big_number") == LUA_TSTRING) {
        size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        out->BigNumber(std::string_view(s, len));
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (RawField(L, -1, "verbatim_string") == LUA_TTABLE) {
        if (RawField(L, -1, "format") == LUA_TSTRING) {
          if (RawField(L, -2, "string") == LUA_TSTRING) {
            size_t flen = 0;
            size_t len = 0;
            const char* f = lua_tolstring(L, -2, &flen);
            const char* s = lua_tolstring(L, -1, &len);
            out->Verbatim(std::string_view(s, len), std::string_view(f, flen));
            lua_pop(L, 4);
            return;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      if (RawField(L, -1, "map") == LUA_TTABLE) {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          ++n;
        }
        out->MapLen(n);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);
          LuaToReply(L, script_resp, out);  // the key
          LuaToReply(L, script_resp, out);  // the value
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      if (RawField(L, -1, "set") == LUA_TTABLE) {
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          ++n;
        }
        out->SetLen(n);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          lua_pushvalue(L, -1);
          LuaToReply(L, script_resp, out);
        }
        lua_pop(L, 2);
        return;
      }
      lua_pop(L, 1);
      // An array: elements 1..n up to the first nil.
      size_t n = 0;
      while (true) {
        lua_rawgeti(L, -1, static_cast<int>(n + 1));
        bool nil = lua_isnil(L, -1);
        lua_pop(L, 1);
        if (nil) break;
        ++n;
      }
      out->ArrayLen(n);
      for (size_t j = 1; j <= n; ++j) {
        lua_rawgeti(L, -1, static_cast<int>(j));
        LuaToReply(L, script_resp, out);
      }
      break;
    }
    default:
      out->Null();
  }
  lua_pop(L, 1);
}

}  // namespace activekv::scripting
