#!/usr/bin/python3
"""Durability of the server under test with real processes and kill -9.

- appendfsync always: every ACKNOWLEDGED write survives kill -9 (several cycles, several writers,
  one of them pipelining).
- A torn AOF tail (last bytes cut off) is truncated with a warning and the server serves; later
  writes are durable too.
- A corrupted byte in the middle of the AOF makes the server refuse to start, naming the file and
  the offset; the AOF checker reports it and --fix repairs it.

  /usr/bin/python3 test_durability.py [--target redis|activekv]
  env: AKV_SEED (printed as seed=N), AKV_DURABILITY_CYCLES (default 3)
"""

import os
import random
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import akv  # noqa: E402

SEED = None


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


class Ledger:
    """What the writers sent and what the server acknowledged. Thread-safe."""

    def __init__(self):
        self.lock = threading.Condition()
        self.sent_incr = {}
        self.acked_incr = {}
        self.acked_set = {}  # key -> value
        self.unacked_set = {}  # key -> value (sent, reply never seen)
        self.acked_total = 0
        self.errors = []

    def sent(self, op, key, value=None):
        with self.lock:
            if op == "INCR":
                self.sent_incr[key] = self.sent_incr.get(key, 0) + 1
            else:
                self.unacked_set[key] = value

    def acked(self, op, key, value=None):
        with self.lock:
            if op == "INCR":
                self.acked_incr[key] = self.acked_incr.get(key, 0) + 1
            else:
                del self.unacked_set[key]
                self.acked_set[key] = value
            self.acked_total += 1
            self.lock.notify_all()

    def wait_for(self, total, deadline):
        with self.lock:
            while self.acked_total < total:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
            return True


class Writer(threading.Thread):
    """Writes INCRs on shared counters and SETs of unique keys until the connection dies."""

    def __init__(self, port, ledger, name, seed, pipeline=1):
        super().__init__(name=name, daemon=True)
        self.port = port
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.pipeline = pipeline
        self.n = 0

    def next_op(self):
        self.n += 1
        if self.rng.random() < 0.5:
            return ("INCR", "ctr:%d" % self.rng.randrange(3), None)
        key = "u:%s:%d" % (self.name, self.n)
        return ("SET", key, "val-%s-%d-%d" % (self.name, self.n, self.rng.randrange(10**9)))

    def run(self):
        try:
            c = akv.RespClient(self.port, timeout=30)
        except OSError:
            return
        try:
            while True:
                ops = [self.next_op() for _ in range(self.pipeline)]
                for op, key, value in ops:
                    self.ledger.sent(op, key, value)
                c.send_raw(b"".join(akv.encode_command([op, key] + ([value] if value else []))
                                    for op, key, value in ops))
                for op, key, value in ops:
                    r = c.read_reply()
                    ok = (type(r.value) is int) if op == "INCR" else r.raw == b"+OK\r\n"
                    if not ok:
                        self.ledger.errors.append("%s %s -> %r" % (op, key, r.raw))
                        return
                    self.ledger.acked(op, key, value)
        except (akv.ConnectionClosed, OSError, akv.ProtocolViolation):
            return  # the server was killed
        finally:
            c.close()


def bump(path, offset, new_byte):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(bytes([new_byte]))


