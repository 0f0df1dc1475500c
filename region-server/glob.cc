#include "region-server/glob.h"

#include <cctype>

namespace activekv::server {
namespace {

int Fold(char c, bool nocase) { return nocase ? std::tolower(static_cast<unsigned char>(c)) : c; }

// `skip_longer`: once a '*' failed to match any suffix, longer subjects cannot match either
// (Redis's guard against exponential patterns).
bool Match(const char* p, size_t plen, const char* s, size_t slen, bool nocase, bool* skip_longer) {
  while (plen > 0 && slen > 0) {
    switch (p[0]) {
      case '*': {
        while (plen > 1 && p[1] == '*') {
          ++p;
          --plen;
        }
        if (plen == 1) return true;
        while (slen > 0) {
          if (Match(p + 1, plen - 1, s, slen, nocase, skip_longer)) return true;
          if (*skip_longer) return false;
          ++s;
          --slen;
        }
        *skip_longer = true;
        return false;
      }
      case '?':
        ++s;
        --slen;
        break;
      case '[': {
        ++p;
        --plen;
        bool negate = plen > 0 && p[0] == '^';
        if (negate) {
          ++p;
          --plen;
        }
        bool match = false;
        while (true) {
          if (plen >= 2 && p[0] == '\\') {
            ++p;
            --plen;
            if (Fold(p[0], nocase) == Fold(s[0], nocase)) match = true;
          } else if (plen > 0 && p[0] == ']') {
            break;
          } else if (plen == 0) {
            --p;
            ++plen;
            break;
          } else if (plen >= 3 && p[1] == '-') {
            int start = Fold(p[0], nocase);
            int end = Fold(p[2], nocase);
            int c = Fold(s[0], nocase);
            if (start > end) std::swap(start, end);
            p += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (Fold(p[0], nocase) == Fold(s[0], nocase)) {
            match = true;
          }
          ++p;
          --plen;
        }
        if (negate) match = !match;
        if (!match) return false;
        ++s;
        --slen;
        break;
      }
      case '\\':
        if (plen >= 2) {
          ++p;
          --plen;
        }
        [[fallthrough]];
      default:
        if (Fold(p[0], nocase) != Fold(s[0], nocase)) return false;
        ++s;
        --slen;
        break;
    }
    ++p;
    --plen;
    if (slen == 0) {
      while (plen > 0 && p[0] == '*') {
        ++p;
        --plen;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase) {
  bool skip_longer = false;
  return Match(pattern.data(), pattern.size(), str.data(), str.size(), nocase, &skip_longer);
}

}  // namespace activekv::server
