#!/usr/bin/python3
"""The data-loss window of each persistence option, measured (docs/operations.md, "Data-loss
window per persistence option"; issue 12).

Options: `aof` with `appendfsync: always`, `aof` with `appendfsync: everysec`, `snapshot` (interval
3 s) and `none`. Three regions; one writer client per region under load, each unit either a
`SET` of a unique key or a transaction `MULTI; INCR ctr; SET <tag>; EXEC` (one unit everywhere:
the tag key says whether that increment exists, so the shared counter must equal the number of
tags present; one counter incremented from every region, a hot key, on purpose). Every
acknowledged unit is recorded with the time it was sent and acknowledged.

1. One region lost while its peers live (per option, two faults: kill -9; kill -9 and its data
   directory deleted): right after the kill, once the peers agree on the victim's ops, they are
   read to learn which of its acknowledged writes some peer received; the victim is restarted (it
   may answer -TRYAGAIN while it catches up: its writer retries) and writes again; once every
   region has converged (equal version vectors and digests, no lag): every acknowledged write a
   peer had received is in every region (lost = 0, whatever the option), every write of the live
   regions and of the restarted victim is there, the counter equals the tags present. With `aof`
   and a plain kill -9, no acknowledged write at all is lost.
2. Every region lost at once: `always`, kill -9 of all: 0 lost. `everysec`, a simulated power loss
   of all (kill -9, each AOF cut back to the fsynced size read just before: tests/chaos,
   faults.synced_point): every write acknowledged before its region's fsynced-as-of time is there
   and every lost one was acknowledged in the last 2 s. `snapshot`, kill -9 of all: every write
   acknowledged before the start of its region's last completed snapshot (seen by polling INFO
   persistence) is there; the rest may be lost. `none`: the regions restart empty and serve.

Each case prints one `[persist]` line with its figures (acknowledged, received by a peer, lost,
window), repeated in a table at the end, for docs/operations.md.

  /usr/bin/python3 test_persistence_options.py [PersistenceOptionsTest.test_...]
  env: AKV_SEED (printed as seed=N), AKV_BIN_DIR
"""

import collections
import os
import random
import shutil
import sys
import threading
import time

sys.dont_write_bytecode = True
import akv  # noqa: E402
from test_replication import Cluster  # noqa: E402  (helpers only)

SEED = None
SUMMARY = []  # the [persist] lines, printed again at the end

SNAPSHOT_INTERVAL = 3.0  # seconds: the topology says "3s"
EVERYSEC_WINDOW = 2.0  # the bound issue 12 sets for everysec with every region lost


class Option:
    def __init__(self, name, persistence, kind):
        self.name = name
        self.persistence = persistence  # the text of the topology's `persistence: { ... }`
        self.kind = kind  # "always", "everysec", "snapshot", "none"


ALWAYS = Option("aof always", "mode: aof, appendfsync: always", "always")
EVERYSEC = Option("aof everysec", "mode: aof, appendfsync: everysec", "everysec")
SNAPSHOT = Option("snapshot 3s", "mode: snapshot, snapshot: 3s", "snapshot")
NONE = Option("none", "mode: none", "none")


def setUpModule():
    global SEED
    SEED = akv.seed_from_env()


def tearDownModule():
    if SUMMARY:
        print("\n[persist] measured (seed=%d):\n%s" % (SEED, "\n".join(SUMMARY)), file=sys.stderr)


def report(line):
    print("[persist] " + line, file=sys.stderr)
    SUMMARY.append("  " + line)


def parse_vv(text):
    """'r0:12,r1:5,r2~1:3' -> {'r0': 12, 'r1': 5, 'r2~1': 3}."""
    out = {}
    for part in (text or "").split(","):
        if part:
            name, seq = part.rsplit(":", 1)
            out[name] = int(seq)
    return out


def of_region(vv, region):
    """The entries of every incarnation of `region` (r2, r2~1, ...)."""
    return {k: v for k, v in vv.items() if k == region or k.startswith(region + "~")}


