"""The workload: one client thread per region that records what was ACKNOWLEDGED.

Every client owns its key namespace (`u:c<i>:*`, `o:c<i>:*`), so the exactness checks never
depend on last-writer-wins between clients; the shared counters `ctr:<k>` are INCRBY-only, so
concurrent increments must all count.

Op outcomes:
  ok        the region replied as expected: acknowledged
  indoubt   sent, but no reply (connection error, or nothing within `timeout`): it may or may not
            take effect, now or later (a stalled region executes it after SIGCONT)
  refused   a definite error reply that means "not applied" (-MISCONF while a disk is full)
Reads used as guards are never in doubt (a failed read simply skips the write).

Keys:
  ctr:<k>        INCRBY d (1..9) from every client. Check: value - acked sum is the sum of a subset
                 of the in-doubt increments.
  u:c<i>:<n>     written ONCE with a unique value; later maybe DEL'd or PEXPIRE'd by its client,
                 but only after a GET on the same region showed the value (so the DEL/PEXPIRE
                 observed the SET: observed-remove semantics make an unobserved DEL a no-op).
                 Check: acked SET present unless an acked DEL/expiry; deleted/expired keys absent.
  o:c<i>:<k>     overwritten with increasing values by its client; on a region other than the one
                 that acknowledged the last value, only after a GET there showed that value (or a
                 later one), so each SET observes the previous one. Check: the final value is the
                 last acknowledged one, or one that was in doubt.
  m:<k>          SET and INCRBY from every client: only convergence is checked (every region
                 shows the same value; digests equal).

Failover: when the current region fails (connection error, no reply within `timeout`, -MISCONF),
the client marks it suspect for a while and moves to the next region that accepts a connection;
the gap = first ack by the new region - last ack by the failed one. It returns to its home region
once that answers PING again.
"""

import random
import threading
import time

from chaoslib import resp
from chaoslib.procs import log

SHARED_COUNTERS = 4
OVERWRITE_KEYS = 8
MIXED_KEYS = 4


class Failover:
    __slots__ = ("client", "src", "dst", "gap", "kind", "t")

    def __init__(self, client, src, dst, gap, kind, t):
        self.client, self.src, self.dst, self.gap, self.kind, self.t = (client, src, dst, gap,
                                                                        kind, t)


class Ack:
    """An acknowledged write, kept for loss classification."""
    __slots__ = ("kind", "key", "arg", "region", "wall")

    def __init__(self, kind, key, arg, region, wall):
        self.kind, self.key, self.arg, self.region, self.wall = kind, key, arg, region, wall


class UKey:
    """The history of one write-once key (slots: a soak tracks millions of them)."""
    __slots__ = ("value", "state", "region", "action", "action_state", "action_region")

    def __init__(self, value, state, region):
        self.value, self.state, self.region = value, state, region
        self.action = self.action_state = self.action_region = None

    def __getitem__(self, name):
        return getattr(self, name)

    def __setitem__(self, name, value):
        setattr(self, name, value)

    def get(self, name, default=None):
        return getattr(self, name, default)


class FaultBoard:
    """What fault is active on which region right now (written by the fault runner). A fault
    that ended less than `linger` seconds ago still gets the blame: TCP retransmissions after a
    healed partition, a reply held across SIGCONT, ... surface a little later."""

    def __init__(self, linger=2.5):
        self.lock = threading.Lock()
        self.active = {}  # region name -> kind
        self.ended = {}  # region name -> (kind, monotonic end)
        self.linger = linger

    def set(self, region, kind):
        with self.lock:
            self.active[region] = kind

    def clear(self, region):
        with self.lock:
            kind = self.active.pop(region, None)
            if kind is not None:
                self.ended[region] = (kind, time.monotonic())

    def kind(self, region):
        with self.lock:
            if region in self.active:
                return self.active[region]
            kind, end = self.ended.get(region, (None, 0))
            if kind is not None and time.monotonic() - end < self.linger:
                return kind
            return "none"


