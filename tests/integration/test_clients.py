#!/usr/bin/python3
"""Acceptance with real client libraries against real activekv regions (issue 10).

Three regions (test_replication.Cluster) are started once for the module. Then:
  - redis-py (Debian's python3-redis), in this process: RedisPyTest;
  - ioredis, node-redis v4 (RESP2), node-redis v5 (RESP3, npm alias `redis5`) and redlock, as
    `node tests/clients/<suite>.js HOST:PORT...` subprocesses (NodeClientsTest); their output
    is printed, and a non-zero exit fails the test.
    The npm packages are pinned by tests/clients/package-lock.json and installed by
    `make node-deps` (`npm ci --prefix tests/clients`), which `make test` runs first.
What each suite covers: tests/integration/README.md and tests/clients/*_suite.js.

  /usr/bin/python3 test_clients.py [--target redis]    env: AKV_BIN_DIR, AKV_CLIENT_CASE
With --target redis one redis-server stands for all three regions (the suites' own check).
"""

import os
import sys
import threading
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402
from akv import wait_for  # noqa: E402
from test_replication import Cluster  # noqa: E402

NODE_PACKAGES = ("ioredis", "redis", "redis5", "redlock")
NODE_TIMEOUT = 90  # seconds for one suite; each runs in a few seconds

_SETUP = {}  # "addrs": ["127.0.0.1:port", ...] (3 regions), "cluster": Cluster or None


class _ModuleScope:
    """What Cluster needs from a TestCase, for a cluster that lives as long as the module."""

    def addCleanup(self, fn, *args):
        unittest.addModuleCleanup(fn, *args)

    def fail(self, msg):
        raise AssertionError(msg)


def setUpModule():
    if akv.target_kind() == "redis":
        server = akv.RedisServer(akv.new_workdir("redis"))
        unittest.addModuleCleanup(server.kill9)
        server.start()
        _SETUP["addrs"] = ["%s:%d" % (akv.HOST, server.port)] * 3
        _SETUP["cluster"] = None
        return
    cluster = Cluster(_ModuleScope(), 3)
    _SETUP["cluster"] = cluster
    _SETUP["addrs"] = ["%s:%d" % (akv.HOST, cluster.regions[n].port) for n in cluster.names]


def addrs():
    return _SETUP["addrs"]


def port(i=0):
    return int(addrs()[i].rsplit(":", 1)[1])


def wait_sync():
    """Every region holds every op and the digests are equal (no-op against redis-server)."""
    if _SETUP["cluster"] is not None:
        _SETUP["cluster"].wait_sync()


# ---------------------------------------------------------------------------------------------
# redis-py (python3-redis; Debian 12 ships 4.3.4, which speaks RESP2 only: RESP3 came in 5.0)
# ---------------------------------------------------------------------------------------------


