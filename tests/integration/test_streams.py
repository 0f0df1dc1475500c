#!/usr/bin/python3
"""Streams across three real regions: one test per rule of docs/crdt-semantics.md, "Streams".

Writes are made concurrent with CRDT.SYNC PAUSE (as in test_collections_replication.py), then
RESUME and wait for convergence (equal version vectors and CRDT.DIGESTs, zero lag).

- XADD * in two regions at once: no id collides, each region's ids carry its slot (the topology
  position: r0 ends in 1, r1 in 2 modulo 64), every region holds every entry in one order.
- DEL concurrent with XADD: the new entry survives; XDEL / XTRIM concurrent with XADD: only the
  entries the removing region had seen go (trimming replicates the ids it removed).
- The same explicit id added in two regions: one entry everywhere, the later add's fields.
- Metadata (last-generated-id, max-deleted-entry-id) joins by maximum.
- XREAD BLOCK (with $ and with an id) in one region is woken by an XADD made in another.
- Consumer groups: a group, its last-delivered id, consumers and pending entries replicate; an
  XACK concurrent with a re-delivery elsewhere leaves the new delivery pending; DESTROY of one
  group concurrent with CREATE of another keeps the new one.
- XCLAIM / XAUTOCLAIM replicate; the same entry claimed in two regions at once ends with one
  owner everywhere; a claim concurrent with an XACK elsewhere stays pending; XAUTOCLAIM's
  deleted entries leave the pending list everywhere.
- AOF replay, BGREWRITEAOF + restart, and a full resync of a region behind the replication log
  keep every stream, its entries, metadata and consumer groups.

  /usr/bin/python3 test_streams.py     env: AKV_SEED
"""

import os
import sys
import time

sys.dont_write_bytecode = True
import akv  # noqa: E402
import test_collections_replication as tcr  # noqa: E402
from test_replication import Cluster  # noqa: E402

SEED = None
SLOTS = 64  # auto ids: seq = n * SLOTS + the region's slot (1-based topology position)


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()
    tcr.SEED = SEED


def xrange(c, key):
    r = c.call("XRANGE", key, "-", "+")
    if isinstance(r.value, akv.Err):
        return r.raw
    return [(e[0], tuple(e[1])) for e in r.value]


def xinfo(c, key):
    """XINFO STREAM's metadata fields (the storage estimates left out)."""
    v = c.call("XINFO", "STREAM", key).value
    if isinstance(v, akv.Err):
        return v
    d = dict(v) if isinstance(v, dict) else dict(zip(v[::2], v[1::2]))
    return {k: d[k] for k in (b"length", b"last-generated-id", b"max-deleted-entry-id",
                              b"entries-added", b"recorded-first-entry-id")}


