#!/usr/bin/python3
"""A command is one unit everywhere (docs/replication-protocol.md, "Units"), with real regions.

A writer in r0 does MSETs of 2,000 keys (every key set to the round number, 600-byte values, so
each MSET is over both batch limits: 512 ops and 1 MiB) while readers in r1 and r2 poll MGET of
all 2,000 keys and of random samples of them: no reader may ever see two rounds mixed. Once
through the replication log, once with a replication log smaller than one MSET, so that every
round reaches the peers through the AOF resync.

  /usr/bin/python3 test_units.py     env: AKV_SEED
"""

import random
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402
from test_replication import Cluster  # noqa: E402

SEED = None
KEYS = ["unit:%d" % i for i in range(2000)]
PAD = "x" * 600


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


def round_of(value):
    """The round a value was written in (0: not written yet)."""
    return 0 if value is None else int(value.split(b":", 1)[0])


class Reader(threading.Thread):
    """Polls MGET in one region until stopped; records every round seen, and any mix."""

    def __init__(self, client, name, seed):
        super().__init__(daemon=True)
        self.client = client
        self.name = name
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.rounds = set()
        self.reads = 0
        self.mixed = None
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set() and self.mixed is None:
                keys = KEYS if self.reads % 2 == 0 else self.rng.sample(KEYS, 50)
                values = self.client.call("MGET", *keys).value
                rounds = {round_of(v) for v in values}
                self.reads += 1
                if len(rounds) != 1:
                    self.mixed = sorted(rounds)
                self.rounds |= rounds
        except Exception as e:  # reported by the test thread
            self.error = e

    def latest(self):
        return max(self.rounds) if self.rounds else 0


class UnitsTest(akv.ServerTestCase):

    def mset_rounds(self, cluster, rounds, timeout=120.0):
        writer = cluster.client("r0")
        readers = [Reader(cluster.client(n), n, SEED + i) for i, n in enumerate(["r1", "r2"])]
        for r in readers:
            r.start()
        deadline = time.monotonic() + timeout
        try:
            for rnd in range(1, rounds + 1):
                args = ["MSET"]
                for k in KEYS:
                    args += [k, "%d:%s" % (rnd, PAD)]
                self.assertEqual(writer.call(*args).raw, b"+OK\r\n")
                # Let the readers catch up now and then, so that they race with the apply of
                # several rounds rather than only see the last one.
                if rnd % 5 == 0:
                    while min(r.latest() for r in readers) < rnd and all(
                            r.mixed is None and r.error is None for r in readers):
                        self.assertLess(time.monotonic(), deadline, "round %d never arrived" % rnd)
                        time.sleep(0.005)
            while min(r.latest() for r in readers) < rounds and all(
                    r.mixed is None and r.error is None for r in readers):
                self.assertLess(time.monotonic(), deadline, "the last round never arrived")
                time.sleep(0.005)
        finally:
            for r in readers:
                r.stop.set()
            for r in readers:
                r.join(10)
        for r in readers:
            self.assertIsNone(r.error, "reader in %s failed" % r.name)
            self.assertIsNone(r.mixed, "%s saw rounds %r mixed in one MGET (seed %d)"
                              % (r.name, r.mixed, SEED))
            print("[units] %s: %d reads, saw %d distinct rounds" % (r.name, r.reads, len(r.rounds)),
                  file=sys.stderr)
            self.assertGreater(len(r.rounds), 2, "%s never raced with a round" % r.name)
        cluster.wait_sync()

    def test_a_2000_key_mset_is_never_half_visible_in_a_peer(self):
        cluster = Cluster(self, 3)
        self.mset_rounds(cluster, rounds=30)

    def test_units_stay_whole_through_the_aof_resync(self):
        # Each MSET is larger than the log: the peers always need the AOF resync.
        cluster = Cluster(self, 3, extra_args=["--replication-log-ops", "1000"])
        self.mset_rounds(cluster, rounds=12)
        fields = cluster.state("r0")[4]
        resyncs = sum(int(v.split("full_resyncs_sent=")[1].split(",")[0])
                      for k, v in fields.items()
                      if k.startswith("crdt_peer_") and "full_resyncs_sent=" in v)
        print("[units] r0 served %d full resyncs" % resyncs, file=sys.stderr)
        self.assertGreater(resyncs, 0)


if __name__ == "__main__":
    akv.run_tests()
