#include "scripting/lua_internal.h"

namespace activekv::scripting {

int OpenCmsgpack(lua_State* L) {
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "cmsgpack");
  return 1;
}

}  // namespace activekv::scripting