def diagnosed(regions, fn, *args, **kwargs):
    """fn(*args, **kwargs), with every running region's INFO crdt (joining, version vector, peer
    lines) added to an AssertionError it raises."""
    try:
        return fn(*args, **kwargs)
    except AssertionError as e:
        lines = []
        for name, p in regions.regions.items():
            if not p.running():
                continue
            try:
                f = regions.info(name, "crdt")
                lines.append("%s: origin=%s joining=%s vv=%s %s" % (
                    name, f.get("crdt_origin"), f.get("crdt_joining"),
                    f.get("crdt_version_vector"), " ".join(
                        "%s[%s]" % (k[len("crdt_peer_"):], v) for k, v in sorted(f.items())
                        if k.startswith("crdt_peer_"))))
            except (OSError, akv.ConnectionClosed, AssertionError) as ie:
                lines.append("%s: INFO failed: %s" % (name, ie))
        raise AssertionError("%s (seed=%d, logs under %s)\n%s" %
                             (e, SEED, regions.root, "\n".join(lines))) from None


def wait_sync(regions, timeout=30.0):
    """regions.wait_sync (equal version vectors and digests, no lag everywhere): seconds."""
    return diagnosed(regions, regions.wait_sync, timeout=timeout)


class Regions(Cluster):
    """Three regions (test_replication.Cluster: state, wait_sync, wait_joined, client) whose
    topology's `persistence:` is the option's."""

    def __init__(self, test, option, n=3):
        super().__init__(test, n, persistence=option.persistence)

    def data_dir(self, name):
        return os.path.join(self.root, "data", name)

    def info(self, name, section):
        with self.regions[name].client(timeout=5) as c:
            return akv.info_fields(c, section)

    def kill_all(self):
        for p in self.regions.values():
            p.kill9()


# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

Unit = collections.namedtuple("Unit", "kind key value")  # kind "set" or "incr" (key: the tag)
Ack = collections.namedtuple("Ack", "unit t_sent t_acked session")

RETRYABLE = (b"TRYAGAIN", b"LOADING")


class Writer(threading.Thread):
    """One client of one region: batches of 8 units, pipelined, until `stop`. A unit is a SET of a
    unique key or MULTI / INCR ctr / SET <unique tag> / EXEC. A unit refused with -TRYAGAIN (or
    EXECABORT because of it) was not applied: it is sent again. A lost connection leaves the
    units without a reply in doubt (never sent again) and the writer reconnects, once the region
    answers +PONG again (so never mid-replay), as a client of a restarted region would."""

    def __init__(self, region, port, seed, batch=8):
        super().__init__(name="writer-" + region, daemon=True)
        self.region = region
        self.port = port
        self.rng = random.Random(seed)
        self.batch = batch
        self.n = 0
        self.cond = threading.Condition()
        self.acked = []  # Ack
        self.doubt = []  # Unit: sent, no reply (connection lost)
        self.refused = collections.Counter()  # error code -> units refused and sent again
        self.errors = []
        self.session = 0  # connections made
        self.stop = threading.Event()
        self.pending = collections.deque()  # refused units, sent again first

    def new_unit(self):
        self.n += 1
        value = "%s-%d-%d" % (self.region, self.n, self.rng.randrange(10**9))
        if self.rng.random() < 0.5:
            return Unit("incr", "t:%s:%d" % (self.region, self.n), value)
        return Unit("set", "s:%s:%d" % (self.region, self.n), value)

    @staticmethod
    def commands(unit):
        if unit.kind == "set":
            return [["SET", unit.key, unit.value]]
        return [["MULTI"], ["INCR", "ctr"], ["SET", unit.key, unit.value], ["EXEC"]]

    def acks(self, session=None):
        with self.cond:
            return [a for a in self.acked if session is None or a.session == session]

    def count(self, min_session=0):
        with self.cond:
            return sum(1 for a in self.acked if a.session >= min_session)

    def wait_acks(self, test, n, min_session=0, timeout=30.0):
        akv.wait_for(test, "%d acknowledged units from %s's writer (session >= %d); errors %r" %
                     (n, self.region, min_session, self.errors),
                     lambda: self.errors or self.count(min_session) >= n, timeout)
        test.assertEqual(self.errors, [], "writer of %s" % self.region)

    def connect(self):
        """A connection once the region answers +PONG, or None when stopped."""
        while not self.stop.is_set():
            try:
                c = akv.RespClient(self.port, timeout=30)
            except OSError:
                time.sleep(0.01)
                continue
            try:
                while not self.stop.is_set():
                    r = c.call("PING")
                    if r.raw == b"+PONG\r\n":
                        return c
                    if not (isinstance(r.value, akv.Err) and r.value.code in RETRYABLE):
                        self.errors.append("PING -> %r" % r.raw)
                        self.stop.set()
                    time.sleep(0.01)
            except (akv.ConnectionClosed, OSError):
                pass
            c.close()
        return None

    def run(self):
        while not self.stop.is_set():
            c = self.connect()
            if c is None:
                return
            with self.cond:
                session = self.session
                self.session += 1
            try:
                self.write(c, session)
            except (akv.ConnectionClosed, OSError):
                pass
            except akv.ProtocolViolation as e:
                self.errors.append("protocol violation: %s" % e)
                return
            finally:
                c.close()

    def write(self, c, session):
        while not self.stop.is_set():
            units = []
            while self.pending and len(units) < self.batch:
                units.append(self.pending.popleft())
            while len(units) < self.batch:
                units.append(self.new_unit())
            t_sent = time.time()
            in_doubt = list(units)
            try:
                c.send_raw(b"".join(akv.encode_command(cmd) for u in units
                                    for cmd in self.commands(u)))
                refused = False
                for u in units:
                    replies = [c.read_reply() for _ in self.commands(u)]
                    t_acked = time.time()
                    in_doubt.remove(u)
                    code = self.outcome(u, replies)
                    if code is None:
                        with self.cond:
                            self.acked.append(Ack(u, t_sent, t_acked, session))
                            self.cond.notify_all()
                    elif code in RETRYABLE:
                        self.refused[code.decode()] += 1
                        self.pending.append(u)
                        refused = True
                    else:
                        self.errors.append("%s -> %r" % (u, [r.raw for r in replies]))
                        self.stop.set()
                        return
                if refused:
                    time.sleep(0.005)
            finally:
                if in_doubt:
                    with self.cond:
                        self.doubt.extend(in_doubt)

    @staticmethod
    def outcome(unit, replies):
        """None if applied, else the error code of a refusal that applied nothing, else b"?"."""
        if unit.kind == "set":
            r = replies[0]
            if r.raw == b"+OK\r\n":
                return None
            return r.value.code if isinstance(r.value, akv.Err) else b"?"
        multi, incr, tag, exe = replies
        if multi.raw != b"+OK\r\n":
            return b"?"
        if isinstance(exe.value, list):
            ok = (len(exe.value) == 2 and type(exe.value[0]) is int and exe.value[1] == b"OK"
                  and incr.raw == tag.raw == b"+QUEUED\r\n")
            return None if ok else b"?"
        # Refused while queued (the transaction is then aborted), or at EXEC: EXECABORT.
        if isinstance(exe.value, akv.Err) and exe.value.message.startswith(b"EXECABORT"):
            for r in (incr, tag):
                if isinstance(r.value, akv.Err) and r.value.code in RETRYABLE:
                    return r.value.code
            for code in RETRYABLE:
                if code in exe.value.message:
                    return code
        return b"?"


