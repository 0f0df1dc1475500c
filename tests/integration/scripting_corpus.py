"""Differential corpus for scripting (EVAL, EVALSHA, SCRIPT, FUNCTION, FCALL): every Lua <-> RESP
conversion and error path whose reply redis-server 7.0 defines, compared byte for byte by
test_differential.py (test_scripting_resp2/resp3). Each group starts with SCRIPT FLUSH and
FUNCTION FLUSH on both sides. Not here: math.random (its state is process-wide), error({})
(crashes redis-server 7.0.15), hash-ordered replies (pairs() order, FUNCTION LIST of several
libraries or functions), and FUNCTION DUMP/RESTORE (not implemented; docs/scripting.md)."""

from diffcore import Cmd


def C(*args):
    return Cmd(args)


def E(body, *rest):
    """EVAL body with numkeys 0 unless `rest` gives numkeys and arguments."""
    return Cmd(("EVAL", body) + (rest if rest else ("0",)))


LIB = ("#!lua name=mylib\n"
       "redis.register_function('echo', function(keys, args) return args[1] end)")
LIB_RO = ("#!lua name=rolib\n"
          "redis.register_function{function_name='getter', callback=function(keys, args) "
          "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}")
LIB_W = ("#!lua name=wlib\n"
         "redis.register_function('setter', function(keys, args) "
         "return redis.call('set', keys[1], args[1]) end)")
LIB_ERR = ("#!lua name=errlib\n"
           "redis.register_function{function_name='boom', callback=function() error('boom') end}")


