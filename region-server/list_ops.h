#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"
#include "region-server/command.h"

namespace activekv::server {

// List command pieces shared by the plain list commands (list_family.cc) and their blocking
// variants, which run them once a key they wait on has elements.

// The length of the key's list in the selected database (0 when it has none).
size_t ListLength(CommandContext& ctx, std::string_view key);

// LMPOP / BLMPOP arguments from `numkeys_idx` on: numkeys key... LEFT|RIGHT [COUNT count].
struct ListPopArgs {
  absl::Span<const std::string_view> keys;
  bool left = true;
  int64_t count = 1;
};
// False after replying Redis's error.
bool ParseListPopArgs(CommandContext& ctx, size_t numkeys_idx, ListPopArgs* out);

// Pops up to `count` elements from one end of `key`'s list, which exists and is not empty, and
// replies [key, [elements]] (LMPOP's reply).
void PopRangeWithKey(CommandContext& ctx, std::string_view key, bool left, size_t count);

// LMOVE src dst: pops from one end of `src` and pushes onto one end of `dst`, replying the
// element; a null reply when `src` has no list, WRONGTYPE (and nothing moved) when either key
// holds another type. One unit: a removal and an insert.
void MoveOne(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left,
             bool to_left);

}  // namespace activekv::server
