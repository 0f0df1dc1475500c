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

// Pops up to `count` elements from one end of `key`'s list, which exists and is not empty, and
// replies [key, [elements]] (LMPOP's reply).
void PopRangeWithKey(CommandContext& ctx, std::string_view key, bool left, size_t count);

// LMOVE src dst: pops from one end of `src` and pushes onto one end of `dst`, replying the
// element; a null reply when `src` has no list, WRONGTYPE (and nothing moved) when either key
// holds another type. One unit: a removal and an insert.
void MoveOne(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left,
             bool to_left);

}  // namespace activekv::server
