#pragma once

#include <string_view>

namespace activekv::server {

// Redis's glob-style matching (util.c stringmatchlen): * ? [abc] [^a] [a-z] and \ escapes,
// case-sensitive. Used by KEYS, SCAN MATCH and CONFIG GET.
bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase = false);

}  // namespace activekv::server
