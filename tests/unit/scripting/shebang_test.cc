#include "scripting/shebang.h"

#include "gtest/gtest.h"

namespace activekv::scripting {
namespace {

TEST(EvalShebang, NoShebangIsCompatMode) {
  EvalShebang s;
  std::string err;
  ASSERT_TRUE(ParseEvalShebang("return 1", &s, &err));
  EXPECT_EQ(s.flags, kFlagEvalCompat);
  EXPECT_EQ(s.length, 0u);
}

TEST(EvalShebang, FlagsAreParsedAndTheLineKeepsItsNewline) {
  EvalShebang s;
  std::string err;
  ASSERT_TRUE(ParseEvalShebang("#!lua  flags=no-writes,allow-oom\nreturn 1", &s, &err));
  EXPECT_EQ(s.flags, kFlagNoWrites | kFlagAllowOom);
  EXPECT_EQ(s.length, 32u);
  ASSERT_TRUE(ParseEvalShebang("#!lua\nreturn 1", &s, &err));
  EXPECT_EQ(s.flags, 0u);
  ASSERT_TRUE(ParseEvalShebang("#!lua flags=", &s, &err));
  EXPECT_EQ(s.flags, 0u);
}

TEST(EvalShebang, ErrorsUseRedisTexts) {
  EvalShebang s;
  std::string err;
  EXPECT_FALSE(ParseEvalShebang("#!luax\nreturn 1", &s, &err));
  EXPECT_EQ(err, "Unexpected engine in script shebang: #!luax");
  EXPECT_FALSE(ParseEvalShebang("#!lua flags=bogus\n", &s, &err));
  EXPECT_EQ(err, "Unexpected flag in script shebang: bogus");
  EXPECT_FALSE(ParseEvalShebang("#!lua name=x\n", &s, &err));
  EXPECT_EQ(err, "Unknown lua shebang option: name=x");
}

TEST(LibraryMetadata, NameIsRequiredOnce) {
  LibraryMetadata md;
  std::string err;
  ASSERT_TRUE(ParseLibraryMetadata("#!lua name=mylib\ncode", &md, &err));
  EXPECT_EQ(md.name, "mylib");
  EXPECT_EQ(md.engine, "lua");
  EXPECT_FALSE(ParseLibraryMetadata("return 1", &md, &err));
  EXPECT_EQ(err, "Missing library metadata");
  EXPECT_FALSE(ParseLibraryMetadata("#!lua\n", &md, &err));
  EXPECT_EQ(err, "Library name was not given");
  EXPECT_FALSE(ParseLibraryMetadata("#!lua name=a name=b\n", &md, &err));
  EXPECT_EQ(err, "Invalid metadata value, name argument was given multiple times");
  EXPECT_FALSE(ParseLibraryMetadata("#!lua name=a flags=no-writes\n", &md, &err));
  EXPECT_EQ(err, "Invalid metadata value given: flags=no-writes");
}

TEST(LibraryMetadata, ValidNames) {
  EXPECT_TRUE(ValidName("a_B9"));
  EXPECT_FALSE(ValidName(""));
  EXPECT_FALSE(ValidName("b-ad"));
  EXPECT_FALSE(ValidName("b.ad"));
}

}  // namespace
}  // namespace activekv::scripting
