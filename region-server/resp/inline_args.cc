#include "region-server/resp/inline_args.h"

namespace activekv::resp {
namespace {

// C-locale isspace(): what sdssplitargs skips before an argument and accepts after a quote.
bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// What follows a closing quote must be a blank or the end of the line.
bool ClosingQuoteOk(std::string_view line, size_t quote) {
  return quote + 1 == line.size() || IsSpace(line[quote + 1]);
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::string* storage,
                     std::vector<std::string_view>* args) {
  storage->resize(line.size());
  char* const base = storage->data();
  char* out = base;
  const size_t n = line.size();
  size_t i = 0;
  for (;;) {
    while (i < n && IsSpace(line[i])) ++i;
    if (i == n) return true;
    char* const start = out;
    bool in_double = false;
    bool in_single = false;
    bool done = false;
    while (!done) {
      // `i == n` plays the role of sdssplitargs's terminating NUL.
      const char c = i < n ? line[i] : '\0';
      if (in_double) {
        if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && IsHexDigit(line[i + 2]) &&
            IsHexDigit(line[i + 3])) {
          *out++ = static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3]));
          i += 3;
        } else if (c == '\\' && i + 1 < n) {
          *out++ = Unescape(line[++i]);
        } else if (c == '"') {
          if (!ClosingQuoteOk(line, i)) return false;
          done = true;
        } else if (i == n) {
          return false;
        } else {
          *out++ = c;
        }
      } else if (in_single) {
        if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          *out++ = '\'';
        } else if (c == '\'') {
          if (!ClosingQuoteOk(line, i)) return false;
          done = true;
        } else if (i == n) {
          return false;
        } else {
          *out++ = c;
        }
      } else {
        switch (c) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            // A NUL can only be the end of the line here (the line holds none).
            done = true;
            break;
          case '"':
            in_double = true;
            break;
          case '\'':
            in_single = true;
            break;
          default:
            *out++ = c;
            break;
        }
      }
      if (i < n) ++i;
    }
    args->emplace_back(start, static_cast<size_t>(out - start));
  }
}

}  // namespace activekv::resp
