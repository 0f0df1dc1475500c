#!/usr/bin/python3
"""MULTI/EXEC across real regions (docs/crdt-semantics.md, "Transactions").

  * An EXEC is one unit: a writer in r0 runs transactions of 2,000 separate SETs plus an INCR
    (every key set to the round number, 600-byte values: each EXEC is over both batch limits)
    while readers in r1 and r2 poll MGET of all the keys and of random samples: no reader may
    ever see two rounds mixed, and every region ends with the counter equal to the rounds. Once
    through the replication log, once with a log smaller than one EXEC (the AOF resync).
  * WATCH across regions: a write in r1 that r0 has applied aborts r0's EXEC; a write in r1 that
    r0 has not received yet (r1's replication held) does not, and both writes then merge by the
    LWW rule in every region.

  /usr/bin/python3 test_transactions.py     env: AKV_SEED
"""

import random
import sys
import time

sys.dont_write_bytecode = True
import akv  # noqa: E402
from akv import wait_for  # noqa: E402
from test_replication import Cluster  # noqa: E402
from test_units import KEYS, PAD, Reader  # noqa: E402

SEED = None
COUNTER = "unit:count"


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


class TransactionsTest(akv.ServerTestCase):

    def exec_rounds(self, cluster, rounds, timeout=120.0):
        writer = cluster.client("r0")
        readers = [Reader(cluster.client(n), n, SEED + i) for i, n in enumerate(["r1", "r2"])]
        for r in readers:
            r.start()
        deadline = time.monotonic() + timeout
        rng = random.Random(SEED)
        try:
            for rnd in range(1, rounds + 1):
                keys = list(KEYS)
                rng.shuffle(keys)  # the order of the SETs inside the EXEC does not matter
                cmds = [["MULTI"]] + [["SET", k, "%d:%s" % (rnd, PAD)] for k in keys]
                cmds += [["INCR", COUNTER], ["EXEC"]]
                replies = writer.pipeline(cmds)
                self.assertEqual(replies[0].raw, b"+OK\r\n")
                self.assertTrue(all(r.raw == b"+QUEUED\r\n" for r in replies[1:-1]))
                result = replies[-1].value
                self.assertIsInstance(result, list, replies[-1].raw[:100])
                self.assertEqual(len(result), len(KEYS) + 1)
                self.assertEqual(result[-1], rnd)
                if rnd % 4 == 0:
                    wait_for(self, "round %d in every reader" % rnd,
                             lambda: min(r.latest() for r in readers) >= rnd or any(
                                 r.mixed is not None or r.error is not None for r in readers),
                             max(1.0, deadline - time.monotonic()))
            wait_for(self, "the last round in every reader",
                     lambda: min(r.latest() for r in readers) >= rounds or any(
                         r.mixed is not None or r.error is not None for r in readers),
                     max(1.0, deadline - time.monotonic()))
        finally:
            for r in readers:
                r.stop.set()
            for r in readers:
                r.join(10)
        for r in readers:
            self.assertIsNone(r.error, "reader in %s failed" % r.name)
            self.assertIsNone(r.mixed, "%s saw rounds %r of a transaction mixed in one MGET "
                              "(seed %d)" % (r.name, r.mixed, SEED))
            print("[transactions] %s: %d reads, saw %d distinct rounds" %
                  (r.name, r.reads, len(r.rounds)), file=sys.stderr)
            self.assertGreater(len(r.rounds), 2, "%s never raced with a round" % r.name)
        cluster.wait_sync()
        for name in cluster.names:
            with cluster.regions[name].client() as c:
                self.assertEqual(c.call("GET", COUNTER).value, str(rounds).encode(), name)

    def test_an_exec_of_2000_sets_is_never_half_visible_in_a_peer(self):
        self.exec_rounds(Cluster(self, 3), rounds=20)

    def test_exec_units_stay_whole_through_the_aof_resync(self):
        cluster = Cluster(self, 3, extra_args=["--replication-log-ops", "1000"])
        self.exec_rounds(cluster, rounds=8)

    def test_watch_sees_remote_writes_it_has_applied(self):
        cluster = Cluster(self, 3)
        a, a_reader, b = cluster.client("r0"), cluster.client("r0"), cluster.client("r1")
        # A remote write of another key: EXEC commits.
        self.assertEqual(a.call("WATCH", "k").raw, b"+OK\r\n")
        self.assertEqual(b.call("SET", "other", "1").raw, b"+OK\r\n")
        wait_for(self, "r0 to apply r1's SET other",
                 lambda: a_reader.call("GET", "other").value == b"1")
        self.assertEqual(a.call("MULTI").raw, b"+OK\r\n")
        self.assertEqual(a.call("SET", "k", "from-r0").raw, b"+QUEUED\r\n")
        self.assertEqual(a.call("EXEC").raw, b"*1\r\n+OK\r\n")
        # A remote write of the watched key, applied in r0 before EXEC: EXEC aborts.
        self.assertEqual(a.call("WATCH", "k").raw, b"+OK\r\n")
        self.assertEqual(b.call("SET", "k", "from-r1").raw, b"+OK\r\n")
        wait_for(self, "r0 to apply r1's SET k",
                 lambda: a_reader.call("GET", "k").value == b"from-r1")
        self.assertEqual(a.call("MULTI").raw, b"+OK\r\n")
        self.assertEqual(a.call("SET", "k", "from-r0-again").raw, b"+QUEUED\r\n")
        self.assertEqual(a.call("EXEC").raw, b"*-1\r\n")
        cluster.wait_sync()
        for name in cluster.names:
            with cluster.regions[name].client() as c:
                self.assertEqual(c.call("GET", "k").value, b"from-r1", name)

    def test_watch_cannot_see_a_concurrent_write_not_received_yet(self):
        cluster = Cluster(self, 3)
        a, b = cluster.client("r0"), cluster.client("r1")
        self.assertEqual(b.call("CRDT.SYNC", "PAUSE").raw, b"+OK\r\n")
        self.assertEqual(a.call("WATCH", "k").raw, b"+OK\r\n")
        self.assertEqual(b.call("SET", "k", "from-r1").raw, b"+OK\r\n")
        self.assertEqual(a.call("MULTI").raw, b"+OK\r\n")
        self.assertEqual(a.call("SET", "k", "from-r0").raw, b"+QUEUED\r\n")
        self.assertEqual(a.call("EXEC").raw, b"*1\r\n+OK\r\n", "r0 cannot know of r1's write")
        self.assertEqual(b.call("CRDT.SYNC", "RESUME").raw, b"+OK\r\n")
        cluster.wait_sync()
        values = set()
        for name in cluster.names:
            with cluster.regions[name].client() as c:
                values.add(c.call("GET", "k").value)
        self.assertEqual(len(values), 1, "regions disagree: %r" % values)
        self.assertIn(values.pop(), (b"from-r0", b"from-r1"))


if __name__ == "__main__":
    akv.run_tests()
