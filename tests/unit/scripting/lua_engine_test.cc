// LuaEngine against a fake ScriptHost: conversions both ways, errors, sandbox, memory cap, kill.
// Expected bytes are redis-server 7.0.15's (tests/integration/scripting_corpus.py checks the
// same against a live one).
#include "scripting/lua_engine.h"

#include <map>

#include "gtest/gtest.h"

namespace activekv::scripting {
namespace {

// redis.call answers from a table of canned RESP replies keyed by the command name.
class FakeHost : public ScriptHost {
 public:
  std::string Call(const std::vector<std::string_view>& args, int resp,
                   std::string* reply) override {
    calls.emplace_back(args.begin(), args.end());
    last_resp = resp;
    std::string name(args[0]);
    if (name == "refuse") return "This Redis command is not allowed from script";
    auto it = replies.find(name);
    reply->append(it == replies.end() ? "+OK\r\n" : it->second);
    return "";
  }
  bool Interrupt() override { return ++interrupts >= kill_after; }
  void Log(int, std::string_view) override {}
  bool KnownCommand(std::string_view name) override { return name != "nosuch"; }

  std::map<std::string, std::string> replies;
  std::vector<std::vector<std::string>> calls;
  int last_resp = 0;
  int interrupts = 0;
  int kill_after = 1 << 30;
};

class EngineTest : public ::testing::Test {
 protected:
  std::string Eval(std::string_view body, std::vector<std::string_view> keys = {},
                   std::vector<std::string_view> args = {}, int protocol = 2) {
    std::string error;
    const LuaEngine::Script* s = engine_.LoadScript(body, &error);
    if (s == nullptr) return "-" + error + "\r\n";
    std::string out;
    resp::ReplyBuilder reply(&out, protocol);
    LuaEngine::Run run;
    run.ref = s->ref;
    run.name = s->sha;
    run.keys = &keys;
    run.args = &args;
    run.host = &host_;
    engine_.Execute(run, &reply);
    return out;
  }
  std::string Suffix(std::string_view body, int line = 1) {
    return " script: " + Sha1Hex(body) + ", on @user_script:" + std::to_string(line) + ".";
  }

  LuaEngine engine_{LuaEngine::Options{}};
  FakeHost host_;
};

TEST_F(EngineTest, LuaValuesBecomeRedisReplies) {
  EXPECT_EQ(Eval("return 1"), ":1\r\n");
  EXPECT_EQ(Eval("return 3.99"), ":3\r\n");
  EXPECT_EQ(Eval("return -3.99"), ":-3\r\n");
  EXPECT_EQ(Eval("return 1e30"), ":-9223372036854775808\r\n");
  EXPECT_EQ(Eval("return 0/0"), ":-9223372036854775808\r\n");
  EXPECT_EQ(Eval("return 9007199254740993"), ":9007199254740992\r\n");
  EXPECT_EQ(Eval("return 'x'"), "$1\r\nx\r\n");
  EXPECT_EQ(Eval("return true"), ":1\r\n");
  EXPECT_EQ(Eval("return false"), "$-1\r\n");
  EXPECT_EQ(Eval("return nil"), "$-1\r\n");
  EXPECT_EQ(Eval("return {1, nil, 3}"), "*1\r\n:1\r\n");
  EXPECT_EQ(Eval("return {1, {err='x'}, {ok='y'}, false, true, 2.9}"),
            "*6\r\n:1\r\n-x\r\n+y\r\n$-1\r\n:1\r\n:2\r\n");
  EXPECT_EQ(Eval("return {err='X y\\r\\n'}"), "-X y\r\n");
  EXPECT_EQ(Eval("return redis.status_reply('a\\r\\nb')"), "+a  b\r\n");
  EXPECT_EQ(Eval("return {double=3.5}"), "$3\r\n3.5\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}"), "*2\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {set={a=true}}"), "*1\r\n$1\r\na\r\n");
}

