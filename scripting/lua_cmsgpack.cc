// Redis's `cmsgpack` library (deps/lua/src/lua_cmsgpack.c, lua-cmsgpack 0.4.0 as Redis ships
// it): cmsgpack.pack(...), cmsgpack.unpack(s), cmsgpack.unpack_one(s [, offset]),
// cmsgpack.unpack_limit(s, limit [, offset]). Written anew in C-style C++ (these functions raise
// Lua errors, so they hold no object with a destructor; the output buffer is a Lua userdata, so
// an error leaks nothing). The encoding choices are Redis's: an integral number is the smallest
// integer format, any other number a float32 when exact, else a float64; a table whose keys are
// exactly 1..n is an array, else a map; strings are fixstr / str8 / str16 / str32; tables nested
// deeper than 16 levels and values of other types become nil.
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "scripting/lua_internal.h"

namespace activekv::scripting {
namespace {

constexpr int kMaxNesting = 16;

// An output buffer held by a userdata at stack index `slot`.
struct Buf {
  int slot;
  unsigned char* data;
  size_t len;
  size_t cap;
};

void BufInit(lua_State* L, Buf* b) {
  b->cap = 256;
  b->len = 0;
  b->data = static_cast<unsigned char*>(lua_newuserdata(L, b->cap));
  b->slot = lua_gettop(L);
}

void Put(lua_State* L, Buf* b, const void* p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap;
    while (cap < b->len + n) cap *= 2;
    auto* data = static_cast<unsigned char*>(lua_newuserdata(L, cap));
    memcpy(data, b->data, b->len);
    lua_replace(L, b->slot);
    b->data = data;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void PutBigEndian(lua_State* L, Buf* b, unsigned char tag, uint64_t v, int bytes) {
  unsigned char out[9];
  out[0] = tag;
  for (int i = bytes; i >= 1; --i) {
    out[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
  Put(L, b, out, static_cast<size_t>(bytes) + 1);
}

void PutByte(lua_State* L, Buf* b, unsigned char c) { Put(L, b, &c, 1); }

void EncodeInt(lua_State* L, Buf* b, int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      PutByte(L, b, static_cast<unsigned char>(n));
    } else if (n <= 0xff) {
      PutBigEndian(L, b, 0xcc, static_cast<uint64_t>(n), 1);
    } else if (n <= 0xffff) {
      PutBigEndian(L, b, 0xcd, static_cast<uint64_t>(n), 2);
    } else if (n <= 0xffffffffLL) {
      PutBigEndian(L, b, 0xce, static_cast<uint64_t>(n), 4);
    } else {
      PutBigEndian(L, b, 0xcf, static_cast<uint64_t>(n), 8);
    }
  } else if (n >= -32) {
    PutByte(L, b, static_cast<unsigned char>(static_cast<signed char>(n)));
  } else if (n >= -128) {
    PutBigEndian(L, b, 0xd0, static_cast<uint64_t>(n), 1);
  } else if (n >= -32768) {
    PutBigEndian(L, b, 0xd1, static_cast<uint64_t>(n), 2);
  } else if (n >= -2147483648LL) {
    PutBigEndian(L, b, 0xd2, static_cast<uint64_t>(n), 4);
  } else {
    PutBigEndian(L, b, 0xd3, static_cast<uint64_t>(n), 8);
  }
}

void EncodeDouble(lua_State* L, Buf* b, double d) {
  float f = static_cast<float>(d);
  if (d == static_cast<double>(f)) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    PutBigEndian(L, b, 0xca, bits, 4);
  } else {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    PutBigEndian(L, b, 0xcb, bits, 8);
  }
}

void EncodeBytes(lua_State* L, Buf* b, const char* s, size_t len) {
  if (len < 32) {
    PutByte(L, b, static_cast<unsigned char>(0xa0 | len));
  } else if (len <= 0xff) {
    PutBigEndian(L, b, 0xd9, len, 1);
  } else if (len <= 0xffff) {
    PutBigEndian(L, b, 0xda, len, 2);
  } else {
    PutBigEndian(L, b, 0xdb, len, 4);
  }
  Put(L, b, s, len);
}

bool IsInt64(lua_Number n) {
  return !std::isinf(n) && !std::isnan(n) && n >= -9223372036854775808.0 &&
         n < 9223372036854775808.0 && static_cast<lua_Number>(static_cast<int64_t>(n)) == n;
}

// Whether the table at the top has exactly the keys 1..n (Redis's table_is_an_array).
bool TableIsArray(lua_State* L) {
  int top = lua_gettop(L);
  lua_Number max = 0;
  lua_Number count = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    lua_Number n;
    if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || n > INT_MAX ||
        static_cast<lua_Number>(static_cast<int>(n)) != n) {
      lua_settop(L, top);
      return false;
    }
    if (n > max) max = n;
    count++;
  }
  lua_settop(L, top);
  return max == count;
}