def start_writers(test, regions, rng):
    writers = {}
    for name in regions.names:
        w = Writer(name, regions.regions[name].port, rng.randrange(2**32))
        w.start()
        test.addCleanup(w.stop.set)
        writers[name] = w
    return writers


def stop_writers(test, writers):
    for w in writers.values():
        w.stop.set()
    for w in writers.values():
        w.join(30)
        test.assertFalse(w.is_alive(), "%s hangs" % w.name)


def present_keys(test, client, keys):
    """{key: value} of the keys that exist, by MGET in chunks."""
    out = {}
    keys = sorted(keys)
    for i in range(0, len(keys), 1000):
        part = keys[i:i + 1000]
        got = client.call("MGET", *part).value
        test.assertIsInstance(got, list, "MGET -> %r" % got)
        for k, v in zip(part, got):
            if v is not None:
                out[k] = v
    return out


class SaveMonitor(threading.Thread):
    """Polls INFO persistence of every region every 20 ms: the completed saves (rdb_saves) and
    whether one runs, each poll with the wall times before and after it. The start of save k is
    after the last poll (its time before) that saw rdb_saves = k-1 and none in progress."""

    def __init__(self, regions):
        super().__init__(name="save-monitor", daemon=True)
        self.regions = regions
        self.polls = {n: [] for n in regions.names}  # (t_before, t_after, saves, in_progress)
        self.stop = threading.Event()
        self.errors = []

    def run(self):
        clients = {}
        while not self.stop.is_set():
            for name in self.regions.names:
                try:
                    if name not in clients:
                        clients[name] = self.regions.regions[name].client(timeout=5)
                    t0 = time.time()
                    f = akv.info_fields(clients[name], "persistence")
                    t1 = time.time()
                    self.polls[name].append((t0, t1, int(f["rdb_saves"]),
                                             int(f["rdb_bgsave_in_progress"])))
                except (OSError, akv.ConnectionClosed, akv.ProtocolViolation):
                    c = clients.pop(name, None)  # killed: nothing more to learn from it
                    if c is not None:
                        c.close()
                except (KeyError, ValueError, AssertionError) as e:
                    self.errors.append("%s: %s" % (name, e))
            self.stop.wait(0.02)
        for c in clients.values():
            c.close()

    def saves(self, name):
        p = self.polls[name]
        return p[-1][2] if p else 0

    def last_save(self, name):
        """(k, lower bound of its start, upper bound of its end) of the last completed save seen,
        or None."""
        p = list(self.polls[name])
        if not p or p[-1][2] == 0:
            return None
        k = p[-1][2]
        before = [x[0] for x in p if x[2] == k - 1 and x[3] == 0]
        done = [x[1] for x in p if x[2] >= k]
        return k, (before[-1] if before else float("-inf")), done[0]

    def intervals(self, name):
        """Seconds between the starts (lower bounds) of consecutive saves seen."""
        p = list(self.polls[name])
        starts = []
        for k in range(1, (p[-1][2] if p else 0) + 1):
            before = [x[0] for x in p if x[2] == k - 1 and x[3] == 0]
            if before:
                starts.append(before[-1])
        return [b - a for a, b in zip(starts, starts[1:])]