class StreamsTest(akv.ServerTestCase):
    # The three-region helpers of the collections tests (no test methods are taken from there).
    start_cluster = tcr.CollectionsReplicationTest.start_cluster
    ok = tcr.CollectionsReplicationTest.ok
    concurrently = tcr.CollectionsReplicationTest.concurrently
    after = staticmethod(tcr.CollectionsReplicationTest.after)
    differences = tcr.CollectionsReplicationTest.differences
    converge = tcr.CollectionsReplicationTest.converge
    assert_everywhere = tcr.CollectionsReplicationTest.assert_everywhere
    assert_same_everywhere = tcr.CollectionsReplicationTest.assert_same_everywhere
    wait_blocked = tcr.CollectionsReplicationTest.wait_blocked
    wait_for = tcr.CollectionsReplicationTest.wait_for

    def test_concurrent_auto_ids_never_collide_and_order_the_same_everywhere(self):
        a, b, c = self.start_cluster()
        ids = {}
        with self.concurrently(a, b):
            # Pipelined: many adds within one millisecond in each region.
            ids["a"] = [r.value for r in a.pipeline([("XADD", "s", "*", "r", "a")] * 200)]
            ids["b"] = [r.value for r in b.pipeline([("XADD", "s", "*", "r", "b")] * 200)]
        for name, slot in (("a", 1), ("b", 2)):
            seqs = [int(i.split(b"-")[1]) for i in ids[name]]
            self.assertTrue(all(s % SLOTS == slot for s in seqs), "%s: %r" % (name, ids[name]))
            parsed = [tuple(map(int, i.split(b"-"))) for i in ids[name]]
            self.assertEqual(parsed, sorted(set(parsed)), "ids of one region strictly increase")
        self.assertFalse(set(ids["a"]) & set(ids["b"]), "ids collided")
        self.converge()
        got = self.assert_same_everywhere("XRANGE s", lambda x: xrange(x, "s"))
        self.assertEqual(len(got), 400)
        self.assertEqual([e[0] for e in got], sorted(
            ids["a"] + ids["b"], key=lambda i: tuple(map(int, i.split(b"-")))))
        # A region that then adds goes past every id it has seen.
        new = self.ok(c, "XADD", "s", "*", "r", "c")
        self.assertGreater(tuple(map(int, new.split(b"-"))),
                           tuple(map(int, got[-1][0].split(b"-"))))
        self.assertEqual(int(new.split(b"-")[1]) % SLOTS, 3)

    def test_del_concurrent_with_xadd_keeps_the_new_entry(self):
        a, b, c = self.start_cluster()
        self.ok(a, "XADD", "s", "1-1", "f", "old")
        self.converge()
        with self.concurrently(a, b):
            self.assertEqual(self.ok(a, "DEL", "s"), 1)
            self.ok(b, "XADD", "s", "2-1", "f", "new")
        self.converge()
        self.assert_everywhere("XRANGE s", lambda x: xrange(x, "s"), [(b"2-1", (b"f", b"new"))])
        self.assert_everywhere("TYPE s", lambda x: x.call("TYPE", "s").value, b"stream")

    def test_xdel_and_xtrim_remove_only_what_they_saw(self):
        a, b, c = self.start_cluster()
        for i in range(1, 6):
            self.ok(a, "XADD", "s", "%d-0" % i, "f", str(i))
            self.ok(a, "XADD", "t", "%d-0" % i, "f", str(i))
        self.converge()
        with self.concurrently(a, b):
            self.assertEqual(self.ok(a, "XDEL", "s", "1-0", "2-0"), 2)
            self.assertEqual(self.ok(a, "XTRIM", "t", "MAXLEN", "2"), 3)
            self.ok(b, "XADD", "s", "6-0", "f", "6")
            self.ok(b, "XADD", "t", "6-0", "f", "6")
        self.converge()
        self.assert_everywhere("XRANGE s ids", lambda x: [e[0] for e in xrange(x, "s")],
                               [b"3-0", b"4-0", b"5-0", b"6-0"])
        # The trim replicated as the ids it removed: the concurrent entry is kept, so the stream
        # holds 3 entries although the trim asked for 2.
        self.assert_everywhere("XRANGE t ids", lambda x: [e[0] for e in xrange(x, "t")],
                               [b"4-0", b"5-0", b"6-0"])
        self.assert_everywhere("max-deleted-entry-id of s",
                               lambda x: xinfo(x, "s")[b"max-deleted-entry-id"], b"2-0")

    def test_same_explicit_id_in_two_regions_keeps_one_entry(self):
        a, b, c = self.start_cluster()
        mark = time.time()
        with self.concurrently(a, b):
            self.ok(b, "XADD", "s", "5-5", "who", "b")
            self.after(mark)
            self.after(time.time())
            self.ok(a, "XADD", "s", "5-5", "who", "a")  # later in the HLC order
        self.converge()
        self.assert_everywhere("XRANGE s", lambda x: xrange(x, "s"), [(b"5-5", (b"who", b"a"))])
        self.assert_everywhere("XLEN s", lambda x: x.call("XLEN", "s").value, 1)
        # Deleting it removes both instances (the deleting region had seen both).
        self.assertEqual(self.ok(c, "XDEL", "s", "5-5"), 1)
        self.converge()
        self.assert_everywhere("XLEN s", lambda x: x.call("XLEN", "s").value, 0)

    def test_metadata_joins_by_maximum(self):
        a, b, c = self.start_cluster()
        with self.concurrently(a, b):
            self.ok(a, "XADD", "s", "10-0", "f", "a")
            self.ok(b, "XADD", "s", "7-0", "f", "b")
            self.ok(b, "XADD", "s", "8-0", "f", "b")
            self.assertEqual(self.ok(b, "XDEL", "s", "8-0"), 1)
        self.converge()
        info = self.assert_same_everywhere("XINFO STREAM s", lambda x: xinfo(x, "s"))
        self.assertEqual(info[b"last-generated-id"], b"10-0")
        self.assertEqual(info[b"max-deleted-entry-id"], b"8-0")
        self.assertEqual(info[b"length"], 2)
        self.assertEqual(info[b"entries-added"], 2)  # max of 1 (a) and 2 (b), not their sum

    def test_xread_block_is_woken_by_an_xadd_from_another_region(self):
        a, b, c = self.start_cluster()
        self.ok(a, "XADD", "s", "1-0", "f", "v")
        self.converge()
        w1 = self.cluster.client(self.names[0])
        w2 = self.cluster.client(self.names[0])
        w1.send_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        self.wait_blocked(a, 1)
        w2.send_command("XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "other", "s", "0", "1-0")
        self.wait_blocked(a, 2)
        added = self.ok(b, "XADD", "s", "*", "from", "b")
        want = [[b"s", [[added, [b"from", b"b"]]]]]
        self.assertEqual(w1.read_reply().value, want)
        self.assertEqual(w2.read_reply().value, want)
        self.wait_blocked(a, 0)
        # A timeout answers a null array, whatever the peers do.
        t0 = time.monotonic()
        self.assertIsNone(self.ok(a, "XREAD", "BLOCK", "200", "STREAMS", "s", "$"))
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)

    def test_consumer_groups_replicate(self):
        a, b, c = self.start_cluster()
        for i in range(1, 5):
            self.ok(a, "XADD", "s", "%d-0" % i, "f", str(i))
        self.ok(a, "XGROUP", "CREATE", "s", "g", "0")
        self.converge()
        # A group, its last-delivered id, its consumers and pending entries replicate.
        got = self.ok(b, "XREADGROUP", "GROUP", "g", "worker", "COUNT", "2", "STREAMS", "s", ">")
        self.assertEqual([e[0] for e in got[0][1]], [b"1-0", b"2-0"])
        self.converge()
        self.assert_everywhere("XPENDING s g", lambda x: x.call("XPENDING", "s", "g").value,
                               [2, b"1-0", b"2-0", [[b"worker", b"2"]]])
        # A reads on in region a from where b left off.
        got = self.ok(a, "XREADGROUP", "GROUP", "g", "other", "STREAMS", "s", ">")
        self.assertEqual([e[0] for e in got[0][1]], [b"3-0", b"4-0"])
        self.converge()
        # XACK in one region concurrent with a re-delivery (history read) of the same entry in
        # another: the ack removes what it saw, the new delivery stays pending.
        with self.concurrently(a, b):
            self.assertEqual(self.ok(a, "XACK", "s", "g", "1-0", "2-0"), 2)
            self.ok(b, "XREADGROUP", "GROUP", "g", "worker", "COUNT", "1", "STREAMS", "s", "0")
        self.converge()
        # (id, consumer, delivery count): the idle times are each region's clock reading.
        pending = self.assert_same_everywhere(
            "XPENDING", lambda x: [(p[0], p[1], p[3]) for p in
                                   x.call("XPENDING", "s", "g", "-", "+", "10").value])
        self.assertEqual(pending,
                         [(b"1-0", b"worker", 2), (b"3-0", b"other", 1), (b"4-0", b"other", 1)])
        # DESTROY in one region concurrent with CREATE of another group elsewhere: both apply.
        with self.concurrently(a, c):
            self.assertEqual(self.ok(a, "XGROUP", "DESTROY", "s", "g"), 1)
            self.ok(c, "XGROUP", "CREATE", "s", "g2", "$")
        self.converge()
        self.assert_everywhere("XINFO GROUPS names", lambda x: [
            dict(zip(g[::2], g[1::2]))[b"name"] if isinstance(g, list) else g[b"name"]
            for g in x.call("XINFO", "GROUPS", "s").value], [b"g2"])

    def test_claims_replicate_and_concurrent_claims_agree_on_one_owner(self):
        a, b, c = self.start_cluster()
        for i in range(1, 5):
            self.ok(a, "XADD", "s", "%d-0" % i, "f", str(i))
        self.ok(a, "XGROUP", "CREATE", "s", "g", "0")
        got = self.ok(a, "XREADGROUP", "GROUP", "g", "worker", "STREAMS", "s", ">")
        self.assertEqual(len(got[0][1]), 4)
        self.converge()

        def pending(x):  # (id, consumer, delivery count): idle times are each region's clock
            return [(p[0], p[1], p[3]) for p in x.call("XPENDING", "s", "g", "-", "+", "10").value]

        # A claim in one region moves the entry to the claimer everywhere.
        got = self.ok(b, "XCLAIM", "s", "g", "rescuer", "0", "1-0")
        self.assertEqual(got, [[b"1-0", [b"f", b"1"]]])
        self.converge()
        self.assert_everywhere("XPENDING after XCLAIM", pending, [
            (b"1-0", b"rescuer", 2), (b"2-0", b"worker", 1), (b"3-0", b"worker", 1),
            (b"4-0", b"worker", 1)])
        # The same entry claimed in two regions at once: each claimer gets it (as two consumers
        # of one Redis may, one after the other), and every region then shows the same owner.
        with self.concurrently(a, b):
            self.assertEqual(self.ok(a, "XCLAIM", "s", "g", "x", "0", "2-0", "JUSTID"), [b"2-0"])
            self.assertEqual(self.ok(b, "XCLAIM", "s", "g", "y", "0", "2-0", "JUSTID"), [b"2-0"])
        self.converge()
        owners = self.assert_same_everywhere("XPENDING after concurrent claims", pending)
        self.assertIn(owners[1][1], (b"x", b"y"))
        self.assertEqual(owners[1][0], b"2-0")
        # An ack concurrent with a claim elsewhere: the ack removes the delivery it saw, the claim
        # is a new delivery and stays pending (as for XREADGROUP's re-delivery).
        with self.concurrently(a, c):
            self.assertEqual(self.ok(a, "XACK", "s", "g", "4-0"), 1)
            self.assertEqual(self.ok(c, "XCLAIM", "s", "g", "late", "0", "4-0", "JUSTID"),
                             [b"4-0"])
        self.converge()
        self.assertIn((b"4-0", b"late", 1), self.assert_same_everywhere("XPENDING", pending))
        # XAUTOCLAIM in one region reports the entries deleted in another and drops them from
        # the pending list everywhere.
        self.assertEqual(self.ok(a, "XDEL", "s", "3-0"), 1)
        self.converge()
        got = self.ok(c, "XAUTOCLAIM", "s", "g", "sweeper", "0", "0", "JUSTID")
        self.assertEqual(got[0], b"0-0")
        self.assertEqual(got[2], [b"3-0"])
        self.assertNotIn(b"3-0", got[1])
        self.converge()
        left = self.assert_same_everywhere("XPENDING after XAUTOCLAIM", pending)
        self.assertEqual([p[0] for p in left], [b"1-0", b"2-0", b"4-0"])
        self.assertEqual({p[1] for p in left}, {b"sweeper"})
        self.assert_everywhere("XINFO CONSUMERS names", lambda x: sorted(
            (dict(zip(e[::2], e[1::2])) if isinstance(e, list) else e)[b"name"]
            for e in x.call("XINFO", "CONSUMERS", "s", "g").value),
            sorted([b"late", b"rescuer", b"sweeper", b"worker", b"x", b"y"]))

    def test_aof_rewrite_restart_and_full_resync_keep_streams(self):
        cluster = Cluster(self, 3, extra_args=["--replication-log-ops", "200"])
        self.cluster = cluster
        self.names = cluster.names
        self.clients = {n: cluster.client(n) for n in self.names}
        r0, r1 = self.clients["r0"], self.clients["r1"]
        for i in range(1, 41):
            self.ok(r0 if i % 2 else r1, "XADD", "s", "%d-0" % i, "i", str(i))
        # Every entry everywhere first: an XDEL / XTRIM removes only what its region has seen
        # (under a slow build r0 may not have r1's 4-0 yet).
        cluster.wait_sync()
        self.ok(r0, "XDEL", "s", "3-0", "4-0")
        self.ok(r1, "XTRIM", "s", "MINID", "3")
        self.ok(r0, "XSETID", "s", "100-0", "ENTRIESADDED", "50")
        self.ok(r0, "XGROUP", "CREATE", "s", "g", "0")
        cluster.wait_sync()
        self.ok(r1, "XGROUP", "CREATECONSUMER", "s", "g", "idle")
        cluster.wait_sync()
        self.ok(r1, "XREADGROUP", "GROUP", "g", "c", "COUNT", "3", "STREAMS", "s", ">")
        self.ok(r1, "XADD", "empty", "1-1", "f", "v")
        self.ok(r1, "XDEL", "empty", "1-1")
        cluster.wait_sync()

        def snapshot(c):
            out = {k: (xrange(c, k), xinfo(c, k), c.call("TYPE", k).value)
                   for k in ("s", "empty")}
            out["groups"] = c.call("XINFO", "GROUPS", "s").value
            out["pending"] = c.call("XPENDING", "s", "g").value
            return out
        want = snapshot(r0)
        self.assertEqual(len(want["s"][0]), 36)
        self.assertEqual(want["empty"][0], [])
        self.assertEqual(want["empty"][2], b"stream")
        # AOF replay (a clean stop: every op is in the AOF, none comes from the peers).
        cluster.regions["r0"].stop()
        cluster.regions["r0"].start()
        r0 = cluster.client("r0")
        self.assertEqual(snapshot(r0), want, "after an AOF replay")
        # BGREWRITEAOF (a snapshot record plus tail), then replay of that.
        self.assertEqual(r0.call("BGREWRITEAOF").raw,
                         b"+Background append only file rewriting started\r\n")
        akv.wait_for(self, "the rewrite", lambda: akv.info_fields(r0, "persistence").get(
            "aof_rewrite_in_progress") == "0" and int(akv.info_fields(
                r0, "persistence")["aof_rewrites"]) >= 1)
        self.ok(r0, "XADD", "s", "101-0", "after", "rewrite")
        want = snapshot(r0)
        cluster.regions["r0"].stop()
        cluster.regions["r0"].start()
        r0 = cluster.client("r0")
        self.assertEqual(snapshot(r0), want, "after a rewrite and a restart")
        cluster.wait_sync()
        # A region that missed more than the replication log holds gets a full resync.
        cluster.regions["r2"].kill9()
        r0.pipeline([("XADD", "s", "*", "n", str(i)) for i in range(300)])
        self.ok(r0, "XDEL", "s", "10-0")
        want = snapshot(r0)
        cluster.regions["r2"].start()
        cluster.wait_sync()
        r2 = cluster.client("r2")
        self.assertEqual(snapshot(r2), want, "after a full resync")
        resyncs = sum(int(tcr_peer(cluster.state(n)[4], "r2").get("full_resyncs_sent", 0))
                      for n in ("r0", "r1"))
        self.assertGreaterEqual(resyncs, 1, "r2 needed a full resync")


def tcr_peer(fields, peer):
    line = fields.get("crdt_peer_%s" % peer, "")
    return dict(kv.split("=", 1) for kv in line.split(",") if "=" in kv)


if __name__ == "__main__":
    akv.run_tests()
