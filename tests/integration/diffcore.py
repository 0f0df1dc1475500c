"""Differential-testing core: command descriptions, the random command generator, reply comparison.

A Cmd is a command plus how its replies are compared:
  exact      raw reply bytes must be identical
  ttl        integers within `tol` of each other (negative values and errors: identical bytes)
  keys       array replies compared after sorting (errors: identical bytes)
  scan       SCAN iterated to completion on each side; the sets of keys are compared
  randomkey  both nil, or both a key that EXISTS on its side
  time       both [unix seconds, microseconds], seconds within `tol` of each other and of now
  int        both integers (values may differ, e.g. CLIENT ID)
"""

import os
import random
import time

import akv

TTL_TOL_S = 2
TTL_TOL_MS = 2000

# ~20 keys so commands collide; includes the empty key, a space, binary bytes and a hash tag.
KEYS = ["k%d" % i for i in range(16)] + ["", "key with space", b"bin\x00\xff\r\nkey", "{tag}k"]

INTS = ["0", "1", "-1", "7", "42", "-100", "1000", "9223372036854775807",
        "-9223372036854775808", "9223372036854775806", "-9223372036854775807"]
NOT_INTS = ["abc", "1.5", "", "9223372036854775808", "-9223372036854775809", " 1", "1 ", "+1",
            "01", "-0", "0x10", "1e3", "\x00", "１"]
FLOATS = ["1.5", "-0.25", "3", "1e3", "0.1", "-1e-5", "1.7976931348623157e308", "5e-324",
          "+1.5", "10.50", "3.0", "-0", "0x1p3", "1E2", ".5", "5.", "123456789012345678",
          "0.30000000000000004"]
NOT_FLOATS = ["inf", "-inf", "nan", "abc", "", "1e", " 1.5", "1.5 ", "1,5", "--1", "1e99999"]
STRINGS = ["v", "hello", "Hello World", "", "a b c", b"\x00\r\n\xff", "\r\n", "*1\r\n$1\r\nx",
           "-ERR fake", "+OK", ":5", "x" * 100, "ünïcödé"]
PATTERNS = ["*", "k*", "k1?", "k[0-4]", "k[^0-4]*", "*e*", "{tag}*", "\\{tag\\}*", "nomatch", "",
            "k\\*", "[", "*[", "?", "k1[", "bin*", "key with*", "*\\"]


class Cmd:
    __slots__ = ("args", "kind", "tol")

    def __init__(self, args, kind="exact", tol=0):
        self.args = list(args)
        self.kind = kind
        self.tol = tol

    def __repr__(self):
        return akv.fmt_cmd(self.args)


def T(*args, tol=TTL_TOL_S):
    return Cmd(args, "ttl", tol)


def TMS(*args):
    return Cmd(args, "ttl", TTL_TOL_MS)


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


class Side:
    """One server's connection in a differential run."""

    def __init__(self, name, client):
        self.name = name
        self.client = client


def _iterate_scan(client, args):
    """Runs SCAN from args to completion. Returns (first Reply, set of keys or None, problem)."""
    first = client.call(*args)
    if not isinstance(first.value, list):
        return first, None, None
    keys = set()
    reply = first
    rounds = 0
    while True:
        v = reply.value
        if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], bytes) and
                isinstance(v[1], list)):
            return first, None, "malformed SCAN reply %r" % reply.raw[:200]
        keys.update(v[1])
        if v[0] == b"0":
            return first, keys, None
        rounds += 1
        if rounds > 10000:
            return first, None, "SCAN did not finish after 10000 rounds"
        nxt = list(args)
        nxt[1] = v[0]
        reply = client.call(*nxt)


