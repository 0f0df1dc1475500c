#!/usr/bin/python3
"""Client limits (docs/security.md, "Limits"): bad or greedy clients get Redis's answer, nothing
acknowledged is lost, and everyone else keeps being served.

Each limit is flooded on redis-server 7.0 and on activekv side by side, and what the greedy
client sees (a reply or the connection closed) is compared: maxclients, client-query-buffer-limit,
proto-max-bulk-len, client-output-buffer-limit (normal and pubsub), timeout (idle clients go;
blocked and subscribed ones stay), maxmemory with noeviction (the OOM refusals of plain
commands, MULTI/EXEC and scripts, byte for byte). Then, across two regions: a region above its
maxmemory refuses its clients' writes but still applies its peer's writes and expires keys.

  /usr/bin/python3 test_limits.py [-k pattern]
"""

import os
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402
from test_replication import Cluster  # noqa: E402  (only the helper class)


def connection_closed(sock, timeout=20.0):
    """Reads (and drops) what the server sends until it closes the connection; True if it did
    within `timeout`."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(1 << 20):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


class LimitsTest(akv.ServerTestCase):

    def both(self):
        """(name, server, admin client) for redis-server and activekv."""
        out = []
        for name, server in (("redis", self.start_redis()), ("activekv", self.start_target())):
            admin = server.client()
            self.addCleanup(admin.close)
            out.append((name, server, admin))
        return out

    def client_count(self, admin):
        return sum(1 for line in admin.call("CLIENT", "LIST").value.decode().splitlines() if line)

    def test_maxclients(self):
        for name, server, admin in self.both():
            base = self.client_count(admin)
            self.assertEqual(admin.call("CONFIG", "SET", "maxclients", str(base + 3)).raw,
                             b"+OK\r\n")
            extra = [server.client() for _ in range(3)]
            for c in extra:
                self.addCleanup(c.close)
                self.assertEqual(c.call("PING").raw, b"+PONG\r\n")
            refused = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            self.addCleanup(refused.close)
            got = b""
            while not got.endswith(b"\r\n"):
                chunk = refused.recv(100)
                if not chunk:
                    break
                got += chunk
            self.assertEqual(got, b"-ERR max number of clients reached\r\n", name)
            self.assertTrue(connection_closed(refused), name)
            self.assertEqual(admin.call("PING").raw, b"+PONG\r\n", name)
            extra[0].close()
            # A place came free: a new client gets in.
            akv.wait_for(self, "a free place on %s" % name,
                         lambda: self.client_count(admin) == base + 2)
            with server.client() as again:
                self.assertEqual(again.call("PING").raw, b"+PONG\r\n", name)

    def test_query_buffer_and_bulk_limits(self):
        for name, server, admin in self.both():
            self.assertEqual(admin.call("CONFIG", "SET", "client-query-buffer-limit", "1mb").raw,
                             b"+OK\r\n")
            admin.call("SET", "kept", "1")
            # A 3 MB argument that never ends: the buffer passes 1 MB and the client is closed.
            greedy = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            self.addCleanup(greedy.close)
            greedy.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n")
            try:
                for _ in range(40):
                    greedy.sendall(b"x" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(connection_closed(greedy), name)
            self.assertEqual(admin.call("GET", "kept").raw, b"$1\r\n1\r\n", name)
            self.assertEqual(admin.call("EXISTS", "k").raw, b":0\r\n", name)
            self.assertEqual(admin.call("CONFIG", "SET", "client-query-buffer-limit", "1gb").raw,
                             b"+OK\r\n")
            # proto-max-bulk-len: a longer bulk is a protocol error, then the connection closes.
            self.assertEqual(admin.call("CONFIG", "SET", "proto-max-bulk-len", "1mb").raw,
                             b"+OK\r\n")
            with server.client() as c:
                c.send_raw(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n")
                self.assertEqual(c.read_reply().raw,
                                 b"-ERR Protocol error: invalid bulk length\r\n", name)
                self.assertTrue(connection_closed(c.sock), name)
            self.assertEqual(admin.call("CONFIG", "SET", "proto-max-bulk-len", "2mb").raw,
                             b"+OK\r\n")
            with server.client() as c:
                self.assertEqual(len(c.call("ECHO", "y" * 1500000).value), 1500000, name)

    def test_output_buffer_limits(self):
        for name, server, admin in self.both():
            self.assertEqual(admin.call("CONFIG", "SET", "client-output-buffer-limit",
                                        "normal 1mb 0 0 pubsub 1mb 0 0").raw, b"+OK\r\n")
            admin.call("SET", "big", "v" * 100000)
            # A client that asks for 20 MB of replies and never reads them.
            reader = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            self.addCleanup(reader.close)
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.sendall(akv.encode_command(["GET", "big"]) * 200)
            akv.wait_for(self, "the reader closed on %s" % name,
                         lambda: self.client_count(admin) == 1)
            # A subscriber that never reads while 10 MB are published to it.
            sub = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            self.addCleanup(sub.close)
            sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sub.sendall(akv.encode_command(["SUBSCRIBE", "flood"]))
            akv.wait_for(self, "the subscriber on %s" % name,
                         lambda: admin.call("PUBSUB", "NUMSUB", "flood").value[1] == 1)
            for _ in range(100):
                admin.call("PUBLISH", "flood", "m" * 100000)
                if admin.call("PUBSUB", "NUMSUB", "flood").value[1] == 0:
                    break
            self.assertEqual(admin.call("PUBSUB", "NUMSUB", "flood").value[1], 0, name)
            self.assertEqual(admin.call("GET", "big").raw[:8], b"$100000\r", name)

    def test_idle_timeout_spares_blocked_and_subscribed_clients(self):
        for name, server, admin in self.both():
            blocked = server.client()
            self.addCleanup(blocked.close)
            blocked.send_command("BLPOP", "never", "0")
            sub = server.client()
            self.addCleanup(sub.close)
            sub.call("SUBSCRIBE", "ch")
            idle = server.client()
            self.addCleanup(idle.close)
            self.assertEqual(idle.call("CLIENT", "SETNAME", "idle").raw, b"+OK\r\n")
            akv.wait_for(self, "the blocked client on %s" % name,
                         lambda: b"blocked_clients:1" in admin.call("INFO", "clients").value)
            self.assertEqual(admin.call("CONFIG", "SET", "timeout", "1").raw, b"+OK\r\n")
            # The admin keeps itself busy; the idle client goes after a second or two...
            akv.wait_for(self, "the idle client to be closed on %s" % name,
                         lambda: b"name=idle" not in admin.call("CLIENT", "LIST").value,
                         timeout=15)
            self.assertTrue(connection_closed(idle.sock), name)
            # ...while the blocked and subscribed ones, idle for longer, stay.
            self.assertEqual(admin.call("CONFIG", "SET", "timeout", "0").raw, b"+OK\r\n")
            self.assertEqual(admin.call("LPUSH", "never", "x").raw, b":1\r\n")
            self.assertEqual(blocked.read_reply().value, [b"never", b"x"], name)
            self.assertEqual(admin.call("PUBLISH", "ch", "hi").raw, b":1\r\n", name)

    def test_maxmemory_refusals_match_redis(self):
        steps = [
            ("SET", "k", "v"),
            ("GET", "k"),
            ("APPEND", "k", "x"),
            ("INCR", "n"),
            ("HSET", "h", "f", "v"),
            ("LPUSH", "l", "a"),
            ("SADD", "s", "a"),
            ("ZADD", "z", "1", "a"),
            ("EXISTS", "pre"),
            ("EXPIRE", "pre", "100"),
            ("DEL", "pre"),
            ("MULTI",),
            ("GET", "k"),
            ("EXEC",),
            ("MULTI",),
            ("DISCARD",),
            ("EVAL", "return redis.call('set','x','y')", "0"),
            ("EVAL", "return redis.call('get','x')", "0"),
            ("EVAL", "return redis.pcall('set','x','y')", "0"),
            ("EVAL", "#!lua\nreturn redis.call('get','x')", "0"),
            ("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"),
            ("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set','x','y')", "0"),
            ("GET", "x"),
            ("PUBLISH", "ch", "m"),
            ("CONFIG", "SET", "maxmemory", "abc"),
            ("CONFIG", "SET", "maxmemory", "-1"),
            ("CONFIG", "SET", "maxmemory-policy", "sometimes"),
            ("CONFIG", "SET", "client-query-buffer-limit", "1000"),
            ("CONFIG", "SET", "client-query-buffer-limit", "abc"),
            ("CONFIG", "SET", "proto-max-bulk-len", "100"),
            ("CONFIG", "SET", "maxclients", "0"),
            ("CONFIG", "SET", "timeout", "-1"),
            ("CONFIG", "SET", "maxmemory", "0"),
            ("SET", "k", "v"),
            ("CONFIG", "SET", "maxmemory", "10gb"),
            ("CONFIG", "GET", "maxmemory"),
            ("SET", "k", "w"),
            ("CONFIG", "SET", "maxmemory", "0"),
        ]
        replies = {}
        for name, server, admin in self.both():
            admin.call("SET", "pre", "1")
            # 1 byte: every server is always above it.
            self.assertEqual(admin.call("CONFIG", "SET", "maxmemory", "1").raw, b"+OK\r\n")
            replies[name] = [admin.call(*step).raw for step in steps]
        for step, want, got in zip(steps, replies["redis"], replies["activekv"]):
            self.assertEqual(got, want, "%s: redis-server %r, activekv %r"
                             % (akv.fmt_cmd(step), want, got))
        # Eviction policies are refused with a reason (documented difference).
        with self.start_target(name="policy").client() as c:
            r = c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru").raw
            self.assertIn(b"supports only noeviction", r)
            self.assertEqual(c.call("CONFIG", "SET", "maxmemory-policy", "noeviction").raw,
                             b"+OK\r\n")

    def test_region_above_maxmemory_still_applies_its_peers_writes_and_expires(self):
        cluster = Cluster(self, 2)
        a, b = cluster.client("r0"), cluster.client("r1")
        self.assertEqual(a.call("SET", "before", "1").raw, b"+OK\r\n")
        self.assertEqual(a.call("CONFIG", "SET", "maxmemory", "1").raw, b"+OK\r\n")
        self.assertEqual(a.call("SET", "mine", "1").raw,
                         b"-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        self.assertIn(b"maxmemory:1\r\n", a.call("INFO", "memory").value)
        # Replication is never refused: the regions must converge.
        for i in range(200):
            self.assertEqual(b.call("SET", "peer:%d" % i, "v" * 1000).raw, b"+OK\r\n")
        self.assertEqual(b.call("SET", "short", "1", "PX", "300").raw, b"+OK\r\n")
        cluster.wait_sync()
        self.assertEqual(a.call("GET", "peer:199").raw[:6], b"$1000\r")
        self.assertEqual(a.call("DBSIZE").raw, b":202\r\n")
        # Expiry goes on too (the key is gone everywhere without anyone reading it).
        akv.wait_for(self, "the short key to expire in r0",
                     lambda: a.call("DBSIZE").raw == b":201\r\n")
        # Deleting is allowed, and without the limit writes are taken again.
        self.assertEqual(a.call("DEL", "before").raw, b":1\r\n")
        self.assertEqual(a.call("CONFIG", "SET", "maxmemory", "0").raw, b"+OK\r\n")
        self.assertEqual(a.call("SET", "mine", "1").raw, b"+OK\r\n")
        cluster.wait_sync()
        self.assertEqual(b.call("GET", "mine").raw, b"$1\r\n1\r\n")
        self.assertEqual(b.call("EXISTS", "before").raw, b":0\r\n")


if __name__ == "__main__":
    unittest.main()