// Encodes and pops the value at the top.
void Encode(lua_State* L, Buf* b, int level) {
  int t = lua_type(L, -1);
  if (t == LUA_TTABLE && level == kMaxNesting) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      EncodeBytes(L, b, s, len);
      break;
    }
    case LUA_TBOOLEAN:
      PutByte(L, b, lua_toboolean(L, -1) ? 0xc3 : 0xc2);
      break;
    case LUA_TNUMBER: {
      lua_Number n = lua_tonumber(L, -1);
      if (IsInt64(n)) {
        EncodeInt(L, b, static_cast<int64_t>(n));
      } else {
        EncodeDouble(L, b, n);
      }
      break;
    }
    case LUA_TTABLE: {
      luaL_checkstack(L, 3, "in function mp_encode_lua_table");
      if (TableIsArray(L)) {
        size_t len = lua_objlen(L, -1);
        if (len <= 15) {
          PutByte(L, b, static_cast<unsigned char>(0x90 | len));
        } else if (len <= 0xffff) {
          PutBigEndian(L, b, 0xdc, len, 2);
        } else {
          PutBigEndian(L, b, 0xdd, len, 4);
        }
        for (size_t j = 1; j <= len; j++) {
          lua_pushnumber(L, static_cast<lua_Number>(j));
          lua_rawget(L, -2);
          Encode(L, b, level + 1);
        }
      } else {
        size_t len = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          len++;
        }
        if (len <= 15) {
          PutByte(L, b, static_cast<unsigned char>(0x80 | len));
        } else if (len <= 0xffff) {
          PutBigEndian(L, b, 0xde, len, 2);
        } else {
          PutBigEndian(L, b, 0xdf, len, 4);
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);     // a copy of the key: encoded (and popped) first
          Encode(L, b, level + 1);  // the key
          Encode(L, b, level + 1);  // the value
        }
      }
      break;
    }
    default:
      PutByte(L, b, 0xc0);
  }
  lua_pop(L, 1);
}

int Pack(lua_State* L) {
  int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (!lua_checkstack(L, nargs + 4)) {
    return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  }
  Buf b;
  BufInit(L, &b);
  for (int i = 1; i <= nargs; i++) {
    lua_pushvalue(L, i);
    Encode(L, &b, 0);
  }
  lua_pushlstring(L, reinterpret_cast<const char*>(b.data), b.len);
  return 1;
}

// --- Decoding ---

enum CurError { kOk = 0, kEof = 1, kBadFormat = 2 };
struct Cur {
  const unsigned char* p;
  size_t left;
  int err;
};

bool Need(Cur* c, size_t n) {
  if (c->left < n) {
    c->err = kEof;
    return false;
  }
  return true;
}

uint64_t ReadBigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v = (v << 8) | p[i];
  return v;
}

void Decode(lua_State* L, Cur* c);

void DecodeArray(lua_State* L, Cur* c, size_t len) {
  lua_newtable(L);
  for (size_t i = 1; i <= len; i++) {
    Decode(L, c);
    if (c->err) return;
    lua_rawseti(L, -2, static_cast<int>(i));
  }
}

void DecodeMap(lua_State* L, Cur* c, size_t len) {
  lua_newtable(L);
  for (size_t i = 0; i < len; i++) {
    Decode(L, c);
    if (c->err) return;
    Decode(L, c);
    if (c->err) return;
    if (lua_isnil(L, -2)) {
      lua_pop(L, 2);
      continue;
    }
    lua_settable(L, -3);
  }
}

void DecodeString(lua_State* L, Cur* c, size_t hdr, size_t len) {
  if (!Need(c, hdr + len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c->p + hdr), len);
  c->p += hdr + len;
  c->left -= hdr + len;
}

