#include "region-server/resp/numbers.h"

#include <limits>

namespace activekv::resp {
namespace {

// "00" "01" ... "99": two digits per division.
constexpr char kDigitPairs[201] =
    "00010203040506070809"
    "10111213141516171819"
    "20212223242526272829"
    "30313233343536373839"
    "40414243444546474849"
    "50515253545556575859"
    "60616263646566676869"
    "70717273747576777879"
    "80818283848586878889"
    "90919293949596979899";

size_t DigitCount(uint64_t v) {
  size_t n = 1;
  for (;;) {
    if (v < 10) return n;
    if (v < 100) return n + 1;
    if (v < 1000) return n + 2;
    if (v < 10000) return n + 3;
    v /= 10000;
    n += 4;
  }
}

}  // namespace

size_t FormatUint64(uint64_t v, char* buf) {
  const size_t len = DigitCount(v);
  char* p = buf + len;
  while (v >= 100) {
    const unsigned idx = static_cast<unsigned>(v % 100) * 2;
    v /= 100;
    p -= 2;
    p[0] = kDigitPairs[idx];
    p[1] = kDigitPairs[idx + 1];
  }
  if (v < 10) {
    *--p = static_cast<char>('0' + v);
  } else {
    const unsigned idx = static_cast<unsigned>(v) * 2;
    p -= 2;
    p[0] = kDigitPairs[idx];
    p[1] = kDigitPairs[idx + 1];
  }
  return len;
}

size_t FormatInt64(int64_t v, char* buf) {
  if (v >= 0) return FormatUint64(static_cast<uint64_t>(v), buf);
  buf[0] = '-';
  // Two's complement negation in unsigned arithmetic is defined for INT64_MIN too.
  return 1 + FormatUint64(0 - static_cast<uint64_t>(v), buf + 1);
}

bool ParseInt64Strict(std::string_view s, int64_t* value) {
  // Redis: LONG_STR_SIZE is 21, and "slen >= LONG_STR_SIZE" is rejected.
  if (s.empty() || s.size() > 20) return false;
  if (s.size() == 1 && s[0] == '0') {
    *value = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (++i == s.size()) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = static_cast<uint64_t>(s[i++] - '0');
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > kMax / 10) return false;
    v *= 10;
    if (v > kMax - d) return false;
    v += d;
  }
  constexpr uint64_t kPosLimit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (v > kPosLimit + 1) return false;
    *value = static_cast<int64_t>(0 - v);
  } else {
    if (v > kPosLimit) return false;
    *value = static_cast<int64_t>(v);
  }
  return true;
}

}  // namespace activekv::resp
