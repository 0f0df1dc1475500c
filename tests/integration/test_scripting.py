#!/usr/bin/python3
"""Scripting with real processes (docs/scripting.md): a script's writes are one unit in every
region; function libraries replicate and survive restart, AOF rewrite and a full resync; -BUSY
and SCRIPT KILL past busy-reply-threshold; hostile scripts get errors and the region keeps
serving; redis-py's Lock (its Lua scripts) gives mutual exclusion.

  /usr/bin/python3 test_scripting.py     env: AKV_SEED
"""

import random
import sys
import threading

sys.dont_write_bytecode = True
import akv  # noqa: E402
from akv import wait_for  # noqa: E402
from test_replication import Cluster  # noqa: E402

SEED = None
NKEYS = 1000

# Writes every key su:0 .. su:<n-1> with the round number ARGV[1].
WRITE_ALL = ("for i = 0, tonumber(ARGV[2]) - 1 do "
             "redis.call('set', 'su:' .. i, ARGV[1]) end return 'done'")
LIB = ("#!lua name=replib\n"
       "redis.register_function('rep_echo', function(keys, args) return 'v1:' .. args[1] end)\n"
       "redis.register_function{function_name='rep_get', callback=function(keys, args) "
       "return redis.call('get', keys[1]) end, flags={'no-writes'}}")
LIB2 = LIB.replace("v1:", "v2:")


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


class ScriptUnitsTest(akv.ServerTestCase):

    def test_a_1000_write_script_is_never_half_visible_in_a_peer(self):
        cluster = Cluster(self, 2)
        writer = cluster.client("r0")
        reader = cluster.client("r1")
        rng = random.Random(SEED)
        keys = ["su:%d" % i for i in range(NKEYS)]
        stop = threading.Event()
        seen = set()
        problems = []

        def read():
            while not stop.is_set():
                sample = keys if rng.random() < 0.5 else rng.sample(keys, 40)
                values = reader.call("MGET", *sample).value
                rounds = set(values)
                if len(rounds) != 1:
                    problems.append(sorted(str(r) for r in rounds)[:5])
                    return
                seen.update(rounds)

        t = threading.Thread(target=read, daemon=True)
        t.start()
        try:
            for rnd in range(1, 21):
                r = writer.call("EVAL", WRITE_ALL, "0", str(rnd), str(NKEYS))
                self.assertEqual(r.raw, b"$4\r\ndone\r\n")
                if rnd % 5 == 0:
                    wait_for(self, "round %d in r1" % rnd,
                             lambda: str(rnd).encode() in seen or problems)
        finally:
            stop.set()
            t.join(10)
        self.assertEqual(problems, [], "seed %d: a reader saw a script half applied" % SEED)
        self.assertGreater(len(seen), 2, "the reader never raced with a script")
        cluster.wait_sync()


class FunctionReplicationTest(akv.ServerTestCase):

    def fcall(self, cluster, region, *args):
        with cluster.regions[region].client() as c:
            return c.call("FCALL", *args).raw

    def test_libraries_replicate_and_survive_restart_rewrite_and_resync(self):
        cluster = Cluster(self, 3)
        a = cluster.client("r0")
        self.assertEqual(a.call("FUNCTION", "LOAD", LIB).raw, b"$6\r\nreplib\r\n")
        cluster.wait_sync()
        for region in ("r1", "r2"):
            self.assertEqual(self.fcall(cluster, region, "rep_echo", "0", "x"),
                             b"$4\r\nv1:x\r\n", region)
        # A replacement in r1 reaches r0 and r2.
        with cluster.regions["r1"].client() as c:
            self.assertEqual(c.call("FUNCTION", "LOAD", "REPLACE", LIB2).raw,
                             b"$6\r\nreplib\r\n")
        cluster.wait_sync()
        for region in ("r0", "r2"):
            self.assertEqual(self.fcall(cluster, region, "rep_echo", "0", "x"),
                             b"$4\r\nv2:x\r\n", region)
        # Restart (AOF replay).
        cluster.regions["r2"].restart()
        cluster.wait_sync()
        self.assertEqual(self.fcall(cluster, "r2", "rep_echo", "0", "y"), b"$4\r\nv2:y\r\n")
        # AOF rewrite, then restart: the snapshot carries the library.
        with cluster.regions["r2"].client() as c:
            c.call("BGREWRITEAOF")
            wait_for(self, "the rewrite",
                     lambda: akv.info_fields(c, "persistence").get(
                         "aof_rewrite_in_progress") == "0")
        cluster.regions["r2"].restart()
        cluster.wait_sync()
        self.assertEqual(self.fcall(cluster, "r2", "rep_echo", "0", "z"), b"$4\r\nv2:z\r\n")
        # Delete replicates.
        a.call("FUNCTION", "DELETE", "replib")
        cluster.wait_sync()
        for region in ("r1", "r2"):
            self.assertEqual(self.fcall(cluster, region, "rep_echo", "0", "x"),
                             b"-ERR Function not found\r\n", region)

    def test_library_reaches_a_region_through_a_full_resync(self):
        # A replication log shorter than what r1 misses: r1 gets the state (snapshot) instead.
        cluster = Cluster(self, 2, extra_args=["--replication-log-ops", "100"])
        cluster.regions["r1"].kill9()
        a = cluster.client("r0")
        self.assertEqual(a.call("FUNCTION", "LOAD", LIB).raw, b"$6\r\nreplib\r\n")
        args = ["MSET"]
        for i in range(300):
            args += ["fill:%d" % i, "x"]
        a.call(*args)
        cluster.regions["r1"].start()
        cluster.wait_sync()
        self.assertEqual(self.fcall(cluster, "r1", "rep_echo", "0", "q"), b"$4\r\nv1:q\r\n")