class RedisPyTest(unittest.TestCase):

    def client(self, region=0, **kwargs):
        import redis
        kwargs.setdefault("decode_responses", True)
        r = redis.Redis(host=akv.HOST, port=port(region), socket_timeout=30, **kwargs)
        self.addCleanup(r.close)
        return r

    def wait_blocked(self, r, n=1):
        wait_for(self, "a blocked client", lambda: r.info("clients")["blocked_clients"] >= n)

    def test_strings_and_counters(self):
        r = self.client()
        self.assertTrue(r.set("py:s", "hello"))
        self.assertEqual(r.get("py:s"), "hello")
        self.assertEqual(r.append("py:s", " world"), 11)
        self.assertIsNone(r.set("py:s", "x", nx=True))
        self.assertEqual(r.set("py:s", "v2", get=True), "hello world")
        self.assertTrue(r.mset({"py:m1": "a", "py:m2": "b"}))
        self.assertEqual(r.mget("py:m1", "py:m2", "py:missing"), ["a", "b", None])
        self.assertEqual(r.incr("py:n"), 1)
        self.assertEqual(r.incrby("py:n", 41), 42)
        self.assertEqual(r.decr("py:n"), 41)
        self.assertEqual(r.incrbyfloat("py:n", 1.5), 42.5)
        self.assertEqual(r.get("py:n"), "42.5")
        import redis
        with self.assertRaisesRegex(redis.ResponseError, "value is not an integer"):
            r.incr("py:s")
        self.assertEqual(r.getdel("py:m1"), "a")
        self.assertEqual(r.exists("py:m1", "py:m2"), 1)
        self.assertEqual(self.client(decode_responses=False).get("py:m2"), b"b")

    def test_hashes(self):
        r = self.client()
        self.assertEqual(r.hset("py:h", mapping={"name": "ada", "lang": "py", "n": "1"}), 3)
        self.assertEqual(r.hgetall("py:h"), {"name": "ada", "lang": "py", "n": "1"})
        self.assertEqual(r.hincrby("py:h", "n", 9), 10)
        self.assertEqual(r.hincrbyfloat("py:h", "n", 0.5), 10.5)
        self.assertEqual(r.hmget("py:h", "name", "nope"), ["ada", None])
        self.assertEqual(r.hdel("py:h", "lang", "nope"), 1)
        self.assertFalse(r.hexists("py:h", "lang"))
        self.assertEqual(r.hlen("py:h"), 2)
        self.assertEqual(r.hgetall("py:none"), {})

    def test_sets(self):
        r = self.client()
        self.assertEqual(r.sadd("py:set", "a", "b", "c", "a"), 3)
        self.assertEqual(r.smembers("py:set"), {"a", "b", "c"})
        self.assertTrue(r.sismember("py:set", "b"))
        self.assertEqual(r.smismember("py:set", ["a", "z"]), [1, 0])
        self.assertEqual(r.srem("py:set", "b", "z"), 1)
        r.sadd("py:set2", "c", "d")
        self.assertEqual(r.sinter("py:set", "py:set2"), {"c"})
        self.assertEqual(r.sunion("py:set", "py:set2"), {"a", "c", "d"})

    def test_sorted_sets(self):
        r = self.client()
        self.assertEqual(r.zadd("py:z", {"a": 1, "b": 2, "c": 3}), 3)
        self.assertEqual(r.zrange("py:z", 0, -1, withscores=True),
                         [("a", 1.0), ("b", 2.0), ("c", 3.0)])
        self.assertEqual(r.zincrby("py:z", 2.5, "a"), 3.5)
        self.assertEqual(r.zrange("py:z", 0, -1), ["b", "c", "a"])
        self.assertEqual(r.zrevrange("py:z", 0, 0, withscores=True), [("a", 3.5)])
        self.assertEqual(r.zrangebyscore("py:z", "(2", "+inf"), ["c", "a"])
        self.assertEqual(r.zscore("py:z", "c"), 3.0)
        self.assertEqual(r.zrank("py:z", "a"), 2)
        self.assertEqual(r.zpopmin("py:z"), [("b", 2.0)])
        self.assertEqual(r.zadd("py:z", {"c": 7}, xx=True, ch=True), 1)
        self.assertEqual(r.zrange("py:z", 0, -1, withscores=True), [("a", 3.5), ("c", 7.0)])

    def test_lists(self):
        r = self.client()
        self.assertEqual(r.rpush("py:l", "b", "c"), 2)
        self.assertEqual(r.lpush("py:l", "a"), 3)
        self.assertEqual(r.rpush("py:l", "b"), 4)
        self.assertEqual(r.lrange("py:l", 0, -1), ["a", "b", "c", "b"])
        self.assertEqual(r.lpos("py:l", "b"), 1)
        self.assertEqual(r.lpos("py:l", "b", count=0), [1, 3])
        self.assertEqual(r.lpos("py:l", "b", rank=-1), 3)
        self.assertIsNone(r.lpos("py:l", "zz"))
        self.assertEqual(r.lmove("py:l", "py:l2", "LEFT", "RIGHT"), "a")
        self.assertEqual(r.lrange("py:l2", 0, -1), ["a"])
        self.assertEqual(r.lpop("py:l"), "b")
        self.assertEqual(r.lpop("py:l", 2), ["c", "b"])
        self.assertEqual(r.exists("py:l"), 0)

    def test_expiry(self):
        r = self.client()
        self.assertTrue(r.set("py:e", "v", ex=100))
        self.assertTrue(90 < r.ttl("py:e") <= 100)
        self.assertTrue(r.persist("py:e"))
        self.assertEqual(r.ttl("py:e"), -1)
        self.assertTrue(r.pexpire("py:e", 50))
        wait_for(self, "py:e to expire", lambda: r.get("py:e") is None, timeout=5)
        self.assertEqual(r.exists("py:e"), 0)
        self.assertTrue(r.set("py:e2", "v", px=60000))
        self.assertTrue(55000 < r.pttl("py:e2") <= 60000)

    def test_pipeline(self):
        import redis
        r = self.client()
        p = r.pipeline(transaction=False)
        p.set("py:p", 5).incr("py:p").get("py:p").hset("py:p", "f", "v").rpush("py:pl", "x")
        res = p.execute(raise_on_error=False)
        self.assertEqual(res[:3], [True, 6, "6"])
        self.assertIsInstance(res[3], redis.ResponseError)
        self.assertTrue(str(res[3]).startswith("WRONGTYPE"), res[3])
        self.assertEqual(res[4], 1)
        p = r.pipeline(transaction=False)
        for _ in range(500):
            p.incr("py:pn")
        self.assertEqual(p.execute(), list(range(1, 501)))

    def test_multi_exec(self):
        import redis
        r = self.client()
        p = r.pipeline()  # transaction=True: MULTI ... EXEC
        self.assertEqual(p.set("py:t", 1).incrby("py:t", 9).get("py:t").execute(),
                         [True, 10, "10"])
        p = r.pipeline()
        p.incr("py:t").lpush("py:t", "x").incr("py:t")
        res = p.execute(raise_on_error=False)
        self.assertEqual(res[0], 11)
        self.assertTrue(str(res[1]).startswith("WRONGTYPE"), res[1])
        self.assertEqual(res[2], 12)
        p = r.pipeline()
        p.set("py:t", 99)
        p.execute_command("NOSUCHCOMMAND")
        with self.assertRaises(redis.ResponseError) as cm:
            p.execute()
        # redis-py reports the queueing error (the reason of the EXECABORT that followed).
        self.assertIn("unknown command 'NOSUCHCOMMAND'", str(cm.exception))
        self.assertEqual(r.get("py:t"), "12")

    def test_watch_conflict_raises_watch_error_and_transaction_retries(self):
        import redis
        r = self.client()
        other = self.client()
        r.set("py:w", "start")
        with r.pipeline() as p:
            p.watch("py:w")
            self.assertEqual(p.get("py:w"), "start")  # immediate mode after WATCH
            other.set("py:w", "theirs")
            p.multi()
            p.set("py:w", "mine")
            with self.assertRaises(redis.WatchError):
                p.execute()
        self.assertEqual(r.get("py:w"), "theirs")
        # r.transaction() retries on WatchError: the first attempt loses to another writer.
        attempts = []
        r.set("py:wc", 10)

        def add_one(pipe):
            v = int(pipe.get("py:wc"))
            attempts.append(v)
            if len(attempts) == 1:
                other.incr("py:wc")
            pipe.multi()
            pipe.set("py:wc", v + 1)

        r.transaction(add_one, "py:wc")
        self.assertEqual(attempts, [10, 11])
        self.assertEqual(r.get("py:wc"), "12")

    def test_eval_evalsha_noscript_and_script_objects(self):
        import redis
        r = self.client()
        body = ("redis.call('set', KEYS[1], ARGV[1]) "
                "return {redis.call('incr', KEYS[2]), ARGV[1]}")
        self.assertEqual(r.eval(body, 2, "py:ev", "py:evn", "val"), [1, "val"])
        sha = r.script_load(body)
        self.assertRegex(sha, "^[0-9a-f]{40}$")
        self.assertEqual(r.script_exists(sha), [True])
        self.assertEqual(r.evalsha(sha, 2, "py:ev", "py:evn", "w"), [2, "w"])
        self.assertTrue(r.script_flush())
        self.assertEqual(r.script_exists(sha), [False])
        with self.assertRaises(redis.exceptions.NoScriptError):
            r.evalsha(sha, 2, "py:ev", "py:evn", "w")
        # A Script object: EVALSHA, and on NOSCRIPT it loads the script and retries.
        add = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
        self.assertEqual(add(keys=["py:def"], args=[5]), 5)
        r.script_flush()
        self.assertEqual(add(keys=["py:def"], args=[5]), 10)
        # In a pipeline redis-py checks SCRIPT EXISTS and loads what is missing first.
        r.script_flush()
        p = r.pipeline()
        add(keys=["py:def"], args=[1], client=p)
        p.get("py:def")
        self.assertEqual(p.execute(), [11, "11"])
        with self.assertRaises(redis.ResponseError):
            r.eval("return redis.call('nosuch')", 0)

    def _in_thread(self, fn):
        out = {}

        def run():
            try:
                out["value"] = fn()
            except Exception as e:  # reported by the caller
                out["error"] = e

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.addCleanup(t.join, 5)

        def result():
            t.join(30)
            self.assertFalse(t.is_alive(), "the blocked call never returned")
            if "error" in out:
                raise out["error"]
            return out["value"]
        return result

    def test_blocking_pops_woken_by_another_connection(self):
        waiter, pusher = self.client(), self.client()
        got = self._in_thread(lambda: waiter.blpop("py:bq", timeout=10))
        self.wait_blocked(pusher)
        pusher.rpush("py:bq", "first")
        self.assertEqual(got(), ("py:bq", "first"))
        got = self._in_thread(lambda: waiter.brpop(["py:bq2", "py:bq3"], timeout=10))
        self.wait_blocked(pusher)
        pusher.rpush("py:bq3", "a", "b")
        self.assertEqual(got(), ("py:bq3", "b"))
        got = self._in_thread(lambda: waiter.blmove("py:bsrc", "py:bdst", 10, "LEFT", "RIGHT"))
        self.wait_blocked(pusher)
        pusher.lpush("py:bsrc", "moved")
        self.assertEqual(got(), "moved")
        self.assertEqual(pusher.lrange("py:bdst", 0, -1), ["moved"])
        self.assertIsNone(waiter.blpop("py:never", timeout=0.05))

    def test_blocking_pop_woken_by_a_push_in_another_region(self):
        waiter, local = self.client(0), self.client(0)
        remote = self.client(1)
        got = self._in_thread(lambda: waiter.blpop("py:xq", timeout=20))
        self.wait_blocked(local)
        self.assertEqual(remote.rpush("py:xq", "from-r1"), 1)
        self.assertEqual(got(), ("py:xq", "from-r1"))
        # And a third region's BLMOVE woken by a push made in the first.
        w2, admin2 = self.client(2), self.client(2)
        got = self._in_thread(lambda: w2.blmove("py:xs", "py:xd", 20, "RIGHT", "LEFT"))
        self.wait_blocked(admin2)
        local.rpush("py:xs", "to-r2")
        self.assertEqual(got(), "to-r2")
        wait_sync()
        self.assertEqual(self.client(1).lrange("py:xd", 0, -1), ["to-r2"])

    def test_scan_iterators(self):
        r = self.client()
        p = r.pipeline(transaction=False)
        fields = {}
        for i in range(300):
            p.set("py:scan:%d" % i, i)
            fields["f%d" % i] = str(i)
            p.sadd("py:sscan", "m%d" % i)
            p.zadd("py:zscan", {"z%d" % i: i})
        p.hset("py:hscan", mapping=fields)
        p.execute()
        cursor, first = r.scan(0, match="py:scan:*", count=50)
        self.assertNotEqual(cursor, 0, "one SCAN call returned everything: no cursor to follow")
        self.assertEqual(set(r.scan_iter(match="py:scan:*", count=50)),
                         {"py:scan:%d" % i for i in range(300)})
        self.assertEqual(dict(r.hscan_iter("py:hscan", count=40)), fields)
        self.assertEqual(set(r.sscan_iter("py:sscan", count=40)), {"m%d" % i for i in range(300)})
        zs = dict(r.zscan_iter("py:zscan", count=40))
        self.assertEqual(len(zs), 300)
        self.assertEqual(zs["z123"], 123.0)
        self.assertEqual(list(r.scan_iter(match="py:*scan", count=1000, _type="zset")),
                         ["py:zscan"])

    def test_select_another_db(self):
        d1 = self.client(db=1)
        d0 = self.client()
        self.assertTrue(d1.set("py:db", "one"))
        self.assertIsNone(d0.get("py:db"))
        self.assertEqual(self.client(db=1).get("py:db"), "one")
        # The database travels to the other regions too.
        wait_sync()
        self.assertEqual(self.client(2, db=1).get("py:db"), "one")
        self.assertIsNone(self.client(2).get("py:db"))


# ---------------------------------------------------------------------------------------------
# Node.js clients
# ---------------------------------------------------------------------------------------------


class NodeClientsTest(unittest.TestCase):

    def run_suite(self, suite, addresses):
        akv.run_node_suite(self, suite, addresses, NODE_PACKAGES, NODE_TIMEOUT)
        wait_sync()

    def test_ioredis(self):
        self.run_suite("ioredis_suite.js", addrs())

    def test_node_redis(self):
        self.run_suite("node_redis_suite.js", addrs())

    def test_node_redis_v5_resp3(self):
        self.run_suite("resp3_suite.js", addrs())

    def test_redlock(self):
        self.run_suite("redlock_suite.js", addrs()[:1])


if __name__ == "__main__":
    akv.run_tests()
