#!/usr/bin/python3
"""Protocol robustness of the server under test over raw sockets: malformed RESP is answered with
"-ERR Protocol error..." and that connection is closed while other clients keep working; oversized
lengths are rejected without allocating; fragmented and heavily pipelined input is handled.

  /usr/bin/python3 test_protocol.py [--target redis|activekv]
"""

import socket
import sys
import threading

sys.dont_write_bytecode = True  # keep the source tree clean
import akv  # noqa: E402

# (request bytes, exact redis 7.0 reply). Each closes the connection after the reply.
MALFORMED = [
    (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\nx\r\n", b"-ERR Protocol error: expected '$', got 'x'\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$99999999999999999999\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n$" + b"1" * 70000, b"-ERR Protocol error: too big bulk count string\r\n"),
    (b"*" + b"1" * 70000, b"-ERR Protocol error: too big mbulk count string\r\n"),
    (b"a" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
    (b"SET k \"abc\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"PING\r\n*1\r\n$x\r\n", b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"),
]


class ProtocolTest(akv.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.server = akv.make_target(akv.new_workdir("proto-target"))
        try:
            cls.server.start()
        except BaseException:
            cls.server.kill9()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.kill9()

    def send_malformed(self, request):
        """Sends request; returns (everything received until close, other client still OK)."""
        bystander = self.server.client()
        self.addCleanup(bystander.close)
        bystander.send_raw(b"*3\r\n$3\r\nSET\r\n$9\r\nbystander")  # half a command, pending
        with self.server.client() as c:
            try:
                c.send_raw(request)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may close before reading everything we send
            try:
                got = c.read_until_closed(timeout=10)
            except socket.timeout:
                self.fail("connection not closed after %r...; received %r (%s)" %
                          (request[:40], bytes(c.buf), self.server.describe()))
        bystander.send_raw(b"\r\n$2\r\nok\r\n")
        r = bystander.read_reply()
        return got, r.raw == b"+OK\r\n"

    def test_malformed_requests_get_protocol_error_and_close(self):
        for request, _ in MALFORMED:
            got, bystander_ok = self.send_malformed(request)
            self.assertIn(b"-ERR Protocol error", got, "request %r..." % request[:40])
            self.assertTrue(got.endswith(b"\r\n"), got)
            self.assertTrue(bystander_ok, "another client's connection was affected")
            with self.server.client() as c:
                self.assertEqual(c.call("PING").raw, b"+PONG\r\n", "server alive")

    def test_protocol_error_texts_match_redis(self):
        wrong = []
        for request, want in MALFORMED:
            got, _ = self.send_malformed(request)
            if got != want:
                wrong.append("  %r...\n    want %r\n    got  %r" % (request[:30], want, got))
        self.assertEqual(wrong, [], "protocol error replies differ from redis 7.0:\n" +
                         "\n".join(wrong))

    def test_empty_and_negative_multibulk_are_ignored(self):
        with self.server.client() as c:
            c.send_raw(b"*0\r\n*-1\r\n\r\nPING\r\n")
            self.assertEqual(c.read_reply().raw, b"+PONG\r\n")

    def test_bulk_length_at_the_limit_is_accepted_lazily(self):
        # A 512 MB bulk header is legal; the server must not reply before the payload arrives.
        with self.server.client() as c:
            c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n")
            c.sock.settimeout(0.3)
            try:
                data = c.sock.recv(100)
                self.fail("unexpected reply %r to a pending 512MB bulk" % data)
            except socket.timeout:
                pass
        with self.server.client() as c:
            self.assertEqual(c.call("PING").raw, b"+PONG\r\n")

    def test_fragmented_input_byte_by_byte(self):
        with self.server.client() as c:
            req = akv.encode_command(["SET", "frag", "a\r\nb"]) + akv.encode_command(
                ["GET", "frag"]) + b"PING\r\n"
            for i in range(len(req)):
                c.send_raw(req[i:i + 1])
            self.assertEqual(c.read_reply().raw, b"+OK\r\n")
            self.assertEqual(c.read_reply().raw, b"$4\r\na\r\nb\r\n")
            self.assertEqual(c.read_reply().raw, b"+PONG\r\n")

    def test_large_values_and_deep_pipelines(self):
        big = bytes(range(256)) * 8192  # 2 MiB
        with self.server.client() as c:
            self.assertEqual(c.call("SET", "big", big).raw, b"+OK\r\n")
            r = c.call("GET", "big")
            self.assertEqual(r.value, big)
            n = 20000
            replies = c.pipeline([["INCR", "pipe"] for _ in range(n)])
            self.assertEqual([r.value for r in replies], list(range(1, n + 1)))
            c.call("DEL", "big", "pipe")

    def test_many_concurrent_connections(self):
        errors = []

        def worker(i):
            try:
                with self.server.client() as c:
                    for j in range(20):
                        r = c.call("INCR", "conc")
                        if type(r.value) is not int:
                            errors.append(r.raw)
            except Exception as e:  # reported below
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        with self.server.client() as c:
            self.assertEqual(c.call("GET", "conc").value, b"2000")
            c.call("DEL", "conc")

    def test_client_closing_mid_command_does_not_hurt(self):
        for partial in (b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*2\r\n", b"PIN", b"*1\r\n$4\r\nPI"):
            with self.server.client() as c:
                c.send_raw(partial)
        with self.server.client() as c:
            self.assertEqual(c.call("PING").raw, b"+PONG\r\n")
            self.assertEqual(c.call("EXISTS", "k").raw, b":0\r\n")


if __name__ == "__main__":
    akv.run_tests()
