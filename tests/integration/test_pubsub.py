#!/usr/bin/python3
"""Pub/sub across real regions (docs/messaging.md).

  * A subscriber in every region (RESP2 channel, RESP3 pattern, RESP2 shard channel) receives a
    message published in any one of them, once; PUBLISH answers this region's receivers.
  * Publish order per origin, and no message overtakes the writes made before it in its region:
    a reader in another region that gets message i already sees key i (plain commands, EVAL,
    MULTI/EXEC).
  * At most once: a message published while the region's replication is paused is never
    delivered to the other regions, later ones are.
  * Keyspace notifications: a write in one region fires its events (named by op kind) on keyspace
    subscribers in every region; an expiry fires "expired" once in each.
  * A subscriber that does not read is disconnected by client-output-buffer-limit pubsub (also
    when the messages come from a peer region); the region and its other subscribers go on.

  /usr/bin/python3 test_pubsub.py
"""

import socket
import sys
import time

sys.dont_write_bytecode = True
import akv  # noqa: E402
from akv import wait_for  # noqa: E402
from test_replication import Cluster  # noqa: E402

def read_push(client):
    """The next message delivered to a subscribed client (RESP2 array or RESP3 push)."""
    return client.read_reply(keep_pushes=True).value


class PubSubTest(akv.ServerTestCase):

    def setUp(self):
        # appendfsync always: an op goes to peers only after its fsync, which gives a message
        # that would not wait for the ops before it a wide window to overtake them.
        self.cluster = Cluster(self, 3, appendfsync="always")
        self.names = self.cluster.names

    def subscriber(self, name, *cmd, protocol=2):
        c = self.cluster.client(name)
        if protocol == 3:
            self.assertEqual(c.hello(3).value[b"proto"], 3)
        c.send_command(*cmd)
        for _ in cmd[1:]:
            r = c.read_reply(keep_pushes=True)
            self.assertEqual(r.value[0].lower(), cmd[0].lower().encode(), r.raw)
        return c

    def test_every_region_receives_every_message(self):
        subs = {}
        for name in self.names:
            subs[name] = [self.subscriber(name, "SUBSCRIBE", "news"),
                          self.subscriber(name, "PSUBSCRIBE", "n*s", protocol=3),
                          self.subscriber(name, "SSUBSCRIBE", "news")]
        for name in self.names:
            # Subscriptions are per region: each sees only its own.
            with self.cluster.regions[name].client() as c:
                self.assertEqual(c.call("PUBSUB", "NUMSUB", "news").value, [b"news", 1])
                self.assertEqual(c.call("PUBSUB", "NUMPAT").value, 1)
        for i, origin in enumerate(self.names):
            pub = self.cluster.client(origin)
            self.assertEqual(pub.call("PUBLISH", "news", "m%d" % i).value, 2,
                             "PUBLISH answers the local receivers (channel + pattern)")
            self.assertEqual(pub.call("SPUBLISH", "news", "s%d" % i).value, 1)
            for name in self.names:
                chan, pat, shard = subs[name]
                self.assertEqual(read_push(chan), [b"message", b"news", b"m%d" % i],
                                 "%s's channel subscriber, message from %s" % (name, origin))
                self.assertEqual(read_push(pat), [b"pmessage", b"n*s", b"news", b"m%d" % i],
                                 "%s's RESP3 pattern subscriber, message from %s" % (name, origin))
                self.assertEqual(read_push(shard), [b"smessage", b"news", b"s%d" % i],
                                 "%s's shard subscriber, message from %s" % (name, origin))
        # Exactly once: nothing else arrives (a PING answers right behind the messages read).
        for name in self.names:
            for c in subs[name]:
                c.send_command("PING")
                r = c.read_reply(keep_pushes=True).value
                self.assertIn(r, ([b"pong", b""], b"PONG"), "%s: unexpected %r" % (name, r))

    def test_keyspace_notifications_in_every_region(self):
        # docs/messaging.md, "Keyspace notifications": a write in one region fires events,
        # named by op kind, on keyspace subscribers in every region (its own with Redis's names);
        # an expiry fires "expired" once in each region.
        subs = {}
        for name in self.names:
            with self.cluster.regions[name].client() as c:
                self.assertEqual(c.call("CONFIG", "SET", "notify-keyspace-events", "KA").raw,
                                 b"+OK\r\n")
            subs[name] = self.subscriber(name, "PSUBSCRIBE", "__keyspace@0__:*")
        origin = self.names[0]
        writer = self.cluster.client(origin)

        def expect(what, key, local, remote):
            for name in self.names:
                want = local if name == origin else remote
                got = []
                for _ in want:
                    m = read_push(subs[name])
                    self.assertEqual(m[:2], [b"pmessage", b"__keyspace@0__:*"], m)
                    got.append((m[2], m[3]))
                self.assertEqual(got, [(b"__keyspace@0__:" + key, e.encode()) for e in want],
                                 "%s: events in region %s" % (what, name))

        writer.call("SET", "k", "v")
        expect("SET", b"k", ["set"], ["set"])
        writer.call("HSET", "h", "f", "v")
        expect("HSET", b"h", ["hset"], ["hset"])
        writer.call("INCRBY", "n", "5")
        expect("INCRBY", b"n", ["incrby"], ["incrby"])
        writer.call("SADD", "s", "a")
        expect("SADD", b"s", ["sadd"], ["sadd"])
        writer.call("ZINCRBY", "z", "1", "m")
        expect("ZINCRBY", b"z", ["zincr"], ["zincr"])
        writer.call("RPUSH", "l", "a")
        expect("RPUSH", b"l", ["rpush"], ["rpush"])
        writer.call("LPUSH", "l", "b")
        expect("LPUSH", b"l", ["lpush"], ["lpush"])
        writer.call("LPOP", "l")
        expect("LPOP", b"l", ["lpop"], ["lrem"])
        writer.call("APPEND", "k", "w")
        expect("APPEND", b"k", ["append"], ["set"])
        writer.call("SREM", "s", "a")
        expect("SREM", b"s", ["srem", "del"], ["srem", "del"])
        writer.call("DEL", "k")
        expect("DEL", b"k", ["del"], ["del"])
        writer.call("SET", "e", "v", "PX", "300")
        expect("SET PX", b"e", ["set", "expire"], ["set", "expire"])
        expect("expiry", b"e", ["expired"], ["expired"])
        # Exactly once: nothing else arrives (a PING answers right behind the messages read).
        time.sleep(0.3)
        for name in self.names:
            subs[name].send_command("PING")
            r = read_push(subs[name])
            self.assertEqual(r, [b"pong", b""], "%s: unexpected %r" % (name, r))

    def check_no_overtaking(self, publish_round, rounds, what):
        """publish_round(pub, i) writes key i and then publishes i in r0; readers in r1 and r2
        must see key i as soon as they get message i, messages in publish order."""
        subs = {n: self.subscriber(n, "SUBSCRIBE", "ord") for n in self.names[1:]}
        readers = {n: self.cluster.client(n) for n in self.names[1:]}
        pub = self.cluster.client(self.names[0])
        for i in range(rounds):
            publish_round(pub, i)
            # Read as soon as it arrives: a message that overtook the write is seen before it.
            for n in self.names[1:]:
                msg = read_push(subs[n])
                self.assertEqual(msg, [b"message", b"ord", b"%d" % i],
                                 "%s (%s): messages out of publish order" % (n, what))
                got = readers[n].call("GET", "ord:%d" % i).value
                self.assertEqual(got, b"%d" % i,
                                 "%s (%s): message %d arrived before the write made before it"
                                 % (n, what, i))

    def test_messages_never_overtake_earlier_writes(self):
        def plain(pub, i):
            self.assertEqual([r.value for r in pub.pipeline(
                [["SET", "ord:%d" % i, i], ["PUBLISH", "ord", i]])][0], b"OK")

        self.check_no_overtaking(plain, 300, "SET then PUBLISH")

    def test_script_and_transaction_messages_follow_their_writes(self):
        script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('PUBLISH', 'ord', ARGV[1])"

        def scripted(pub, i):
            if i % 2 == 0:
                r = pub.call("EVAL", script, 1, "ord:%d" % i, i)
                self.assertEqual(r.value, 0, r.raw)  # no local subscriber
            else:
                r = pub.pipeline([["MULTI"], ["SET", "ord:%d" % i, i],
                                  ["PUBLISH", "ord", i], ["EXEC"]])
                self.assertEqual(r[-1].value, [b"OK", 0], r[-1].raw)

        self.check_no_overtaking(scripted, 200, "EVAL / MULTI")

    def test_message_published_while_unreachable_is_lost(self):
        subs = {n: self.subscriber(n, "SUBSCRIBE", "lost") for n in self.names[1:]}
        origin = self.cluster.client(self.names[0])
        self.assertEqual(origin.call("CRDT.SYNC", "PAUSE").raw, b"+OK\r\n")
        origin.call("PUBLISH", "lost", "while-paused")
        self.assertEqual(origin.call("CRDT.SYNC", "RESUME").raw, b"+OK\r\n")
        self.cluster.wait_sync()

        # Once the links are back, a later message arrives -- and it is the first one each
        # subscriber gets: the paused one is never delivered (at most once).
        deadline = time.monotonic() + 30
        firsts = {}
        while len(firsts) < len(subs) and time.monotonic() < deadline:
            origin.call("PUBLISH", "lost", "after")
            for n, c in subs.items():
                if n not in firsts:
                    m = self.poll_push(c, 0.2)
                    if m is not None:
                        firsts[n] = m
        self.assertEqual(len(firsts), len(subs), "no message after RESUME: %r" % firsts)
        for n, m in firsts.items():
            self.assertEqual(m, [b"message", b"lost", b"after"], n)

    def poll_push(self, client, timeout=0.2):
        """A delivered message if one arrives within `timeout`, else None."""
        client.sock.settimeout(timeout)
        try:
            return read_push(client)
        except socket.timeout:
            return None
        finally:
            client.sock.settimeout(10.0)

    def test_slow_subscriber_is_disconnected(self):
        name = self.names[0]
        admin = self.cluster.client(name)
        self.assertEqual(
            admin.call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 256kb 128kb 60").raw,
            b"+OK\r\n")
        # A subscriber that never reads, with a small receive buffer so the server's output
        # backs up quickly; and one that reads.
        port = self.cluster.regions[name].port
        slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", port))
        self.addCleanup(slow.close)
        slow.sendall(akv.encode_command(["SUBSCRIBE", "flood"]))
        good = self.subscriber(name, "SUBSCRIBE", "flood")
        wait_for(self, "both subscribers registered",
                 lambda: admin.call("PUBSUB", "NUMSUB", "flood").value == [b"flood", 2])
        payload = "x" * 16384
        total = 200  # 3.2 MiB, far past the 256 KiB hard limit
        remote = self.cluster.client(self.names[1])  # half of them arrive from a peer
        for i in range(total):
            src = remote if i % 2 else admin
            src.call("PUBLISH", "flood", "%d:%s" % (i, payload))
            m = read_push(good)
            self.assertEqual(m[2].split(b":")[0], b"%d" % i, "the reading subscriber lost one")
        wait_for(self, "the slow subscriber disconnected",
                 lambda: admin.call("PUBSUB", "NUMSUB", "flood").value == [b"flood", 1])
        with open(self.cluster.regions[name].log_path, "rb") as f:
            self.assertIn(b"closed for overcoming of output buffer limits", f.read())
        self.assertEqual(admin.call("PING").value, b"PONG")


if __name__ == "__main__":
    akv.run_tests()