def scripting_cases(_t0_ms):
    reset = [C("SCRIPT", "FLUSH"), C("FUNCTION", "FLUSH")]
    return [
        ("Lua to RESP conversions", reset + [
            E("return 1"), E("return -1"), E("return 3.99"), E("return -3.99"), E("return -0.5"),
            E("return 1e30"), E("return -1e30"), E("return 0/0"), E("return 1/0"),
            E("return 9007199254740993"), E("return 'hello'"), E("return ''"),
            E("return true"), E("return false"), E("return nil"), E("return {}"),
            E("return {1, 2.5, 'x', {3, {4}}}"), E("return {1, nil, 3}"),
            E("return {true, false, 'a'}"), E("return {ok='fine'}"), E("return {err='bad'}"),
            E("return {err='X y\\r\\n'}"), E("return {err=''}"),
            E("return {1, {err='x'}, {ok='y'}, false, true, 2.9}"),
            E("return {double=3.5}"), E("return {big_number='123'}"),
            E("return {map={a=1}}"), E("return {set={a=true}}"),
            E("return {verbatim_string={format='txt', string='vv'}}"),
            E("return redis.status_reply('a\\r\\nb')"), E("return redis.status_reply('')"),
            E("return redis.error_reply('x')"), E("return redis.error_reply('-X y')"),
            E("return redis.error_reply('-X')"), E("return redis.error_reply('')"),
            E("return redis.error_reply(' x ')"), E("return redis.error_reply()"),
            E("return redis.status_reply(1)"),
        ]),
        ("KEYS ARGV and RESP to Lua", reset + [
            E("return KEYS", "2", "a", "b", "c"), E("return ARGV", "2", "a", "b", "c"),
            E("return {#KEYS, #ARGV}", "1", "k", "v1", "v2"),
            E("return redis.call('set', KEYS[1], ARGV[1])", "1", "k1", "v1"),
            E("return redis.call('get', KEYS[1])", "1", "k1"),
            E("return redis.call('get', 'nokey')"),
            E("return type(redis.call('get', 'nokey'))"),
            E("return redis.call('set', 'f', 1.5)"), C("GET", "f"),
            E("return redis.call('set', 'f', 0.1)"), C("GET", "f"),
            E("return redis.call('set', 'f', 1e20)"), C("GET", "f"),
            E("return redis.call('incr', 'n')"), E("return redis.call('incrbyfloat', 'n', '1.5')"),
            E("return redis.call('ping')"), E("return redis.call('ping').ok"),
            E("redis.call('hset', 'h', 'f1', 'v1'); return redis.call('hgetall', 'h')"),
            E("redis.call('sadd', 's', 'a'); return redis.call('smembers', 's')"),
            E("return redis.call('mget', 'k1', 'nokey', 'f')"),
            E("return redis.call('exists', 'k1', 'nokey')"),
            E("local t = redis.pcall('incr', 'k1'); return t.err"),
            E("return redis.pcall('incr', 'k1')"),
            E("return redis.call('incr', 'k1')"),
            E("redis.setresp(3); return redis.call('hgetall', 'h')"),
            E("redis.setresp(3); local t = redis.call('hgetall', 'h'); return t.map.f1"),
            E("redis.setresp(3); return redis.call('get', 'nokey')"),
            E("redis.setresp(3); return type(redis.call('get', 'nokey'))"),
            E("redis.setresp(3); return redis.call('smembers', 's')"),
            E("redis.setresp(3); return true"), E("redis.setresp(3); return false"),
            E("redis.setresp(2); return true"),
            E("return redis.setresp(4)"), E("return redis.setresp()"),
            E("redis.call('select', '1'); return redis.call('set', 'dbk', '1')"),
            C("EXISTS", "dbk"), C("SELECT", "1"), C("EXISTS", "dbk"), C("SELECT", "0"),
        ]),
        ("errors raised by scripts", reset + [
            E("return 1 +"), E("x = 5"), E("return y"), E("string.foo = 1"), E("redis = nil"),
            E("error('boom')"), E("error({err='MYERR x'})"), E("error(12)"), E("error()"),
            E("error({err=1})"), E("local a = nil; return a.b"),
            E("return redis.call('nosuch')"), E("return redis.call('get')"),
            E("return redis.pcall('get')"), E("return redis.pcall('nosuch')"),
            E("return redis.call('set', 'x', 'y', 'z')"), E("return redis.call({})"),
            E("return redis.call()"), E("return redis.call(1)"),
            E("return redis.call('eval', 'return 1', 0)"), E("return redis.call('hello')"),
            E("return redis.call('script', 'load', 'return 1')"),
            E("return redis.call('fcall', 'x', 0)"),
            E("return pcall(redis.call, 'nosuch')"), E("return {pcall(error, 'x')}"),
            E("return {pcall(error, {err='E x'})}"), E("return {pcall(redis.call, 'nosuch')}"),
            E("local ok, e = pcall(redis.call, 'nosuch'); return e"),
            E("return redis.sha1hex('abc')"), E("return redis.sha1hex('')"),
            E("return redis.sha1hex(1)"), E("return redis.sha1hex()"),
            E("return redis.log(1)"), E("return redis.log('x', 'y')"),
            E("return redis.log(99, 'y')"), E("return redis.log(redis.LOG_WARNING, 'hi')"),
            E("return redis.set_repl(5)"), E("return redis.set_repl(redis.REPL_ALL)"),
            E("return redis.replicate_commands()"), E("return redis.breakpoint()"),
            E("return redis.debug(1)"), E("return redis.acl_check_cmd('get', 'x')"),
            E("return redis.acl_check_cmd('nosuch')"), E("return redis.acl_check_cmd()"),
            E("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.LOG_DEBUG, "
              "redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING, redis.REPL_NONE, "
              "redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_SLAVE, redis.REPL_ALL}"),
        ]),
        ("sandbox", reset + [
            E("return type(os)"), E("return type(io)"), E("return type(loadfile)"),
            E("return type(dofile)"), E("return type(print)"), E("return type(require)"),
            E("return type(module)"), E("return type(package)"), E("return type(debug)"),
            E("return type(setfenv)"), E("return type(getfenv)"), E("return type(newproxy)"),
            E("return type(loadstring)"), E("return loadstring('return 1')()"),
            E("return type(load)"), E("return _VERSION"), E("return getmetatable('').__index == string"),
            E("return {type(cjson), type(bit), type(cmsgpack), type(struct), type(coroutine)}"),
            E("return {type(string), type(math), type(table), type(_G), type(__redis__err__handler)}"),
            E("return {type(xpcall), type(unpack), type(select), type(gcinfo), type(collectgarbage)}"),
            E("return _G.redis == redis"), E("return rawget(_G, 'nosuch')"),
            E("return math.floor(2.5)"), E("return string.format('%d-%s', 7, 'x')"),
            E("return table.concat({'a', 'b'}, ',')"),
            E("local t = {3, 1, 2}; table.sort(t); return t"),
        ]),
        ("blocking streams refused in scripts", reset + [
            E("return redis.call('xread', 'block', '10', 'streams', 'xs', '0')"),
            E("return redis.pcall('XREAD', 'BLOCK', 'x', 'streams', 'xs', '$')"),
            E("return redis.pcall('xreadgroup', 'group', 'g', 'c', 'block', '0', 'streams', "
              "'xs', '>')"),
            E("redis.call('xadd', 'xs', '1-1', 'f', 'v'); "
              "return redis.call('xread', 'count', '1', 'streams', 'xs', '0')"),
        ]),
        ("cjson and bit", reset + [
            E("return cjson.encode({1, 2, 'x'})"), E("return cjson.encode({a=1})"),
            E("return cjson.decode('[1,2,3]')"), E("return cjson.decode('{\"a\":\"b\"}').a"),
            E("return cjson.encode(cjson.decode('[1.5,true,null,\"s\"]'))"),
            E("return cjson.decode('[1,')"),
            E("return bit.band(0xff, 0x0f)"), E("return bit.bor(1, 2)"), E("return bit.bxor(3, 1)"),
            E("return bit.lshift(1, 10)"), E("return bit.tohex(255)"), E("return bit.bnot(0)"),
        ]),
        ("cmsgpack and struct", reset + [
            E('return cmsgpack.pack(1, -1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649)'),
            E("return cmsgpack.pack(1.5, 0.1, -2.25, 1e300, true, false, nil, 'abc', string.rep('x', 40), string.rep('y', 300))"),
            E('return cmsgpack.pack({1, 2, 3}, {a=1}, {}, {1, {2, {3}}}, {[1]=1, [3]=3})'),
            E("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {1, 2}, true))}"),
            E("local t = cmsgpack.unpack(cmsgpack.pack({a={b={c='d'}}})) return t.a.b.c"),
            E('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}'),
            E('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}'),
            E('return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}'),
            E('return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}'),
            E('return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}'),
            E("return cmsgpack.unpack('\\xc1')"),
            E("return cmsgpack.unpack('\\xcd\\x01')"),
            E('return cmsgpack.pack()'),
            E("return cmsgpack.unpack_one('\\x01', 5)"),
            E("return cmsgpack.unpack_limit('\\x01', -1)"),
            E('return cmsgpack._VERSION'),
            E('local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)'),
            E('return cmsgpack.pack(math.huge, -math.huge)'),
            E("return struct.pack('>I2 <i4 b B h H', 1, -2, -3, 200, -4, 65535)"),
            E("return struct.pack('d f', 1.5, 2.25)"),
            E("return struct.pack('>d', 1.5)"),
            E("return struct.pack('s c3 c0', 'ab', 'xyz', 'hello')"),
            E("return struct.pack('!4 b i', 1, 2)"),
            E("return struct.pack('l L T', -1, 2, 3)"),
            E("return struct.pack('i16', -1)"),
            E("return {struct.unpack('>I2 <i4', struct.pack('>I2 <i4', 513, -7))}"),
            E("return {struct.unpack('s c3', struct.pack('s c3', 'ab', 'xyz'))}"),
            E("return {struct.unpack('b c0', struct.pack('b c0', 3, 'abc'))}"),
            E("return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}"),
            E("return {struct.unpack('B', 'AB', 2)}"),
            E("return struct.unpack('i4', 'ab')"),
            E("return struct.unpack('B', 'A', 0)"),
            E("return struct.size('>I2 <i4 b d')"),
            E("return struct.size('!8 b d')"),
            E("return struct.size('s')"),
            E("return struct.size('c0')"),
            E("return struct.pack('q', 1)"),
            E("return struct.pack('i33', 1)"),
            E("return struct.pack('!3 i', 1)"),
            E("return struct.pack('c5', 'ab')"),
            E("return struct.unpack('s', 'abc')"),
            E("return {struct.unpack('f d', struct.pack('f d', 0.5, -0.25))}"),
            E("return {struct.unpack('i16', struct.pack('i16', -5))}"),
        ]),
        ("shebang and read-only scripts", reset + [
            E("#!lua flags=no-writes\nreturn redis.call('set','a','1')"),
            E("#!lua flags=no-writes\nreturn redis.call('get','a')"),
            E("#!lua name=x\nreturn 1"), E("#!lua flags=bogus\nreturn 1"),
            E("#!luax\nreturn 1"), E("#!lua\nreturn 1"),
            E("#!lua  flags=no-writes,allow-oom\nreturn 1"),
            E("#!lua\nreturn redis.call('set','a','1')"),
            E("#!lua\nerror('line two')"),
            Cmd(("EVAL_RO", "return redis.call('set','a','b')", "0")),
            Cmd(("EVAL_RO", "return redis.call('get','a')", "0")),
            Cmd(("EVAL_RO", "#!lua\nreturn 1", "0")),
            Cmd(("EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0")),
        ]),
        ("numkeys and EVAL arguments", reset + [
            E("return 1", "-1"), E("return 1", "x"), E("return 1", "2", "a"),
            C("EVAL", "return 1"), C("EVALSHA", "fff", "0"),
        ]),
        ("SCRIPT and EVALSHA", reset + [
            C("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
            C("SCRIPT", "LOAD", "return 1"),
            C("EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
            C("EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"),
            C("EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
            C("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"),
            C("SCRIPT", "EXISTS"), C("SCRIPT", "LOAD", "return 1 +"), C("SCRIPT", "LOAD"),
            C("SCRIPT", "FLUSH", "x"), C("SCRIPT", "FLUSH", "sync", "x"),
            C("SCRIPT", "FLUSH", "ASYNC"),
            C("SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"),
            C("SCRIPT", "KILL"), C("SCRIPT", "foo"), C("SCRIPT", "HELP"),
            C("SCRIPT", "DEBUG", "no"), C("SCRIPT", "DEBUG", "foo"), C("SCRIPT", "DEBUG"),
            E("return 'cached'"),
            C("EVALSHA", "b0b9c7b9f6b7f3f0c2b8d8b1b9fbbd3b0e7d2c6e", "0"),
            C("SCRIPT", "FLUSH"),
        ]),
        ("FUNCTION and FCALL", reset + [
            C("FUNCTION", "LOAD", LIB), C("FUNCTION", "LOAD", LIB),
            C("FUNCTION", "LOAD", "REPLACE", LIB), C("FUNCTION", "LOAD", "bogus", LIB),
            C("FUNCTION", "LOAD", "REPLACE", "x", "y"), C("FUNCTION", "LOAD", "REPLACE", "REPLACE", LIB),
            C("FCALL", "echo", "-1"),
            C("FCALL", "echo", "0", "hello"), C("FCALL", "nofunc", "0"),
            C("FCALL", "echo", "x"), C("FCALL", "echo", "2", "a"), C("FCALL", "echo"),
            C("FCALL_RO", "echo", "0", "x"),
            C("FUNCTION", "LOAD", LIB_RO), C("FCALL_RO", "getter", "1", "k"),
            C("SET", "k", "v"), C("FCALL", "getter", "1", "k"),
            C("FUNCTION", "LOAD", LIB_W), C("FCALL", "setter", "1", "k2", "v2"), C("GET", "k2"),
            C("FCALL_RO", "setter", "1", "k2", "v3"),
            C("FUNCTION", "LIST", "LIBRARYNAME", "rolib"),
            C("FUNCTION", "LIST", "LIBRARYNAME", "rolib", "WITHCODE"),
            C("FUNCTION", "LIST", "LIBRARYNAME", "my*", "withcode"),
            C("FUNCTION", "LIST", "LIBRARYNAME", "zz"), C("FUNCTION", "LIST", "LIBRARYNAME"),
            C("FUNCTION", "LIST", "bogus"), C("FUNCTION", "LIST", "withcode", "withcode"),
            C("FUNCTION", "LOAD", LIB_ERR), C("FCALL", "boom", "0"),
            C("FUNCTION", "STATS"), C("FUNCTION", "STATS", "x"),
            C("FUNCTION", "DELETE", "nolib"), C("FUNCTION", "DELETE", "errlib"),
            C("FUNCTION", "DELETE"), C("FCALL", "boom", "0"),
            C("FUNCTION", "FLUSH", "bogus"), C("FUNCTION", "KILL"), C("FUNCTION", "bogus"),
            C("FUNCTION", "LOAD"), C("FUNCTION", "HELP"),
            C("FUNCTION", "LOAD", "return 1"), C("FUNCTION", "LOAD", "#!lua\nreturn 1"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nreturn 1"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.call('ping')"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function('f', 1)"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function('f f', function() end)"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function('echo', function() end)"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function('a', function() end)\n"
              "redis.register_function('a', function() end)"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nsyntax error here"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nerror('boom')"),
            C("FUNCTION", "LOAD", "#!lua name=bad flags=no-writes\nreturn 1"),
            C("FUNCTION", "LOAD", "#!lua name=b-a_d\nredis.register_function('f1', function() end)"),
            C("FUNCTION", "LOAD", "#!lux name=t1\nredis.register_function('a', function() end)"),
            C("FUNCTION", "LOAD", "#!lua name=t1 name=t2\nredis.register_function('a', function() end)"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function{function_name='x', "
              "callback=function() end, flags={'bogus'}}"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function{function_name='x', "
              "callback=function() end, bogus=1}"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function()"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function(1)"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function{callback=function() end}"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nredis.register_function{function_name='a'}"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nx = 1"),
            C("FUNCTION", "LOAD", "#!lua name=bad\nlocal x = KEYS"),
            C("FUNCTION", "FLUSH"), C("FUNCTION", "LIST"), C("FCALL", "echo", "0", "x"),
        ]),
    ]


# --- Seeded random scripts -------------------------------------------------------------------
# Scripts built from a small grammar: Lua values of every kind the conversions handle (numbers
# that truncate, overflow or are NaN, strings, booleans, nil holes, nested tables, ok/err/double/
# map/set tables with one key, so that no reply depends on Lua's hash order), redis.call and
# redis.pcall of string/hash/set commands on a few keys (their replies converted to Lua and back,
# errors caught or raised), setresp(3). Compared byte for byte like the corpus.

RKEYS = ["rk1", "rk2", "rk3"]
NUMBERS = ["0", "1", "-1", "3.7", "-3.7", "0.5", "1e15", "-1e15", "1e30", "2^53", "2^63",
           "-2^63", "0/0", "1/0", "-1/0", "9007199254740993", "123456789.987"]
STRINGS = ["''", "'a'", "'hello world'", "'\\r\\n'", "'x\\0y'", "string.rep('z', 40)"]


def _value(rng, depth):
    kind = rng.randrange(12 if depth < 3 else 6)
    if kind == 0:
        return rng.choice(NUMBERS)
    if kind == 1:
        return rng.choice(STRINGS)
    if kind == 2:
        return rng.choice(["true", "false"])
    if kind == 3:
        return "nil"
    if kind == 4:
        return _call(rng)
    if kind == 5:
        return "tostring(%s)" % rng.choice(NUMBERS)
    if kind == 6:
        return "{ok=%s}" % rng.choice(STRINGS)
    if kind == 7:
        return "{err=%s}" % rng.choice(["'ERR bad'", "'X y'", "'plain'", "''"])
    if kind == 8:
        return "{double=%s}" % rng.choice(NUMBERS)
    if kind == 9:
        return "{%s={k=%s}}" % (rng.choice(["map", "set"]), _value(rng, depth + 1))
    n = rng.randrange(0, 5)
    return "{" + ", ".join(_value(rng, depth + 1) for _ in range(n)) + "}"


def _call(rng):
    fn = rng.choice(["redis.call", "redis.pcall", "redis.pcall"])
    k = "'%s'" % rng.choice(RKEYS)
    args = rng.choice([
        ["'set'", k, rng.choice(STRINGS + NUMBERS[:6])], ["'get'", k], ["'incr'", k],
        ["'incrbyfloat'", k, rng.choice(["'1.5'", "'-0.25'", "'abc'"])], ["'del'", k],
        ["'hset'", k, "'f'", rng.choice(STRINGS)], ["'hget'", k, "'f'"], ["'hgetall'", k],
        ["'sadd'", k, "'m'"], ["'smembers'", k], ["'exists'", k], ["'type'", k],
        ["'strlen'", k], ["'append'", k, "'x'"], ["'mget'", k, "'nokey'"], ["'ping'"],
        ["'nosuch'"], ["'get'"], ["'set'", k, "'v'", "'bogus'"],
    ])
    return "%s(%s)" % (fn, ", ".join(args))


def random_script(rng):
    lines = []
    if rng.random() < 0.3:
        lines.append("redis.setresp(3)")
    for _ in range(rng.randrange(0, 3)):
        lines.append("local _ = %s" % _call(rng))
    if rng.random() < 0.1:
        lines.append("error(%s)" % rng.choice(["'boom'", "{err='E x'}", "12"]))
    lines.append("return %s" % _value(rng, 0))
    return "\n".join(lines)


def random_script_groups(seed, groups=20, per_group=40):
    import random
    rng = random.Random(seed)
    out = []
    for g in range(groups):
        out.append(("random scripts %d (seed %d)" % (g, seed),
                    [C("SCRIPT", "FLUSH")] + [E(random_script(rng)) for _ in range(per_group)]))
    return out
