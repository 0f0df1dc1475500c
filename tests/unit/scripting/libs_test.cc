// cmsgpack and struct against the bytes redis-server 7.0.15 produces for the same calls.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "scripting/lua_engine.h"

namespace activekv::scripting {
namespace {

class NoHost : public ScriptHost {
 public:
  std::string Call(const std::vector<std::string_view>&, int, std::string*) override {
    return "no commands here";
  }
  bool Interrupt() override { return false; }
  void Log(int, std::string_view) override {}
  bool KnownCommand(std::string_view name) override { return name != "nosuch"; }
};

std::string Eval(LuaEngine& engine, std::string_view body) {
  std::string error;
  const LuaEngine::Script* s = engine.LoadScript(body, &error);
  if (s == nullptr) return error;
  NoHost host;
  std::vector<std::string_view> none;
  std::string out;
  resp::ReplyBuilder reply(&out);
  LuaEngine::Run run{s->ref, s->sha, &none, &none, &host};
  engine.Execute(run, &reply);
  return out;
}

// A bulk reply of `bytes`.
std::string Bulk(const std::string& bytes) {
  return "$" + std::to_string(bytes.size()) + "\r\n" + bytes + "\r\n";
}

class LibsTest : public ::testing::Test {
 protected:
  LuaEngine engine_{LuaEngine::Options{}};
};

TEST_F(LibsTest, CmsgpackPacksIntegersInTheSmallestFormat) {
  EXPECT_EQ(Eval(engine_,
                 "return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 4294967295, "
                 "4294967296, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649)"),
            Bulk(std::string("\x01\xff\x7f\xcc\x80\xcc\xff\xcd\x01\x00\xcd\xff\xff\xce\x00\x01"
                             "\x00\x00\xce\xff\xff\xff\xff\xcf\x00\x00\x00\x01\x00\x00\x00\x00"
                             "\xe0\xd0\xdf\xd0\x80\xd1\xff\x7f\xd1\x80\x00\xd2\xff\xff\x7f\xff"
                             "\xd2\x80\x00\x00\x00\xd3\xff\xff\xff\xff\x7f\xff\xff\xff",
                             62)));
}

TEST_F(LibsTest, CmsgpackPacksFloatsTablesAndNesting) {
  EXPECT_EQ(Eval(engine_, "return cmsgpack.pack(1.5, 0.1, true, false, nil, 'abc')"),
            Bulk(std::string("\xca\x3f\xc0\x00\x00\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a\xc3\xc2"
                             "\xc0\xa3"
                             "abc",
                             21)));
  EXPECT_EQ(
      Eval(engine_, "return cmsgpack.pack({1, 2, 3}, {a=1}, {}, {1, {2, {3}}}, {[1]=1, [3]=3})"),
      Bulk(std::string("\x93\x01\x02\x03\x81\xa1\x61\x01\x90\x92\x01\x92\x02\x91\x03\x82"
                       "\x01\x01\x03\x03",
                       20)));
  EXPECT_EQ(Eval(engine_,
                 "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end "
                 "return cmsgpack.pack(t)"),
            Bulk(std::string(16, '\x91') + "\xc0"));
}

TEST_F(LibsTest, CmsgpackRoundTripsAndUnpacksInSteps) {
  EXPECT_EQ(Eval(engine_, "return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2}, true))}"),
            "*4\r\n:1\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n:1\r\n");
  EXPECT_EQ(
      Eval(engine_, "local t = cmsgpack.unpack(cmsgpack.pack({a={b={c='d'}}})) return t.a.b.c"),
      "$1\r\nd\r\n");
  EXPECT_EQ(Eval(engine_, "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}"),
            "*2\r\n:1\r\n:1\r\n");
  EXPECT_EQ(Eval(engine_, "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}"),
            "*2\r\n:-1\r\n:3\r\n");
  EXPECT_EQ(Eval(engine_, "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}"),
            "*3\r\n:-1\r\n:2\r\n:3\r\n");
  EXPECT_NE(
      Eval(engine_, "return cmsgpack.unpack(string.char(0xcd, 1))").find("Missing bytes in input."),
      std::string::npos);
  EXPECT_NE(
      Eval(engine_, "return cmsgpack.unpack(string.char(0xc1))").find("Bad data format in input."),
      std::string::npos);
}

TEST_F(LibsTest, StructPacksAsRedis) {
  EXPECT_EQ(Eval(engine_, "return struct.pack('>I2 <i4 b B h H', 1, -2, -3, 200, -4, 65535)"),
            Bulk(std::string("\x00\x01\xfe\xff\xff\xff\xfd\xc8\xfc\xff\xff\xff", 12)));
  EXPECT_EQ(Eval(engine_, "return struct.pack('d f', 1.5, 2.25)"),
            Bulk(std::string("\x00\x00\x00\x00\x00\x00\xf8\x3f\x00\x00\x10\x40", 12)));
  EXPECT_EQ(Eval(engine_, "return struct.pack('s c3 c0', 'ab', 'xyz', 'hello')"),
            Bulk(std::string("ab\x00xyzhello", 11)));
  EXPECT_EQ(Eval(engine_, "return struct.pack('!4 b i', 1, 2)"),
            Bulk(std::string("\x01\x00\x00\x00\x02\x00\x00\x00", 8)));
  EXPECT_EQ(Eval(engine_, "return struct.pack('i16', -1)"),
            Bulk(std::string(8, '\xff') + std::string(8, '\0')));
}

TEST_F(LibsTest, StructUnpacksAndSizes) {
  EXPECT_EQ(Eval(engine_, "return {struct.unpack('>I2 <i4', struct.pack('>I2 <i4', 513, -7))}"),
            "*3\r\n:513\r\n:-7\r\n:7\r\n");
  EXPECT_EQ(Eval(engine_, "return {struct.unpack('b c0', struct.pack('b c0', 3, 'abc'))}"),
            "*2\r\n$3\r\nabc\r\n:5\r\n");
  EXPECT_EQ(Eval(engine_, "return {struct.unpack('B', 'AB', 2)}"), "*2\r\n:66\r\n:3\r\n");
  EXPECT_EQ(Eval(engine_, "return struct.size('>I2 <i4 b d')"), ":15\r\n");
  EXPECT_EQ(Eval(engine_, "return struct.size('!8 b d')"), ":16\r\n");
  EXPECT_NE(Eval(engine_, "return struct.size('s')").find("option 's' has no fixed size"),
            std::string::npos);
  EXPECT_NE(Eval(engine_, "return struct.pack('q', 1)").find("invalid format option 'q'"),
            std::string::npos);
}

}  // namespace
}  // namespace activekv::scripting