# ---------------------------------------------------------------------------------------------
# The test
# ---------------------------------------------------------------------------------------------


class PersistenceOptionsTest(akv.ServerTestCase):

    def rng(self, salt):
        seed = (SEED * 1000003 + salt) % 2**63
        print("[persist] %s: rng seed %d (AKV_SEED=%d)" % (self.id().split(".")[-1], seed, SEED),
              file=sys.stderr)
        return random.Random(seed)

    def ctx(self, regions, what):
        return "%s (seed=%d, logs under %s)" % (what, SEED, regions.root)

    def converged(self, regions, writers, extra_keys=()):
        """After wait_sync: every region holds the same units; returns ({key: value} present,
        counter) and checks the counter equals the tags present and nothing else exists."""
        units = {}
        for w in writers.values():
            for a in w.acks():
                units[a.unit.key] = a.unit
            for u in w.doubt:
                units[u.key] = u
        found = None
        for name in regions.names:
            with regions.regions[name].client() as c:
                present = present_keys(self, c, units)
                ctr = c.call("GET", "ctr").value
                dbsize = c.call("DBSIZE").value
                extra = c.call("EXISTS", *extra_keys).value if extra_keys else 0
            wrong = [(k, v) for k, v in present.items() if v != units[k].value.encode()]
            self.assertEqual(wrong, [], self.ctx(regions, "%s: keys with a value never written"
                                                 % name))
            tags = sum(1 for k in present if units[k].kind == "incr")
            self.assertEqual(int(ctr or 0), tags, self.ctx(
                regions, "%s: ctr %r is not the number of increments whose tag is present (%d)"
                % (name, ctr, tags)))
            self.assertEqual(dbsize, len(present) + (1 if ctr is not None else 0) + extra,
                             self.ctx(regions, "%s: DBSIZE" % name))
            if found is None:
                found = (present, ctr)
            else:
                self.assertEqual(found[0].keys(), present.keys(),
                                 self.ctx(regions, "regions hold different units"))
                self.assertEqual(found[1], ctr, self.ctx(regions, "counters differ"))
        return found

    def lost_of(self, acks, present):
        return [a for a in acks if a.unit.key not in present]

    # -- 1: one region lost, its peers alive -----------------------------------------------

    def one_region_lost(self, option, salt):
        for wipe in (False, True):
            with self.subTest(fault="kill -9 + data directory deleted" if wipe else "kill -9"):
                self.one_region_lost_case(option, wipe, self.rng(salt + wipe))

    def one_region_lost_case(self, option, wipe, rng):
        regions = Regions(self, option)
        victim = rng.choice(regions.names)
        peers = [n for n in regions.names if n != victim]
        writers = start_writers(self, regions, rng)
        for w in writers.values():
            w.wait_acks(self, 1500)
        if option.kind == "snapshot" and not wipe:
            # The restart must load a snapshot: at least one completed in the victim.
            akv.wait_for(self, "a snapshot in %s" % victim, lambda: int(regions.info(
                victim, "persistence")["rdb_saves"]) >= 1, timeout=3 * SNAPSHOT_INTERVAL)
        time.sleep(rng.uniform(0.1, 0.8))  # a random moment in the load (and the fsync second)
        process = regions.regions[victim]
        process.kill9()
        if wipe:
            shutil.rmtree(regions.data_dir(victim))

        # What the peers hold of the victim: once both see it gone and agree on its ops (the
        # relay between them done), nothing more can arrive.
        def agreed():
            seen = []
            for p in peers:
                f = regions.info(p, "crdt")
                if "connected=1" in f.get("crdt_peer_%s" % victim, ""):
                    return None
                seen.append(of_region(parse_vv(f.get("crdt_version_vector")), victim))
            return seen if all(s == seen[0] for s in seen) else None

        vv_victim = akv.wait_for(self, "the peers of %s to agree on its ops" % victim, agreed,
                                 timeout=15)[0]
        before = writers[victim].acks(session=0)
        received = set()
        for p in peers:
            with regions.regions[p].client() as c:
                received |= set(present_keys(self, c, [a.unit.key for a in before]))
        received_acks = [a for a in before if a.unit.key in received]

        t_start = time.time()
        process.start()
        serving = time.time() - t_start
        # Its writer reconnects by itself (retrying -TRYAGAIN); the others write on meanwhile.
        diagnosed(regions, writers[victim].wait_acks, self, 500, min_session=1)
        writing = min(a.t_acked for a in writers[victim].acks() if a.session >= 1) - t_start
        for p in peers:
            writers[p].wait_acks(self, writers[p].count() + 200)
        stop_writers(self, writers)
        for w in writers.values():
            self.assertEqual(w.errors, [], self.ctx(regions, "writer of %s" % w.region))
        t_sync = wait_sync(regions)

        present, ctr = self.converged(regions, writers)
        lost = self.lost_of(before, present)
        lost_received = [a for a in lost if a.unit.key in received]
        fault = "kill -9 + wiped data dir" if wipe else "kill -9"
        report("one region lost | %-12s | %-24s | %s acked %5d before the kill, %5d of them "
               "received by a peer; lost %d (%d of those received); restarted: serving after "
               "%.2f s, writes taken after %.2f s (%d units refused: %s), converged %.2f s after "
               "the writers stopped; peers had %s" %
               (option.name, fault, victim, len(before), len(received_acks), len(lost),
                len(lost_received), serving, writing, sum(writers[victim].refused.values()),
                dict(writers[victim].refused) or "none", t_sync,
                ",".join("%s:%d" % kv for kv in sorted(vv_victim.items())) or "nothing"))
        self.assertEqual([a.unit.key for a in lost_received], [], self.ctx(
            regions, "%s: acknowledged writes a peer had received are lost" % victim))
        for name, w in writers.items():
            acks = w.acks() if name != victim else [a for a in w.acks() if a.session >= 1]
            missing = [a.unit.key for a in self.lost_of(acks, present)]
            self.assertEqual(missing, [], self.ctx(
                regions, "acknowledged writes of %s%s are lost" %
                (name, " after its restart" if name == victim else "")))
        if option.kind in ("always", "everysec") and not wipe:
            self.assertEqual([a.unit.key for a in lost], [], self.ctx(
                regions, "%s lost acknowledged writes to a kill -9 with its AOF intact" % victim))
        if option.kind == "none" or wipe:
            # Nothing on disk: it can only have what the peers had.
            kept = [a.unit.key for a in before if a.unit.key not in received
                    and a.unit.key in present]
            self.assertEqual(kept, [], self.ctx(
                regions, "%s kept writes no peer had right after the kill, with nothing on "
                "disk (or a peer received them after it had seen the victim gone)" % victim))
        regions.kill_all()

    def test_one_region_lost_aof_always(self):
        self.one_region_lost(ALWAYS, 10)

    def test_one_region_lost_aof_everysec(self):
        self.one_region_lost(EVERYSEC, 20)

    def test_one_region_lost_snapshot(self):
        self.one_region_lost(SNAPSHOT, 30)

    def test_one_region_lost_none(self):
        self.one_region_lost(NONE, 40)

    # -- 2: every region lost at once ------------------------------------------------------

    def every_region_lost(self, option, rng):
        """Runs the load, loses every region (kill -9; with everysec, a simulated power loss),
        restarts them; returns (regions, writers, acks, present, loss facts)."""
        regions = Regions(self, option)
        monitor = SaveMonitor(regions)
        if option.kind == "snapshot":
            monitor.start()
            self.addCleanup(monitor.stop.set)
        t_load = time.monotonic()
        writers = start_writers(self, regions, rng)
        for w in writers.values():
            w.wait_acks(self, 1500)
        if option.kind == "snapshot":
            # Two completed snapshots (the interval between them measured), then a random point
            # of the next interval.
            akv.wait_for(self, "two completed snapshots in every region",
                         lambda: all(monitor.saves(n) >= 2 for n in regions.names),
                         timeout=5 * SNAPSHOT_INTERVAL)
            time.sleep(rng.uniform(0.1, SNAPSHOT_INTERVAL + 1.0))
        else:
            # Load over more than two fsync seconds (so that some writes are behind the fsynced
            # point), then a random point of the next.
            time.sleep(max(0.0, 2.5 - (time.monotonic() - t_load)) + rng.uniform(0.0, 1.0))
        synced = {}
        if option.kind == "everysec":
            for n in regions.names:
                f = regions.info(n, "persistence")
                synced[n] = (int(f["aof_fsynced_size"]), int(f["aof_fsynced_as_of_ms"]) / 1000.0)
        regions.kill_all()
        t_loss = time.time()
        monitor.stop.set()
        stop_writers(self, writers)
        for w in writers.values():
            self.assertEqual(w.errors, [], self.ctx(regions, "writer of %s" % w.region))
        cut = {}
        for n, (size, _) in synced.items():
            aof = os.path.join(regions.data_dir(n), "appendonly.aof")
            cut[n] = os.path.getsize(aof) - size
            self.assertGreaterEqual(cut[n], 0, "%s: the AOF is shorter than its fsynced size" % n)
            with open(aof, "r+b") as f:
                f.truncate(size)
        if option.kind == "snapshot":
            monitor.join(10)
            self.assertEqual(monitor.errors, [])
        if option.kind in ("snapshot", "none"):
            for n in regions.names:
                d = regions.data_dir(n)
                on_disk = {f: os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)}
                print("[persist] %s: %s's data directory after the loss: %r" %
                      (option.name, n, on_disk), file=sys.stderr)
                self.assertNotIn("appendonly.aof", on_disk, "%s: mode %s wrote an AOF" %
                                 (n, option.kind))
                if option.kind == "none":
                    big = {f: b for f, b in on_disk.items() if b > 4096}
                    self.assertEqual(big, {}, "%s: mode none left more than small markers" % n)
        regions.t_restart = time.time()
        for p in regions.regions.values():
            p.start(wait=False)
        for p in regions.regions.values():
            p.wait_ready()
        return regions, writers, t_loss, synced, cut, monitor

    def after_every_region_lost(self, regions, writers):
        """New writes in every region once they take writes again (retrying -TRYAGAIN), then
        convergence; returns ({key: value} present, seconds from the restart until every region
        took its write)."""
        after = ["after:%s" % n for n in regions.names]
        for n, key in zip(regions.names, after):
            with regions.regions[n].client() as c:
                diagnosed(regions, akv.wait_for, self, "%s to take writes after the restart" % n,
                          lambda: c.call("SET", key, "x").raw == b"+OK\r\n", timeout=30)
        writing = time.time() - regions.t_restart
        wait_sync(regions)
        present, _ = self.converged(regions, writers, extra_keys=after)
        return present, writing

    def test_every_region_lost_aof_always(self):
        regions, writers, t_loss, _, _, _ = self.every_region_lost(ALWAYS, self.rng(50))
        present, writing = self.after_every_region_lost(regions, writers)
        acks = [a for w in writers.values() for a in w.acks()]
        lost = self.lost_of(acks, present)
        report("every region lost | %-12s | kill -9 of all      | %6d acked, lost %d; all taking "
               "writes %.2f s after the restart" % (ALWAYS.name, len(acks), len(lost), writing))
        self.assertEqual([a.unit.key for a in lost], [],
                         self.ctx(regions, "acknowledged writes lost with appendfsync always"))

    def test_every_region_lost_aof_everysec(self):
        regions, writers, t_loss, synced, cut, _ = self.every_region_lost(EVERYSEC, self.rng(60))
        present, writing = self.after_every_region_lost(regions, writers)
        acks = {n: w.acks() for n, w in writers.items()}
        lost = {n: self.lost_of(a, present) for n, a in acks.items()}
        oldest = min((a.t_sent for l in lost.values() for a in l), default=None)
        report("every region lost | %-12s | power loss of all   | %6d acked, lost %d; window: "
               "oldest lost sent %s before the loss; AOF tails cut %s bytes, fsynced as of %s "
               "before; all taking writes %.2f s after the restart" %
               (EVERYSEC.name, sum(len(a) for a in acks.values()),
                           sum(len(l) for l in lost.values()),
                           "%.3f s" % (t_loss - oldest) if oldest else "(none lost)",
                           "/".join(str(cut[n]) for n in regions.names),
                           "/".join("%.2f s" % (t_loss - synced[n][1]) for n in regions.names),
                           writing))
        for n in regions.names:
            # Acknowledged (write() done) before the fsync that covered the cut size started:
            # inside it, whatever the peers hold.
            early = [a.unit.key for a in lost[n] if a.t_acked < synced[n][1]]
            self.assertEqual(early, [], self.ctx(regions, "%s: writes acknowledged before its "
                                                 "fsynced point are lost" % n))
            old = [(a.unit.key, round(t_loss - a.t_sent, 3)) for a in lost[n]
                   if t_loss - a.t_sent > EVERYSEC_WINDOW]
            self.assertEqual(old, [], self.ctx(regions, "%s: lost writes older than %.0f s "
                                               "(key, age)" % (n, EVERYSEC_WINDOW)))

    def test_every_region_lost_snapshot(self):
        regions, writers, t_loss, _, _, monitor = self.every_region_lost(SNAPSHOT, self.rng(70))
        present, writing = self.after_every_region_lost(regions, writers)
        acks = {n: w.acks() for n, w in writers.items()}
        lost = {n: self.lost_of(a, present) for n, a in acks.items()}
        oldest = min((a.t_sent for l in lost.values() for a in l), default=None)
        saves = {n: monitor.last_save(n) for n in regions.names}
        report("every region lost | %-12s | kill -9 of all      | %6d acked, lost %d; window: "
               "oldest lost sent %s before the loss; last completed snapshots started %s before "
               "(save #%s), at most %s after the previous; all taking writes %.2f s after the "
               "restart" %
               (SNAPSHOT.name, sum(len(a) for a in acks.values()),
                sum(len(l) for l in lost.values()),
                "%.3f s" % (t_loss - oldest) if oldest else "(none lost)",
                "/".join("%.2f s" % (t_loss - saves[n][1]) for n in regions.names),
                "/".join(str(saves[n][0]) for n in regions.names),
                "/".join("%.2f s" % max(monitor.intervals(n) or [0]) for n in regions.names),
                writing))
        for n in regions.names:
            k, start_after, _ = saves[n]
            early = [a.unit.key for a in lost[n] if a.t_acked < start_after]
            self.assertEqual(early, [], self.ctx(
                regions, "%s: writes acknowledged before its last completed snapshot (#%d) "
                "started are lost" % (n, k)))
            # The schedule, as Redis's `save <seconds> 1`: once more than <interval> whole
            # seconds passed since the last save ended, i.e. up to the interval + 1 s (+ the save
            # and the 100 ms cron) apart.
            late = [round(i, 2) for i in monitor.intervals(n) if i > SNAPSHOT_INTERVAL + 1.5]
            self.assertEqual(late, [], self.ctx(regions, "%s: snapshots further apart than "
                                                "the 3 s interval" % n))

    def test_every_region_lost_none(self):
        regions, writers, t_loss, _, _, _ = self.every_region_lost(NONE, self.rng(80))
        for n in regions.names:
            with regions.regions[n].client() as c:
                self.assertEqual(c.call("DBSIZE").value, 0,
                                 self.ctx(regions, "%s restarted with data in mode none" % n))
        present, writing = self.after_every_region_lost(regions, writers)
        acks = [a for w in writers.values() for a in w.acks()]
        lost = self.lost_of(acks, present)
        report("every region lost | %-12s | kill -9 of all      | %6d acked, lost %d "
               "(everything); restarted empty, all taking writes %.2f s after the restart" %
               (NONE.name, len(acks), len(lost), writing))
        self.assertEqual(len(lost), len(acks))


if __name__ == "__main__":
    akv.run_tests()