TEST_F(EngineTest, Resp3RepliesFollowSetresp) {
  EXPECT_EQ(Eval("return {double=3.5}", {}, {}, 3), ",3.5\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}", {}, {}, 3), "%1\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return false", {}, {}, 3), "_\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return false", {}, {}, 3), "#f\r\n");
  EXPECT_EQ(Eval("redis.setresp(3); return true", {}, {}, 2), ":1\r\n");
  EXPECT_EQ(Eval("return {big_number='12'}", {}, {}, 3), "(12\r\n");
}

TEST_F(EngineTest, RedisRepliesBecomeLuaValues) {
  host_.replies["m"] = "*4\r\n:7\r\n$-1\r\n+OK\r\n*-1\r\n";
  EXPECT_EQ(Eval("local r = redis.call('m') return {r[1], type(r[2]), r[3].ok, type(r[4])}"),
            "*4\r\n:7\r\n$7\r\nboolean\r\n$2\r\nOK\r\n$7\r\nboolean\r\n");
  host_.replies["r3"] = "%1\r\n$1\r\nf\r\n,1.5\r\n";
  EXPECT_EQ(Eval("redis.setresp(3) local r = redis.call('r3') return tostring(r.map.f.double)"),
            "$3\r\n1.5\r\n");
  EXPECT_EQ(host_.last_resp, 3);
  host_.replies["e"] = "-WRONGTYPE bad\r\n";
  EXPECT_EQ(Eval("return redis.pcall('e')"), "-WRONGTYPE bad\r\n");
  std::string body = "return redis.call('e')";
  EXPECT_EQ(Eval(body), "-WRONGTYPE bad" + Suffix(body) + "\r\n");
}

TEST_F(EngineTest, ArgumentsAreConvertedAsRedisDoes) {
  Eval("redis.call('set', KEYS[1], 0.1, 3, ARGV[1])", {"k"}, {"v"});
  ASSERT_EQ(host_.calls.size(), 1u);
  EXPECT_EQ(host_.calls[0],
            (std::vector<std::string>{"set", "k", "0.10000000000000001", "3", "v"}));
  std::string body = "return redis.call({})";
  EXPECT_EQ(Eval(body), "-ERR Lua redis lib command arguments must be strings or integers" +
                            Suffix(body) + "\r\n");
  body = "return redis.call('refuse')";
  EXPECT_EQ(Eval(body),
            "-ERR This Redis command is not allowed from script" + Suffix(body) + "\r\n");
}

TEST_F(EngineTest, ScriptErrorsCarryTheScriptAndLine) {
  std::string body = "error('boom')";
  EXPECT_EQ(Eval(body), "-ERR user_script:1: boom" + Suffix(body) + "\r\n");
  body = "\nerror({err='MYERR x'})";
  EXPECT_EQ(Eval(body), "-MYERR x" + Suffix(body, 2) + "\r\n");
  EXPECT_EQ(Eval("return 1 +"),
            "-ERR Error compiling script (new function): user_script:1: unexpected symbol near "
            "'<eof>'\r\n");
}

TEST_F(EngineTest, SandboxHasRedisGlobalsOnly) {
  std::string body = "return os.execute('true')";
  EXPECT_EQ(Eval(body),
            "-ERR user_script:1: Script attempted to access nonexistent global "
            "variable 'os'" +
                Suffix(body) + "\r\n");
  body = "x = 5";
  EXPECT_EQ(Eval(body),
            "-ERR user_script:1: Attempt to modify a readonly table" + Suffix(body) + "\r\n");
  body = "string.foo = 1";
  EXPECT_EQ(Eval(body),
            "-ERR user_script:1: Attempt to modify a readonly table" + Suffix(body) + "\r\n");
  EXPECT_EQ(Eval("return {type(io), type(dofile)}").substr(0, 4), "-ERR");
  EXPECT_EQ(Eval("return type(loadstring)"), "$8\r\nfunction\r\n");
  EXPECT_EQ(Eval("return cjson.encode({1,2})"), "$5\r\n[1,2]\r\n");
  EXPECT_EQ(Eval("return bit.band(12, 10)"), ":8\r\n");
  EXPECT_EQ(Eval("return redis.sha1hex('abc')"),
            "$40\r\na9993e364706816aba3e25717850c26c9cd0d89d\r\n");
}

