#!/usr/bin/python3
"""Numbered databases (SELECT 0..15) across three real regions (docs/crdt-semantics.md,
"Databases").

- A write in db 3 of one region is read in db 3 of the others, and not in db 0.
- SWAPDB in one region concurrent with SETs in another (both held with CRDT.SYNC PAUSE, so neither
  has seen the other's op): after RESUME every region has the same digest and the same content of
  every database; a key follows the namespace it was written into (a SET into db 0 concurrent with
  SWAPDB 0 1 ends in db 1). Concurrent SWAPDB 0 1 in two regions swap once, not twice.
- MOVE concurrent with a write of the same key elsewhere: the moved value is in the target db,
  the unobserved write stays in the source db, everywhere.
- FLUSHDB flushes one database everywhere; the others keep their keys.
- kill -9 and restart of a region, then of all three at once (AOF replay only): every database,
  the SWAPDB mapping and the digest are as before, and the regions converge again.
- A seeded random run (SET, INCRBY, SADD, ZINCRBY, DEL, MOVE, SWAPDB, COPY ... DB, FLUSHDB in databases
  0-3 of three regions, with partitions made by CRDT.SYNC PAUSE): every region ends with the same
  digest and the same content of every database.
- redis-py (Debian python3-redis) with db=2 works end to end, across regions.

  /usr/bin/python3 test_databases.py     env: AKV_SEED
"""

import contextlib
import random
import sys

sys.dont_write_bytecode = True
import akv  # noqa: E402
from test_replication import Cluster  # noqa: E402

DBS = range(16)
SEED = None


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


