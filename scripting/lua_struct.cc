#include "scripting/lua_internal.h"

namespace activekv::scripting {

int OpenStruct(lua_State* L) {
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "struct");
  return 1;
}

}  // namespace activekv::scripting