class BusyTest(akv.ServerTestCase):

    def test_busy_then_script_kill_and_the_region_keeps_serving(self):
        server = self.start_target()
        with server.client() as admin:
            self.assertEqual(admin.call("CONFIG", "SET", "busy-reply-threshold", "100").raw,
                             b"+OK\r\n")
            self.assertEqual(admin.call("CONFIG", "GET", "lua-time-limit").value,
                             [b"lua-time-limit", b"100"])
        looper = server.client()
        self.addCleanup(looper.close)
        # Its own redis.call keeps working while other clients get -BUSY. A command pipelined
        # behind the script on the same connection runs after it, in order.
        looper.send_raw(akv.encode_command(["EVAL", "local i = 0 while true do i = i + 1 "
                                            "if i % 1000 == 0 then redis.call('get', 'x') end "
                                            "end", "0"]) +
                        akv.encode_command(["SET", "after", "1"]))
        other = server.client()
        self.addCleanup(other.close)
        busy = wait_for(self, "-BUSY", lambda: (
            lambda r: r if r.raw.startswith(b"-BUSY") else None)(other.call("PING")))
        self.assertEqual(busy.raw, b"-BUSY Redis is busy running a script. You can only call "
                                   b"SCRIPT KILL or SHUTDOWN NOSAVE.\r\n")
        # A client that connects while the script is busy is served too.
        with server.client() as late:
            self.assertTrue(late.call("GET", "x").raw.startswith(b"-BUSY"))
            self.assertTrue(late.call("FUNCTION", "KILL").raw.startswith(b"-BUSY"))
        self.assertEqual(other.call("SCRIPT", "KILL").raw, b"+OK\r\n")
        r = looper.read_reply()
        self.assertTrue(r.raw.startswith(b"-ERR Script killed by user with SCRIPT KILL..."),
                        r.raw)
        self.assertEqual(looper.read_reply().raw, b"+OK\r\n")
        self.assertEqual(other.call("GET", "after").raw, b"$1\r\n1\r\n")
        self.assertEqual(other.call("PING").raw, b"+PONG\r\n")
        self.assertEqual(looper.call("PING").raw, b"+PONG\r\n")
        self.assertEqual(other.call("SCRIPT", "KILL").raw,
                         b"-NOTBUSY No scripts in execution right now.\r\n")

    def test_a_script_that_wrote_is_unkillable_and_its_unit_stays_whole(self):
        server = self.start_target()
        with server.client() as admin:
            admin.call("CONFIG", "SET", "busy-reply-threshold", "100")
        # Writes, then runs for 1.5 s of wall time (TIME reads the clock), then writes again.
        body = ("redis.call('set', 'uk1', 'a') local t0 = redis.call('time') local i = 0 "
                "while true do i = i + 1 if i % 10000 == 0 then local t = redis.call('time') "
                "if (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 1500000 then break end end end "
                "redis.call('set', 'uk2', 'b') return 'finished'")
        looper = server.client()
        self.addCleanup(looper.close)
        looper.send_command("EVAL", body, "0")
        other = server.client()
        self.addCleanup(other.close)
        wait_for(self, "-BUSY", lambda: other.call("GET", "uk1").raw.startswith(b"-BUSY"))
        self.assertEqual(other.call("SCRIPT", "KILL").raw,
                         b"-UNKILLABLE Sorry the script already executed write commands against "
                         b"the dataset. You can either wait the script termination or kill the "
                         b"server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
        self.assertEqual(looper.read_reply().raw, b"$8\r\nfinished\r\n")
        self.assertEqual(other.call("MGET", "uk1", "uk2").raw,
                         b"*2\r\n$1\r\na\r\n$1\r\nb\r\n")

    def test_a_busy_function_is_killed_with_function_kill(self):
        server = self.start_target()
        with server.client() as admin:
            admin.call("CONFIG", "SET", "busy-reply-threshold", "100")
            self.assertEqual(admin.call(
                "FUNCTION", "LOAD",
                "#!lua name=spin\nredis.register_function{function_name='spin', callback="
                "function() while true do end end, flags={'no-writes'}}").raw, b"$4\r\nspin\r\n")
        looper = server.client()
        self.addCleanup(looper.close)
        looper.send_command("FCALL", "spin", "0")
        other = server.client()
        self.addCleanup(other.close)
        wait_for(self, "-BUSY", lambda: other.call("PING").raw.startswith(b"-BUSY"))
        self.assertEqual(other.call("SCRIPT", "KILL").raw, b"-BUSY Redis is busy running a "
                         b"script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n")
        stats = other.call("FUNCTION", "STATS").value
        self.assertEqual(stats[1][1], b"spin", stats)
        self.assertEqual(other.call("FUNCTION", "KILL").raw, b"+OK\r\n")
        self.assertTrue(looper.read_reply().raw.startswith(b"-ERR Script killed by user"))
        self.assertEqual(other.call("PING").raw, b"+PONG\r\n")


class HostileScriptsTest(akv.ServerTestCase):

    def test_hostile_scripts_get_errors_and_the_server_keeps_serving(self):
        server = self.start_target()
        with server.client() as c:
            r = c.call("EVAL", "return os.execute('touch /tmp/pwned')", "0")
            self.assertIn(b"nonexistent global variable 'os'", r.raw)
            r = c.call("EVAL", "return io.open('/etc/passwd')", "0")
            self.assertIn(b"nonexistent global variable 'io'", r.raw)
            r = c.call("EVAL", "return loadfile('/etc/passwd')", "0")
            self.assertIn(b"nonexistent global variable 'loadfile'", r.raw)
            r = c.call("EVAL", "return require('os')", "0")
            self.assertIn(b"nonexistent global variable 'require'", r.raw)
            # Endless allocation: the Lua memory cap ends it.
            # A low cap keeps the test quick: 64 MiB.
            self.assertEqual(c.call("CONFIG", "SET", "lua-memory-limit", str(64 << 20)).raw,
                             b"+OK\r\n")
            # (Strings of distinct lengths: Lua 5.1 hashes long strings by sampling, so equal-length
            # strings differing only near their end would make interning quadratic.)
            r = c.call("EVAL", "local t = {} local s = string.rep('x', 2097152) "
                       "for i = 1, 100000 do t[i] = s:sub(i) end return #t", "0")
            self.assertTrue(r.raw.startswith(b"-ERR Error running script"), r.raw)
            self.assertIn(b"not enough memory", r.raw)
            self.assertEqual(c.call("EVAL", "return 'still here'", "0").raw,
                             b"$10\r\nstill here\r\n")
            # Deep recursion.
            r = c.call("EVAL", "local function f(n) return f(n + 1) + 1 end return f(1)", "0")
            self.assertTrue(r.raw.startswith(b"-ERR"), r.raw)
            self.assertEqual(c.call("SET", "a", "1").raw, b"+OK\r\n")
            self.assertEqual(c.call("PING").raw, b"+PONG\r\n")


class RedisPyLockTest(akv.ServerTestCase):

    def test_redis_py_lock_gives_mutual_exclusion(self):
        import redis
        server = self.start_target()
        pool = redis.ConnectionPool(host="127.0.0.1", port=server.port)
        inside = []
        overlap = []
        counter = {"n": 0}

        def worker(i):
            r = redis.Redis(connection_pool=pool)
            for _ in range(20):
                lock = r.lock("akv-lock", timeout=10, blocking_timeout=30, sleep=0.001)
                self.assertTrue(lock.acquire())
                try:
                    inside.append(i)
                    if len(inside) > 1:
                        overlap.append(list(inside))
                    n = int(r.get("counter") or 0)
                    r.set("counter", n + 1)
                    counter["n"] += 1
                    inside.remove(i)
                    lock.extend(5)
                finally:
                    lock.release()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertEqual(overlap, [])
        r = redis.Redis(connection_pool=pool)
        self.assertEqual(int(r.get("counter")), 120)
        self.assertIsNone(r.get("akv-lock"))
        # Releasing a lock that is not held fails as redis-py expects.
        lock = r.lock("other", timeout=5)
        self.assertTrue(lock.acquire(blocking=False))
        r.delete("other")
        with self.assertRaises(redis.exceptions.LockNotOwnedError):
            lock.release()


if __name__ == "__main__":
    akv.run_tests()