class DatabasesTest(akv.ServerTestCase):

    def setUp(self):
        self.cluster = Cluster(self, 3)
        self.names = self.cluster.names

    def db(self, name, db):
        """A connection to region `name` with database `db` selected."""
        c = self.cluster.client(name)
        self.assertEqual(c.call("SELECT", str(db)).raw, b"+OK\r\n")
        return c

    def ok(self, c, *args):
        r = c.call(*args)
        self.assertNotIsInstance(r.value, akv.Err, "%s: %r" % (akv.fmt_cmd(args), r.raw))
        return r.value

    @contextlib.contextmanager
    def concurrently(self, *names):
        """Replication of these regions is held while the block writes (CRDT.SYNC PAUSE)."""
        held = [self.cluster.client(n) for n in names]
        for c in held:
            self.assertEqual(c.call("CRDT.SYNC", "PAUSE").raw, b"+OK\r\n")
        try:
            yield
        finally:
            for c in held:
                self.assertEqual(c.call("CRDT.SYNC", "RESUME").raw, b"+OK\r\n")

    def contents(self, name):
        """{db: {key: value}} of every non-empty database of a region."""
        c = self.cluster.client(name)
        out = {}
        for db in DBS:
            self.ok(c, "SELECT", str(db))
            keys = sorted(self.ok(c, "KEYS", "*"))
            if keys:
                out[db] = {k: self._value(c, k) for k in keys}
        c.close()
        return out

    @staticmethod
    def _value(c, k):
        """A key's value read with its type's command (strings: the value itself)."""
        t = bytes(c.call("TYPE", k).value)
        if t == b"string":
            return c.call("GET", k).value
        if t == b"set":
            return sorted(c.call("SMEMBERS", k).value)
        if t == b"hash":
            return sorted(c.call("HGETALL", k).value)
        if t == b"zset":
            return c.call("ZRANGE", k, "0", "-1", "WITHSCORES").value
        return t

    def converged(self):
        """Waits for equal digests everywhere; returns the (equal) contents of every region."""
        self.cluster.wait_sync()
        first = self.contents(self.names[0])
        for n in self.names[1:]:
            self.assertEqual(self.contents(n), first, "region %s differs from %s" %
                             (n, self.names[0]))
        return first

    # -- tests -------------------------------------------------------------------------------
    def test_a_write_in_db3_is_read_in_db3_elsewhere(self):
        a = self.db("r0", 3)
        self.ok(a, "SET", "k", "in-three")
        self.ok(a, "SADD", "s", "m")
        self.cluster.wait_sync()
        for n in self.names:
            c3, c0 = self.db(n, 3), self.db(n, 0)
            self.assertEqual(c3.call("GET", "k").value, b"in-three", n)
            self.assertEqual(c3.call("SMEMBERS", "s").value, [b"m"], n)
            self.assertIsNone(c0.call("GET", "k").value, n)
            self.assertEqual(c0.call("DBSIZE").value, 0, n)
            self.assertEqual(c3.call("DBSIZE").value, 2, n)
            info = c0.call("INFO", "keyspace").value
            info = info if isinstance(info, bytes) else bytes(info)
            self.assertIn(b"db3:keys=2,expires=0,avg_ttl=0", info, n)
            self.assertNotIn(b"db0:", info, n)

    def test_swapdb_concurrent_with_sets_converges(self):
        a0 = self.db("r0", 0)
        self.ok(a0, "SET", "k", "before")
        self.cluster.wait_sync()
        b0, b1 = self.db("r1", 0), self.db("r1", 1)
        with self.concurrently("r0", "r1"):
            self.ok(a0, "SWAPDB", "0", "1")
            self.ok(b0, "SET", "written-in-0", "b")  # B has not seen the swap
            self.ok(b1, "SET", "written-in-1", "b")
            self.ok(a0, "SET", "after-swap", "a")  # A's db 0 is the former db 1 now
        got = self.converged()
        self.assertEqual(set(got[1]), {b"k", b"written-in-0"}, got)
        self.assertEqual(set(got[0]), {b"written-in-1", b"after-swap"}, got)
        # The same client (db 0) keeps working on the swapped database afterwards, in B too.
        self.assertEqual(b0.call("GET", "written-in-1").value, b"b")

    def test_concurrent_swapdbs_swap_once(self):
        a0 = self.db("r0", 0)
        self.ok(a0, "SET", "k", "zero")
        self.cluster.wait_sync()
        b0 = self.db("r1", 0)
        with self.concurrently("r0", "r1"):
            self.ok(a0, "SWAPDB", "0", "1")
            self.ok(b0, "SWAPDB", "0", "1")
        got = self.converged()
        self.assertEqual(got, {1: {b"k": b"zero"}})

    def test_move_concurrent_with_a_write_elsewhere(self):
        a0 = self.db("r0", 0)
        self.ok(a0, "SET", "k", "10")
        self.cluster.wait_sync()
        b0 = self.db("r1", 0)
        with self.concurrently("r0", "r1"):
            self.assertEqual(self.ok(a0, "MOVE", "k", "4"), 1)
            self.ok(b0, "INCRBY", "k", "5")
        got = self.converged()
        self.assertEqual(got, {0: {b"k": b"5"}, 4: {b"k": b"10"}})
        # MOVE onto an existing key: 0, as Redis.
        self.assertEqual(self.ok(a0, "MOVE", "k", "4"), 0)

    def test_flushdb_flushes_one_db_everywhere(self):
        a = {db: self.db("r0", db) for db in (0, 1, 2)}
        for db, c in a.items():
            for i in range(20):
                self.ok(c, "SET", "key:%d" % i, "db%d" % db)
        self.cluster.wait_sync()
        self.assertEqual(self.ok(self.db("r1", 1), "FLUSHDB"), b"OK")
        got = self.converged()
        self.assertEqual(sorted(got), [0, 2])
        self.assertEqual(len(got[0]), 20)
        self.assertEqual(len(got[2]), 20)
        self.ok(self.db("r2", 2), "FLUSHALL")
        self.assertEqual(self.converged(), {})

    def test_kill9_and_restart_keeps_every_db(self):
        a = {db: self.db("r0", db) for db in (0, 5, 15)}
        for db, c in a.items():
            self.ok(c, "SET", "name", "db%d" % db)
            self.ok(c, "HSET", "h", "f", str(db))
        self.ok(a[0], "SWAPDB", "5", "6")
        self.ok(a[15], "MOVE", "name", "9")
        before = self.converged()
        self.assertEqual(sorted(before), [0, 6, 9, 15])
        digest = self.cluster.client("r2").call("CRDT.DIGEST").value
        victim = self.cluster.regions["r2"]
        victim.kill9()
        victim.start()
        self.cluster.wait_joined(["r2"])
        self.assertEqual(self.cluster.client("r2").call("CRDT.DIGEST").value, digest)
        self.assertEqual(self.contents("r2"), before)
        # And it keeps replicating in every database.
        self.ok(self.db("r2", 6), "SET", "after-restart", "x")
        got = self.converged()
        self.assertEqual(got[6][b"after-restart"], b"x")
        # Every region killed at once: only its own AOF can give each one its databases back.
        digest = self.cluster.client("r0").call("CRDT.DIGEST").value
        for p in self.cluster.regions.values():
            p.kill9()
        for n in self.names:
            self.cluster.regions[n].start()
            self.assertEqual(self.cluster.client(n).call("CRDT.DIGEST").value, digest, n)
            self.assertEqual(self.contents(n), got, n)
        self.cluster.wait_joined()
        self.assertEqual(self.converged(), got)

    def test_random_commands_in_every_database_with_partitions_converge(self):
        rng = random.Random(SEED)
        conns = {(n, db): self.db(n, db) for n in self.names for db in range(4)}
        paused = set()
        for i in range(600):
            if i % 100 == 50:  # a partition: some regions hold their ops for a while
                for n in sorted(paused):
                    self.ok(self.cluster.client(n), "CRDT.SYNC", "RESUME")
                paused = set(rng.sample(self.names, rng.randint(1, 2)))
                for n in sorted(paused):
                    self.ok(self.cluster.client(n), "CRDT.SYNC", "PAUSE")
            c = conns[(rng.choice(self.names), rng.randrange(4))]
            key = "k%d" % rng.randrange(6)
            r = rng.random()
            if r < 0.35:
                cmd = ["SET", key, "v%d" % i]
            elif r < 0.5:
                cmd = ["INCRBY", "counter", str(rng.randrange(1, 9))]
            elif r < 0.55:
                cmd = ["SADD", "set", "m%d" % rng.randrange(8)]
            elif r < 0.6:
                cmd = ["ZINCRBY", "zset", str(rng.randrange(1, 5)), "m%d" % rng.randrange(4)]
            elif r < 0.7:
                cmd = ["DEL", key]
            elif r < 0.8:
                cmd = ["MOVE", key, str(rng.randrange(4))]
            elif r < 0.9:
                cmd = ["SWAPDB", str(rng.randrange(4)), str(rng.randrange(4))]
            elif r < 0.95:
                cmd = ["COPY", key, "copy", "DB", str(rng.randrange(4)), "REPLACE"]
            else:
                cmd = ["FLUSHDB"]
            reply = c.call(*cmd)
            if isinstance(reply.value, akv.Err):
                # Only MOVE to its own database may fail (COPY to itself too).
                self.assertIn(b"same", reply.raw, "%s: %r" % (akv.fmt_cmd(cmd), reply.raw))
        for n in sorted(paused):
            self.ok(self.cluster.client(n), "CRDT.SYNC", "RESUME")
        got = self.converged()
        self.assertTrue(got, "every database ended empty: the run proved little")

    def test_redis_py_with_db2(self):
        try:
            import redis  # Debian python3-redis
        except ImportError as e:
            self.fail("redis-py is needed (apt-get install python3-redis): %s" % e)
        port = {n: self.cluster.regions[n].port for n in self.names}
        r = redis.Redis(host="127.0.0.1", port=port["r0"], db=2)
        self.addCleanup(r.close)
        self.assertTrue(r.ping())
        self.assertTrue(r.set("greeting", "hello"))
        self.assertEqual(r.get("greeting"), b"hello")
        self.assertEqual(r.incr("n"), 1)
        r.hset("h", mapping={"a": "1", "b": "2"})
        pipe = r.pipeline(transaction=False)
        pipe.get("greeting").dbsize().hgetall("h")
        self.assertEqual(pipe.execute(), [b"hello", 3, {b"a": b"1", b"b": b"2"}])
        self.assertEqual(r.client_info()["db"], 2)
        self.assertEqual(sorted(r.scan_iter()), [b"greeting", b"h", b"n"])
        self.cluster.wait_sync()
        other = redis.Redis(host="127.0.0.1", port=port["r1"], db=2)
        self.addCleanup(other.close)
        self.assertEqual(other.get("greeting"), b"hello")
        self.assertTrue(other.move("greeting", 0))
        zero = redis.Redis(host="127.0.0.1", port=port["r2"], db=0)
        self.addCleanup(zero.close)
        self.cluster.wait_sync()
        self.assertEqual(zero.get("greeting"), b"hello")
        self.assertIsNone(redis.Redis(host="127.0.0.1", port=port["r2"], db=2).get("greeting"))
        self.assertEqual(zero.info("keyspace"), {"db0": {"keys": 1, "expires": 0, "avg_ttl": 0},
                                                 "db2": {"keys": 2, "expires": 0, "avg_ttl": 0}})


if __name__ == "__main__":
    akv.run_tests()