class Client(threading.Thread):
    def __init__(self, idx, cluster, home, seed, stop, board, timeout=1.0, value_size=24,
                 max_ops=None, writes=True):
        super().__init__(name="client-%d" % idx, daemon=True)
        self.idx = idx
        self.cluster = cluster
        self.home = home
        self.rng = random.Random(seed * 1000003 + idx)
        self.stop_event = stop
        self.board = board
        self.timeout = timeout
        self.value_size = value_size
        self.max_ops = max_ops
        self.tag = "c%d" % idx
        # connection
        self.conn = None
        self.cur = None
        self.suspect_until = {}
        self.last_home_probe = 0.0
        # history
        self.ctr_acked = {}
        self.ctr_indoubt = {}
        self.u = {}  # key -> UKey
        self.u_candidates = []  # acked u-keys with no action yet
        self.o = {}  # key -> dict(seq, value, region, indoubt=set())
        self.mixed_keys = set()
        self.acks = []
        self.counts = {"ok": 0, "indoubt": 0, "refused": 0}
        self.kind_counts = {}
        self.skipped = {"del_unobserved": 0, "expire_unobserved": 0, "overwrite_stale": 0}
        self.unexpected = []
        self.failovers = []
        self.outages = []  # gaps where the first ack after a failure came from the same region
        self.last_ack = None  # (monotonic, region name)
        self.failed_from = None  # (region name, kind) since the last failure
        self.max_latency = 0.0
        self.seq = 0
        self.error = None

    # -- connection management -----------------------------------------------------------------
    def _regions(self):
        return self.cluster.regions

    def _drop(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def _fail(self, region, why):
        """The current region failed: remember it for the failover gap, avoid it for a while."""
        self._drop()
        now = time.monotonic()
        self.suspect_until[region.name] = now + 1.0
        if self.failed_from is None:
            self.failed_from = (region.name, self.board.kind(region.name), why)

    def _connect(self):
        now = time.monotonic()
        regions = self._regions()
        order = []
        start = self.cur if self.cur is not None else self.home
        idx = regions.index(start)
        for k in range(len(regions)):
            r = regions[(idx + k) % len(regions)]
            if r.lost:
                continue
            order.append(r)
        # Not-suspect first.
        order.sort(key=lambda r: self.suspect_until.get(r.name, 0) > now)
        for r in order:
            try:
                c = resp.RespClient(r.port, host=r.host, timeout=self.timeout)
            except OSError:
                self.suspect_until[r.name] = now + 0.3
                continue
            self.conn, self.cur = c, r
            return True
        return False

    def _maybe_go_home(self):
        if self.cur is self.home or self.home.lost:
            return
        now = time.monotonic()
        if now - self.last_home_probe < 1.0 or self.suspect_until.get(self.home.name, 0) > now:
            return
        self.last_home_probe = now
        try:
            c = resp.RespClient(self.home.port, host=self.home.host, timeout=0.3)
            try:
                if c.call("PING").raw != b"+PONG\r\n":
                    c.close()
                    return
            except (OSError, resp.ConnectionClosed, resp.ProtocolViolation):
                c.close()
                return
        except OSError:
            return
        self._drop()
        self.conn, self.cur = c, self.home
        c.sock.settimeout(self.timeout)

    def _send(self, *args):
        """Sends one command on the current connection. Returns (outcome, value)."""
        region = self.cur
        t0 = time.monotonic()
        try:
            v = self.conn.call(*args).value
        except (OSError, resp.ConnectionClosed, resp.ProtocolViolation) as e:
            self._fail(region, type(e).__name__)
            return "indoubt", None
        lat = time.monotonic() - t0
        if lat > self.max_latency:
            self.max_latency = lat
        if isinstance(v, resp.Err):
            if v.code in (b"MISCONF", b"LOADING", b"TRYAGAIN"):
                self._fail(region, v.code.decode())
                return "refused", v
            return "error", v
        return "ok", v

    def _acked(self, region):
        now = time.monotonic()
        if self.failed_from is not None:
            src, kind, why = self.failed_from
            gap = now - self.last_ack[0] if self.last_ack is not None else 0.0
            rec = Failover(self.idx, src, region.name, gap, kind, now)
            (self.failovers if src != region.name else self.outages).append(rec)
            log("%s: %s %s->%s after %s: %.3f s from the last ack to the next (fault: %s)" %
                (self.tag, "failover" if src != region.name else "reconnect", src, region.name,
                 why, gap, kind))
            self.failed_from = None
        self.last_ack = (now, region.name)

    def _read(self, *args):
        """A guard read: (True, value) or (False, None) when the region failed."""
        region = self.cur
        try:
            v = self.conn.call(*args).value
        except (OSError, resp.ConnectionClosed, resp.ProtocolViolation) as e:
            self._fail(region, type(e).__name__)
            return False, None
        if isinstance(v, resp.Err):
            if v.code in (b"LOADING", b"TRYAGAIN"):
                self._fail(region, v.code.decode())
                return False, None
            self.unexpected.append("%s: %s on %s -> %r" % (self.tag, args, region.name, v))
            return False, None
        return True, v

    # -- ops ----------------------------------------------------------------------------------
    def _record(self, kind, outcome):
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        if outcome == "ok":
            self.kind_counts[kind] = self.kind_counts.get(kind, 0) + 1

    def _write(self, kind, args, expect):
        """Sends a write; checks the reply against `expect` (a callable). Returns outcome, value."""
        region = self.cur
        outcome, v = self._send(*args)
        if outcome == "error" or (outcome == "ok" and not expect(v)):
            self.unexpected.append("%s: %s on %s -> %r" % (self.tag, " ".join(map(str, args)),
                                                           region.name, v))
            outcome = "error"
        if outcome == "ok":
            self._acked(region)
        self._record(kind, outcome)
        return outcome, v, region

    def op_incr(self):
        key = "ctr:%d" % self.rng.randrange(SHARED_COUNTERS)
        d = self.rng.randrange(1, 10)
        outcome, v, region = self._write("incrby", ("INCRBY", key, d), lambda v: isinstance(v, int))
        if outcome == "ok":
            self.ctr_acked[key] = self.ctr_acked.get(key, 0) + d
            self.acks.append(Ack("incrby", key, d, region.name, time.time()))
        elif outcome == "indoubt":
            self.ctr_indoubt.setdefault(key, []).append(d)

    def op_set_unique(self):
        self.seq += 1
        key = "u:%s:%d" % (self.tag, self.seq)
        pad = "x" * self.rng.randrange(self.value_size // 2, self.value_size + 1)
        value = "%s:%d:%s" % (self.tag, self.seq, pad)
        outcome, v, region = self._write("set", ("SET", key, value), lambda v: v == b"OK")
        if outcome in ("ok", "indoubt"):
            self.u[key] = UKey(value.encode(), outcome, region.name)
        if outcome == "ok":
            self.u_candidates.append(key)
            self.acks.append(Ack("set", key, value.encode(), region.name, time.time()))

    def op_overwrite(self):
        k = self.rng.randrange(OVERWRITE_KEYS)
        key = "o:%s:%d" % (self.tag, k)
        st = self.o.setdefault(key, {"seq": 0, "value": None, "region": None, "indoubt": set()})
        if st["value"] is not None and st["region"] != self.cur.name:
            ok, cur = self._read("GET", key)
            if not ok:
                return
            if not self._is_at_least(cur, st["seq"]):
                self.skipped["overwrite_stale"] += 1
                return
        self.seq += 1
        value = ("%s:o:%d" % (self.tag, self.seq)).encode()
        outcome, v, region = self._write("overwrite", ("SET", key, value), lambda v: v == b"OK")
        if outcome == "ok":
            st.update(seq=self.seq, value=value, region=region.name)
            self.acks.append(Ack("overwrite", key, value, region.name, time.time()))
        elif outcome == "indoubt":
            st["indoubt"].add(value)

    def _is_at_least(self, value, seq):
        if not isinstance(value, bytes):
            return False
        parts = value.split(b":")
        if len(parts) != 3 or parts[0] != self.tag.encode() or parts[1] != b"o":
            return False
        return int(parts[2]) >= seq

    def op_remove(self, expire):
        if not self.u_candidates:
            return self.op_set_unique()
        key = self.u_candidates.pop(self.rng.randrange(len(self.u_candidates)))
        st = self.u[key]
        ok, cur = self._read("GET", key)
        if not ok:
            self.u_candidates.append(key)
            return
        if cur != st["value"]:
            # Not replicated here yet: a DEL would not observe it (and be a no-op). Later.
            self.skipped["expire_unobserved" if expire else "del_unobserved"] += 1
            self.u_candidates.append(key)
            return
        if expire:
            ttl = self.rng.randrange(100, 1500)
            outcome, v, region = self._write("expire", ("PEXPIRE", key, ttl), lambda v: v in (0, 1))
        else:
            outcome, v, region = self._write("del", ("DEL", key), lambda v: v in (0, 1))
        if outcome == "ok" and v == 0:
            self.unexpected.append("%s: %s %s on %s returned 0 right after GET showed the value" %
                                   (self.tag, "PEXPIRE" if expire else "DEL", key, region.name))
        if outcome in ("ok", "indoubt"):
            st["action"] = "expire" if expire else "del"
            st["action_state"] = outcome
            st["action_region"] = region.name
            if outcome == "ok":
                self.acks.append(Ack(st["action"], key, None, region.name, time.time()))
        else:
            self.u_candidates.append(key)

    def op_mixed(self):
        """SET and INCRBY on shared keys from every client: no exact expectation (a SET sets a
        new base, concurrent increments survive it), but every region must end identical -- this
        exercises counter folding against concurrent base writes."""
        key = "m:%d" % self.rng.randrange(MIXED_KEYS)
        if self.rng.random() < 0.25:
            args = ("SET", key, self.rng.randrange(1000))
            expect = lambda v: v == b"OK"  # noqa: E731
        else:
            args = ("INCRBY", key, self.rng.randrange(1, 10))
            expect = lambda v: isinstance(v, int)  # noqa: E731
        self._write("mixed", args, expect)
        self.mixed_keys.add(key)

    def step(self):
        x = self.rng.random()
        if x < 0.32:
            self.op_incr()
        elif x < 0.60:
            self.op_set_unique()
        elif x < 0.75:
            self.op_overwrite()
        elif x < 0.85:
            self.op_remove(expire=False)
        elif x < 0.95:
            self.op_remove(expire=True)
        else:
            self.op_mixed()

    def run(self):
        try:
            n = 0
            while not self.stop_event.is_set():
                if self.max_ops is not None and n >= self.max_ops:
                    break
                if self.conn is None and not self._connect():
                    time.sleep(0.02)
                    continue
                self._maybe_go_home()
                if self.conn is None:
                    continue
                self.step()
                n += 1
        except Exception as e:  # reported by the harness
            import traceback
            self.error = "%s\n%s" % (e, traceback.format_exc())
        finally:
            self._drop()

    # -- results ------------------------------------------------------------------------------
    def acked_writes(self):
        return self.counts.get("ok", 0)