class DurabilityTest(akv.ServerTestCase):

    def verify_ledger(self, server, ledger, cycle):
        ctx = "cycle %d, seed=%d, %s" % (cycle, SEED, server.describe())
        with server.client() as c:
            for key, acked in sorted(ledger.acked_incr.items()):
                v = c.call("GET", key).value
                got = int(v) if v is not None else 0
                sent = ledger.sent_incr[key]
                self.assertGreaterEqual(got, acked, "%s: counter %s lost acknowledged INCRs "
                                        "(acked %d, sent %d, found %d)\n%s" %
                                        (ctx, key, acked, sent, got, server.log_tail()))
                self.assertLessEqual(got, sent, "%s: counter %s has more than was sent (acked %d,"
                                     " sent %d, found %d)" % (ctx, key, acked, sent, got))
            keys = sorted(ledger.acked_set)
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                values = c.call("MGET", *chunk).value
                lost = [(k, v) for k, v in zip(chunk, values) if v != ledger.acked_set[k].encode()]
                self.assertEqual(lost, [], "%s: %d acknowledged SETs lost or wrong (first: %r)\n%s"
                                 % (ctx, len(lost), lost[:5], server.log_tail()))
            for k, v in ledger.unacked_set.items():  # may be there or not, but never garbage
                got = c.call("GET", k).value
                self.assertIn(got, (None, v.encode()), "%s: unacknowledged SET %s" % (ctx, k))

    def test_acknowledged_writes_survive_kill9_appendfsync_always(self):
        rng = random.Random(SEED)
        server = self.start_target("always", name="durable")
        ledger = Ledger()
        cycles = int(os.environ.get("AKV_DURABILITY_CYCLES", "3"))
        for cycle in range(cycles):
            writers = [Writer(server.port, ledger, "w%d-%d" % (cycle, i), rng.randrange(2**32))
                       for i in range(4)]
            writers.append(Writer(server.port, ledger, "p%d" % cycle, rng.randrange(2**32),
                                  pipeline=16))
            target = ledger.acked_total + rng.randint(300, 1500)
            for w in writers:
                w.start()
            reached = ledger.wait_for(target, time.monotonic() + 60)
            self.assertEqual(ledger.errors, [], "error replies during writes")
            self.assertTrue(reached, "writers did not reach %d acknowledged writes in 60s "
                            "(at %d)\n%s" % (target, ledger.acked_total, server.log_tail()))
            server.kill9()
            for w in writers:
                w.join(30)
                self.assertFalse(w.is_alive(), "writer %s hangs after kill -9" % w.name)
            print("  cycle %d: killed after %d acknowledged writes (%d INCR sent, %d SET unacked)"
                  % (cycle, ledger.acked_total, sum(ledger.sent_incr.values()),
                     len(ledger.unacked_set)))
            server.start()
            self.verify_ledger(server, ledger, cycle)

    def write_keys(self, server, n, value_fn):
        # One acknowledged SET at a time, so that (with appendfsync always) every SET is its own
        # AOF record even with group commit: damage to one record affects one key.
        with server.client() as c:
            for i in range(n):
                r = c.call("SET", "key:%04d" % i, value_fn(i))
                self.assertEqual(r.raw, b"+OK\r\n", server.describe())

    def test_torn_tail_is_truncated_with_warning(self):
        server = self.start_target("always", name="torn")
        n = 200
        self.write_keys(server, n, lambda i: "value-%d-" % i + "x" * 50)
        server.kill9()
        aof = server.aof_file()
        size = os.path.getsize(aof)
        with open(aof, "r+b") as f:
            f.truncate(size - 3)
        log_before = len(server.log_text())
        server.start()
        log = server.log_text()[log_before:]
        self.assertRegex(log.lower(), r"warn", "no warning about the torn tail of %s (%d -> %d "
                         "bytes)\n%s" % (aof, size, size - 3, server.log_tail()))
        with server.client() as c:
            values = c.call("MGET", *["key:%04d" % i for i in range(n)]).value
            for i, v in enumerate(values[:-1]):
                self.assertEqual(v, ("value-%d-" % i + "x" * 50).encode(), "key:%04d" % i)
            self.assertIsNone(values[-1], "the torn last write must not be half-applied")
            # The repaired file takes new appends that survive another crash.
            self.assertEqual(c.call("SET", "after", "torn").raw, b"+OK\r\n")
            self.assertEqual(c.call("INCR", "ctr").raw, b":1\r\n")
        server.kill9()
        server.start()
        with server.client() as c:
            self.assertEqual(c.call("GET", "after").value, b"torn", server.log_tail())
            self.assertEqual(c.call("GET", "ctr").value, b"1")
            self.assertEqual(c.call("DBSIZE").value, n - 1 + 2)

    def test_corruption_in_the_middle_refuses_start_and_check_aof_fixes_it(self):
        server = self.start_target("always", name="corrupt")
        n = 200
        marker = "MIDDLE-MARKER-"

        def value(i):
            return (marker if i == n // 2 else "value-%d-" % i) + "y" * 64

        self.write_keys(server, n, value)
        server.kill9()
        aof = server.aof_file()
        with open(aof, "rb") as f:
            data = f.read()
        pos = data.find(marker.encode())
        self.assertGreater(pos, 0, "value bytes not found verbatim in %s" % aof)
        if akv.target_kind() == "redis":
            # redis' AOF has no checksums: break the RESP framing ($<len>) before the value.
            hdr = data.rfind(b"$", 0, pos)
            bump(aof, hdr, ord("X"))
            want_in_log = [os.path.basename(aof), "Bad file format"]
        else:
            bump(aof, pos + 3, data[pos + 3] ^ 0x01)
            want_in_log = [os.path.basename(aof), "offset"]
        log_before = len(server.log_text())
        server.start(wait=False)
        code = server.wait_exit(30)
        log = server.log_text()[log_before:]
        self.assertIsNotNone(code, "server started on a corrupted AOF (%s)\n%s" %
                             (aof, server.log_tail()))
        self.assertNotEqual(code, 0, "server exited 0 on a corrupted AOF")
        lines = [l for l in log.splitlines() if all(w in l for w in want_in_log)]
        self.assertTrue(lines, "no log line names %r\n%s" % (want_in_log, server.log_tail()))
        print("  refusal: %s" % lines[0].strip()[:300])

        check = server.check_aof_argv(aof)
        p = subprocess.run(check, input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = p.stdout.decode(errors="replace")
        self.assertNotEqual(p.returncode, 0, "checker accepts a corrupted file:\n$ %s\n%s" %
                            (" ".join(check), out))
        self.assertTrue(out.strip(), "checker printed nothing")
        if akv.target_kind() != "redis":
            self.assertIn("offset", out.lower(), "checker output must give the offset:\n" + out)

        fix = server.check_aof_argv(aof, fix=True)
        p = subprocess.run(fix, input=b"y\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, "$ %s\n%s" % (" ".join(fix), out))
        p = subprocess.run(check, input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        self.assertEqual(p.returncode, 0, "file still bad after --fix:\n%s" %
                         p.stdout.decode(errors="replace"))

        server.start()
        with server.client() as c:
            values = c.call("MGET", *["key:%04d" % i for i in range(n)]).value
        for i, v in enumerate(values):
            if i < n // 2:
                self.assertEqual(v, value(i).encode(), "key:%04d before the damage" % i)
            else:  # the damaged record and what follows may be dropped, never altered
                self.assertIn(v, (None, value(i).encode()), "key:%04d" % i)


if __name__ == "__main__":
    akv.run_tests()
