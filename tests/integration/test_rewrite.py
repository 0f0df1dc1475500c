#!/usr/bin/python3
"""AOF rewrite (BGREWRITEAOF, auto-aof-rewrite-*) and full resync by state transfer.

- BGREWRITEAOF on 100k ops (~27k keys: overwrites, INCRBY/INCRBYFLOAT counters, TTLs, DELs)
  while a writer thread keeps writing: the AOF shrinks, a second BGREWRITEAOF gets the exact
  "already in progress" error, and after kill -9 every acknowledged write is there and the digest
  is unchanged; activekv-check-aof finds the snapshot chunks.
- Three rewrites with writes (and a restart) between: same digest after kill -9.
- auto-aof-rewrite-percentage / -min-size: automatic rewrites happen, only past the thresholds.
- A leftover appendonly.aof.rewrite (garbage, or a rewrite killed half-way) is removed at startup.
- Three regions, --replication-log-ops 200: a region that was down while the others compacted the
  ops it lacks into snapshots gets them by state transfer (snapshots_received), with its AOF or
  with an empty data dir; counters, deletes and its own old keys are right, its new writes spread.
- A region with an empty data dir that takes writes before its peers answer (their replication
  paused) must not reuse the dots of its lost ops.

  /usr/bin/python3 test_rewrite.py     env: AKV_SEED
"""

import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
import akv  # noqa: E402
from test_replication import Cluster  # noqa: E402  (only the helper class: no tests imported)

SEED = None

# Test 1's data set: ops over a key space (~3 writes a key: the AOF is mostly overwrites).
LOAD_OPS, LOAD_KEYS = 100000, 30000

STARTED = b"+Background append only file rewriting started\r\n"
IN_PROGRESS = b"-ERR Background append only file rewriting already in progress\r\n"


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


def persistence(client):
    return akv.info_fields(client, "persistence")


def peer_stats(fields, peer):
    """crdt_peer_<peer>:a=1,b=2 -> {'a': '1', 'b': '2'}."""
    line = fields.get("crdt_peer_%s" % peer)
    if line is None:
        raise AssertionError("no crdt_peer_%s in INFO crdt: %r" % (peer, fields))
    return dict(kv.split("=", 1) for kv in line.split(",") if "=" in kv)


def wait_sync(cluster, names=None, timeout=30.0):
    """cluster.wait_sync, with every live region's INFO crdt peer lines in the failure message."""
    try:
        return cluster.wait_sync(names=names, timeout=timeout)
    except AssertionError as e:
        lines = []
        for name, p in cluster.regions.items():
            if not p.running():
                continue
            try:
                with p.client(timeout=5) as c:
                    f = akv.info_fields(c)
                lines.append("%s: vv=%s %s" % (name, f.get("crdt_version_vector"), " ".join(
                    "%s[%s]" % (k[len("crdt_peer_"):], v) for k, v in sorted(f.items())
                    if k.startswith("crdt_peer_"))))
            except (OSError, akv.ConnectionClosed, AssertionError) as ie:
                lines.append("%s: INFO failed: %s" % (name, ie))
        raise AssertionError("%s (seed=%d)\n%s" % (e, SEED, "\n".join(lines))) from None


