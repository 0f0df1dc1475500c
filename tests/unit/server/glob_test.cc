#include "region-server/glob.h"

#include "gtest/gtest.h"

namespace activekv::server {
namespace {

TEST(Glob, RedisPatterns) {
  // As Redis's stringmatchlen: "*" does not match "" (KEYS and SCAN special-case "*").
  EXPECT_FALSE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("h?llo", "hello"));
  EXPECT_FALSE(GlobMatch("h?llo", "hllo"));
  EXPECT_TRUE(GlobMatch("h*llo", "heeeello"));
  EXPECT_TRUE(GlobMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(GlobMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(GlobMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(GlobMatch("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(GlobMatch("h[b-a]llo", "hallo")) << "reversed ranges work";
  EXPECT_TRUE(GlobMatch("h\\*llo", "h*llo"));
  EXPECT_FALSE(GlobMatch("h\\*llo", "hello"));
  EXPECT_TRUE(GlobMatch("key:*:end", "key:a:b:end"));
  EXPECT_FALSE(GlobMatch("a*b", "acbd"));
  EXPECT_TRUE(GlobMatch("APPEND*", "appendfsync", true));
  // Exponential patterns stay fast.
  EXPECT_FALSE(GlobMatch("a*a*a*a*a*a*a*a*a*a*a*a*b", std::string(60, 'a')));
}

}  // namespace
}  // namespace activekv::server