void Decode(lua_State* L, Cur* c) {
  luaL_checkstack(L, 3, "in function mp_decode_to_lua_type");
  if (!Need(c, 1)) return;
  const unsigned char t = c->p[0];
  auto fixed = [&](size_t n) -> const unsigned char* {
    if (!Need(c, 1 + n)) return nullptr;
    const unsigned char* p = c->p + 1;
    c->p += 1 + n;
    c->left -= 1 + n;
    return p;
  };
  const unsigned char* p;
  switch (t) {
    case 0xcc:
      if ((p = fixed(1))) lua_pushnumber(L, p[0]);
      return;
    case 0xd0:
      if ((p = fixed(1))) lua_pushnumber(L, static_cast<signed char>(p[0]));
      return;
    case 0xcd:
      if ((p = fixed(2))) lua_pushnumber(L, static_cast<lua_Number>(ReadBigEndian(p, 2)));
      return;
    case 0xd1:
      if ((p = fixed(2))) {
        lua_pushnumber(L, static_cast<int16_t>(static_cast<uint16_t>(ReadBigEndian(p, 2))));
      }
      return;
    case 0xce:
      if ((p = fixed(4))) lua_pushnumber(L, static_cast<lua_Number>(ReadBigEndian(p, 4)));
      return;
    case 0xd2:
      if ((p = fixed(4))) {
        lua_pushnumber(L, static_cast<int32_t>(static_cast<uint32_t>(ReadBigEndian(p, 4))));
      }
      return;
    case 0xcf:
      if ((p = fixed(8))) lua_pushnumber(L, static_cast<lua_Number>(ReadBigEndian(p, 8)));
      return;
    case 0xd3:
      if ((p = fixed(8))) {
        lua_pushnumber(L, static_cast<lua_Number>(static_cast<int64_t>(ReadBigEndian(p, 8))));
      }
      return;
    case 0xc0:
      if (fixed(0)) lua_pushnil(L);
      return;
    case 0xc3:
    case 0xc2:
      if (fixed(0)) lua_pushboolean(L, t == 0xc3);
      return;
    case 0xca:
      if ((p = fixed(4))) {
        uint32_t bits = static_cast<uint32_t>(ReadBigEndian(p, 4));
        float f;
        memcpy(&f, &bits, 4);
        lua_pushnumber(L, f);
      }
      return;
    case 0xcb:
      if ((p = fixed(8))) {
        uint64_t bits = ReadBigEndian(p, 8);
        double d;
        memcpy(&d, &bits, 8);
        lua_pushnumber(L, d);
      }
      return;
    case 0xc4:
    case 0xd9:
      if (Need(c, 2)) DecodeString(L, c, 2, c->p[1]);
      return;
    case 0xc5:
    case 0xda:
      if (Need(c, 3)) DecodeString(L, c, 3, ReadBigEndian(c->p + 1, 2));
      return;
    case 0xc6:
    case 0xdb:
      if (Need(c, 5)) DecodeString(L, c, 5, ReadBigEndian(c->p + 1, 4));
      return;
    case 0xdc:
      if ((p = fixed(2))) DecodeArray(L, c, ReadBigEndian(p, 2));
      return;
    case 0xdd:
      if ((p = fixed(4))) DecodeArray(L, c, ReadBigEndian(p, 4));
      return;
    case 0xde:
      if ((p = fixed(2))) DecodeMap(L, c, ReadBigEndian(p, 2));
      return;
    case 0xdf:
      if ((p = fixed(4))) DecodeMap(L, c, ReadBigEndian(p, 4));
      return;
    default:
      break;
  }
  if (t <= 0x7f) {
    fixed(0);
    lua_pushnumber(L, t);
  } else if (t >= 0xe0) {
    fixed(0);
    lua_pushnumber(L, static_cast<signed char>(t));
  } else if ((t & 0xe0) == 0xa0) {
    DecodeString(L, c, 1, t & 0x1f);
  } else if ((t & 0xf0) == 0x90) {
    fixed(0);
    DecodeArray(L, c, t & 0x0f);
  } else if ((t & 0xf0) == 0x80) {
    fixed(0);
    DecodeMap(L, c, t & 0x0f);
  } else {
    c->err = kBadFormat;
  }
}

int UnpackFull(lua_State* L, int limit, int offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  const bool decode_all = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset,
                      static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", offset,
                      static_cast<int>(len));
  }
  if (decode_all) limit = INT_MAX;
  Cur c{reinterpret_cast<const unsigned char*>(s) + offset, len - offset, kOk};
  int cnt = 0;
  for (; c.left > 0 && cnt < limit; cnt++) {
    Decode(L, &c);
    if (c.err == kEof) return luaL_error(L, "Missing bytes in input.");
    if (c.err == kBadFormat) return luaL_error(L, "Bad data format in input.");
  }
  if (!decode_all) {
    int next = static_cast<int>(len - c.left);
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : next);
    lua_insert(L, 2);
    cnt += 1;
  }
  return cnt;
}

int Unpack(lua_State* L) { return UnpackFull(L, 0, 0); }

int UnpackOne(lua_State* L) {
  int offset = static_cast<int>(luaL_optinteger(L, 2, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return UnpackFull(L, 1, offset);
}

int UnpackLimit(lua_State* L) {
  int limit = static_cast<int>(luaL_checkinteger(L, 2));
  int offset = static_cast<int>(luaL_optinteger(L, 3, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return UnpackFull(L, limit, offset);
}

}  // namespace

int OpenCmsgpack(lua_State* L) {
  static const luaL_Reg kFunctions[] = {{"pack", Pack},
                                        {"unpack", Unpack},
                                        {"unpack_one", UnpackOne},
                                        {"unpack_limit", UnpackLimit},
                                        {nullptr, nullptr}};
  luaL_register(L, "cmsgpack", kFunctions);
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  return 1;
}

}  // namespace activekv::scripting
