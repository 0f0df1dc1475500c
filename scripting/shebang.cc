#include "scripting/shebang.h"

#include <vector>

#include "absl/strings/ascii.h"

namespace activekv::scripting {
namespace {

struct FlagName {
  uint32_t bit;
  std::string_view name;
};
constexpr FlagName kFlagNames[] = {
    {kFlagNoWrites, "no-writes"},
    {kFlagAllowOom, "allow-oom"},
    {kFlagAllowStale, "allow-stale"},
    {kFlagNoCluster, "no-cluster"},
    {kFlagAllowCrossSlot, "allow-cross-slot-keys"},
};

// The first line of `text` (without '\n') and its parts split at spaces (sdssplitargs without
// quoting, which no valid shebang uses).
std::string_view FirstLine(std::string_view text) {
  size_t nl = text.find('\n');
  return nl == std::string_view::npos ? text : text.substr(0, nl);
}

// `text` split at any of `seps`, empty parts dropped.
std::vector<std::string_view> Split(std::string_view text, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find_first_of(seps, i);
    if (j == std::string_view::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::vector<std::string_view> Parts(std::string_view line) { return Split(line, " \t\r"); }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string Cat(std::string_view a, std::string_view b) {
  std::string out(a);
  out.append(b);
  return out;
}

}  // namespace

uint32_t ScriptFlagByName(std::string_view name) {
  for (const FlagName& f : kFlagNames) {
    if (f.name == name) return f.bit;
  }
  return 0;
}

std::string_view ScriptFlagName(uint32_t bit) {
  for (const FlagName& f : kFlagNames) {
    if (f.bit == bit) return f.name;
  }
  return "";
}

bool ParseEvalShebang(std::string_view body, EvalShebang* out, std::string* error) {
  *out = EvalShebang{};
  if (!StartsWith(body, "#!")) return true;
  std::string_view line = FirstLine(body);
  out->length = line.size();
  std::vector<std::string_view> parts = Parts(line);
  if (parts.empty() || parts[0] != "#!lua") {
    *error = Cat("Unexpected engine in script shebang: ", parts.empty() ? line : parts[0]);
    return false;
  }
  out->flags = 0;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (!StartsWith(p, "flags=")) {
      *error = Cat("Unknown lua shebang option: ", p);
      return false;
    }
    p.remove_prefix(6);
    for (std::string_view f : Split(p, ",")) {
      uint32_t bit = ScriptFlagByName(f);
      if (bit == 0) {
        *error = Cat("Unexpected flag in script shebang: ", f);
        return false;
      }
      out->flags |= bit;
    }
  }
  return true;
}

bool ParseLibraryMetadata(std::string_view code, LibraryMetadata* out, std::string* error) {
  *out = LibraryMetadata{};
  if (!StartsWith(code, "#!")) {
    *error = "Missing library metadata";
    return false;
  }
  std::string_view line = FirstLine(code);
  out->length = line.size();
  std::vector<std::string_view> parts = Parts(line);
  if (parts.empty()) {
    *error = "Invalid library metadata";
    return false;
  }
  out->engine = std::string(parts[0].substr(2));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    if (StartsWith(p, "name=")) {
      if (!out->name.empty()) {
        *error = "Invalid metadata value, name argument was given multiple times";
        return false;
      }
      out->name = std::string(p.substr(5));
      continue;
    }
    *error = Cat("Invalid metadata value given: ", p);
    return false;
  }
  if (out->name.empty()) {
    *error = "Library name was not given";
    return false;
  }
  return true;
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace activekv::scripting