def check_aof(path):
    exe = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-check-aof"),
                                 "activekv-check-aof")
    p = subprocess.run([exe, path], input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def snapshot_summary(out):
    """(chunks, keys) from activekv-check-aof's 'snapshot chunks: N (K keys)', or None."""
    m = re.search(r"^snapshot chunks: (\d+) \((\d+) keys\)$", out, re.M)
    return (int(m.group(1)), int(m.group(2))) if m else None


class Model:
    """Expected value (bytes) of every live key written through one ordered connection."""

    def __init__(self):
        self.values = {}
        self.ttl = set()  # keys that must have a (long) TTL

    def apply(self, cmd, reply):
        op, key = cmd[0], cmd[1]
        if isinstance(reply.value, akv.Err):
            raise AssertionError("%s -> %r" % (akv.fmt_cmd(cmd), reply.raw))
        if op == "SET":
            if reply.raw != b"+OK\r\n":
                raise AssertionError("%s -> %r" % (akv.fmt_cmd(cmd), reply.raw))
            self.values[key] = cmd[2].encode()
            if "EX" in cmd[3:]:
                self.ttl.add(key)
            else:
                self.ttl.discard(key)
        elif op in ("INCRBY", "INCR"):
            prev = int(self.values.get(key, b"0"))
            want = prev + (int(cmd[2]) if op == "INCRBY" else 1)
            if reply.value != want:
                raise AssertionError("%s -> %r, expected %d" % (akv.fmt_cmd(cmd), reply.raw, want))
            self.values[key] = str(want).encode()
        elif op == "INCRBYFLOAT":
            want = float(self.values.get(key, b"0")) + float(cmd[2])
            if float(reply.value) != want:  # the steps are dyadic: sums are exact
                raise AssertionError("%s -> %r, expected %r" % (akv.fmt_cmd(cmd), reply.raw, want))
            self.values[key] = reply.value
        elif op == "DEL":
            want = 1 if key in self.values else 0
            if reply.value != want:
                raise AssertionError("%s -> %r, expected %d" % (akv.fmt_cmd(cmd), reply.raw, want))
            self.values.pop(key, None)
            self.ttl.discard(key)
        elif op == "EXPIRE":
            want = 1 if key in self.values else 0
            if reply.value != want:
                raise AssertionError("%s -> %r, expected %d" % (akv.fmt_cmd(cmd), reply.raw, want))
            if want:
                self.ttl.add(key)
        else:
            raise AssertionError("model has no rule for %s" % op)

    def run(self, client, commands, chunk=1000):
        for i in range(0, len(commands), chunk):
            part = commands[i:i + chunk]
            for cmd, reply in zip(part, client.pipeline(part)):
                self.apply(cmd, reply)


def random_ops(rng, model, n, keys, tag):
    """n commands over k:<0..keys>, c:<..>, f:<..>: mostly overwriting SETs (some with EX 3600),
    INCRBY, INCRBYFLOAT, DEL and EXPIRE of keys the model knows."""
    out = []
    for i in range(n):
        x = rng.random()
        if x < 0.70:
            key = "k:%d" % rng.randrange(keys)
            cmd = ["SET", key, "%s-%d-%s" % (tag, i, "v" * rng.randrange(10, 60))]
            if rng.random() < 0.1:
                cmd += ["EX", "3600"]
            out.append(cmd)
        elif x < 0.82:
            out.append(["INCRBY", "c:%d" % rng.randrange(max(1, keys // 50)),
                        str(rng.randrange(-50, 100))])
        elif x < 0.88:
            out.append(["INCRBYFLOAT", "f:%d" % rng.randrange(max(1, keys // 100)),
                        rng.choice(["0.5", "1.25", "-0.75", "2", "0.125"])])
        elif x < 0.96:
            out.append(["DEL", "k:%d" % rng.randrange(keys)])
        else:
            out.append(["EXPIRE", "k:%d" % rng.randrange(keys), "3600"])
    return out


class Ledger:
    """Acknowledged writes of one Writer (one connection, so acked == applied in order)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.sets = {}  # key -> value
        self.incrs = {}  # key -> count
        self.acked = 0
        self.errors = []

    def wait_for(self, total, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.acked < total:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


class Writer(threading.Thread):
    """SETs of unique keys and INCRs of 3 counters, pipelines of 8, until stop is set."""

    def __init__(self, port, ledger, seed):
        super().__init__(name="writer", daemon=True)
        self.port = port
        self.ledger = ledger
        self.rng = random.Random(seed)
        self.stop = threading.Event()

    def run(self):
        n = 0
        try:
            with akv.RespClient(self.port, timeout=30) as c:
                while not self.stop.is_set():
                    ops = []
                    for _ in range(8):
                        n += 1
                        if self.rng.random() < 0.5:
                            ops.append(("INCR", "wc:%d" % self.rng.randrange(3)))
                        else:
                            ops.append(("SET", "w:%d" % n, "val-%d-%d" % (n, self.rng.randrange(
                                10**9))))
                    for cmd, r in zip(ops, c.pipeline([list(o) for o in ops])):
                        ok = type(r.value) is int if cmd[0] == "INCR" else r.raw == b"+OK\r\n"
                        if not ok:
                            self.ledger.errors.append("%s -> %r" % (akv.fmt_cmd(cmd), r.raw))
                            return
                        with self.ledger.cond:
                            if cmd[0] == "INCR":
                                self.ledger.incrs[cmd[1]] = self.ledger.incrs.get(cmd[1], 0) + 1
                            else:
                                self.ledger.sets[cmd[1]] = cmd[2]
                            self.ledger.acked += 1
                            self.ledger.cond.notify_all()
        except (akv.ConnectionClosed, OSError, akv.ProtocolViolation) as e:
            self.ledger.errors.append("writer connection: %s" % e)


class RewriteTest(akv.ServerTestCase):

    # -- helpers ---------------------------------------------------------------------------
    def rng(self, salt):
        seed = (SEED * 1000003 + salt) % 2**63
        print("[rewrite] %s: rng seed %d (AKV_SEED=%d)" % (self.id().split(".")[-1], seed, SEED),
              file=sys.stderr)
        return random.Random(seed)

    def client(self, server):
        c = server.client()
        self.addCleanup(c.close)
        return c

    def bgrewrite(self, c):
        r = c.call("BGREWRITEAOF")
        self.assertEqual(r.raw, STARTED)

    def wait_rewrites(self, server, c, count, timeout=30.0):
        """Polls INFO persistence until no rewrite runs and aof_rewrites >= count."""
        deadline = time.monotonic() + timeout
        while True:
            f = persistence(c)
            if f.get("aof_last_bgrewrite_status") != "ok":
                self.fail("rewrite failed on %s: %r\n%s" % (server.describe(), f,
                                                            server.log_tail()))
            if f["aof_rewrite_in_progress"] == "0" and int(f["aof_rewrites"]) >= count:
                return f
            if time.monotonic() > deadline:
                self.fail("%s: %d rewrite(s) not done in %.0fs: %r\n%s" %
                          (server.describe(), count, timeout, f, server.log_tail()))
            time.sleep(0.01)

    def verify_model(self, c, model, ctx):
        keys = sorted(model.values)
        for i in range(0, len(keys), 1000):
            part = keys[i:i + 1000]
            got = c.call("MGET", *part).value
            bad = [(k, model.values[k], v) for k, v in zip(part, got) if v != model.values[k]]
            self.assertEqual(bad, [], "%s: %d keys wrong (key, expected, found), first: %r" %
                             (ctx, len(bad), bad[:5]))
        ttl_keys = sorted(model.ttl)
        if ttl_keys:
            ttls = [r.value for r in c.pipeline([["TTL", k] for k in ttl_keys])]
            bad = [(k, t) for k, t in zip(ttl_keys, ttls) if not 0 < t <= 3600]
            self.assertEqual(bad, [], "%s: keys lost their TTL: %r" % (ctx, bad[:5]))
        plain = [k for k in keys if k not in model.ttl][:2000]
        ttls = [r.value for r in c.pipeline([["TTL", k] for k in plain])]
        bad = [(k, t) for k, t in zip(plain, ttls) if t != -1]
        self.assertEqual(bad, [], "%s: keys gained a TTL: %r" % (ctx, bad[:5]))

    def verify_ledger(self, c, ledger, ctx):
        for key, n in sorted(ledger.incrs.items()):
            self.assertEqual(c.call("GET", key).value, str(n).encode(),
                             "%s: counter %s (acked INCRs: %d)" % (ctx, key, n))
        keys = sorted(ledger.sets)
        for i in range(0, len(keys), 1000):
            part = keys[i:i + 1000]
            got = c.call("MGET", *part).value
            lost = [(k, v) for k, v in zip(part, got) if v != ledger.sets[k].encode()]
            self.assertEqual(lost, [], "%s: %d acknowledged SETs lost or wrong, first: %r" %
                             (ctx, len(lost), lost[:5]))

    def restart_and_check_digest(self, server, digest, dbsize, ctx):
        server.kill9()
        server.start()
        c = self.client(server)
        self.assertEqual(c.call("CRDT.DIGEST").value, digest,
                         "%s: digest changed across kill -9 + restart\n%s" %
                         (ctx, server.log_tail()))
        self.assertEqual(c.call("DBSIZE").value, dbsize, ctx)
        return c

    # -- 1 ---------------------------------------------------------------------------------
    def test_bgrewriteaof_under_writes_survives_kill9(self):
        rng = self.rng(1)
        server = self.start_target("always", name="rewrite")
        c = self.client(server)
        model = Model()
        t0 = time.monotonic()
        model.run(c, random_ops(rng, model, LOAD_OPS, LOAD_KEYS, "load"))
        # Keys that expire before the rewrite: must not come back from the snapshot.
        short = ["s:%d" % i for i in range(200)]
        for r in c.pipeline([["SET", k, "short", "PX", "150"] for k in short]):
            self.assertEqual(r.raw, b"+OK\r\n")
        deadline = time.monotonic() + 10
        while c.call("EXISTS", *short).value != 0:
            self.assertLess(time.monotonic(), deadline, "PX 150 keys did not expire")
            time.sleep(0.02)
        before = persistence(c)
        self.assertEqual((before["aof_rewrite_in_progress"], before["aof_rewrites"]), ("0", "0"))
        size0 = int(before["aof_current_size"])
        dbsize0 = c.call("DBSIZE").value
        self.assertEqual(dbsize0, len(model.values))
        print("[rewrite] loaded %d keys, AOF %d bytes in %.2fs" %
              (dbsize0, size0, time.monotonic() - t0), file=sys.stderr)

        ledger = Ledger()
        writer = Writer(server.port, ledger, rng.randrange(2**32))
        writer.start()
        self.addCleanup(writer.stop.set)
        self.assertTrue(ledger.wait_for(200, 30), "writer stalled: %r" % ledger.errors)

        # One pipeline, so one read on the server: the second BGREWRITEAOF and the writes after it
        # run before any rewrite step, i.e. while the first rewrite is certainly in progress, and
        # the writes land in the tail (they change keys the snapshot is still copying).
        tail = [["SET", "k:%d" % rng.randrange(LOAD_KEYS), "tail-%d" % i] for i in range(50)]
        tail += [["DEL", k] for k in rng.sample(sorted(k for k in model.values
                                                       if k.startswith("k:")), 20)]
        tail += [["INCRBY", "c:%d" % rng.randrange(LOAD_KEYS // 50), "1000"] for _ in range(20)]
        tail += [["INCRBYFLOAT", "f:%d" % rng.randrange(LOAD_KEYS // 100), "0.5"]
                 for _ in range(10)]
        tail += [["EXPIRE", "k:%d" % rng.randrange(LOAD_KEYS), "3600"] for _ in range(10)]
        replies = c.pipeline([["BGREWRITEAOF"], ["BGREWRITEAOF"], ["INFO", "persistence"]] +
                             tail)
        self.assertEqual(replies[0].raw, STARTED)
        self.assertEqual(replies[1].raw, IN_PROGRESS)
        self.assertIn(b"aof_rewrite_in_progress:1\r\n", replies[2].value)
        for cmd, r in zip(tail, replies[3:]):
            model.apply(cmd, r)
        acked_at_start = ledger.acked

        after = self.wait_rewrites(server, c, 1)
        acked_at_end = ledger.acked
        # Writes after the switch too, into the new file.
        self.assertTrue(ledger.wait_for(acked_at_end + 300, 30), "writer stalled after rewrite: "
                        "%r\n%s" % (ledger.errors, server.log_tail()))
        writer.stop.set()
        writer.join(30)
        self.assertFalse(writer.is_alive(), "writer hangs")
        self.assertEqual(ledger.errors, [])
        print("[rewrite] %d writer acks during the rewrite, %d in all; AOF %d -> %d bytes "
              "(base %s, snapshot %s), rewrite time %ss" %
              (acked_at_end - acked_at_start, ledger.acked, size0, int(after["aof_current_size"]),
               after["aof_base_size"], after["aof_snapshot_bytes"],
               after["aof_last_rewrite_time_sec"]), file=sys.stderr)

        self.assertEqual(after["aof_rewrites"], "1")
        self.assertEqual(after["aof_last_bgrewrite_status"], "ok")
        self.assertGreaterEqual(int(after["aof_last_rewrite_time_sec"]), 0)
        base, snap = int(after["aof_base_size"]), int(after["aof_snapshot_bytes"])
        self.assertGreater(snap, 0)
        self.assertLessEqual(snap, base)
        self.assertLess(int(after["aof_current_size"]), size0 // 2,
                        "the AOF did not shrink: %r" % after)
        aof = os.path.join(server.data_dir, "appendonly.aof")
        self.assertFalse(os.path.exists(aof + ".rewrite"), "temporary file left after the switch")

        self.verify_model(c, model, "before kill")
        self.verify_ledger(c, ledger, "before kill")
        digest = c.call("CRDT.DIGEST").value
        dbsize = c.call("DBSIZE").value
        self.assertEqual(dbsize, len(model.values) + len(ledger.sets) + len(ledger.incrs))
        server.kill9()

        rc, out = check_aof(aof)
        self.assertEqual(rc, 0, out)
        self.assertIn("AOF is valid", out)
        summary = snapshot_summary(out)
        self.assertIsNotNone(summary, "no 'snapshot chunks' line:\n" + out)
        self.assertGreaterEqual(summary[0], 1)
        self.assertGreaterEqual(summary[1], dbsize0, "the snapshot holds fewer keys than were "
                                "live when it started:\n" + out)

        c = self.restart_and_check_digest(server, digest, dbsize, "after rewrite")
        self.verify_model(c, model, "after kill -9")
        self.verify_ledger(c, ledger, "after kill -9")
        self.assertEqual(c.call("EXISTS", *short).value, 0, "expired keys came back")

    # -- 2 ---------------------------------------------------------------------------------
    def test_repeated_rewrites_with_writes_between(self):
        rng = self.rng(2)
        server = self.start_target("always", name="repeat")
        c = self.client(server)
        model = Model()
        sizes = []
        for rnd in range(3):
            model.run(c, random_ops(rng, model, 6000, 2000, "r%d" % rnd))
            self.bgrewrite(c)
            # Writes while it runs (overwrites, DELs, increments of what the snapshot copies).
            model.run(c, random_ops(rng, model, 500, 2000, "during%d" % rnd))
            f = self.wait_rewrites(server, c, rnd + 1 if rnd < 2 else 1)
            sizes.append(int(f["aof_base_size"]))
            model.run(c, random_ops(rng, model, 1000, 2000, "after%d" % rnd))
            if rnd == 1:
                # Restart between: the third rewrite starts from a replayed snapshot.
                digest = c.call("CRDT.DIGEST").value
                c = self.restart_and_check_digest(server, digest, len(model.values),
                                                  "after 2 rewrites")
                self.verify_model(c, model, "after 2 rewrites + restart")
        print("[rewrite] base sizes after each rewrite: %r" % sizes, file=sys.stderr)
        self.verify_model(c, model, "before kill")
        digest = c.call("CRDT.DIGEST").value
        c = self.restart_and_check_digest(server, digest, len(model.values), "after 3 rewrites")
        self.verify_model(c, model, "after 3 rewrites + restart")
        server.kill9()
        rc, out = check_aof(os.path.join(server.data_dir, "appendonly.aof"))
        self.assertEqual(rc, 0, out)
        self.assertIsNotNone(snapshot_summary(out), out)

    # -- 3 ---------------------------------------------------------------------------------
    def test_auto_rewrite_on_growth(self):
        rng = self.rng(3)
        server = self.start_target("always", name="auto")
        c = self.client(server)
        self.assertEqual(c.call("CONFIG", "GET", "auto-aof-rewrite-percentage").value,
                         [b"auto-aof-rewrite-percentage", b"100"])
        self.assertEqual(c.call("CONFIG", "GET", "auto-aof-rewrite-min-size").value,
                         [b"auto-aof-rewrite-min-size", b"67108864"])
        base0 = int(persistence(c)["aof_base_size"])
        min_size, pct = 1000000, 50
        log_start = len(server.log_text())
        for name, v in (("auto-aof-rewrite-min-size", min_size),
                        ("auto-aof-rewrite-percentage", pct)):
            self.assertEqual(c.call("CONFIG", "SET", name, v).raw, b"+OK\r\n")
            self.assertEqual(c.call("CONFIG", "GET", name).value, [name.encode(),
                                                                   str(v).encode()])
        model = Model()
        bases = []  # aof_base_size after each rewrite
        written = 0
        deadline = time.monotonic() + 30
        while len(bases) < 2:
            self.assertLess(time.monotonic(), deadline, "no 2 automatic rewrites in 30s after %d "
                            "bytes of writes: %r\n%s" % (written, persistence(c),
                                                         server.log_tail()))
            cmds = [["SET", "a:%d" % rng.randrange(800), "x%d-" % i + "a" * 300]
                    for i in range(200)]
            model.run(c, cmds)
            written += sum(len(x[2]) for x in cmds)
            f = persistence(c)
            n = int(f["aof_rewrites"]) + int(f["aof_rewrite_in_progress"])
            if n > len(bases):
                # No writes while it runs: the new file is the snapshot and a short tail.
                f = self.wait_rewrites(server, c, n)
                bases.append(int(f["aof_base_size"]))
        self.assertEqual(f["aof_last_bgrewrite_status"], "ok")
        starts = [int(p) for p in re.findall(r"Starting automatic rewriting of AOF on (\d+)% "
                                             r"growth", server.log_text()[log_start:])]
        print("[rewrite] auto: %d bytes written, base sizes %r, growth at each start %r%%" %
              (written, bases, starts), file=sys.stderr)
        self.assertGreaterEqual(len(starts), 2, server.log_tail())
        # Each start: growth over the base of that moment >= pct, and the size it implies
        # (base * (1 + growth/100), growth rounded down) >= min-size.
        for growth, base in zip(starts, [base0] + bases):
            self.assertGreaterEqual(growth, pct)
            b = max(base, 1)
            self.assertGreaterEqual(b + (growth + 1) * b // 100, min_size,
                                    "started below min-size (base %d, growth %d%%)" %
                                    (base, growth))
        for b in bases:
            self.assertGreater(b, base0)
            self.assertLess(b, min_size, "the rewritten AOF is not compact (800 keys)")
        digest = c.call("CRDT.DIGEST").value
        # Stop further automatic rewrites so that the restart sees a quiet file.
        c.call("CONFIG", "SET", "auto-aof-rewrite-percentage", "0")
        self.wait_rewrites(server, c, len(bases))
        c = self.restart_and_check_digest(server, digest, len(model.values), "after auto rewrite")
        self.verify_model(c, model, "after auto rewrite + restart")

    # -- 4 ---------------------------------------------------------------------------------
    def test_leftover_rewrite_file_is_removed_at_startup(self):
        rng = self.rng(4)
        server = self.start_target("always", name="leftover")
        c = self.client(server)
        model = Model()
        model.run(c, random_ops(rng, model, 3000, 1000, "a"))
        self.bgrewrite(c)
        self.wait_rewrites(server, c, 1)
        model.run(c, random_ops(rng, model, 500, 1000, "b"))
        digest = c.call("CRDT.DIGEST").value
        server.kill9()
        aof = os.path.join(server.data_dir, "appendonly.aof")
        leftover = aof + ".rewrite"
        with open(leftover, "wb") as f:
            f.write(bytes(rng.randrange(256) for _ in range(65536)))
        c = self.restart_and_check_digest(server, digest, len(model.values), "garbage leftover")
        self.assertFalse(os.path.exists(leftover), "leftover %s not removed" % leftover)
        self.verify_model(c, model, "garbage leftover")

        # A rewrite killed half-way: BGREWRITEAOF creates the file before it replies.
        model.run(c, random_ops(rng, model, 500, 1000, "c"))
        digest = c.call("CRDT.DIGEST").value
        self.bgrewrite(c)
        server.kill9()
        if os.path.exists(leftover):
            c = self.restart_and_check_digest(server, digest, len(model.values),
                                              "rewrite killed half-way")
            self.assertFalse(os.path.exists(leftover), "leftover of a killed rewrite not removed")
        else:
            print("[rewrite] note: the rewrite finished before kill -9; only the garbage case "
                  "checked the leftover", file=sys.stderr)
            c = self.restart_and_check_digest(server, digest, len(model.values),
                                              "rewrite finished before kill")
        self.verify_model(c, model, "after the killed rewrite")
        # And rewriting works again.
        self.bgrewrite(c)
        self.wait_rewrites(server, c, 1)
        self.restart_and_check_digest(server, digest, len(model.values), "rewrite after")

    # -- 5, 6 ------------------------------------------------------------------------------
    def resync_after_compaction(self, wipe):
        rng = self.rng(6 if wipe else 5)
        cluster = Cluster(self, 3, extra_args=["--replication-log-ops", "200"])
        r0, r1, r2 = (cluster.client(n) for n in cluster.names)
        shared, fshared = 0, 0.0

        def incr(c, d):
            nonlocal shared
            self.assertIsInstance(c.call("INCRBY", "shared", d).value, int)
            shared += d

        def fincr(c, d):
            nonlocal fshared
            self.assertNotIsInstance(c.call("INCRBYFLOAT", "fshared", d).value, akv.Err)
            fshared += float(d)

        r0.pipeline([["SET", "pre:%d" % i, "v%d" % i] for i in range(500)])
        for c in (r0, r1, r2):
            incr(c, rng.randrange(1, 100))
            fincr(c, "0.25")
        self.assertEqual(r2.call("SET", "r2:own", "mine").raw, b"+OK\r\n")
        self.assertEqual(r2.call("SET", "r2:doomed", "x").raw, b"+OK\r\n")
        wait_sync(cluster)
        victim = cluster.regions["r2"]
        victim.kill9()

        deleted = ["pre:%d" % i for i in rng.sample(range(500), 150)]
        r0.pipeline([["SET", "m0:%d" % i, "a%d" % i] for i in range(1500)])
        r1.pipeline([["SET", "m1:%d" % i, "b%d" % i] for i in range(1500)])
        for i in range(200):
            incr(r0 if i % 2 else r1, rng.randrange(-10, 50))
        for i in range(40):
            fincr(r0 if i % 2 else r1, rng.choice(["0.5", "1.5", "-0.25"]))
        for r in r0.pipeline([["DEL", k] for k in deleted[:100]] + [["DEL", "r2:doomed"]]):
            self.assertEqual(r.value, 1)
        for r in r1.pipeline([["DEL", k] for k in deleted[100:]]):
            self.assertEqual(r.value, 1)
        wait_sync(cluster, names=["r0", "r1"])
        for c in (r0, r1):
            self.bgrewrite(c)
        for name, c in (("r0", r0), ("r1", r1)):
            f = self.wait_rewrites(cluster.regions[name], c, 1)
            self.assertGreater(int(f["aof_snapshot_bytes"]), 0)
            rc, out = check_aof(os.path.join(cluster.root, "data", name, "appendonly.aof"))
            self.assertEqual(rc, 0, out)
            ops = int(re.search(r"^ops: (\d+)$", out, re.M).group(1))
            # r2 missed > 3000 ops; the compacted file holds only what came during the rewrite.
            self.assertLess(ops, 500, "%s's AOF was not compacted:\n%s" % (name, out))
        # A few ops after the rewrite: in the AOF tail and in the in-memory logs.
        for i in range(10):
            incr(r0 if i % 2 else r1, 7)
        r0.pipeline([["SET", "post:%d" % i, "p"] for i in range(20)])

        if wipe:
            shutil.rmtree(os.path.join(cluster.root, "data", "r2"))
        victim.start()
        r2 = cluster.client("r2")
        if not wipe:
            # Writes at once, while the snapshot is on its way.
            self.assertEqual(r2.call("SET", "r2:after", "new").raw, b"+OK\r\n")
            incr(r2, 1000)
        took = wait_sync(cluster)
        fields = cluster.state("r2")[4]
        snaps = {p: int(peer_stats(fields, p).get("snapshots_received", -1))
                 for p in ("r0", "r1")}
        sent = {p: int(peer_stats(cluster.state(p)[4], "r2")["full_resyncs_sent"])
                for p in ("r0", "r1")}
        print("[rewrite] r2 (%s) converged in %.3fs; snapshots received %r, full resyncs sent %r"
              % ("wiped" if wipe else "with its AOF", took, snaps, sent), file=sys.stderr)
        self.assertGreaterEqual(max(snaps.values()), 1,
                                "r2 did not get a snapshot: %r" % fields)

        if wipe:
            incr(r2, 1000)
            self.assertEqual(r2.call("SET", "r2:after", "new").raw, b"+OK\r\n")
        for i in range(5):
            incr(r2, 3)
        wait_sync(cluster)
        sizes = {}
        for name in cluster.names:
            with cluster.regions[name].client() as c:
                ctx = "%s (seed=%d)" % (name, SEED)
                self.assertEqual(c.call("GET", "shared").value, str(shared).encode(), ctx)
                self.assertEqual(float(c.call("GET", "fshared").value), fshared, ctx)
                self.assertEqual(c.call("EXISTS", *deleted).value, 0, ctx + ": deleted keys")
                self.assertIsNone(c.call("GET", "r2:doomed").value, ctx)
                self.assertEqual(c.call("GET", "r2:own").value, b"mine", ctx)
                self.assertEqual(c.call("GET", "r2:after").value, b"new", ctx)
                self.assertEqual(c.call("GET", "m1:1499").value, b"b1499", ctx)
                self.assertEqual(c.call("GET", "post:19").value, b"p", ctx)
                sizes[name] = c.call("DBSIZE").value
        # pre 500 - 150, m0/m1 3000, post 20, shared, fshared, r2:own, r2:after
        self.assertEqual(set(sizes.values()), {350 + 3000 + 20 + 4}, sizes)

    def test_restarted_region_resyncs_from_snapshots(self):
        self.resync_after_compaction(wipe=False)

    def test_region_with_wiped_disk_resyncs_from_snapshots(self):
        self.resync_after_compaction(wipe=True)

    # -- 7 ---------------------------------------------------------------------------------
    def test_region_with_wiped_disk_waits_for_its_peers_before_writing(self):
        self.wiped_disk_before_peers_answer(peers_silent_for=0.0)

    def test_region_with_wiped_disk_takes_a_fresh_incarnation_when_peers_stay_silent(self):
        # The peers stay paused beyond the 5 s join timeout: the region picks an incarnation no
        # peer can know, writes, and everything converges once the peers come back.
        self.wiped_disk_before_peers_answer(peers_silent_for=6.0)

    def wiped_disk_before_peers_answer(self, peers_silent_for):
        # A replacement region (same name, empty disk) cannot know which of its old ops its
        # peers hold (forced: the peers' replication is paused). It refuses writes until they
        # answer (or the join timeout passes), so that it never reuses a dot of the ops it made
        # before it lost its disk.
        rng = self.rng(7)
        cluster = Cluster(self, 3, extra_args=["--replication-log-ops", "200"])
        r0, r1, r2 = (cluster.client(n) for n in cluster.names)
        self.assertEqual(r2.call("SET", "r2:own", "mine").raw, b"+OK\r\n")
        self.assertEqual(r2.call("INCRBY", "shared", 5).value, 5)
        r0.pipeline([["SET", "k:%d" % i, "v%d" % rng.randrange(100)] for i in range(1000)])
        wait_sync(cluster)
        victim = cluster.regions["r2"]
        victim.kill9()
        # Writes only once both survivors saw r2 go: a burst right after the kill sometimes
        # stalls the r1 -> r0 stream for good, a separate bug (tests 5 and 6 write at once).
        deadline = time.monotonic() + 10
        while any("connected=1" in peer_line for peer_line in
                  (akv.info_fields(c)["crdt_peer_r2"] for c in (r0, r1))):
            self.assertLess(time.monotonic(), deadline, "r0/r1 still see r2 connected")
            time.sleep(0.01)
        r1.pipeline([["SET", "m:%d" % i, "v"] for i in range(1000)])
        wait_sync(cluster, names=["r0", "r1"])
        for c in (r0, r1):
            self.bgrewrite(c)
        for name, c in (("r0", r0), ("r1", r1)):
            self.wait_rewrites(cluster.regions[name], c, 1)
        shutil.rmtree(os.path.join(cluster.root, "data", "r2"))
        for c in (r0, r1):
            self.assertEqual(c.call("CRDT.SYNC", "PAUSE").raw, b"+OK\r\n")
        victim.start()
        r2 = cluster.client("r2")
        vv_before = akv.info_fields(r2)["crdt_version_vector"]
        refused = r2.call("SET", "r2:new", "x").raw
        self.assertTrue(refused.startswith(b"-TRYAGAIN this region's data directory is new"),
                        refused)
        self.assertEqual(akv.info_fields(r2)["crdt_joining"], "1")
        if peers_silent_for:
            time.sleep(peers_silent_for)  # beyond the join timeout: nothing to wait for
        else:
            for c in (r0, r1):
                self.assertEqual(c.call("CRDT.SYNC", "RESUME").raw, b"+OK\r\n")
        deadline = time.monotonic() + 10
        while akv.info_fields(r2)["crdt_joining"] != "0":
            self.assertLess(time.monotonic(), deadline, "r2 still joining")
            time.sleep(0.01)
        origin = akv.info_fields(r2)["crdt_origin"]
        if peers_silent_for:
            # An incarnation from the clock: above anything the peers may know.
            self.assertRegex(origin, r"^r2~\d{10,}$")
        else:
            self.assertEqual(origin, "r2~1", "peers hold ops of origin r2")
        self.assertEqual(r2.call("SET", "r2:new", "x").raw, b"+OK\r\n")
        self.assertIsInstance(r2.call("INCRBY", "shared", 100).value, int)
        vv_after = akv.info_fields(r2)["crdt_version_vector"]
        if peers_silent_for:
            for c in (r0, r1):
                self.assertEqual(c.call("CRDT.SYNC", "RESUME").raw, b"+OK\r\n")
        print("[rewrite] wiped r2 before its peers answered: version vector %r, after 2 writes %r"
              % (vv_before, vv_after), file=sys.stderr)
        # Equal version vectors and no lag anywhere: nothing more will arrive, so a difference in
        # state from here on is final (no need to wait wait_sync's timeout out).
        deadline = time.monotonic() + 30
        while True:
            states = [cluster.state(n) for n in cluster.names]
            if len({s[0] for s in states}) == 1 and all(s[2] == 0 for s in states):
                break
            self.assertLess(time.monotonic(), deadline, "no quiescence in 30s: %r" %
                            [(n, s[0], s[2]) for n, s in zip(cluster.names, states)])
            time.sleep(0.02)
        found = {}
        for name in cluster.names:
            with cluster.regions[name].client() as c:
                found[name] = (c.call("GET", "shared").value, c.call("GET", "r2:own").value,
                               c.call("GET", "r2:new").value, c.call("DBSIZE").value,
                               c.call("CRDT.DIGEST").value)
        want = (b"105", b"mine", b"x", 2003)  # k:* 1000, m:* 1000, r2:own, shared, r2:new
        bad = {n: f for n, f in found.items() if f[:4] != want}
        if bad:
            keys = {}
            for name in cluster.names:
                with cluster.regions[name].client() as c:
                    keys[name] = set(c.call("KEYS", "*").value)
            every = set.union(*keys.values())
            print("[rewrite] keys per region %r, missing per region: %r" % ({n: len(k) for n, k in keys.items()},
                  {n: sorted(every - k)[:10] for n, k in keys.items()}), file=sys.stderr)
        self.assertEqual(bad, {}, "regions with the same version vector %s and no lag differ "
                         "(shared, r2:own, r2:new, DBSIZE, digest); want %r (seed=%d)" %
                         (states[0][0], want, SEED))
        self.assertEqual(len({f[4] for f in found.values()}), 1, found)


if __name__ == "__main__":
    akv.run_tests()