def run_special(cmd, ref, tgt):
    """Runs a scan/randomkey command on both sides; returns (ref_raw, tgt_raw, problem)."""
    if cmd.kind == "scan":
        r1, k1, p1 = _iterate_scan(ref.client, cmd.args)
        r2, k2, p2 = _iterate_scan(tgt.client, cmd.args)
        if p1 or p2:
            return r1.raw, r2.raw, "%s: %s" % ((ref.name, p1) if p1 else (tgt.name, p2))
        if k1 is None or k2 is None:
            if r1.raw != r2.raw:
                return r1.raw, r2.raw, "SCAN replies differ"
            return r1.raw, r2.raw, None
        if k1 != k2:
            return (r1.raw, r2.raw, "SCAN key sets differ: only %s: %r; only %s: %r" %
                    (ref.name, sorted(k1 - k2), tgt.name, sorted(k2 - k1)))
        return r1.raw, r2.raw, None
    if cmd.kind == "randomkey":
        r1 = ref.client.call(*cmd.args)
        r2 = tgt.client.call(*cmd.args)
        if isinstance(r1.value, akv.Err) or isinstance(r2.value, akv.Err) or \
                r1.value is None or r2.value is None:
            return r1.raw, r2.raw, None if r1.raw == r2.raw else "RANDOMKEY replies differ"
        for side, r in ((ref, r1), (tgt, r2)):
            e = side.client.call("EXISTS", r.value)
            if e.value != 1:
                return r1.raw, r2.raw, "%s RANDOMKEY returned %r which does not exist" % (
                    side.name, r.value)
        return r1.raw, r2.raw, None
    raise ValueError(cmd.kind)


def compare(cmd, r1, r2):
    """Compares two Replies to cmd (kinds other than scan/randomkey). Returns a problem or None."""
    if cmd.kind == "exact" or isinstance(r1.value, akv.Err) or isinstance(r2.value, akv.Err):
        return None if r1.raw == r2.raw else "replies differ"
    v1, v2 = r1.value, r2.value
    if cmd.kind == "ttl":
        if type(v1) is not int or type(v2) is not int:
            return None if r1.raw == r2.raw else "replies differ"
        if v1 < 0 or v2 < 0:
            return None if v1 == v2 else "replies differ"
        if abs(v1 - v2) > cmd.tol:
            return "values differ by more than %d" % cmd.tol
        return None
    if cmd.kind == "keys":
        if isinstance(v1, list) and isinstance(v2, list):
            if r1.raw[:1] != r2.raw[:1]:
                return "reply types differ"
            return None if sorted(v1) == sorted(v2) else "key lists differ (sorted)"
        return None if r1.raw == r2.raw else "replies differ"
    if cmd.kind == "time":
        now = time.time()
        for v in (v1, v2):
            if not (isinstance(v, list) and len(v) == 2 and all(isinstance(x, bytes) for x in v)):
                return "TIME reply is not an array of two bulk strings"
            if not (v[0].isdigit() and v[1].isdigit() and int(v[1]) < 1000000):
                return "TIME reply fields are not [seconds, microseconds]"
            if abs(int(v[0]) - now) > 5:
                return "TIME seconds far from the local clock"
        return None
    if cmd.kind == "int":
        return None if type(v1) is int and type(v2) is int else "not both integers"
    raise ValueError(cmd.kind)


class Mismatch(AssertionError):
    pass


class DiffRunner:
    """Sends commands to both sides, compares, keeps a history for failure reports."""

    def __init__(self, ref, tgt, context, rng=None, max_batch=8, fixed_batch=False):
        self.ref = ref
        self.tgt = tgt
        self.context = context  # e.g. "seed=5 sequence=3 resp3"
        self.history = []  # (cmd, ref_raw, tgt_raw)
        self.count = 0
        self.rng = rng or random.Random(0)
        self.max_batch = max_batch
        self.fixed_batch = fixed_batch  # always max_batch instead of random 1..max_batch
        # AKV_DIFF_KEEP_GOING=1: record mismatches and continue (diagnosis: see every distinct
        # difference, not just the first; later ones may be consequences of earlier ones).
        self.keep_going = os.environ.get("AKV_DIFF_KEEP_GOING") == "1"
        self.mismatches = []  # (cmd, ref_raw, tgt_raw, problem), when keep_going

    def _fail(self, cmd, raw1, raw2, problem):
        if self.keep_going:
            self.mismatches.append((cmd, raw1, raw2, problem))
            return
        lines = ["%s: mismatch at command #%d: %s" % (self.context, self.count, problem),
                 "  command: %s" % (cmd,),
                 "  %-15s %r" % (self.ref.name + ":", raw1),
                 "  %-15s %r" % (self.tgt.name + ":", raw2),
                 "  history (last %d of %d commands, oldest first):" %
                 (min(40, len(self.history)), len(self.history))]
        for c, a, b in self.history[-40:]:
            same = "==" if a == b else "!="
            lines.append("    %s\n        %s %r\n        %s %r" % (c, same, a[:120],
                                                                    "  ", b[:120]))
        raise Mismatch("\n".join(lines))

    def run(self, cmds):
        """Runs cmds: consecutive simple commands pipelined together, specials one at a time."""
        batch = []
        limit = self._limit()
        for c in cmds:
            if c.kind in ("scan", "randomkey"):
                self._run_batch(batch)
                batch = []
                self.count += 1
                a, b, problem = run_special(c, self.ref, self.tgt)
                if problem:
                    self._fail(c, a, b, problem)
                self.history.append((c, a, b))
                continue
            batch.append(c)
            if len(batch) >= limit:
                self._run_batch(batch)
                batch = []
                limit = self._limit()
        self._run_batch(batch)

    def _limit(self):
        return self.max_batch if self.fixed_batch else self.rng.randint(1, self.max_batch)

    def _run_batch(self, batch):
        if not batch:
            return
        rs1 = self.ref.client.pipeline([c.args for c in batch])
        rs2 = self.tgt.client.pipeline([c.args for c in batch])
        for c, r1, r2 in zip(batch, rs1, rs2):
            self.count += 1
            problem = compare(c, r1, r2)
            if problem:
                self._fail(c, r1.raw, r2.raw, problem)
            self.history.append((c, r1.raw, r2.raw))

    def compare_state(self):
        """Compares the whole keyspace: key set, and per string key its value and PTTL."""
        ks = Cmd(["KEYS", "*"], "keys")
        self.run([ks, Cmd(["DBSIZE"])])
        keys = self.ref.client.call("KEYS", "*").value
        cmds = []
        for k in sorted(keys):
            cmds += [Cmd(["TYPE", k]), TMS("PTTL", k)]
            if self.ref.client.call("TYPE", k).value == b"string":
                cmds.append(Cmd(["GET", k]))
        self.run(cmds)


