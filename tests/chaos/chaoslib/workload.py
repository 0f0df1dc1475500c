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
  s:<k>          SADD of a unique member "c<i>-<n>" (every member is added ONCE, by one SADD, and
                 never removed). Check: every acknowledged member is in the set; a member that is
                 there was sent by some client (acknowledged or in doubt).
  sr:<k>         SADD of a unique member, later maybe SREM of it by its client -- only after
                 SISMEMBER on the same region (same connection, right before) showed it. The member
                 has exactly one add instance (one SADD, never retried), and the region that
                 showed it holds that instance, so the SREM observed it: an acknowledged SREM
                 removes it everywhere for good (no concurrent SADD of it exists to win).
                 Check: acknowledged SADD and no SREM -> present; acknowledged SREM -> absent;
                 in-doubt SADD or SREM -> either.
  hc:<k> f<j>    HINCRBY d (1..9) from every client (the fields are never HSET/HDEL'd). Check:
                 as ctr:<k>, per field.
  zc:<k> m<j>    ZINCRBY d (1..9) from every client (the members are never ZADD/ZREM'd). Check:
                 as ctr:<k>, per member (the score is the sum).
  tx:<k>:a, tx:<k>:b  MULTI; INCRBY tx:<k>:a d; INCRBY tx:<k>:b d; EXEC from every client: one
                 unit, so in every region the two counters are equal, and each is the acknowledged
                 sum plus a subset of the in-doubt EXECs' deltas. A transaction whose EXEC was never
                 sent (the connection failed before) is not in doubt: the region discards it.
  hf:<k> c<i>:<j>  HSET of the client's own field with increasing unique values, with the o:
                 guard (on a region other than the one that acknowledged the last value, only
                 after HGET there showed that value or a later one). Check: as o:<k>, per field.

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
SET_KEYS = 4  # s:<k>
SETREM_KEYS = 4  # sr:<k>
HCTR_KEYS = 2  # hc:<k>
HCTR_FIELDS = 4  # f0..f3 in each hc:<k>
ZCTR_KEYS = 2  # zc:<k>
ZCTR_MEMBERS = 4  # m0..m3 in each zc:<k>
HFIELD_KEYS = 3  # hf:<k>
HFIELDS_PER_CLIENT = 4  # c<i>:0..3 in each hf:<k>
TX_KEYS = 4  # tx:<k>:a and tx:<k>:b
LIST_KEYS = 3  # lq:<k>


class SMember:
    """One unique member of a set key: its SADD and (sr: keys) its SREM."""
    __slots__ = ("key", "state", "region", "rm_state", "rm_region")

    def __init__(self, key, state, region):
        self.key, self.state, self.region = key, state, region
        self.rm_state = self.rm_region = None


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
        self.smembers = {}  # member (bytes) -> SMember, s: and sr: keys
        self.sr_candidates = []  # acknowledged sr: members with no SREM yet
        self.hctr_acked = {}  # (key, field) -> acknowledged sum
        self.hctr_indoubt = {}  # (key, field) -> [in-doubt deltas]
        self.hf = {}  # (key, field) -> dict(seq, value, region, indoubt=set())
        self.zctr_acked = {}  # (key, member) -> acknowledged sum
        self.zctr_indoubt = {}  # (key, member) -> [in-doubt deltas]
        self.tx_acked = {}  # k -> acknowledged sum of the EXECs on tx:<k>:a / tx:<k>:b
        self.tx_indoubt = {}  # k -> [in-doubt deltas]
        self.lpushed = {}  # element (bytes) -> SMember (its lq: key and the RPUSH's outcome)
        self.lpopped = set()  # elements an acknowledged LPOP returned
        self.lpop_indoubt = {}  # lq: key -> LPOPs in doubt (each may have removed one element)
        self.acks = []
        self.counts = {"ok": 0, "indoubt": 0, "refused": 0}
        self.kind_counts = {}
        self.skipped = {"del_unobserved": 0, "expire_unobserved": 0, "overwrite_stale": 0,
                        "srem_unobserved": 0, "hset_stale": 0}
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

    def _is_at_least(self, value, seq, marker=b"o"):
        if not isinstance(value, bytes):
            return False
        parts = value.split(b":")
        if len(parts) != 3 or parts[0] != self.tag.encode() or parts[1] != marker:
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

    # -- sets and hashes -------------------------------------------------------------------------
    def op_sadd(self, removable):
        """SADD of a member no one ever added before: one SADD per member, never retried."""
        self.seq += 1
        key = "%s:%d" % ("sr" if removable else "s",
                         self.rng.randrange(SETREM_KEYS if removable else SET_KEYS))
        member = ("%s-%d" % (self.tag, self.seq)).encode()
        outcome, v, region = self._write("sadd", ("SADD", key, member), lambda v: v == 1)
        if outcome in ("ok", "indoubt"):
            self.smembers[member] = SMember(key, outcome, region.name)
        if outcome == "ok":
            self.acks.append(Ack("sadd", "%s %s" % (key, member.decode()), member, region.name,
                                 time.time()))
            if removable:
                self.sr_candidates.append(member)

    def op_srem(self):
        """SREM of one of this client's acknowledged sr: members, only once SISMEMBER on the
        region about to take the SREM showed it (so the SREM observes its only add instance)."""
        if not self.sr_candidates:
            return self.op_sadd(removable=True)
        member = self.sr_candidates.pop(self.rng.randrange(len(self.sr_candidates)))
        st = self.smembers[member]
        ok, cur = self._read("SISMEMBER", st.key, member)
        if not ok:
            self.sr_candidates.append(member)
            return
        if cur != 1:
            # Not replicated here yet: an SREM would not observe the add (and be a no-op). Later.
            self.skipped["srem_unobserved"] += 1
            self.sr_candidates.append(member)
            return
        outcome, v, region = self._write("srem", ("SREM", st.key, member), lambda v: v in (0, 1))
        if outcome == "ok" and v != 1:
            self.unexpected.append("%s: SREM %s %s on %s returned %r right after SISMEMBER "
                                   "showed the member" % (self.tag, st.key, member.decode(),
                                                          region.name, v))
        if outcome in ("ok", "indoubt"):
            st.rm_state, st.rm_region = outcome, region.name
            if outcome == "ok":
                self.acks.append(Ack("srem", "%s %s" % (st.key, member.decode()), member,
                                     region.name, time.time()))
        else:
            self.sr_candidates.append(member)

    def op_hincrby(self):
        key = "hc:%d" % self.rng.randrange(HCTR_KEYS)
        field = "f%d" % self.rng.randrange(HCTR_FIELDS)
        d = self.rng.randrange(1, 10)
        outcome, v, region = self._write("hincrby", ("HINCRBY", key, field, d),
                                         lambda v: isinstance(v, int))
        kf = (key, field)
        if outcome == "ok":
            self.hctr_acked[kf] = self.hctr_acked.get(kf, 0) + d
            self.acks.append(Ack("hincrby", "%s %s" % kf, d, region.name, time.time()))
        elif outcome == "indoubt":
            self.hctr_indoubt.setdefault(kf, []).append(d)

    def op_zincrby(self):
        key = "zc:%d" % self.rng.randrange(ZCTR_KEYS)
        member = "m%d" % self.rng.randrange(ZCTR_MEMBERS)
        d = self.rng.randrange(1, 10)
        # The reply is the new score: an integer here, as text (RESP2 bulk).
        outcome, v, region = self._write("zincrby", ("ZINCRBY", key, d, member),
                                         lambda v: isinstance(v, bytes) and v.isdigit())
        km = (key, member)
        if outcome == "ok":
            self.zctr_acked[km] = self.zctr_acked.get(km, 0) + d
            self.acks.append(Ack("zincrby", "%s %s" % km, d, region.name, time.time()))
        elif outcome == "indoubt":
            self.zctr_indoubt.setdefault(km, []).append(d)

    def op_tx(self):
        """MULTI; INCRBY tx:<k>:a d; INCRBY tx:<k>:b d; EXEC (the two counters move together)."""
        k = self.rng.randrange(TX_KEYS)
        a, b = "tx:%d:a" % k, "tx:%d:b" % k
        d = self.rng.randrange(1, 10)
        region = self.cur
        for args, want in ((("MULTI",), b"OK"), (("INCRBY", a, d), b"QUEUED"),
                           (("INCRBY", b, d), b"QUEUED")):
            outcome, v = self._send(*args)
            if outcome == "ok" and v == want:
                continue
            if outcome in ("ok", "error"):
                self.unexpected.append("%s: %s on %s -> %r" % (self.tag, " ".join(map(str, args)),
                                                               region.name, v))
            # EXEC was never sent: the transaction is not applied (closing the connection
            # discards it), whatever happened to this command.
            self._drop()
            self._record("tx", "refused")
            return
        outcome, v = self._send("EXEC")
        if outcome == "error" and isinstance(v, resp.Err) and v.code == b"EXECABORT" and any(
                c in v.message for c in (b"MISCONF", b"LOADING", b"TRYAGAIN")):
            self._fail(region, "EXECABORT")  # refused as a whole at EXEC time
            outcome = "refused"
        elif outcome == "error" or (outcome == "ok" and not (
                isinstance(v, list) and len(v) == 2 and isinstance(v[0], int) and v[0] == v[1])):
            # Both counters only ever move together, in one unit: equal at every moment.
            self.unexpected.append("%s: EXEC (INCRBY %s, %s by %d) on %s -> %r" %
                                   (self.tag, a, b, d, region.name, v))
            outcome = "error"
        if outcome == "ok":
            self._acked(region)
            self.tx_acked[k] = self.tx_acked.get(k, 0) + d
            for key in (a, b):
                self.acks.append(Ack("tx", key, d, region.name, time.time()))
        elif outcome == "indoubt":
            self.tx_indoubt.setdefault(k, []).append(d)
        self._record("tx", outcome)

    # -- lists ---------------------------------------------------------------------------------
    def op_rpush(self):
        """RPUSH of an element no one ever pushed before, once, never retried."""
        self.seq += 1
        key = "lq:%d" % self.rng.randrange(LIST_KEYS)
        elem = ("%s-%d" % (self.tag, self.seq)).encode()
        outcome, v, region = self._write("rpush", ("RPUSH", key, elem),
                                         lambda v: isinstance(v, int) and v >= 1)
        if outcome in ("ok", "indoubt"):
            self.lpushed[elem] = SMember(key, outcome, region.name)
        if outcome == "ok":
            self.acks.append(Ack("rpush", "%s %s" % (key, elem.decode()), elem, region.name,
                                 time.time()))

    def op_lpop(self):
        """LPOP: the element it returns is removed (in doubt: some element may be)."""
        key = "lq:%d" % self.rng.randrange(LIST_KEYS)
        outcome, v, region = self._write("lpop", ("LPOP", key),
                                         lambda v: v is None or isinstance(v, bytes))
        if outcome == "ok" and v is not None:
            self.lpopped.add(v)
        elif outcome == "indoubt":
            self.lpop_indoubt[key] = self.lpop_indoubt.get(key, 0) + 1

    def op_hset(self):
        """HSET of this client's own field with a new unique value (the o: guard)."""
        key = "hf:%d" % self.rng.randrange(HFIELD_KEYS)
        field = "%s:%d" % (self.tag, self.rng.randrange(HFIELDS_PER_CLIENT))
        st = self.hf.setdefault((key, field), {"seq": 0, "value": None, "region": None,
                                               "indoubt": set()})
        if st["value"] is not None and st["region"] != self.cur.name:
            ok, cur = self._read("HGET", key, field)
            if not ok:
                return
            if not self._is_at_least(cur, st["seq"], b"h"):
                self.skipped["hset_stale"] += 1
                return
        self.seq += 1
        value = ("%s:h:%d" % (self.tag, self.seq)).encode()
        # HSET replies with the number of fields created: 1 the first time, 0 after (1 again
        # would be fine too if an in-doubt first write never applied).
        outcome, v, region = self._write("hset", ("HSET", key, field, value),
                                         lambda v: v in (0, 1))
        if outcome == "ok":
            st.update(seq=self.seq, value=value, region=region.name)
            self.acks.append(Ack("hset", "%s %s" % (key, field), value, region.name, time.time()))
        elif outcome == "indoubt":
            st["indoubt"].add(value)

    def step(self):
        x = self.rng.random()
        if x < 0.20:
            self.op_incr()
        elif x < 0.24:
            self.op_tx()
        elif x < 0.44:
            self.op_set_unique()
        elif x < 0.55:
            self.op_overwrite()
        elif x < 0.63:
            self.op_remove(expire=False)
        elif x < 0.71:
            self.op_remove(expire=True)
        elif x < 0.75:
            self.op_mixed()
        elif x < 0.83:
            self.op_sadd(removable=False)
        elif x < 0.88:
            self.op_sadd(removable=True)
        elif x < 0.92:
            self.op_srem()
        elif x < 0.935:
            self.op_hincrby()
        elif x < 0.95:
            self.op_zincrby()
        elif x < 0.965:
            self.op_rpush()
        elif x < 0.975:
            self.op_lpop()
        else:
            self.op_hset()

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