TEST_F(EngineTest, MemoryCapEndsTheScriptAndTheEngineRecovers) {
  LuaEngine::Options small;
  small.memory_limit = 16 << 20;
  LuaEngine engine(small);
  std::string error;
  const LuaEngine::Script* s = engine.LoadScript(
      "local t = {} local x = string.rep('x', 65536) for i = 1, 1e6 do t[i] = x:sub(i) end",
      &error);
  ASSERT_NE(s, nullptr);
  std::string out;
  resp::ReplyBuilder reply(&out);
  std::vector<std::string_view> none;
  LuaEngine::Run run{s->ref, s->sha, &none, &none, &host_};
  engine.Execute(run, &reply);
  EXPECT_EQ(out, "-ERR Error running script " + s->sha + ", not enough memory\r\n");
  EXPECT_LT(engine.memory_used(), size_t{8} << 20);
  s = engine.LoadScript("return 'ok'", &error);
  out.clear();
  LuaEngine::Run again{s->ref, s->sha, &none, &none, &host_};
  engine.Execute(again, &reply);
  EXPECT_EQ(out, "$2\r\nok\r\n");
}

TEST_F(EngineTest, KilledScriptCannotCatchTheKill) {
  host_.kill_after = 3;
  std::string body = "while true do pcall(function() while true do end end) end";
  std::string r = Eval(body);
  EXPECT_EQ(r.rfind("-ERR Script killed by user with SCRIPT KILL...", 0), 0u) << r;
}

TEST(FunctionEngine, LoadRegisterAndRun) {
  LuaEngine engine(LuaEngine::Options{LuaEngine::Kind::kFunction});
  std::string name, error;
  ASSERT_TRUE(engine.LoadLibrary(
      "#!lua name=lib\nredis.register_function{function_name='f', callback=function(keys, args) "
      "return args[1] .. keys[1] end, flags={'no-writes'}, description='d'}",
      false, &name, &error))
      << error;
  EXPECT_EQ(name, "lib");
  const LuaEngine::Function* f = engine.FindFunction("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->flags, kFlagNoWrites);
  EXPECT_EQ(f->description, "d");
  FakeHost host;
  std::vector<std::string_view> keys = {"k"}, args = {"a"};
  std::string out;
  resp::ReplyBuilder reply(&out);
  LuaEngine::Run run{f->ref, "f", &keys, &args, &host};
  engine.Execute(run, &reply);
  EXPECT_EQ(out, "$2\r\nak\r\n");
  EXPECT_FALSE(engine.LoadLibrary("#!lua name=lib\nredis.register_function('g', function() end)",
                                  false, &name, &error));
  EXPECT_EQ(error, "Library 'lib' already exists");
  EXPECT_FALSE(engine.LoadLibrary("#!lua name=other\nredis.register_function('f', function() end)",
                                  false, &name, &error));
  EXPECT_EQ(error, "Function f already exists");
  EXPECT_FALSE(engine.LoadLibrary("#!lua name=bad\nerror('x')", false, &name, &error));
  EXPECT_EQ(error,
            "Error registering functions: ERR user_function:2: Script attempted to access "
            "nonexistent global variable 'error'");
  EXPECT_FALSE(engine.LoadLibrary("#!lua name=slow\nwhile true do end", false, &name, &error));
  EXPECT_EQ(error, "Error registering functions: ERR FUNCTION LOAD timeout");
  EXPECT_TRUE(engine.DeleteLibrary("lib"));
  EXPECT_EQ(engine.FindFunction("f"), nullptr);
}

}  // namespace
}  // namespace activekv::scripting