# ---------------------------------------------------------------------------------------------
# Random generation
# ---------------------------------------------------------------------------------------------


class ExpiryPool:
    """Future expiry values that never collide: any two differ by >= 10 s, so GT/LT/NX/XX decisions
    are the same on both servers although they receive each command a few ms apart. No key with
    a future TTL expires during a run (minimum 100 s)."""

    def __init__(self, rng, t0_ms):
        self.rng = rng
        self.t0_ms = t0_ms
        self.used = []

    def _fresh_s(self):
        while True:
            v = self.rng.choice([self.rng.randint(100, 2000), self.rng.randint(2000, 10**7)])
            if all(abs(v - u) >= 10 for u in self.used):
                self.used.append(v)
                return v

    def rel_s(self):
        return str(self._fresh_s())

    def rel_ms(self):
        return str(self._fresh_s() * 1000 + self.rng.randint(0, 999))

    def abs_s(self):
        return str(self.t0_ms // 1000 + self._fresh_s())

    def abs_ms(self):
        return str(self.t0_ms + self._fresh_s() * 1000 + self.rng.randint(0, 999))

    def past_s(self):
        return self.rng.choice(["1", str(self.t0_ms // 1000 - 100), "0"])

    def past_ms(self):
        return self.rng.choice(["1", str(self.t0_ms - 100000), "0"])


class Generator:
    """Seeded random commands over KEYS, valid and invalid, covering the supported command set."""

    def __init__(self, seed, t0_ms=None):
        self.rng = random.Random(seed)
        self.exp = ExpiryPool(self.rng, t0_ms or int(time.time() * 1000))
        table = [
            (3, self.g_ping), (2, self.g_echo), (1, self.g_select), (2, self.g_dbsize),
            (1, self.g_time), (1, self.g_flush), (2, self.g_client), (14, self.g_get),
            (18, self.g_set), (3, self.g_setnx), (3, self.g_setex), (2, self.g_getset),
            (3, self.g_getdel), (5, self.g_getex), (5, self.g_mget), (4, self.g_mset),
            (5, self.g_append), (3, self.g_strlen), (5, self.g_getrange), (5, self.g_setrange),
            (10, self.g_incr), (5, self.g_incrbyfloat), (6, self.g_del), (4, self.g_exists),
            (3, self.g_type), (12, self.g_expire), (8, self.g_ttl), (3, self.g_persist),
            (3, self.g_keys), (3, self.g_scan), (2, self.g_randomkey), (5, self.g_rename),
            (1, self.g_unknown),
        ]
        self.funcs = [f for _, f in table]
        self.weights = [w for w, _ in table]

    # -- helpers -----------------------------------------------------------------------------
    def key(self):
        return self.rng.choice(KEYS)

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.rng.randint(lo, hi))]

    def p(self, prob):
        return self.rng.random() < prob

    def value(self):
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice(INTS)
        if r < 0.45:
            return self.rng.choice(FLOATS)
        if r < 0.55:
            return self.rng.choice(NOT_INTS)
        if r < 0.85:
            return self.rng.choice(STRINGS)
        return "".join(self.rng.choice("abcxyz019 \t") for _ in range(self.rng.randint(0, 40)))

    def int_arg(self, lo=-100, hi=100):
        r = self.rng.random()
        if r < 0.7:
            return str(self.rng.randint(lo, hi))
        if r < 0.85:
            return self.rng.choice(INTS)
        return self.rng.choice(NOT_INTS)

    def name(self, n):
        """The command name, sometimes in random case."""
        if self.p(0.15):
            return "".join(ch.upper() if self.p(0.5) else ch.lower() for ch in n)
        return n

    def mutate_arity(self, args):
        """Occasionally drops or adds arguments (wrong arity, trailing junk)."""
        r = self.rng.random()
        if r < 0.03:
            return args[:self.rng.randint(1, max(1, len(args) - 1))]
        if r < 0.05:
            return args + [self.rng.choice(["x", "NX", "1", ""])]
        return args

    def future_expiry(self, opt):
        opt_u = opt.upper()
        if opt_u == "EX":
            return self.exp.rel_s()
        if opt_u == "PX":
            return self.exp.rel_ms()
        if opt_u == "EXAT":
            return self.exp.abs_s()
        return self.exp.abs_ms()

    def expiry_value(self, opt, allow_past=True):
        """A value for EX/PX/EXAT/PXAT: mostly valid future, sometimes past/zero/invalid.

        SET/SETEX with a past EXAT/PXAT leave a logically expired key that redis counts in DBSIZE
        until its background expiry cycle removes it at an unpredictable time, so those callers
        pass allow_past=False (the edge-case table covers past SET times followed by an access)."""
        r = self.rng.random()
        if r < 0.75:
            return self.future_expiry(opt)
        if r < 0.85:
            if opt.upper() in ("EX", "PX"):
                return self.rng.choice(["0", "-1", "-100"])  # never a short positive TTL
            if not allow_past:
                return self.future_expiry(opt)
            return self.exp.past_s() if opt.upper() == "EXAT" else self.exp.past_ms()
        return self.rng.choice(["0", "-1", "-100", "abc", "1.5", "", "9223372036854775807",
                                "9223372036854775", "-9223372036854775808", "1e3"])

    # -- command generators --------------------------------------------------------------------
    def g_ping(self):
        a = [self.name("PING")] + ([self.value()] if self.p(0.5) else [])
        return Cmd(self.mutate_arity(a))

    def g_echo(self):
        return Cmd(self.mutate_arity([self.name("ECHO"), self.value()]))

    def g_select(self):
        return Cmd(self.mutate_arity(
            [self.name("SELECT"), self.rng.choice(["0", "0", "0", "abc", "16", "-1", "00", ""])]))

    def g_dbsize(self):
        return Cmd(self.mutate_arity([self.name("DBSIZE")]))

    def g_time(self):
        a = self.mutate_arity([self.name("TIME")])
        return Cmd(a, "time" if len(a) == 1 else "exact")

    def g_flush(self):
        a = [self.name(self.rng.choice(["FLUSHDB", "FLUSHALL"]))]
        if self.p(0.5):
            a.append(self.rng.choice(["ASYNC", "SYNC", "async", "FOO"]))
        return Cmd(self.mutate_arity(a))

    def g_client(self):
        r = self.rng.random()
        if r < 0.4:
            name = self.rng.choice(["n1", "conn-2", "", "bad name", "a\nb", "x" * 30, "ok_name"])
            return Cmd(self.mutate_arity([self.name("CLIENT"), "SETNAME", name]))
        if r < 0.8:
            return Cmd(self.mutate_arity([self.name("CLIENT"), self.rng.choice(
                ["GETNAME", "getname"])]))
        if r < 0.9:
            return Cmd([self.name("CLIENT"), "ID"], "int")
        return Cmd([self.name("CLIENT"), self.rng.choice(["FOO", ""])])

    def g_get(self):
        return Cmd(self.mutate_arity([self.name("GET"), self.key()]))

    def g_set(self):
        a = [self.name("SET"), self.key(), self.value()]
        opts = []
        for _ in range(self.rng.choice([0, 1, 1, 1, 2, 2, 3])):
            o = self.rng.choice(["NX", "XX", "GET", "KEEPTTL", "EX", "PX", "EXAT", "PXAT", "EX",
                                 "PX", "nx", "ex", "BAD"])
            opts.append(o)
            if o.upper() in ("EX", "PX", "EXAT", "PXAT") and not self.p(0.03):
                opts.append(self.expiry_value(o, allow_past=False))
        return Cmd(self.mutate_arity(a + opts))

    def g_setnx(self):
        return Cmd(self.mutate_arity([self.name("SETNX"), self.key(), self.value()]))

    def g_setex(self):
        if self.p(0.5):
            return Cmd(self.mutate_arity([self.name("SETEX"), self.key(), self.expiry_value("EX"),
                                          self.value()]))
        return Cmd(self.mutate_arity([self.name("PSETEX"), self.key(), self.expiry_value("PX"),
                                      self.value()]))

    def g_getset(self):
        return Cmd(self.mutate_arity([self.name("GETSET"), self.key(), self.value()]))

    def g_getdel(self):
        return Cmd(self.mutate_arity([self.name("GETDEL"), self.key()]))

    def g_getex(self):
        a = [self.name("GETEX"), self.key()]
        for _ in range(self.rng.choice([0, 1, 1, 1, 2])):
            o = self.rng.choice(["EX", "PX", "EXAT", "PXAT", "PERSIST", "persist", "FOO"])
            a.append(o)
            if o in ("EX", "PX", "EXAT", "PXAT") and not self.p(0.05):
                a.append(self.expiry_value(o))
        return Cmd(self.mutate_arity(a))

    def g_mget(self):
        return Cmd(self.mutate_arity([self.name("MGET")] + self.keys(1, 6)))

    def g_mset(self):
        a = [self.name(self.rng.choice(["MSET", "MSET", "MSETNX"]))]
        for _ in range(self.rng.randint(1, 4)):
            a += [self.key(), self.value()]
        if self.p(0.05):
            a.pop()
        return Cmd(self.mutate_arity(a))

    def g_append(self):
        return Cmd(self.mutate_arity([self.name("APPEND"), self.key(), self.value()]))

    def g_strlen(self):
        return Cmd(self.mutate_arity([self.name("STRLEN"), self.key()]))

    def g_getrange(self):
        def idx():
            if self.p(0.1):
                return self.rng.choice(["9223372036854775807", "-9223372036854775808", "abc",
                                        "", "1.5", "4294967296"])
            return str(self.rng.randint(-30, 30))
        return Cmd(self.mutate_arity([self.name(self.rng.choice(["GETRANGE", "GETRANGE",
                                                                 "SUBSTR"])),
                                      self.key(), idx(), idx()]))

    def g_setrange(self):
        r = self.rng.random()
        val = self.rng.choice(STRINGS[:8])
        if r < 0.8:
            off = str(self.rng.randint(0, 40))
        elif r < 0.85:
            off, val = "536870912", self.rng.choice(["x", "abc"])  # total > 512MB: error
        elif r < 0.9:
            off, val = "536870911", "xy"  # one byte over the limit: error, nothing allocated
        else:
            off = self.rng.choice(["-1", "abc", "9223372036854775807", "", "1.5"])
        return Cmd(self.mutate_arity([self.name("SETRANGE"), self.key(), off, val]))

    def g_incr(self):
        r = self.rng.random()
        if r < 0.25:
            return Cmd(self.mutate_arity([self.name(self.rng.choice(["INCR", "DECR"])),
                                          self.key()]))
        n = self.name(self.rng.choice(["INCRBY", "DECRBY"]))
        if self.p(0.7):
            amount = str(self.rng.randint(-1000, 1000))
        else:
            amount = self.rng.choice(INTS + NOT_INTS)
        return Cmd(self.mutate_arity([n, self.key(), amount]))

    def g_incrbyfloat(self):
        if self.p(0.6):
            amount = self.rng.choice(["1.5", "-0.5", "0.1", "2", "-3", "1e2", "0.3", "100.25"])
        else:
            amount = self.rng.choice(FLOATS + NOT_FLOATS + INTS)
        return Cmd(self.mutate_arity([self.name("INCRBYFLOAT"), self.key(), amount]))

    def g_del(self):
        return Cmd(self.mutate_arity([self.name(self.rng.choice(["DEL", "UNLINK"]))] +
                                     self.keys(1, 3)))

    def g_exists(self):
        return Cmd(self.mutate_arity([self.name("EXISTS")] + self.keys(1, 4)))

    def g_type(self):
        return Cmd(self.mutate_arity([self.name("TYPE"), self.key()]))

    def g_expire(self):
        n = self.rng.choice(["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
        r = self.rng.random()
        unit_opt = {"EXPIRE": "EX", "PEXPIRE": "PX", "EXPIREAT": "EXAT", "PEXPIREAT": "PXAT"}[n]
        if r < 0.75:
            t = self.future_expiry(unit_opt)
        elif r < 0.85:
            # Immediate deletion: past absolute time or non-positive relative time.
            t = (self.exp.past_s() if n == "EXPIREAT" else self.exp.past_ms() if
                 n == "PEXPIREAT" else self.rng.choice(["0", "-1", "-1000"]))
        else:
            t = self.rng.choice(["abc", "", "1.5", "9223372036854775807", "9223372036854775",
                                 "-9223372036854775808", "-9223372036854775"])
        a = [self.name(n), self.key(), t]
        for _ in range(self.rng.choice([0, 0, 1, 1, 1, 2])):
            a.append(self.rng.choice(["NX", "XX", "GT", "LT", "nx", "gt", "FOO"]))
        return Cmd(self.mutate_arity(a))

    def g_ttl(self):
        n = self.rng.choice(["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"])
        a = self.mutate_arity([self.name(n), self.key()])
        return Cmd(a, "ttl", TTL_TOL_MS if n.startswith("P") else TTL_TOL_S)

    def g_persist(self):
        return Cmd(self.mutate_arity([self.name("PERSIST"), self.key()]))

    def g_keys(self):
        return Cmd(self.mutate_arity([self.name("KEYS"), self.rng.choice(PATTERNS)]), "keys")

    def g_scan(self):
        a = [self.name("SCAN"), "0"]
        if self.p(0.05):
            a[1] = self.rng.choice(["abc", "", "18446744073709551616", "1.5"])
        opts = []
        for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
            o = self.rng.choice(["MATCH", "COUNT", "TYPE", "match"])
            if o.upper() == "MATCH":
                opts += [o, self.rng.choice(PATTERNS)]
            elif o == "COUNT":
                opts += [o, self.rng.choice(["1", "2", "5", "10", "1000", "0", "-1", "abc"])]
            else:
                opts += [o, self.rng.choice(["string", "STRING", "hash", "list", "none", "foo"])]
        if self.p(0.04):
            opts.append(self.rng.choice(["COUNT", "BAD"]))
        return Cmd(a + opts, "scan")

    def g_randomkey(self):
        a = self.mutate_arity([self.name("RANDOMKEY")])
        return Cmd(a, "randomkey")

    def g_rename(self):
        a = [self.name(self.rng.choice(["RENAME", "RENAMENX"])), self.key(),
             self.key() if self.p(0.9) else None]
        if a[2] is None:
            a[2] = a[1]
        return Cmd(self.mutate_arity(a))

    def g_unknown(self):
        return Cmd([self.rng.choice(["FOO", "GETT", "", "SETT"])] +
                   [self.value() for _ in range(self.rng.randint(0, 2))])

    def next(self):
        return self.rng.choices(self.funcs, self.weights)[0]()

    def sequence(self, n):
        """n commands (DiffRunner.run pipelines them in random batches)."""
        return [self.next() for _ in range(n)]


def summarize(mismatches, ref_name, tgt_name, limit=60):
    """Groups (cmd, ref_raw, tgt_raw, problem) by command name and replies; most frequent first."""
    groups = {}
    for cmd, a, b, problem in mismatches:
        name = cmd.args[0].upper() if isinstance(cmd.args[0], str) else repr(cmd.args[0])
        key = (name, a[:100], b[:100], problem)
        groups.setdefault(key, []).append(cmd)
    lines = ["%d mismatches, %d distinct (command, replies) groups:" % (len(mismatches),
                                                                       len(groups))]
    for (name, a, b, problem), cmds in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:limit]:
        lines.append("  [%dx] %s   e.g. %s  (%s)\n      %-13s %r\n      %-13s %r" % (
            len(cmds), name, cmds[0], problem, ref_name + ":", a, tgt_name + ":", b))
    return "\n".join(lines)
