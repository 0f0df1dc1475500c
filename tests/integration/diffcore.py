"""Differential-testing core: command descriptions, the random command generator, reply comparison.

A Cmd is a command plus how its replies are compared:
  exact      raw reply bytes must be identical
  ttl        integers within `tol` of each other (negative values and errors: identical bytes)
  keys       array replies compared after sorting (errors: identical bytes)
  scan       SCAN iterated to completion on each side; the sets of keys are compared
  randomkey  both nil, or both a key that EXISTS on its side
  time       both [unix seconds, microseconds], seconds within `tol` of each other and of now
  int        both integers (values may differ, e.g. CLIENT ID)
  objenc     OBJECT ENCODING: identical bytes, except that the string encodings (int, embstr, raw)
             are not told apart; listpack/hashtable (hashes) and intset/hashtable (sets) are exact
Hashes and sets (run one at a time, like scan and randomkey; code in "hashes and sets" below):
  coll       HGETALL/HKEYS/HVALS/SMEMBERS/SINTER/SUNION/SDIFF: identical bytes where redis 7.0's
             order is defined (a listpack hash: insertion order; intset sets: ascending), else the
             same reply type and the same multiset of elements (field-value pairs for HGETALL)
  cscan      HSCAN/SSCAN: a compact (listpack/intset) or missing key on the reference: the first
             reply byte for byte; a hashtable: both iterated to cursor 0, the unions compared,
             every cursor a decimal below 2^53 (started from a cursor other than 0, e.g. "-1"
             which strtoul accepts: only the reply shape)
  rand       HRANDFIELD/SRANDMEMBER/SPOP/ZRANDMEMBER: the key's content is compared first; then
             each side's pick is checked against its own content (count, distinctness for positive
             counts, |count| picks for negative ones, values for WITHVALUES, scores for
             WITHSCORES); after SPOP the two sets are made identical again (DEL + SADD of the
             reference's remaining members + its expiry) when the popped members or the resulting
             encodings differ
Lists (family "list"): every reply order is defined, so all list replies are exact (OBJECT
ENCODING is always quicklist in redis 7.0).
Streams (family "stream"): entry ids are the generator's explicit ids (auto ids "*" differ
between servers and are only checked for shape, kind "xid", in the edge cases), so every reply is
exact except XINFO STREAM (kind "xinfo"): radix-tree-keys and radix-tree-nodes describe redis's
storage and are not compared, nor FULL's delivery and seen times; and the idle times of XPENDING's extended form and XINFO CONSUMERS
(kind "xidle"). "~" trimming appears only in edge cases whose outcome does not
depend on redis's node layout.
SORT / SORT_RO (with the list family; kind "sort", run one at a time): exact, except where redis
7.0's order is not defined: BY a pattern without '*' (nosort) on a hashtable set without STORE
(its hash order), ALPHA BY a pattern (equal or missing values compare equal; the order among
them is the input's: a set's or sorted set's hash order, or redis's unstable partial quicksort
when LIMIT is given) and ALPHA on a set or sorted set holding members with a NUL byte (strcoll
stops there): then the same reply type and multiset of elements, or with LIMIT (a window of an
undefined order holds undefined elements) the same reply type and length. The generator never
STOREs such an order (the destination would differ). A score error from the reference alone is
checked again after clearing its errno (run_sort: redis 7.0 leaves a stale ERANGE in place).
Sorted sets (family "zset", opt-in through AKV_DIFF_FAMILIES until the target has them): every
reply order is defined (score, then member), so all zset replies are exact, OBJECT ENCODING
(listpack/skiplist) included, except ZRANDMEMBER (rand), ZSCAN (cscan: a listpack zset is one
complete reply, a skiplist is iterated and the member-score pairs compared) and:
  lex        ZRANGEBYLEX/ZREVRANGEBYLEX/ZLEXCOUNT/ZREMRANGEBYLEX, ZRANGE/ZRANGESTORE ... BYLEX:
             exact where redis 7.0's answer is defined: the source is missing, not a zset, a
             listpack (a linear scan in score order) or has one score for all members. A
             skiplist with different scores gives an answer that depends on its random node
             levels (redis documents it as unspecified; two redis-servers disagree): then the
             key's content is compared first, each side's reply is checked against its own
             content (members of the key, counts, what was removed or stored), and the written
             key (ZREMRANGEBYLEX's source, ZRANGESTORE's destination) is made identical again on
             both sides (DEL + ZADD of the reference's content + its expiry)
"""

import os
import random
import re
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
# Hashes and sets: their own key pools (most collection commands use them, some use KEYS and hit
# strings: WRONGTYPE both ways), fields and members that hit every encoding edge.
HASH_KEYS = ["h0", "h1", "h2", "{tag}h"]
SET_KEYS = ["s0", "s1", "s2", "{tag}s"]
FIELDS = ["f0", "f1", "f2", "f3", "f4", "a", "b", "", "field with space", b"\x00f\xff\r\n",
          "F" * 64, "F" * 65, "1", "-1", "0", "ünï"]
HVALUES_EXTRA = ["y" * 64, "y" * 65, "", "0", "10", "-5", "1.5", "9223372036854775807", "01"]
INT_MEMBERS = ["0", "1", "2", "3", "5", "7", "10", "42", "-1", "-100", "100", "32767", "32768",
               "-32769", "65536", "2147483647", "2147483648", "-2147483649",
               "9223372036854775807", "-9223372036854775808"]
NONCANON_MEMBERS = ["01", "-0", "+1", " 1", "1.0", "9223372036854775808", "1e3", "0x10", "00"]
STR_MEMBERS = ["a", "b", "c", "", "m m", b"\x00\xff\r\n", "z" * 70, "ünï", "abc"]
FIELD_PATTERNS = ["*", "f*", "f[0-2]", "?", "bf1*", "bf*9", "*a*", "nomatch", "", "[", "*\\",
                  "F*", "1*", "-*"]
RAND_COUNTS = ["0", "1", "2", "3", "5", "10", "1000", "9223372036854775807", "-1", "-2", "-5",
               "-10", "-200", "abc", "", "1.5", "-9223372036854775808"]
# Sorted sets: members sharing scores (lex order decides), members at the listpack value limit
# (64 bytes) and above it, binary and empty ones; scores with many digits, -0, the float limits,
# infinities; score and lex range bounds, valid and not.
ZSET_KEYS = ["z0", "z1", "z2", "{tag}z"]
LIST_KEYS = ["l0", "l1", "l2", "{tag}l"]
STREAM_KEYS = ["x0", "x1", "{tag}x"]
# Stream ids that often collide with what the keys hold: equal, smaller, "<ms>-*", bad ones.
XIDS = ["1-1", "1-2", "2-0", "2-*", "3", "5-5", "0-1", "0-*", "10-0", "10-*", "18446744073709551615-18446744073709551615",
        "18446744073709551615-*", "1-18446744073709551615", "1-*"]
XBAD_IDS = ["abc", "-1", "1-x", "1--1", "", "-", "+", "1-2-3", "(1", "*-1", "1.5"]
XRANGE_IDS = ["-", "+", "0", "1", "1-1", "(1-1", "2", "(2-0", "5-5", "(5-5", "10", "(0-0", "(+",
              "(-", "18446744073709551615-18446744073709551615",
              "(18446744073709551615-18446744073709551615", "(0", "9", "(10-0"]
LVALUES = ["a", "b", "c", "a", "b", "1", "2", "-1", "", "x y", b"\x00\xff\r\n", "Z" * 70, "007",
           "9223372036854775808", "1.5"]
LIST_INDEXES = ["0", "1", "2", "-1", "-2", "-3", "5", "-10", "100", "9223372036854775807",
                "-9223372036854775808", "abc", "", "1.5", " 1"]
ZMEMBERS = ["a", "b", "c", "d", "e", "aa", "ab", "b\xff", "A", "", "m m", b"\x00z\xff\r\n",
            "Z" * 64, "Z" * 65, "1", "-1", "0", "10", "ünï", "[a", "(a", "-", "+"]
ZSCORES = ["0", "1", "2", "3", "-1", "-2", "5", "10", "1.5", "-0.5", "0.1", "0.30000000000000004",
           "3.141592653589793", "2.7182818284590452353602874", "1e10", "-1e-10", "1e300",
           "-1e300", "1.7976931348623157e308", "-1.7976931348623157e308", "5e-324", "-0", "0.0",
           "+1", "inf", "-inf", "+inf", "123456789012345678", "9007199254740993", "1E2", ".5",
           "5.", "10.50", "4.9e-324", "1e-300"]
BAD_SCORES = ["abc", "nan", "NaN", "-nan", "1e400", "-1e400", "1e-400", "(1", "", " 1", "1 ",
              "1,5", "--1", "1e", "inf1", "\x00", "0x", "[1"]
SCORE_RANGES = ["-inf", "+inf", "inf", "(-inf", "(+inf", "0", "1", "(1", "2", "(2", "3", "1.5",
                "(1.5", "-1", "(0", "10", "(10", "-0", "(-0", "1e300", "5e-324", "-2", "(5"]
BAD_SCORE_RANGES = ["abc", "(", "((1", "nan", "(nan", "", "[1", "1e400", "(1e400", " 1", "1x"]
LEX_RANGES = ["-", "+", "[a", "(a", "[b", "(b", "[c", "(c", "[aa", "(ab", "[", "(", "[A",
              b"[\x00", b"(\xff", "[d", "(e", "[m m", "[Z"]
BAD_LEX_RANGES = ["a", "", "-a", "+a", "*", "]a", "{a", "1"]
RANKS_EXTRA = ["9223372036854775807", "-9223372036854775808", "abc", "1.5", "", "4294967296",
               "-4294967296", "+1", " 1"]
POP_COUNTS = ["0", "1", "2", "3", "5", "10", "1000", "9223372036854775807", "-1", "-5", "abc",
              "", "1.5", "-9223372036854775808"]
WEIGHTS = ["1", "2", "0", "-1", "1.5", "-0.5", "inf", "-inf", "1e300", "10"]
BAD_WEIGHTS = ["abc", "nan", "", "1e400", "(1"]
ZMEMBER_PATTERNS = ["*", "a*", "b?", "[a-c]", "bz1*", "bz*9", "*Z*", "nomatch", "", "[", "*\\",
                    "?", "-*", "1*"]
PATTERNS = ["*", "k*", "k1?", "k[0-4]", "k[^0-4]*", "*e*", "{tag}*", "\\{tag\\}*", "nomatch", "",
            "k\\*", "[", "*[", "?", "k1[", "bin*", "key with*", "*\\"]


# Run one at a time (never pipelined): they read back state or iterate.
SPECIAL_KINDS = ("scan", "randomkey", "coll", "cscan", "rand", "lex", "sort")

# The reference redis-server runs without a config file, so its compiled-in defaults apply:
# hash-max-listpack-entries 512 (the 128 in Debian's /etc/redis/redis.conf does not apply),
# hash-max-listpack-value 64, set-max-intset-entries 512. test_differential checks them.
HASH_MAX_LISTPACK_ENTRIES = 512
HASH_MAX_LISTPACK_VALUE = 64
SET_MAX_INTSET_ENTRIES = 512
ZSET_MAX_LISTPACK_ENTRIES = 128  # compiled-in defaults too; test_differential checks both
ZSET_MAX_LISTPACK_VALUE = 64
JS_SAFE_CURSOR = 2 ** 53


class Cmd:
    __slots__ = ("args", "kind", "tol", "extra")

    def __init__(self, args, kind="exact", tol=0, extra=None):
        self.args = list(args)
        self.kind = kind
        self.tol = tol
        self.extra = extra  # kind-specific: for coll, (order rule, keys whose encoding decides)

    def __repr__(self):
        return akv.fmt_cmd(self.args)


def T(*args, tol=TTL_TOL_S):
    return Cmd(args, "ttl", tol)


def TMS(*args):
    return Cmd(args, "ttl", TTL_TOL_MS)


def HREAD(*args):
    """HGETALL/HKEYS/HVALS key: ordered (insertion order) while the reference hash is a listpack."""
    return Cmd(args, "coll", extra=("listpack", list(args[1:2])))


def SREAD(*args):
    """SMEMBERS key / SINTER key...: ordered (ascending) while every reference key is an intset."""
    return Cmd(args, "coll", extra=("intset", list(args[1:])))


def SALG(*args):
    """SUNION/SDIFF key...: redis builds the result in a fresh set that stays an intset (ascending
    order) while every member is an integer and no source holds more than 512 members."""
    return Cmd(args, "coll", extra=("intres", list(args[1:])))


def RAND(*args):
    return Cmd(args, "rand")


def CSCAN(*args):
    return Cmd(args, "cscan")


def OBJENC(*args):
    return Cmd(["OBJECT", "ENCODING"] + list(args), "objenc")


LEX_COMMANDS = ("ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX")


def ZCMD(*args):
    """A sorted set command: kind lex for lex ranges (see the module doc), exact otherwise."""
    name = cmd_name(args)
    bylex = name in ("ZRANGE", "ZRANGESTORE") and any(
        isinstance(a, (str, bytes)) and _arg(a).upper() == b"BYLEX" for a in args[4:])
    if name == "ZRANGESTORE" and bylex and len(args) >= 5:
        return Cmd(args, "lex", extra=(args[2], args[1]))
    if (name in LEX_COMMANDS or bylex) and len(args) >= 4:
        return Cmd(args, "lex", extra=(args[1], args[1] if name == "ZREMRANGEBYLEX" else None))
    return Cmd(args)


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
    if cmd.kind == "coll":
        return run_coll(cmd, ref, tgt)
    if cmd.kind == "cscan":
        return run_cscan(cmd, ref, tgt)
    if cmd.kind == "rand":
        return run_rand(cmd, ref, tgt)
    if cmd.kind == "lex":
        return run_lex(cmd, ref, tgt)
    if cmd.kind == "sort":
        return run_sort(cmd, ref, tgt)
    raise ValueError(cmd.kind)


# -- hashes and sets ----------------------------------------------------------------------------


def cmd_name(args):
    a = args[0] if args else b""
    return (a.decode(errors="replace") if isinstance(a, bytes) else str(a)).upper()


def _arg(a):
    return a.encode() if isinstance(a, str) else (str(a).encode() if isinstance(a, int) else a)


def encoding(client, key):
    """OBJECT ENCODING key as bytes, or None for a missing key."""
    r = client.call("OBJECT", "ENCODING", key)
    return bytes(r.value) if isinstance(r.value, bytes) else None


def is_intset_member(b):
    """True if redis 7.0 stores b in an intset: the canonical decimal form of an int64."""
    if not isinstance(b, bytes) or not 0 < len(b) <= 20:
        return False
    try:
        s = b.decode("ascii")
        v = int(s)
    except (UnicodeDecodeError, ValueError):
        return False
    return str(v) == s and -2**63 <= v < 2**63


def pairs(v):
    """Field-value pairs of an HGETALL / HRANDFIELD WITHVALUES / HSCAN reply (RESP2 or RESP3)."""
    if isinstance(v, dict):
        return list(v.items())
    if v and all(isinstance(x, list) for x in v):
        return [tuple(x) for x in v]
    return list(zip(v[::2], v[1::2]))


def _withvalues(args):
    """HRANDFIELD ... WITHVALUES / ZRANDMEMBER ... WITHSCORES: the reply holds pairs."""
    word = b"WITHSCORES" if cmd_name(args) == "ZRANDMEMBER" else b"WITHVALUES"
    return any(isinstance(a, (str, bytes)) and _arg(a).upper() == word for a in args[3:])


def canonical(cmd, value):
    """An order-free form of a collection reply: sorted elements (or sorted field-value pairs)."""
    if not isinstance(value, (list, dict)):
        return value
    name = cmd_name(cmd.args)
    if name == "HGETALL" or isinstance(value, dict) or (name == "HRANDFIELD" and
                                                        _withvalues(cmd.args)):
        return sorted(pairs(value), key=repr)
    return sorted(value, key=repr)


def compare_unordered(cmd, r1, r2):
    if r1.raw == r2.raw:
        return None
    if isinstance(r1.value, akv.Err) or isinstance(r2.value, akv.Err) or \
            not isinstance(r1.value, (list, dict)) or not isinstance(r2.value, (list, dict)):
        return "replies differ"
    if r1.raw[:1] != r2.raw[:1]:
        return "reply types differ"
    c1, c2 = canonical(cmd, r1.value), canonical(cmd, r2.value)
    if c1 != c2:
        return "replies differ as multisets (order is not compared here): %d vs %d elements" % (
            len(c1), len(c2))
    return None


def run_coll(cmd, ref, tgt):
    """HGETALL/HKEYS/HVALS/SMEMBERS/SINTER/SUNION/SDIFF: exact where redis's order is defined."""
    rule, keys = cmd.extra
    exact = False
    if rule == "listpack":
        exact = all(encoding(ref.client, k) in (None, b"listpack") for k in keys)
    elif rule == "intset":
        exact = all(encoding(ref.client, k) in (None, b"intset") for k in keys)
    r1 = ref.client.call(*cmd.args)
    r2 = tgt.client.call(*cmd.args)
    if rule == "intres":
        v = r1.value
        exact = isinstance(v, list) and len(v) <= SET_MAX_INTSET_ENTRIES and \
            all(is_intset_member(x) for x in v)
        if exact:
            sizes = []
            for k in keys:
                n = ref.client.call("SCARD", k).value
                sizes.append(n if isinstance(n, int) else 0)
                if not isinstance(n, int) or n > SET_MAX_INTSET_ENTRIES:
                    exact = False
            if exact and cmd_name(cmd.args) in ("SDIFF", "SDIFFSTORE") and sizes and sizes[0]:
                # sunionDiffGenericCommand's algorithm 2 first adds every member of the first
                # set to the result: one non-integer member there makes it a hashtable.
                existing = [n for n in sizes if n]
                if sizes[0] * len(existing) // 2 > sum(existing):
                    first = ref.client.call("SMEMBERS", keys[0]).value
                    exact = all(is_intset_member(x) for x in first)
    if exact:
        return r1.raw, r2.raw, None if r1.raw == r2.raw else (
            "replies differ (redis's order is defined here: %s)" %
            {"listpack": "a listpack hash keeps insertion order",
             "intset": "intsets are ascending", "intres": "an all-integer result <= 512 is an "
             "intset, ascending"}[rule])
    return r1.raw, r2.raw, compare_unordered(cmd, r1, r2)


def _scan_elements(cmd, reply):
    v = reply.value
    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], bytes) and
            isinstance(v[1], list)):
        return None
    return v[0], (set(pairs(v[1])) if cmd_name(cmd.args) in ("HSCAN", "ZSCAN") else set(v[1]))


def _iterate_coll_scan(cmd, client, first, who):
    """Continues HSCAN/SSCAN/ZSCAN from its first reply to cursor 0: (elements, problem)."""
    got = set()
    reply = first
    for _ in range(100000):
        e = _scan_elements(cmd, reply)
        if e is None:
            return None, "%s: malformed %s reply %r" % (who, cmd_name(cmd.args), reply.raw[:200])
        cursor, elems = e
        got |= elems
        if not cursor.isdigit() or int(cursor) >= JS_SAFE_CURSOR:
            return None, "%s: cursor %r is not a decimal below 2^53" % (who, cursor)
        if cursor == b"0":
            return got, None
        nxt = list(cmd.args)
        nxt[2] = cursor
        reply = client.call(*nxt)
    return None, "%s: %s did not finish after 100000 rounds" % (who, cmd_name(cmd.args))


def run_cscan(cmd, ref, tgt):
    key = cmd.args[1] if len(cmd.args) > 2 else None
    enc = encoding(ref.client, key) if key is not None else None
    r1 = ref.client.call(*cmd.args)
    r2 = tgt.client.call(*cmd.args)
    if enc in (None, b"listpack", b"intset") or isinstance(r1.value, akv.Err) or \
            isinstance(r2.value, akv.Err) or _scan_elements(cmd, r1) is None:
        return r1.raw, r2.raw, None if r1.raw == r2.raw else (
            "replies differ (reference key encoding %s: one complete reply)" %
            (enc.decode() if enc else "none"))
    if _arg(cmd.args[2]) != b"0":
        # A hashtable scanned from another cursor (e.g. "-1": strtoul accepts it as 2^64-1):
        # where it starts is the table's business; only the shape is compared.
        return r1.raw, r2.raw, None if r1.raw[:1] == r2.raw[:1] and \
            _scan_elements(cmd, r2) is not None else "reply shapes differ"
    e1, p1 = _iterate_coll_scan(cmd, ref.client, r1, ref.name)
    e2, p2 = _iterate_coll_scan(cmd, tgt.client, r2, tgt.name)
    if p1 or p2:
        return r1.raw, r2.raw, p1 or p2
    if e1 != e2:
        return r1.raw, r2.raw, "%s unions differ: only %s: %r; only %s: %r" % (
            cmd_name(cmd.args), ref.name, sorted(e1 - e2, key=repr)[:20], tgt.name,
            sorted(e2 - e1, key=repr)[:20])
    return r1.raw, r2.raw, None


def content(client, key):
    """(type, members frozenset | fields dict | member -> score dict | None) of one key."""
    t = bytes(client.call("TYPE", key).value)
    if t == b"set":
        return t, frozenset(client.call("SMEMBERS", key).value)
    if t == b"hash":
        return t, dict(pairs(client.call("HGETALL", key).value))
    if t == b"zset":
        return t, dict(pairs(client.call("ZRANGE", key, "0", "-1", "WITHSCORES").value))
    return t, None


def _parse_count(args):
    if len(args) < 3:
        return None
    try:
        return int(_arg(args[2]))
    except ValueError:
        return None


def check_pick(cmd, reply, cont, who):
    """A random pick (HRANDFIELD/SRANDMEMBER/SPOP/ZRANDMEMBER with content `cont`): problem or
    None. ZRANDMEMBER WITHSCORES scores are compared with ZRANGE WITHSCORES's (same encoding)."""
    t, c = cont
    v = reply.value
    if c is None or v is None or isinstance(v, (akv.Err, int)):
        return None  # missing key, wrong type, errors: raw bytes are compared
    name = cmd_name(cmd.args)
    count = _parse_count(cmd.args)
    if len(cmd.args) < 3:
        if not isinstance(v, bytes) or v not in c:
            return "%s: %s returned %r, not an element of the key" % (who, name, v)
        return None
    if not isinstance(v, list):
        return "%s: %s with a count did not return an array" % (who, name)
    if name in ("HRANDFIELD", "ZRANDMEMBER") and _withvalues(cmd.args):
        ps = pairs(v)
        if len(ps) * 2 != len(v) and not all(isinstance(x, list) for x in v):
            return "%s: odd WITHVALUES reply" % who
        for f, val in ps:
            if f not in c or c[f] != val:
                return "%s: pair %r=%r is not in the key" % (who, f, val)
        elems = [f for f, _ in ps]
    else:
        elems = v
        for e in elems:
            if e not in c:
                return "%s: %r is not an element of the key" % (who, e)
    if count is None:
        return "%s: count %r did not fail" % (who, cmd.args[2])
    if count >= 0:
        if len(elems) != min(count, len(c)):
            return "%s: %d elements for count %d of a key with %d" % (who, len(elems), count,
                                                                     len(c))
        if len(set(elems)) != len(elems):
            return "%s: repeated elements for a positive count" % who
    elif len(elems) != -count:
        return "%s: %d elements for count %d" % (who, len(elems), count)
    return None


def rebuild_set(sides, key, members, pexpiretime):
    """Makes `key` the set `members` (with the absolute expiry) on every side."""
    for side in sides:
        c = side.client
        c.call("DEL", key)
        ms = sorted(members)
        for i in range(0, len(ms), 1000):
            c.call("SADD", key, *ms[i:i + 1000])
        if ms and pexpiretime > 0:
            c.call("PEXPIREAT", key, pexpiretime)


def run_rand(cmd, ref, tgt):
    if len(cmd.args) < 2:
        r1, r2 = ref.client.call(*cmd.args), tgt.client.call(*cmd.args)
        return r1.raw, r2.raw, None if r1.raw == r2.raw else "replies differ"
    key = cmd.args[1]
    pre1, pre2 = content(ref.client, key), content(tgt.client, key)
    if pre1 != pre2:
        return b"", b"", "the key differs before %s: %s %r; %s %r" % (
            cmd_name(cmd.args), ref.name, pre1, tgt.name, pre2)
    r1 = ref.client.call(*cmd.args)
    r2 = tgt.client.call(*cmd.args)
    v1, v2 = r1.value, r2.value
    simple = lambda v: v is None or isinstance(v, (akv.Err, int))  # noqa: E731
    if simple(v1) or simple(v2) or pre1[1] is None:
        if r1.raw != r2.raw:
            return r1.raw, r2.raw, "replies differ"
    elif r1.raw[:1] != r2.raw[:1]:
        return r1.raw, r2.raw, "reply types differ"
    problem = check_pick(cmd, r1, pre1, ref.name) or check_pick(cmd, r2, pre2, tgt.name)
    if problem:
        return r1.raw, r2.raw, problem
    if cmd_name(cmd.args) != "SPOP" or pre1[0] != b"set" or simple(v1):
        return r1.raw, r2.raw, None
    # SPOP: each side must hold its members minus what it popped; then equal content again.
    posts = []
    for side, v, pre in ((ref, v1, pre1), (tgt, v2, pre2)):
        popped = set(v) if isinstance(v, list) else {v}
        post = content(side.client, key)
        want = pre[1] - popped
        if (post[1] or frozenset()) != want or (not want and post[0] != b"none"):
            return r1.raw, r2.raw, "%s: after SPOP the set holds %r, expected %r" % (
                side.name, post, sorted(want))
        posts.append(post)
    if posts[0] != posts[1] or encoding(ref.client, key) != encoding(tgt.client, key):
        t = ref.client.call("PEXPIRETIME", key).value
        rebuild_set((ref, tgt), key, posts[0][1] or (), t if isinstance(t, int) else -1)
    return r1.raw, r2.raw, None


def _zscore_arg(v):
    """A score from a ZRANGE WITHSCORES reply (RESP2 bulk string, RESP3 double) as a ZADD
    argument that parses back to the same double."""
    return v if isinstance(v, bytes) else repr(v).encode()


def rebuild_zset(sides, key, members, pexpiretime):
    """Makes `key` the sorted set `members` (member -> score) with the absolute expiry."""
    for side in sides:
        c = side.client
        c.call("DEL", key)
        items = sorted(members.items())
        for i in range(0, len(items), 500):
            args = []
            for m, sc in items[i:i + 500]:
                args += [_zscore_arg(sc), m]
            c.call("ZADD", key, *args)
        if items and pexpiretime > 0:
            c.call("PEXPIREAT", key, pexpiretime)


def lex_defined(client, key):
    """True where redis 7.0's answer to a lex range on key does not depend on skiplist levels:
    no zset there, a listpack, or one score for every member."""
    if encoding(client, key) != b"skiplist":
        return True
    lo = pairs(client.call("ZRANGE", key, "0", "0", "WITHSCORES").value)
    hi = pairs(client.call("ZRANGE", key, "-1", "-1", "WITHSCORES").value)
    return bool(lo) and bool(hi) and lo[0][1] == hi[0][1]


def _check_lex(cmd, reply, pre, side, src, dst):
    """One side's reply to an unspecified lex range (pre: the source's content before)."""
    v = reply.value
    c = pre[1] or {}
    name = cmd_name(cmd.args)
    if isinstance(v, list):
        for e in v:
            if e not in c:
                return "%s: %r is not a member of %r" % (side.name, e, src)
        if len(set(v)) != len(v):
            return "%s: repeated members" % side.name
        return None
    if not isinstance(v, int):
        return None
    if dst is None:  # ZLEXCOUNT
        return None if 0 <= v <= len(c) else "%s: count %d of a key with %d" % (side.name, v,
                                                                               len(c))
    post = content(side.client, dst)[1] or {}
    if name == "ZREMRANGEBYLEX":
        if len(c) - len(post) != v or any(c.get(m) != sc for m, sc in post.items()):
            return "%s: removed %d, the key went from %d to %d members" % (side.name, v, len(c),
                                                                           len(post))
        return None
    if len(post) != v or any(c.get(m) != sc for m, sc in post.items()):
        return "%s: stored %d members, reply %d, or members not from %r" % (side.name, len(post),
                                                                            v, src)
    return None


def run_lex(cmd, ref, tgt):
    src, dst = cmd.extra
    if lex_defined(ref.client, src):
        r1, r2 = ref.client.call(*cmd.args), tgt.client.call(*cmd.args)
        return r1.raw, r2.raw, None if r1.raw == r2.raw else (
            "replies differ (redis's lex range is defined here: a listpack, or equal scores)")
    pre1, pre2 = content(ref.client, src), content(tgt.client, src)
    if pre1 != pre2:
        return b"", b"", "the key differs before %s: %s %r; %s %r" % (
            cmd_name(cmd.args), ref.name, pre1, tgt.name, pre2)
    r1, r2 = ref.client.call(*cmd.args), tgt.client.call(*cmd.args)
    if isinstance(r1.value, akv.Err) or isinstance(r2.value, akv.Err) or \
            r1.value is None or r2.value is None:
        problem = None if r1.raw == r2.raw else "replies differ"
    elif r1.raw[:1] != r2.raw[:1]:
        problem = "reply types differ"
    else:
        problem = _check_lex(cmd, r1, pre1, ref, src, dst) or \
            _check_lex(cmd, r2, pre2, tgt, src, dst)
    if problem or dst is None:
        return r1.raw, r2.raw, problem
    posts = [content(side.client, dst) for side in (ref, tgt)]
    if posts[0] != posts[1] or encoding(ref.client, dst) != encoding(tgt.client, dst):
        t = ref.client.call("PEXPIRETIME", dst).value
        rebuild_zset((ref, tgt), dst, posts[0][1] or {}, t if isinstance(t, int) else -1)
    return r1.raw, r2.raw, None


SORT_SCORE_ERROR = b"One or more scores can't be converted into double"


def sort_options(args):
    """SORT's options as redis parses them: (alpha, BY pattern or None, LIMIT given, STORE
    given)."""
    alpha, by, limit, store = False, None, False, False
    a = [_arg(x) for x in args]
    j = 2
    while j < len(a):
        w, left = a[j].upper(), len(a) - j - 1
        if w == b"ALPHA":
            alpha = True
        elif w == b"LIMIT" and left >= 2:
            limit, j = True, j + 2
        elif w in (b"BY", b"GET", b"STORE") and left >= 1:
            if w == b"BY":
                by = a[j + 1]
            store = store or w == b"STORE"
            j += 1
        j += 1
    return alpha, by, limit, store


def run_sort(cmd, ref, tgt):
    """SORT / SORT_RO: exact where redis 7.0's order is defined (see the module doc)."""
    alpha, by, limit, store = sort_options(cmd.args)
    src = cmd.args[1] if len(cmd.args) > 1 else b""
    t = ref.client.call("TYPE", src).value
    enc = encoding(ref.client, src)
    r1 = ref.client.call(*cmd.args)
    r2 = tgt.client.call(*cmd.args)
    if isinstance(r1.value, akv.Err) and SORT_SCORE_ERROR in r1.raw and \
            not isinstance(r2.value, akv.Err):
        # redis 7.0 reads sort weights with strtod without clearing errno first: an ERANGE left
        # by an earlier command (a ZADD of a subnormal score such as 4.9e-324, found with
        # AKV_SEED=3) fails every later numeric SORT. GEORADIUS clears errno
        # (getDoubleFromObject); then the SORT runs again on the reference.
        ref.client.call("GEORADIUS", "akv:no-such-key", "0", "0", "1", "m")
        r1 = ref.client.call(*cmd.args)
    by_star = by is not None and b"*" in by.split(b"\0")[0]
    exact = True
    if by is not None and not by_star and t == b"set" and not store and enc != b"intset":
        exact = False
    if alpha and by_star and (t != b"list" or limit):
        exact = False
    if alpha and not by_star and not store and t in (b"set", b"zset") and \
            isinstance(r1.value, list) and any(isinstance(x, bytes) and b"\0" in x
                                               for x in r1.value):
        exact = False
    if exact:
        return r1.raw, r2.raw, None if r1.raw == r2.raw else "replies differ"
    if limit and isinstance(r1.value, list) and isinstance(r2.value, list):
        # A LIMIT window of an undefined order: which elements it holds is undefined too.
        same = r1.raw[:1] == r2.raw[:1] and len(r1.value) == len(r2.value)
        return r1.raw, r2.raw, None if same else "reply types or lengths differ"
    return r1.raw, r2.raw, compare_unordered(cmd, r1, r2)


_XINFO_RADIX = re.compile(rb"(radix-tree-(?:keys|nodes)\r\n):-?\d+\r\n")
# XINFO CONSUMERS' idle, XPENDING's extended form's idle: times of each server's clock.
_IDLE = re.compile(rb"(idle\r\n):\d+\r\n")
_PENDING_IDLE = re.compile(rb"(\*4\r\n\$\d+\r\n\d+-\d+\r\n\$\d+\r\n[^\r]*\r\n):\d+\r\n")
# XINFO STREAM FULL: a consumer's seen-time, its pending entries' delivery times.
_SEEN = re.compile(rb"(seen-time\r\n):\d+\r\n")
_CONSUMER_PENDING = re.compile(rb"(\*3\r\n\$\d+\r\n\d+-\d+\r\n):\d+\r\n")
_XID = re.compile(rb"^\$\d+\r\n\d+-\d+\r\n$")


def compare(cmd, r1, r2):
    """Compares two Replies to cmd (kinds other than scan/randomkey). Returns a problem or None."""
    if cmd.kind == "xinfo":
        a, b = r1.raw, r2.raw
        for pat in (_XINFO_RADIX, _SEEN, _PENDING_IDLE, _CONSUMER_PENDING):
            a, b = pat.sub(rb"\1:_\r\n", a), pat.sub(rb"\1:_\r\n", b)
        return None if a == b else "replies differ (radix-tree-keys/-nodes not compared)"
    if cmd.kind == "xidle":
        a = _IDLE.sub(rb"\1:_\r\n", _PENDING_IDLE.sub(rb"\1:_\r\n", r1.raw))
        b = _IDLE.sub(rb"\1:_\r\n", _PENDING_IDLE.sub(rb"\1:_\r\n", r2.raw))
        return None if a == b else "replies differ (idle times not compared)"
    if cmd.kind == "xid":
        if isinstance(r1.value, akv.Err) or isinstance(r2.value, akv.Err):
            return None if r1.raw == r2.raw else "replies differ"
        ok = _XID.match(r1.raw) and _XID.match(r2.raw)
        return None if ok else "not both stream ids"
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
    if cmd.kind == "objenc":
        if r1.raw == r2.raw:
            return None
        strenc = (b"int", b"embstr", b"raw")
        if v1 in strenc and v2 in strenc:
            return None  # string encodings are not compared (only listpack/intset/hashtable)
        return "replies differ"
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
            if c.kind in SPECIAL_KINDS:
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

    def compare_state(self, dbs=("0", "1", "2", "3", "15")):
        """Compares the whole keyspace of each database in dbs (the generator's SELECT, MOVE,
        SWAPDB and COPY ... DB reach 0-3 and 15; the connections end on the last one): key set,
        and per key its type, PTTL and value (hashes, sets and sorted sets: content, size and
        encoding)."""
        for db in dbs:
            self.run([Cmd(["SELECT", db])])
            self.compare_db()

    def compare_db(self):
        """compare_state for the selected database."""
        ks = Cmd(["KEYS", "*"], "keys")
        self.run([ks, Cmd(["DBSIZE"])])
        keys = self.ref.client.call("KEYS", "*").value
        cmds = []
        for k in sorted(keys):
            cmds += [Cmd(["TYPE", k]), TMS("PTTL", k)]
            t = self.ref.client.call("TYPE", k).value
            if t == b"string":
                cmds.append(Cmd(["GET", k]))
            elif t == b"hash":
                cmds += [HREAD("HGETALL", k), Cmd(["HLEN", k]), OBJENC(k)]
            elif t == b"set":
                cmds += [SREAD("SMEMBERS", k), Cmd(["SCARD", k]), OBJENC(k)]
            elif t == b"zset":
                cmds += [Cmd(["ZRANGE", k, "0", "-1", "WITHSCORES"]), Cmd(["ZCARD", k]),
                         OBJENC(k)]
            elif t == b"list":
                cmds += [Cmd(["LRANGE", k, "0", "-1"]), Cmd(["LLEN", k]), OBJENC(k)]
            elif t == b"stream":
                cmds += [Cmd(["XRANGE", k, "-", "+"]), Cmd(["XLEN", k]), OBJENC(k),
                         Cmd(["XINFO", "STREAM", k], "xinfo"), Cmd(["XINFO", "GROUPS", k])]
                for g in ("g1", "g2"):
                    cmds += [Cmd(["XPENDING", k, g]),
                             Cmd(["XPENDING", k, g, "-", "+", "1000"], "xidle"),
                             Cmd(["XINFO", "CONSUMERS", k, g], "xidle")]
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


FAMILIES = ("string", "hash", "set", "zset", "list", "stream")
# What runs when AKV_DIFF_FAMILIES is unset. zset stays opt-in (AKV_DIFF_FAMILIES=...,zset) until
# activekv-server has sorted sets; then it joins the default (random generator and edge cases).
DEFAULT_FAMILIES = ("string", "hash", "set", "zset", "list", "stream")


def families_from_env():
    """AKV_DIFF_FAMILIES (comma-separated subset of FAMILIES), or DEFAULT_FAMILIES when unset."""
    env = os.environ.get("AKV_DIFF_FAMILIES", "")
    families = tuple(f.strip() for f in env.split(",") if f.strip()) or DEFAULT_FAMILIES
    bad = [f for f in families if f not in FAMILIES]
    if bad:
        raise ValueError("unknown families %s (known: %s)" % (bad, ", ".join(FAMILIES)))
    return families


class Generator:
    """Seeded random commands over KEYS, valid and invalid, covering the supported command set.

    families: which command families to generate (default: families_from_env(), i.e.
    AKV_DIFF_FAMILIES, a comma-separated subset of string,hash,set,zset; DEFAULT_FAMILIES when
    unset). Key, server and expiry commands are always generated."""

    def __init__(self, seed, t0_ms=None, families=None):
        if families is None:
            families = families_from_env()
        bad = [f for f in families if f not in FAMILIES]
        if bad:
            raise ValueError("unknown families %s (known: %s)" % (bad, ", ".join(FAMILIES)))
        self.families = tuple(families)
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
            (1, self.g_unknown), (3, self.g_select), (3, self.g_move), (1, self.g_swapdb),
            (2, self.g_copydb),
            # bitmaps, LCS, TOUCH (string family)
            (5, self.g_setbit), (3, self.g_getbit), (4, self.g_bitcount), (4, self.g_bitpos),
            (4, self.g_bitop), (5, self.g_bitfield), (2, self.g_bitfield_ro), (3, self.g_lcs),
            (2, self.g_touch),
            # transactions (any family): MULTI blocks, WATCH, and the commands out of place
            (4, self.g_tx), (1, self.g_txcmd),
        ]
        if "string" not in self.families:
            keep = {self.g_ping, self.g_echo, self.g_select, self.g_move, self.g_swapdb,
                    self.g_copydb, self.g_dbsize, self.g_time,
                    self.g_flush, self.g_client, self.g_del, self.g_exists, self.g_type,
                    self.g_expire, self.g_ttl, self.g_persist, self.g_keys, self.g_scan,
                    self.g_randomkey, self.g_rename, self.g_unknown, self.g_touch}
            table = [(w, f) for w, f in table if f in keep]
        if "hash" in self.families:
            table += [
                (9, self.g_hset), (2, self.g_hsetnx), (6, self.g_hget), (3, self.g_hmget),
                (2, self.g_hmset), (5, self.g_hdel), (2, self.g_hexists), (2, self.g_hlen),
                (2, self.g_hstrlen), (6, self.g_hread), (5, self.g_hincrby),
                (3, self.g_hincrbyfloat), (4, self.g_hrandfield), (3, self.g_hscan),
                (2, self.g_hbulk),
            ]
        if "set" in self.families:
            table += [
                (9, self.g_sadd), (5, self.g_srem), (3, self.g_sismember), (2, self.g_smismember),
                (4, self.g_smembers), (2, self.g_scard), (4, self.g_spop),
                (4, self.g_srandmember), (3, self.g_smove), (5, self.g_setalg),
                (2, self.g_sintercard), (3, self.g_setstore), (3, self.g_sscan), (2, self.g_sbulk),
            ]
        if "zset" in self.families:
            table += [
                (12, self.g_zadd), (4, self.g_zrem), (4, self.g_zscore), (2, self.g_zmscore),
                (4, self.g_zincrby), (2, self.g_zcard), (3, self.g_zcount), (10, self.g_zrange),
                (3, self.g_zrangestore), (6, self.g_zrange_old), (3, self.g_zrank),
                (4, self.g_zpop), (3, self.g_zmpop), (4, self.g_zrandmember),
                (4, self.g_zremrange), (5, self.g_zsetop), (3, self.g_zstore),
                (2, self.g_zintercard), (3, self.g_zscan), (3, self.g_zbulk), (2, self.g_zcopy),
            ]
        if "list" in self.families:
            table += [
                (10, self.g_push), (6, self.g_lpop), (8, self.g_lrange), (4, self.g_lindex),
                (2, self.g_llen), (4, self.g_lset), (4, self.g_linsert), (4, self.g_lrem),
                (4, self.g_ltrim), (5, self.g_lpos), (4, self.g_lmove), (3, self.g_lmpop),
                (2, self.g_lbulk), (5, self.g_bpop), (8, self.g_sort), (4, self.g_sortdata),
            ]
        if "stream" in self.families:
            table += [
                (12, self.g_xadd), (6, self.g_xrange), (3, self.g_xlen), (4, self.g_xdel),
                (4, self.g_xtrim), (6, self.g_xread), (2, self.g_xsetid), (3, self.g_xinfo),
                (1, self.g_xbulk), (4, self.g_xgroup), (5, self.g_xreadgroup), (3, self.g_xack),
                (3, self.g_xpending), (3, self.g_xclaim), (3, self.g_xautoclaim),
            ]
        if any(f in self.families for f in ("hash", "set", "zset", "list", "stream")):
            table += [(4, self.g_object), (5, self.g_collkey)]
        self.funcs = [f for _, f in table]
        self.weights = [w for w, _ in table]

    # -- helpers -----------------------------------------------------------------------------
    def key(self):
        if len(self.families) > 1 and self.p(0.06):
            return self.rng.choice(self.coll_keys())  # string commands on hashes and sets
        return self.rng.choice(KEYS)

    def coll_keys(self):
        return (HASH_KEYS if "hash" in self.families else []) + \
            (SET_KEYS if "set" in self.families else []) + \
            (ZSET_KEYS if "zset" in self.families else []) + \
            (LIST_KEYS if "list" in self.families else []) + \
            (STREAM_KEYS if "stream" in self.families else [])

    def lkey(self):
        """A list key; sometimes another type's key (WRONGTYPE) or a string key."""
        r = self.rng.random()
        if r < 0.8:
            return self.rng.choice(LIST_KEYS)
        if r < 0.9:
            return self.rng.choice(self.coll_keys())
        return self.rng.choice(KEYS)

    def lvalue(self):
        return self.rng.choice(LVALUES) if self.p(0.7) else self.value()

    def lindex(self):
        if self.p(0.1):
            return self.rng.choice(LIST_INDEXES)
        return str(self.rng.randint(-8, 8))

    def hkey(self):
        r = self.rng.random()
        if r < 0.75:
            return self.rng.choice(HASH_KEYS)
        if r < 0.85 and "set" in self.families:
            return self.rng.choice(SET_KEYS)
        if r < 0.9 and "zset" in self.families:
            return self.rng.choice(ZSET_KEYS)  # hash commands on sorted sets: WRONGTYPE
        return self.rng.choice(KEYS)

    def skey(self):
        r = self.rng.random()
        if r < 0.75:
            return self.rng.choice(SET_KEYS)
        if r < 0.85 and "hash" in self.families:
            return self.rng.choice(HASH_KEYS)
        if r < 0.9 and "zset" in self.families:
            return self.rng.choice(ZSET_KEYS)  # set commands on sorted sets: WRONGTYPE
        return self.rng.choice(KEYS)

    def zkey(self, sets_ok=False):
        """A sorted set key; sometimes a set (valid input of ZUNION/ZINTER/ZDIFF/ZINTERCARD when
        sets_ok, WRONGTYPE elsewhere), a hash or a string key."""
        r = self.rng.random()
        if r < 0.75 - (0.1 if sets_ok else 0):
            return self.rng.choice(ZSET_KEYS)
        if r < 0.82 and "set" in self.families:
            return self.rng.choice(SET_KEYS)
        if r < 0.88 and "hash" in self.families:
            return self.rng.choice(HASH_KEYS)
        return self.rng.choice(KEYS)

    def zmember(self):
        if self.p(0.15):
            return "bz%d" % self.rng.randrange(200)  # the members g_zbulk writes
        return self.rng.choice(ZMEMBERS)

    def zmembers(self, lo=1, hi=4):
        return [self.zmember() for _ in range(self.rng.randint(lo, hi))]

    def zscore(self, bad=0.08):
        r = self.rng.random()
        if r < bad:
            return self.rng.choice(BAD_SCORES)
        if r < 0.6:
            return str(self.rng.randint(-3, 6))  # shared scores: ties ordered by member
        return self.rng.choice(ZSCORES)

    def score_range(self):
        r = self.rng.random()
        if r < 0.05:
            return self.rng.choice(BAD_SCORE_RANGES)
        if r < 0.4:
            return ("(" if self.p(0.3) else "") + str(self.rng.randint(-3, 6))
        return self.rng.choice(SCORE_RANGES)

    def lex_range(self):
        r = self.rng.random()
        if r < 0.05:
            return self.rng.choice(BAD_LEX_RANGES)
        if r < 0.2:
            return self.rng.choice("[(") + "bz%d" % self.rng.randrange(200)
        return self.rng.choice(LEX_RANGES)

    def zrank_idx(self):
        if self.p(0.06):
            return self.rng.choice(RANKS_EXTRA)
        return str(self.rng.randint(-12, 12))

    def zlimit(self):
        """LIMIT offset count, mostly valid (a negative count means all, a negative offset
        nothing)."""
        def n(lo, hi):
            if self.p(0.08):
                return self.rng.choice(RANKS_EXTRA)
            return str(self.rng.randint(lo, hi))
        return ["LIMIT" if self.p(0.9) else "limit", n(-2, 8), n(-2, 10)]

    def field(self):
        if self.p(0.1):
            return "bf%d" % self.rng.randrange(640)  # the fields g_hbulk writes
        return self.rng.choice(FIELDS)

    def hvalue(self):
        return self.rng.choice(HVALUES_EXTRA) if self.p(0.2) else self.value()

    def member(self, ints_only=False):
        r = self.rng.random()
        if r < 0.6 or (ints_only and r < 0.8):
            return self.rng.choice(INT_MEMBERS)
        if r < 0.8 or ints_only:
            return str(self.rng.randrange(600))  # the members g_sbulk writes
        if r < 0.87:
            return self.rng.choice(NONCANON_MEMBERS)
        return self.rng.choice(STR_MEMBERS)

    def members(self, lo=1, hi=4):
        """Half of the time integers only, so that sets stay intsets for a while."""
        ints_only = self.p(0.5)
        return [self.member(ints_only) for _ in range(self.rng.randint(lo, hi))]

    def rand_count(self, withvalues=False):
        c = self.rng.choice(RAND_COUNTS)
        if withvalues and self.p(0.05):
            # out of range only with WITHVALUES; without it redis 7.0 would try to build a reply of
            # 2^62 elements, so those never appear without WITHVALUES
            c = self.rng.choice(["-9223372036854775807", "-4611686018427387904"])
        return c

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
            last = args[-1].upper() if isinstance(args[-1], str) else ""
            # never "EX 1" / "PX 1" (a key that expires during the run: on one side only)
            junk = ["x", "NX", ""] if last in ("EX", "PX") else ["x", "NX", "1", ""]
            return args + [self.rng.choice(junk)]
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

    # -- databases (both sides get the same SELECTs, so they stay in the same database) -------
    def db_index(self):
        return self.rng.choice(["0", "0", "1", "1", "2", "3", "00", "15", "16", "-1", "abc", "",
                                "4294967296", "1.0"])

    def g_select(self):
        return Cmd(self.mutate_arity([self.name("SELECT"), self.db_index()]))

    def g_move(self):
        return Cmd(self.mutate_arity([self.name("MOVE"), self.key(), self.db_index()]))

    def g_swapdb(self):
        return Cmd(self.mutate_arity([self.name("SWAPDB"), self.db_index(), self.db_index()]))

    def g_copydb(self):
        a = [self.name("COPY"), self.key(), self.key(), "DB", self.db_index()]
        if self.p(0.4):
            a.append("REPLACE")
        return Cmd(self.mutate_arity(a))

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

    # -- bitmaps, LCS, TOUCH -----------------------------------------------------------------------
    def bit_offset(self, write=True):
        """A bit offset: mostly small (0, 7, 8 and byte edges), sometimes large, sometimes invalid.
        Writes stay below ~2.5 KB (LCS of two such strings needs a 25 MB table; a valid offset
        near 2^32 would make both servers allocate 512 MB); reads may go anywhere."""
        r = self.rng.random()
        if r < 0.5:
            return str(self.rng.choice([0, 1, 6, 7, 8, 9, 15, 16, 23, 24, 31, 32, 63, 64]))
        if r < 0.8:
            return str(self.rng.randint(0, 300))
        if r < 0.86:
            return self.rng.choice(["4096", "20000"])
        if r < 0.9 and not write:
            return self.rng.choice(["4294967295", "4294967288", "536870911", "800000"])
        return self.rng.choice(["4294967296", "-1", "abc", "", "1.5", "9223372036854775807",
                                "-9223372036854775808", "#1", " 1", "01", "+1"])

    def g_setbit(self):
        bit = self.rng.choice(["0", "1", "1", "0", "1"]) if self.p(0.9) else \
            self.rng.choice(["2", "-1", "abc", "", "1.5", "01", "9223372036854775807"])
        return Cmd(self.mutate_arity([self.name("SETBIT"), self.key(), self.bit_offset(), bit]))

    def g_getbit(self):
        return Cmd(self.mutate_arity([self.name("GETBIT"), self.key(),
                                      self.bit_offset(write=False)]))

    def bit_index(self):
        """A BITCOUNT / BITPOS start or end: small, negative, out of range, or not an integer."""
        r = self.rng.random()
        if r < 0.8:
            return str(self.rng.randint(-20, 20))
        if r < 0.9:
            return str(self.rng.choice([-1000, 1000, 200, -200, 9223372036854775807,
                                        -9223372036854775808, -9223372036854775807]))
        return self.rng.choice(["abc", "", "1.5", "9223372036854775808", " 1"])

    def bit_unit(self):
        return self.rng.choice(["BYTE", "BIT", "bit", "byte", "BIT", "BITS", ""])

    def g_bitcount(self):
        a = [self.name("BITCOUNT"), self.key()]
        r = self.rng.random()
        if r < 0.25:
            pass
        elif r < 0.55:
            a += [self.bit_index(), self.bit_index()]
        elif r < 0.95:
            a += [self.bit_index(), self.bit_index(), self.bit_unit()]
        else:
            a += [self.bit_index()] if self.p(0.5) else \
                [self.bit_index(), self.bit_index(), "BIT", "x"]
        return Cmd(self.mutate_arity(a))

    def g_bitpos(self):
        bit = self.rng.choice(["0", "1"]) if self.p(0.92) else \
            self.rng.choice(["2", "-1", "abc", ""])
        a = [self.name("BITPOS"), self.key(), bit]
        n = self.rng.choice([0, 0, 1, 2, 2, 3, 3, 3, 4])
        if n >= 1:
            a.append(self.bit_index())
        if n >= 2:
            a.append(self.bit_index())
        if n >= 3:
            a.append(self.bit_unit())
        if n >= 4:
            a.append("x")
        return Cmd(self.mutate_arity(a))

    def g_bitop(self):
        op = self.rng.choice(["AND", "OR", "XOR", "NOT", "and", "Or", "xor", "not", "NOT",
                              "FOO", "ANDX", ""])
        dst = self.key()
        if op.upper() == "NOT" and self.p(0.85):
            srcs = [self.key()]
        else:
            srcs = self.keys(1, 5)
        if self.p(0.1):
            srcs.append(dst)  # the destination is also a source
        return Cmd(self.mutate_arity([self.name("BITOP"), op, dst] + srcs))

    def field_type(self):
        r = self.rng.random()
        if r < 0.75:
            sign = self.rng.choice("iu")
            bits = self.rng.choice([1, 2, 3, 4, 5, 7, 8, 8, 8, 9, 12, 16, 16, 24, 31, 32, 33, 48,
                                    62, 63])
            return "%s%d" % (sign, bits)
        if r < 0.9:
            return self.rng.choice(["i64", "u63", "i63", "i64", "u1", "i1"])
        return self.rng.choice(["u64", "i65", "u0", "i0", "x8", "", "i", "I8", "U8", "i08",
                                "i-1", "u 8", "8", "i100"])

    def field_offset(self):
        r = self.rng.random()
        if r < 0.55:
            return str(self.rng.choice([0, 1, 3, 7, 8, 13, 16, 31, 32, 63, 64, 100]))
        if r < 0.8:
            return "#%d" % self.rng.randint(0, 6)
        if r < 0.85:
            return str(self.rng.randint(0, 200))
        # "#2305843009213693952" * 8 and "#288230376151711744" * 64 wrap around to offset 0
        return self.rng.choice(["-1", "abc", "", "#", "#-1", "#abc", "4294967296", "##1",
                                "#2305843009213693952", "#288230376151711744",
                                "#9223372036854775807", "1.5", "9223372036854775807"])

    def field_value(self):
        r = self.rng.random()
        if r < 0.6:
            return str(self.rng.randint(-300, 300))
        if r < 0.9:
            return self.rng.choice(["127", "128", "-128", "-129", "255", "256", "65535", "-1",
                                    "9223372036854775807", "-9223372036854775808",
                                    "4611686018427387903", "4611686018427387904",
                                    "-4611686018427387905", "2147483648", "0"])
        return self.rng.choice(["abc", "", "1.5", "9223372036854775808", " 1"])

    def bitfield_subcommands(self, writes=True):
        a = []
        for _ in range(self.rng.choice([0, 1, 1, 2, 2, 3, 4, 5])):
            r = self.rng.random()
            if r < 0.35 or not writes and r < 0.9:
                a += [self.rng.choice(["GET", "get"]), self.field_type(), self.field_offset()]
            elif r < 0.55:
                a += [self.rng.choice(["SET", "set"]), self.field_type(), self.field_offset(),
                      self.field_value()]
            elif r < 0.8:
                a += [self.rng.choice(["INCRBY", "incrby"]), self.field_type(),
                      self.field_offset(), self.field_value()]
            elif r < 0.96:
                a += ["OVERFLOW", self.rng.choice(["WRAP", "SAT", "FAIL", "wrap", "sat", "fail",
                                                   "FOO"])]
            else:
                a += self.rng.choice([["OVERFLOW"], ["GET", "u8"], ["SET", "u8", "0"],
                                      ["INCRBY", "i8", "0"], ["FOO", "u8", "0"], ["GETX"]])
        return a

    def g_bitfield(self):
        return Cmd(self.mutate_arity([self.name("BITFIELD"), self.key()] +
                                     self.bitfield_subcommands()))

    def g_bitfield_ro(self):
        return Cmd(self.mutate_arity([self.name("BITFIELD_RO"), self.key()] +
                                     self.bitfield_subcommands(writes=self.p(0.15))))

    def g_lcs(self):
        a = [self.name("LCS"), self.key(), self.key()]
        for _ in range(self.rng.choice([0, 0, 1, 1, 2, 3])):
            o = self.rng.choice(["IDX", "LEN", "WITHMATCHLEN", "MINMATCHLEN", "idx", "len",
                                 "minmatchlen", "IDX", "FOO"])
            a.append(o)
            if o.upper() == "MINMATCHLEN" and not self.p(0.05):
                a.append(self.rng.choice(["0", "1", "2", "3", "4", "-1", "100", "abc", ""]))
        return Cmd(self.mutate_arity(a))

    def g_touch(self):
        return Cmd(self.mutate_arity([self.name("TOUCH")] + self.keys(1, 8)))

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

    # -- hashes -----------------------------------------------------------------------------------
    def g_hset(self):
        a = [self.name("HSET"), self.hkey()]
        for _ in range(self.rng.choice([1, 1, 1, 2, 3, 5])):
            a += [self.field(), self.hvalue()]
        if self.p(0.03):
            a.pop()  # odd number of arguments
        return Cmd(self.mutate_arity(a))

    def g_hsetnx(self):
        return Cmd(self.mutate_arity([self.name("HSETNX"), self.hkey(), self.field(),
                                      self.hvalue()]))

    def g_hget(self):
        return Cmd(self.mutate_arity([self.name("HGET"), self.hkey(), self.field()]))

    def g_hmget(self):
        return Cmd(self.mutate_arity([self.name("HMGET"), self.hkey()] +
                                     [self.field() for _ in range(self.rng.randint(1, 5))]))

    def g_hmset(self):
        a = [self.name("HMSET"), self.hkey()]
        for _ in range(self.rng.randint(1, 4)):
            a += [self.field(), self.hvalue()]
        if self.p(0.05):
            a.pop()
        return Cmd(self.mutate_arity(a))

    def g_hdel(self):
        return Cmd(self.mutate_arity([self.name("HDEL"), self.hkey()] +
                                     [self.field() for _ in range(self.rng.randint(1, 4))]))

    def g_hexists(self):
        return Cmd(self.mutate_arity([self.name("HEXISTS"), self.hkey(), self.field()]))

    def g_hlen(self):
        return Cmd(self.mutate_arity([self.name("HLEN"), self.hkey()]))

    def g_hstrlen(self):
        return Cmd(self.mutate_arity([self.name("HSTRLEN"), self.hkey(), self.field()]))

    def g_hread(self):
        a = self.mutate_arity([self.name(self.rng.choice(["HGETALL", "HKEYS", "HVALS"])),
                               self.hkey()])
        return HREAD(*a) if len(a) == 2 else Cmd(a)

    def g_hincrby(self):
        if self.p(0.7):
            amount = str(self.rng.randint(-1000, 1000))
        else:
            amount = self.rng.choice(INTS + NOT_INTS)
        return Cmd(self.mutate_arity([self.name("HINCRBY"), self.hkey(), self.field(), amount]))

    def g_hincrbyfloat(self):
        if self.p(0.6):
            amount = self.rng.choice(["1.5", "-0.5", "0.1", "2", "-3", "1e2", "0.3", "100.25"])
        else:
            amount = self.rng.choice(FLOATS + NOT_FLOATS + INTS)
        return Cmd(self.mutate_arity([self.name("HINCRBYFLOAT"), self.hkey(), self.field(),
                                      amount]))

    def g_hrandfield(self):
        a = [self.name("HRANDFIELD"), self.hkey()]
        if self.p(0.75):
            wv = self.p(0.5)
            a.append(self.rand_count(wv))
            if wv:
                a.append(self.rng.choice(["WITHVALUES", "withvalues"]))
        if self.p(0.03):
            a.append(self.rng.choice(["x", "WITHVALUES"]))
        return RAND(*a)

    def scan_opts(self, patterns):
        opts = []
        for _ in range(self.rng.choice([0, 1, 1, 2])):
            o = self.rng.choice(["MATCH", "COUNT", "match", "count"])
            if o.upper() == "MATCH":
                opts += [o, self.rng.choice(patterns)]
            else:
                opts += [o, self.rng.choice(["1", "2", "5", "10", "1000", "0", "-1", "abc"])]
        if self.p(0.04):
            opts.append(self.rng.choice(["COUNT", "BAD", "NOVALUES", "TYPE"]))
        return opts

    def g_hscan(self):
        cur = "0" if self.p(0.95) else self.rng.choice(["abc", "", "-1", "18446744073709551616"])
        return CSCAN(*([self.name("HSCAN"), self.hkey(), cur] + self.scan_opts(FIELD_PATTERNS)))

    def g_hbulk(self):
        """Many fields at once: a hash crosses 512 fields (listpack -> hashtable)."""
        start = self.rng.randrange(100)
        n = self.rng.choice([self.rng.randint(10, 140), self.rng.randint(300, 530)])
        a = [self.name(self.rng.choice(["HSET", "HMSET"])), self.rng.choice(HASH_KEYS)]
        for i in range(start, start + n):
            a += ["bf%d" % i, "v%d" % self.rng.randrange(1000)]
        return Cmd(a)

    # -- sets -------------------------------------------------------------------------------------
    def g_sadd(self):
        return Cmd(self.mutate_arity([self.name("SADD"), self.skey()] + self.members(1, 5)))

    def g_srem(self):
        return Cmd(self.mutate_arity([self.name("SREM"), self.skey()] + self.members(1, 4)))

    def g_sismember(self):
        return Cmd(self.mutate_arity([self.name("SISMEMBER"), self.skey(), self.member()]))

    def g_smismember(self):
        return Cmd(self.mutate_arity([self.name("SMISMEMBER"), self.skey()] +
                                     self.members(1, 5)))

    def g_smembers(self):
        a = self.mutate_arity([self.name("SMEMBERS"), self.skey()])
        return SREAD(*a) if len(a) == 2 else Cmd(a)

    def g_scard(self):
        return Cmd(self.mutate_arity([self.name("SCARD"), self.skey()]))

    def g_spop(self):
        a = [self.name("SPOP"), self.skey()]
        if self.p(0.6):
            a.append(self.rng.choice(["0", "1", "2", "3", "5", "10", "1000", "9223372036854775807",
                                      "-1", "abc", "", "-9223372036854775808"]))
        if self.p(0.03):
            a.append("x")
        return RAND(*a)

    def g_srandmember(self):
        a = [self.name("SRANDMEMBER"), self.skey()]
        if self.p(0.75):
            a.append(self.rand_count())
        if self.p(0.03):
            a.append("x")
        return RAND(*a)

    def g_smove(self):
        return Cmd(self.mutate_arity([self.name("SMOVE"), self.skey(), self.skey(),
                                      self.member()]))

    def g_setalg(self):
        n = self.rng.choice(["SINTER", "SUNION", "SDIFF"])
        a = self.mutate_arity([self.name(n)] + [self.skey() for _ in range(self.rng.randint(1, 3))])
        if len(a) < 2:
            return Cmd(a)
        return SREAD(*a) if n == "SINTER" else SALG(*a)

    def g_sintercard(self):
        ks = [self.skey() for _ in range(self.rng.randint(1, 3))]
        r = self.rng.random()
        if r < 0.85:
            nk = str(len(ks))
        else:
            nk = self.rng.choice(["0", "-1", "abc", str(len(ks) + 1), "", "9223372036854775807"])
        a = [self.name("SINTERCARD"), nk] + ks
        if self.p(0.4):
            a += [self.rng.choice(["LIMIT", "limit"]),
                  self.rng.choice(["0", "1", "2", "5", "-1", "abc", "9223372036854775807"])]
        if self.p(0.03):
            a.append(self.rng.choice(["LIMIT", "FOO"]))
        return Cmd(self.mutate_arity(a))

    def g_setstore(self):
        n = self.rng.choice(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"])
        dst = self.skey() if self.p(0.85) else self.key()
        return Cmd(self.mutate_arity([self.name(n), dst] +
                                     [self.skey() for _ in range(self.rng.randint(1, 3))]))

    def g_sscan(self):
        cur = "0" if self.p(0.95) else self.rng.choice(["abc", "", "-1", "18446744073709551616"])
        pats = ["*", "1*", "-*", "?", "[0-4]", "*0", "a*", "z*", "nomatch", "", "[", "*\\"]
        return CSCAN(*([self.name("SSCAN"), self.skey(), cur] + self.scan_opts(pats)))

    def g_sbulk(self):
        """Many integer members at once: a set crosses 512 members (intset -> hashtable)."""
        base = self.rng.choice([0, 0, 100, -300, 2**40])
        n = self.rng.choice([self.rng.randint(10, 100), self.rng.randint(300, 530)])
        return Cmd([self.name("SADD"), self.rng.choice(SET_KEYS)] +
                   [str(base + i) for i in range(n)])

    # -- sorted sets -------------------------------------------------------------------------------
    def g_zadd(self):
        a = [self.name("ZADD"), self.zkey()]
        opts = []
        if self.p(0.5):
            for _ in range(self.rng.choice([1, 1, 1, 2, 2, 3])):
                opts.append(self.rng.choice(["NX", "XX", "GT", "LT", "CH", "INCR", "nx", "ch",
                                             "incr", "gt", "Lt"]))
        incr = any(o.upper() == "INCR" for o in opts)
        n = 1 if incr and self.p(0.85) else self.rng.choice([1, 1, 1, 2, 3, 5])
        pairs_ = []
        for _ in range(n):
            pairs_ += [self.zscore(), self.zmember()]
        a += opts + pairs_
        if self.p(0.03):
            a.pop()  # odd number of score-member arguments
        if self.p(0.02):
            a.append(self.rng.choice(["NX", "CH", "INCR"]))  # an option after the pairs
        return Cmd(self.mutate_arity(a))

    def g_zrem(self):
        return Cmd(self.mutate_arity([self.name("ZREM"), self.zkey()] + self.zmembers(1, 4)))

    def g_zscore(self):
        return Cmd(self.mutate_arity([self.name("ZSCORE"), self.zkey(), self.zmember()]))

    def g_zmscore(self):
        return Cmd(self.mutate_arity([self.name("ZMSCORE"), self.zkey()] + self.zmembers(1, 5)))

    def g_zincrby(self):
        return Cmd(self.mutate_arity([self.name("ZINCRBY"), self.zkey(), self.zscore(0.1),
                                      self.zmember()]))

    def g_zcard(self):
        return Cmd(self.mutate_arity([self.name("ZCARD"), self.zkey()]))

    def g_zcount(self):
        if self.p(0.5):
            return Cmd(self.mutate_arity([self.name("ZCOUNT"), self.zkey(), self.score_range(),
                                          self.score_range()]))
        return ZCMD(*self.mutate_arity([self.name("ZLEXCOUNT"), self.zkey(), self.lex_range(),
                                        self.lex_range()]))

    def _zrange_args(self, withscores_ok):
        """min max [BYSCORE|BYLEX] [REV] [LIMIT o c] [WITHSCORES] in random order, sometimes an
        invalid combination (LIMIT by rank, WITHSCORES with BYLEX, both BY*, junk)."""
        mode = self.rng.choice(["rank", "rank", "score", "lex"])
        if mode == "rank":
            lo, hi = self.zrank_idx(), self.zrank_idx()
        elif mode == "score":
            lo, hi = self.score_range(), self.score_range()
        else:
            lo, hi = self.lex_range(), self.lex_range()
        groups = []
        if mode == "score":
            groups.append([self.rng.choice(["BYSCORE", "BYSCORE", "byscore"])])
        elif mode == "lex":
            groups.append([self.rng.choice(["BYLEX", "BYLEX", "bylex"])])
        if self.p(0.3):
            groups.append([self.rng.choice(["REV", "REV", "rev"])])
        if self.p(0.08 if mode == "rank" else 0.4):
            groups.append(self.zlimit())
        if self.p((0.4 if mode != "lex" else 0.05) if withscores_ok else 0.03):
            groups.append([self.rng.choice(["WITHSCORES", "withscores"])])
        if self.p(0.04):
            groups.append([self.rng.choice(["BYSCORE", "BYLEX", "LIMIT", "FOO", "REV"])])
        self.rng.shuffle(groups)
        return [lo, hi] + [x for g in groups for x in g]

    def g_zrange(self):
        return ZCMD(*self.mutate_arity([self.name("ZRANGE"), self.zkey()] +
                                       self._zrange_args(True)))

    def g_zrangestore(self):
        dst = self.rng.choice(ZSET_KEYS) if self.p(0.85) else self.rng.choice(KEYS[:3])
        return ZCMD(*self.mutate_arity([self.name("ZRANGESTORE"), dst, self.zkey()] +
                                       self._zrange_args(False)))

    def g_zrange_old(self):
        n = self.rng.choice(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGEBYLEX",
                             "ZREVRANGE"])
        if n == "ZREVRANGE":
            a = [self.zrank_idx(), self.zrank_idx()]
        elif "SCORE" in n:
            a = [self.score_range(), self.score_range()]
        else:
            a = [self.lex_range(), self.lex_range()]
        groups = []
        if n != "ZREVRANGE" and self.p(0.4):
            groups.append(self.zlimit())
        if self.p(0.4 if "LEX" not in n else 0.04):
            groups.append([self.rng.choice(["WITHSCORES", "withscores"])])
        if self.p(0.03):
            groups.append([self.rng.choice(["LIMIT", "FOO", "REV", "BYSCORE"])])
        self.rng.shuffle(groups)
        return ZCMD(*self.mutate_arity([self.name(n), self.zkey()] + a +
                                       [x for g in groups for x in g]))

    def g_zrank(self):
        return Cmd(self.mutate_arity([self.name(self.rng.choice(["ZRANK", "ZREVRANK"])),
                                      self.zkey(), self.zmember()]))

    def g_zpop(self):
        a = [self.name(self.rng.choice(["ZPOPMIN", "ZPOPMAX"])), self.zkey()]
        if self.p(0.6):
            a.append(self.rng.choice(POP_COUNTS))
        return Cmd(self.mutate_arity(a))

    def g_zmpop(self):
        ks = [self.zkey() for _ in range(self.rng.randint(1, 3))]
        nk = str(len(ks)) if self.p(0.85) else self.rng.choice(
            ["0", "-1", "abc", str(len(ks) + 1), "", "9223372036854775807"])
        a = [self.name("ZMPOP"), nk] + ks
        if self.p(0.95):
            a.append(self.rng.choice(["MIN", "MAX", "min", "max"]) if self.p(0.95) else "MID")
        if self.p(0.5):
            a += [self.rng.choice(["COUNT", "count"]), self.rng.choice(POP_COUNTS)]
        if self.p(0.03):
            a.append(self.rng.choice(["COUNT", "MIN", "x"]))
        return Cmd(self.mutate_arity(a))

    def g_zrandmember(self):
        a = [self.name("ZRANDMEMBER"), self.zkey()]
        if self.p(0.75):
            ws = self.p(0.5)
            a.append(self.rand_count(ws))
            if ws:
                a.append(self.rng.choice(["WITHSCORES", "withscores"]))
        if self.p(0.03):
            a.append(self.rng.choice(["x", "WITHSCORES"]))
        return RAND(*a)

    def g_zremrange(self):
        n = self.rng.choice(["ZREMRANGEBYSCORE", "ZREMRANGEBYRANK", "ZREMRANGEBYLEX"])
        if n == "ZREMRANGEBYSCORE":
            a = [self.score_range(), self.score_range()]
        elif n == "ZREMRANGEBYRANK":
            a = [self.zrank_idx(), self.zrank_idx()]
        else:
            a = [self.lex_range(), self.lex_range()]
        return ZCMD(*self.mutate_arity([self.name(n), self.zkey()] + a))

    def _zsetop_args(self, name, withscores_ok):
        """numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] (ZDIFF: WITHSCORES
        only; the others are syntax errors there)."""
        ks = [self.zkey(sets_ok=True) for _ in range(self.rng.randint(1, 3))]
        nk = str(len(ks)) if self.p(0.88) else self.rng.choice(
            ["0", "-1", "abc", str(len(ks) + 1), "", "9223372036854775807"])
        opts = []
        diff = name.startswith("ZDIFF")
        if self.p(0.04 if diff else 0.35):
            n = len(ks) if self.p(0.9) else self.rng.choice([len(ks) - 1, len(ks) + 1])
            opts += [self.rng.choice(["WEIGHTS", "weights"])] + [
                self.rng.choice(WEIGHTS) if self.p(0.95) else self.rng.choice(BAD_WEIGHTS)
                for _ in range(n)]
        if self.p(0.04 if diff else 0.35):
            opts += [self.rng.choice(["AGGREGATE", "aggregate"]),
                     self.rng.choice(["SUM", "MIN", "MAX", "sum", "max"]) if self.p(0.95) else
                     self.rng.choice(["AVG", ""])]
        if withscores_ok and self.p(0.45):
            opts.append(self.rng.choice(["WITHSCORES", "withscores"]))
        if self.p(0.03):
            opts.append(self.rng.choice(["WEIGHTS", "AGGREGATE", "FOO", "WITHSCORES"]))
        return [nk] + ks + opts

    def g_zsetop(self):
        n = self.rng.choice(["ZUNION", "ZINTER", "ZDIFF"])
        return Cmd(self.mutate_arity([self.name(n)] + self._zsetop_args(n, True)))

    def g_zstore(self):
        n = self.rng.choice(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"])
        dst = self.rng.choice(ZSET_KEYS) if self.p(0.85) else self.rng.choice(
            KEYS[:3] + self.coll_keys())
        return Cmd(self.mutate_arity([self.name(n), dst] + self._zsetop_args(n, False)))

    def g_zintercard(self):
        ks = [self.zkey(sets_ok=True) for _ in range(self.rng.randint(1, 3))]
        nk = str(len(ks)) if self.p(0.85) else self.rng.choice(
            ["0", "-1", "abc", str(len(ks) + 1), "", "9223372036854775807"])
        a = [self.name("ZINTERCARD"), nk] + ks
        if self.p(0.4):
            a += [self.rng.choice(["LIMIT", "limit"]),
                  self.rng.choice(["0", "1", "2", "5", "-1", "abc", "9223372036854775807"])]
        if self.p(0.03):
            a.append(self.rng.choice(["LIMIT", "FOO"]))
        return Cmd(self.mutate_arity(a))

    def g_zscan(self):
        cur = "0" if self.p(0.95) else self.rng.choice(["abc", "", "-1", "18446744073709551616"])
        return CSCAN(*([self.name("ZSCAN"), self.zkey(), cur] + self.scan_opts(ZMEMBER_PATTERNS)))

    def g_zbulk(self):
        """Many members at once: a sorted set crosses 128 members (listpack -> skiplist); the
        scores all equal (lex order), ascending, or random floats."""
        start = self.rng.randrange(60)
        n = self.rng.choice([self.rng.randint(5, 60), self.rng.randint(100, 140)])
        mode = self.rng.choice(["same", "asc", "rand"])
        a = [self.name("ZADD"), self.rng.choice(ZSET_KEYS)]
        if self.p(0.2):
            a.append(self.rng.choice(["NX", "XX", "GT", "LT", "CH"]))
        for i in range(start, start + n):
            s = {"same": "0", "asc": str(i),
                 "rand": repr(self.rng.uniform(-100, 100))}[mode]
            a += [s, "bz%d" % i]
        return Cmd(a)

    def g_zcopy(self):
        """COPY from and to sorted sets (also onto other types with REPLACE); DB 0 only."""
        src = self.rng.choice(ZSET_KEYS) if self.p(0.85) else self.rng.choice(self.coll_keys())
        dst = self.rng.choice(ZSET_KEYS + KEYS[:3] + self.coll_keys())
        a = [self.name("COPY"), src, dst]
        if self.p(0.4):
            a.append(self.rng.choice(["REPLACE", "replace"]))
        if self.p(0.05):
            a += self.rng.choice([["DB", "0"], ["DB", "abc"], ["FOO"], ["DB"]])
        return Cmd(self.mutate_arity(a))

    # -- both -------------------------------------------------------------------------------------
    # -- lists -------------------------------------------------------------------------------
    def g_push(self):
        n = self.rng.choice(["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"])
        a = [self.name(n), self.lkey()] + [self.lvalue() for _ in range(self.rng.randint(1, 4))]
        return Cmd(self.mutate_arity(a))

    def g_lpop(self):
        a = [self.name(self.rng.choice(["LPOP", "RPOP"])), self.lkey()]
        if self.p(0.5):
            a.append(self.rng.choice(POP_COUNTS))
        return Cmd(self.mutate_arity(a))

    def g_lrange(self):
        return Cmd(self.mutate_arity([self.name("LRANGE"), self.lkey(), self.lindex(),
                                      self.lindex()]))

    def g_lindex(self):
        return Cmd(self.mutate_arity([self.name("LINDEX"), self.lkey(), self.lindex()]))

    def g_llen(self):
        return Cmd(self.mutate_arity([self.name("LLEN"), self.lkey()]))

    def g_lset(self):
        return Cmd(self.mutate_arity([self.name("LSET"), self.lkey(), self.lindex(),
                                      self.lvalue()]))

    def g_linsert(self):
        where = self.rng.choice(["BEFORE", "AFTER", "before", "after"]) if self.p(0.95) else "MID"
        return Cmd(self.mutate_arity([self.name("LINSERT"), self.lkey(), where, self.lvalue(),
                                      self.lvalue()]))

    def g_lrem(self):
        count = self.rng.choice(["0", "1", "2", "-1", "-2", "5", "-9223372036854775808", "x"]) \
            if self.p(0.9) else self.int_arg()
        return Cmd(self.mutate_arity([self.name("LREM"), self.lkey(), count, self.lvalue()]))

    def g_ltrim(self):
        return Cmd(self.mutate_arity([self.name("LTRIM"), self.lkey(), self.lindex(),
                                      self.lindex()]))

    def g_lpos(self):
        a = [self.name("LPOS"), self.lkey(), self.lvalue()]
        for opt in ("RANK", "COUNT", "MAXLEN"):
            if self.p(0.35):
                v = self.rng.choice(["0", "1", "2", "-1", "-2", "3", "-9223372036854775808",
                                     "x", "-5", "10"])
                a += [opt if self.p(0.8) else opt.lower(), v]
        if self.p(0.03):
            a.append(self.rng.choice(["RANK", "x"]))
        return Cmd(self.mutate_arity(a))

    def g_lmove(self):
        if self.p(0.3):
            return Cmd(self.mutate_arity([self.name("RPOPLPUSH"), self.lkey(), self.lkey()]))
        ends = ["LEFT", "RIGHT", "left", "right"]
        a = [self.name("LMOVE"), self.lkey(), self.lkey(), self.rng.choice(ends),
             self.rng.choice(ends) if self.p(0.95) else "UP"]
        return Cmd(self.mutate_arity(a))

    def g_lmpop(self):
        ks = [self.lkey() for _ in range(self.rng.randint(1, 3))]
        nk = str(len(ks)) if self.p(0.85) else self.rng.choice(
            ["0", "-1", "abc", str(len(ks) + 1), "", "9223372036854775807"])
        a = [self.name("LMPOP"), nk] + ks
        if self.p(0.95):
            a.append(self.rng.choice(["LEFT", "RIGHT", "left", "right"]) if self.p(0.95) else "MID")
        if self.p(0.5):
            a += [self.rng.choice(["COUNT", "count"]), self.rng.choice(POP_COUNTS)]
        if self.p(0.03):
            a.append(self.rng.choice(["COUNT", "LEFT", "x"]))
        return Cmd(self.mutate_arity(a))

    def g_bpop(self):
        """The blocking pops with a timeout that ends the wait at once when nothing is there
        (never 0: an empty key would block the run), or a bad timeout."""
        t = self.rng.choice(["0.01", "0.001", "0.0001"]) if self.p(0.85) else self.rng.choice(
            ["-1", "abc", "1e30", "inf", "nan", ""])  # never -0.0001: it is 0, forever
        r = self.rng.random()
        ends = ["LEFT", "RIGHT", "left", "right"]
        if r < 0.3:
            a = [self.name(self.rng.choice(["BLPOP", "BRPOP"]))] + \
                [self.lkey() for _ in range(self.rng.randint(1, 3))] + [t]
        elif r < 0.45:
            a = [self.name("BLMOVE"), self.lkey(), self.lkey(), self.rng.choice(ends),
                 self.rng.choice(ends), t]
        elif r < 0.55:
            a = [self.name("BRPOPLPUSH"), self.lkey(), self.lkey(), t]
        elif r < 0.7:
            ks = [self.lkey() for _ in range(self.rng.randint(1, 3))]
            a = [self.name("BLMPOP"), t, str(len(ks))] + ks + [self.rng.choice(ends)]
            if self.p(0.4):
                a += ["COUNT", self.rng.choice(POP_COUNTS[:7])]
        elif "zset" not in self.families:
            a = [self.name("BLPOP"), self.lkey(), t]
        elif r < 0.85:
            a = [self.name(self.rng.choice(["BZPOPMIN", "BZPOPMAX"]))] + \
                [self.zkey() for _ in range(self.rng.randint(1, 3))] + [t]
        else:
            ks = [self.zkey() for _ in range(self.rng.randint(1, 3))]
            a = [self.name("BZMPOP"), t, str(len(ks))] + ks + [self.rng.choice(["MIN", "MAX"])]
            if self.p(0.4):
                a += ["COUNT", self.rng.choice(POP_COUNTS[:7])]
        return Cmd(self.mutate_arity(a))

    def g_lbulk(self):
        """A long list (LINDEX/LRANGE/LSET far from the ends, LREM/LTRIM over many)."""
        vals = [str(self.rng.randrange(20)) for _ in range(self.rng.randint(50, 300))]
        return Cmd([self.name(self.rng.choice(["RPUSH", "LPUSH"])), self.lkey()] + vals)

    def sort_elem(self):
        """An element that lists, sets or sorted sets may hold (what BY / GET patterns name)."""
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(LVALUES)
        if r < 0.6:
            return str(self.rng.randrange(20))  # g_lbulk's values
        if r < 0.8:
            return self.rng.choice(INT_MEMBERS[:10])
        return self.rng.choice(ZMEMBERS[:12])

    def sort_weight(self):
        r = self.rng.random()
        if r < 0.5:
            return str(self.rng.randint(-3, 5))  # ties: the element decides
        if r < 0.85:
            return self.rng.choice(FLOATS + ["inf", "-inf", "", "0"])
        if r < 0.95:
            return self.rng.choice(STRINGS[:5] + ["abc", "b", "a"])  # ALPHA BY values
        return self.rng.choice(["nan", "1e400", "1e-400", " ", "1x", "abc"])

    def g_sortdata(self):
        """The keys SORT's BY / GET patterns name: w_<element> strings, wh_<element> hashes
        (fields f and g), sometimes deleted again."""
        r = self.rng.random()
        if r < 0.5:
            a = [self.name("MSET")]
            for _ in range(self.rng.randint(1, 6)):
                a += [b"w_" + _arg(self.sort_elem()), self.sort_weight()]
            return Cmd(a)
        if r < 0.9:
            a = [self.name("HSET"), b"wh_" + _arg(self.sort_elem())]
            for f in self.rng.sample(["f", "g"], self.rng.randint(1, 2)):
                a += [f, self.sort_weight()]
            return Cmd(a)
        return Cmd([self.name("DEL")] + [self.rng.choice([b"w_", b"wh_"]) + _arg(self.sort_elem())
                                         for _ in range(self.rng.randint(1, 3))])

    def g_sort(self):
        """SORT / SORT_RO over lists, sets, sorted sets (and other types: WRONGTYPE) with BY and
        GET patterns on strings and hash fields, LIMIT, ASC/DESC, ALPHA, STORE, bad options."""
        r = self.rng.random()
        if r < 0.45:
            src = self.rng.choice(LIST_KEYS)
        elif r < 0.65 and "set" in self.families:
            src = self.rng.choice(SET_KEYS)
        elif r < 0.85 and "zset" in self.families:
            src = self.rng.choice(ZSET_KEYS)
        else:
            src = self.rng.choice(self.coll_keys() + KEYS[:3] + ["nokey"])
        ro = self.p(0.25)
        a = [self.name("SORT_RO" if ro else "SORT"), src]
        opts = []
        by = None
        if self.p(0.45):
            by = self.rng.choice(["w_*", "w_*", "wh_*->f", "wh_*->g", "nosort", "nosort",
                                  "nokey_*", "w_*->f", "wh_*", "*", "#", "*->f", "wh_*->",
                                  "w_*_x", "NOSORT"])
            opts.append([self.rng.choice(["BY", "by"]), by])
        if self.p(0.35):
            opts.append(self.zlimit())
        for _ in range(self.rng.choice([0, 0, 0, 1, 1, 2, 3])):
            opts.append([self.rng.choice(["GET", "get"]), self.rng.choice(
                ["#", "#", "w_*", "wh_*->f", "wh_*->g", "wh_*->", "nokey_*", "x", "w_*->f",
                 "*"])])
        if self.p(0.35):
            opts.append([self.rng.choice(["DESC", "desc", "ASC"])])
        alpha = self.p(0.5)
        if alpha:
            opts.append([self.rng.choice(["ALPHA", "alpha"])])
        store = (not ro and self.p(0.3)) or (ro and self.p(0.1))
        if store:
            if alpha and by is not None and "*" in by and not ro:
                opts = [o for o in opts if o[0].upper() != "ALPHA"]  # no undefined order stored
            opts.append([self.rng.choice(["STORE", "store"]), self.rng.choice(
                LIST_KEYS + LIST_KEYS + [src, "sortdst"] + KEYS[:2] + self.coll_keys())])
        self.rng.shuffle(opts)
        for o in opts:
            a += o
        if self.p(0.04):
            a += self.rng.choice([["LIMIT", "1"], ["FOO"], ["GET"], ["BY"], ["STORE"],
                                  ["LIMIT", "x", "1"], ["LIMIT", "1", "1.5"], ["ALPHA", "x"]])
        if self.p(0.02):
            a = a[:1]  # wrong arity
        return Cmd(a, "sort")

    def g_object(self):
        k = self.rng.choice(self.coll_keys()) if self.p(0.8) else self.rng.choice(KEYS)
        if self.p(0.05):
            return Cmd(self.rng.choice([["OBJECT", "ENCODING"], ["OBJECT", "ENCODING", k, "x"],
                                        ["OBJECT"], ["OBJECT", "FOO", k]]))
        return OBJENC(k)

    def g_collkey(self):
        """Key commands on hashes and sets: TYPE, EXISTS, DEL, RENAME, EXPIRE, TTL, PERSIST, SET."""
        k = self.rng.choice(self.coll_keys())
        r = self.rng.random()
        if r < 0.15:
            return Cmd([self.name("TYPE"), k])
        if r < 0.25:
            return Cmd([self.name("EXISTS"), k, self.rng.choice(self.coll_keys())])
        if r < 0.35:
            return Cmd([self.name(self.rng.choice(["DEL", "UNLINK"])), k])
        if r < 0.45:
            dst = self.rng.choice(self.coll_keys() + KEYS[:3])
            return Cmd([self.name(self.rng.choice(["RENAME", "RENAMENX"])), k, dst])
        if r < 0.65:
            return Cmd([self.name("EXPIRE"), k, self.exp.rel_s()] +
                       ([self.rng.choice(["NX", "XX", "GT", "LT"])] if self.p(0.3) else []))
        if r < 0.8:
            return T(self.name("TTL"), k)
        if r < 0.9:
            return Cmd([self.name("PERSIST"), k])
        return Cmd([self.name("SET"), k, self.value()])

    # -- streams ---------------------------------------------------------------------------------
    def xkey(self):
        """A stream key; sometimes another type's key (WRONGTYPE) or a string key."""
        r = self.rng.random()
        if r < 0.85:
            return self.rng.choice(STREAM_KEYS)
        if r < 0.93:
            return self.rng.choice(self.coll_keys())
        return self.rng.choice(KEYS)

    def xid(self):
        """Mostly a fresh increasing id (the add succeeds), else one from XIDS or a bad one."""
        r = self.rng.random()
        if r < 0.75:
            self.xms = getattr(self, "xms", 100) + self.rng.randint(0, 3)
            seq = self.rng.choice(["0", "1", "5", "*"])
            return "%d-%s" % (self.xms, seq) if self.p(0.9) else str(self.xms)
        if r < 0.95:
            return self.rng.choice(XIDS)
        return self.rng.choice(XBAD_IDS)

    def xfields(self):
        out = []
        for _ in range(self.rng.randint(1, 3)):
            out += [self.rng.choice(["f", "g", "h", "", "f f", "Z" * 70]), self.lvalue()]
        return out

    def xtrim_opts(self):
        """Exact MAXLEN / MINID trimming (never "~": its outcome depends on redis's nodes)."""
        r = self.rng.random()
        if r < 0.45:
            a = ["MAXLEN"] + (["="] if self.p(0.3) else []) + \
                [self.rng.choice(["0", "1", "2", "3", "5", "100", "-1", "abc"])]
        elif r < 0.9:
            a = ["MINID"] + (["="] if self.p(0.3) else []) + \
                [self.rng.choice(["0", "1", "100", "101-0", "103", "110", "5-5", "abc", "-"])]
        else:
            a = self.rng.choice([["MAXLEN", "1", "LIMIT", "10"], ["MAXLEN", "~", "1", "LIMIT",
                                 "-1"], ["MAXLEN", "1", "MINID", "1"], ["LIMIT", "5"],
                                 ["MAXLEN"], ["MINID", "~"]])
        return a

    def g_xadd(self):
        a = [self.name("XADD"), self.xkey()]
        if self.p(0.1):
            a.append("NOMKSTREAM")
        if self.p(0.2):
            a += self.xtrim_opts()
        a += [self.xid()] + self.xfields()
        if self.p(0.03):
            a = a[:-1]  # an odd number of field arguments
        return Cmd(self.mutate_arity(a))

    def g_xrange(self):
        n = self.rng.choice(["XRANGE", "XREVRANGE"])
        a = [self.name(n), self.xkey(), self.rng.choice(XRANGE_IDS), self.rng.choice(XRANGE_IDS)]
        if self.p(0.3):
            a += ["COUNT", self.rng.choice(POP_COUNTS)]
        if self.p(0.03):
            a += self.rng.choice([["COUNT"], ["FOO", "1"], ["COUNT", "1", "COUNT", "2"]])
        if self.p(0.05):
            a[2] = self.rng.choice(XBAD_IDS)
        return Cmd(self.mutate_arity(a))

    def g_xlen(self):
        return Cmd(self.mutate_arity([self.name("XLEN"), self.xkey()]))

    def g_xdel(self):
        ids = [self.rng.choice(XRANGE_IDS[2:] + XIDS[:3]) if self.p(0.5) else
               "%d-%s" % (getattr(self, "xms", 100) - self.rng.randint(0, 5),
                          self.rng.choice(["0", "1", "5"]))
               for _ in range(self.rng.randint(1, 3))]
        if self.p(0.05):
            ids.append(self.rng.choice(XBAD_IDS))
        return Cmd(self.mutate_arity([self.name("XDEL"), self.xkey()] + ids))

    def g_xtrim(self):
        return Cmd(self.mutate_arity([self.name("XTRIM"), self.xkey()] + self.xtrim_opts()))

    def g_xread(self):
        """XREAD [COUNT] [BLOCK ms] STREAMS keys ids. BLOCK waits 1-20 ms when nothing is there
        (never 0: it would wait forever)."""
        a = [self.name("XREAD")]
        if self.p(0.4):
            a += ["COUNT", self.rng.choice(POP_COUNTS[:8])]
        if self.p(0.3):
            a += ["BLOCK", self.rng.choice(["1", "5", "20"]) if self.p(0.9) else
                  self.rng.choice(["-1", "abc", "1.5", ""])]
        if self.p(0.03):
            a += self.rng.choice([["NOACK"], ["GROUP", "g", "c"], ["FOO"]])
        ks = [self.xkey() for _ in range(self.rng.randint(1, 3))]
        ids = [self.rng.choice(["0", "0-0", "$", "1-1", "100", "101-0", "105", "$",
                                "18446744073709551615-18446744073709551615"])
               if self.p(0.95) else self.rng.choice(XBAD_IDS + [">"]) for _ in ks]
        a += ["STREAMS"] + ks + ids
        if self.p(0.03):
            a = a[:-1]  # unbalanced
        return Cmd(self.mutate_arity(a))

    def g_xsetid(self):
        a = [self.name("XSETID"), self.xkey(),
             self.rng.choice(["200-0", "150", "0-1", "1-1", "abc"]) if self.p(0.5) else
             "%d-9" % (getattr(self, "xms", 100) + self.rng.randint(0, 3))]
        if self.p(0.3):
            a += ["ENTRIESADDED", self.rng.choice(["0", "1", "5", "100", "-1", "abc"])]
        if self.p(0.3):
            a += ["MAXDELETEDID", self.rng.choice(["0-0", "1-1", "105-0", "300-0", "abc"])]
        return Cmd(self.mutate_arity(a))

    def g_xinfo(self):
        k = self.xkey()
        r = self.rng.random()
        if r < 0.6:
            return Cmd([self.name("XINFO"), "STREAM", k], "xinfo")
        if r < 0.8:
            a = [self.name("XINFO"), "STREAM", k, "FULL"]
            if self.p(0.5):
                a += ["COUNT", self.rng.choice(["0", "1", "2", "-1", "abc"])]
            return Cmd(a, "xinfo")
        return Cmd(self.rng.choice([["XINFO"], ["XINFO", "STREAM"], ["XINFO", "FOO", k],
                                    ["XINFO", "STREAM", k, "FOO"], ["XINFO", "GROUPS", k]]))

    def g_xbulk(self):
        """A longer stream (ranges, counts, trimming across more entries)."""
        k = self.rng.choice(STREAM_KEYS)
        self.xms = getattr(self, "xms", 100) + 1
        out = []
        for _ in range(self.rng.randint(20, 60)):
            self.xms += self.rng.randint(0, 1)
            out.append(Cmd([self.name("XADD"), k, "%d-*" % self.xms, "f", str(self.rng.randrange(9))]))
        return out

    def xgroup_name(self):
        return self.rng.choice(["g1", "g2", "g1", "nog"])

    def g_xgroup(self):
        k, g = self.xkey(), self.xgroup_name()
        r = self.rng.random()
        if r < 0.45:
            a = [self.name("XGROUP"), "CREATE", k, g,
                 self.rng.choice(["0", "$", "100", "105-0", "x"])]
            if self.p(0.3):
                a.append("MKSTREAM")
            if self.p(0.15):
                a += ["ENTRIESREAD", self.rng.choice(["0", "1", "5", "-1", "-2", "x"])]
        elif r < 0.6:
            a = [self.name("XGROUP"), "SETID", k, g,
                 self.rng.choice(["0", "$", "100", "105-0", "-", "x"])]
        elif r < 0.7:
            a = [self.name("XGROUP"), "DESTROY", k, g]
        elif r < 0.85:
            a = [self.name("XGROUP"), "CREATECONSUMER", k, g, self.rng.choice(["c1", "c2"])]
        else:
            a = [self.name("XGROUP"), "DELCONSUMER", k, g, self.rng.choice(["c1", "c2", "c3"])]
        return Cmd(self.mutate_arity(a))

    def g_xreadgroup(self):
        a = [self.name("XREADGROUP"), "GROUP", self.xgroup_name(),
             self.rng.choice(["c1", "c2", "c3"])]
        if self.p(0.4):
            a += ["COUNT", self.rng.choice(POP_COUNTS[:8])]
        if self.p(0.15):
            a += ["BLOCK", self.rng.choice(["1", "5"])]
        if self.p(0.15):
            a.append("NOACK")
        ks = [self.xkey() for _ in range(self.rng.randint(1, 2))]
        ids = [self.rng.choice([">", ">", ">", "0", "100", "$", "x"]) for _ in ks]
        return Cmd(self.mutate_arity(a + ["STREAMS"] + ks + ids))

    def g_xack(self):
        ids = ["%d-%s" % (getattr(self, "xms", 100) - self.rng.randint(0, 6),
                          self.rng.choice(["0", "1", "5"])) for _ in range(self.rng.randint(1, 3))]
        if self.p(0.05):
            ids.append(self.rng.choice(XBAD_IDS))
        return Cmd(self.mutate_arity([self.name("XACK"), self.xkey(), self.xgroup_name()] + ids))

    def g_xpending(self):
        k, g = self.xkey(), self.xgroup_name()
        if self.p(0.4):
            return Cmd(self.mutate_arity([self.name("XPENDING"), k, g]))
        a = [self.name("XPENDING"), k, g]
        if self.p(0.2):
            a += ["IDLE", self.rng.choice(["0", "100000000", "x"])]
        a += [self.rng.choice(["-", "100", "(100-0", "x"]), self.rng.choice(["+", "200", "(0"]),
              self.rng.choice(["0", "1", "5", "-1", "x"])]
        if self.p(0.3):
            a.append(self.rng.choice(["c1", "c2", "c3"]))
        return Cmd(a, "xidle")

    def xpel_ids(self, n):
        """Ids near the stream's recent entries (pending, acknowledged, deleted or never added)."""
        return ["%d-%s" % (getattr(self, "xms", 100) - self.rng.randint(0, 6),
                           self.rng.choice(["0", "1", "5"])) for _ in range(n)]

    def g_xclaim(self):
        """XCLAIM with min-idle and IDLE/TIME values far from the test's own duration, so that
        which entries qualify does not depend on timing."""
        a = [self.name("XCLAIM"), self.xkey(), self.xgroup_name(),
             self.rng.choice(["c1", "c2", "c3", "c4"]),
             self.rng.choice(["0", "0", "100000000", "-5"]) if self.p(0.95) else
             self.rng.choice(["x", "1.5", ""])]
        a += self.xpel_ids(self.rng.randint(1, 3))
        if self.p(0.05):
            a.append(self.rng.choice(XBAD_IDS))
        for _ in range(self.rng.choice([0, 0, 1, 2])):
            a += self.rng.choice([
                ["FORCE"], ["JUSTID"], ["IDLE", self.rng.choice(["0", "200000000", "x"])],
                ["TIME", self.rng.choice(["5", "-1", "x"])],
                ["RETRYCOUNT", self.rng.choice(["0", "3", "-1", "x"])],
                ["LASTID", self.rng.choice(["0-0", "102-0", "300-0", "x", "-"])], ["FOO"],
                ["IDLE"]])
        return Cmd(self.mutate_arity(a))

    def g_xautoclaim(self):
        a = [self.name("XAUTOCLAIM"), self.xkey(), self.xgroup_name(),
             self.rng.choice(["c1", "c2", "c3", "c4"]),
             self.rng.choice(["0", "0", "100000000", "-5"]) if self.p(0.95) else "x",
             self.rng.choice(["0", "-", "+", "100", "(100-0"] + self.xpel_ids(1))
             if self.p(0.95) else self.rng.choice(XBAD_IDS)]
        if self.p(0.5):
            a += ["COUNT", self.rng.choice(["1", "2", "3", "100"]) if self.p(0.9) else
                  self.rng.choice(["0", "-1", "x", "576460752303423488"])]
        if self.p(0.3):
            a.append("JUSTID")
        if self.p(0.03):
            a.append("FOO")
        return Cmd(self.mutate_arity(a))

    # -- transactions ---------------------------------------------------------------------------
    def exact_cmd(self):
        """A random command whose reply is compared byte for byte (so it may run inside EXEC)."""
        while True:
            c = self.next()
            if isinstance(c, Cmd) and c.kind == "exact":
                return c

    def g_tx(self):
        """[WATCH keys, commands] MULTI, up to 6 commands, EXEC (mostly) or DISCARD. Inside: exact
        commands (their random wrong arities and unknown names flag the transaction: EXECABORT),
        and sometimes a nested MULTI, a WATCH, an UNWATCH (queued). Never leaves MULTI open."""
        out = []
        if self.p(0.5):
            out.append(Cmd([self.name("WATCH")] + self.keys(1, 3)))
            out += [self.exact_cmd() for _ in range(self.rng.choice([0, 0, 1, 2]))]
        out.append(Cmd([self.name("MULTI")]))
        for _ in range(self.rng.randint(0, 6)):
            r = self.rng.random()
            if r < 0.04:
                out.append(Cmd([self.name("MULTI")]))
            elif r < 0.08:
                out.append(Cmd([self.name("WATCH"), self.key()]))
            elif r < 0.10:
                out.append(self.g_unknown())
            elif r < 0.12:
                out.append(Cmd([self.name("UNWATCH")]))
            else:
                out.append(self.exact_cmd())
        r = self.rng.random()
        if r < 0.03:
            out.append(Cmd([self.name("EXEC"), "x"]))  # EXECABORT: wrong arity ends it too
        elif r < 0.05:
            out += [Cmd([self.name("DISCARD"), "x"]), Cmd(["DISCARD"])]  # refused, then ended
        elif r < 0.2:
            out.append(Cmd([self.name("DISCARD")]))
        else:
            out.append(Cmd([self.name("EXEC")]))
        return out

    def g_txcmd(self):
        """Transaction commands out of place: EXEC / DISCARD without MULTI, UNWATCH, WATCH, and
        wrong arities (MULTI x opens nothing)."""
        return Cmd(self.rng.choice([
            ["EXEC"], ["DISCARD"], ["UNWATCH"], ["WATCH", self.key()], ["WATCH"],
            ["MULTI", "x"], ["UNWATCH", "x"], ["EXEC", "x"], ["exec"], ["Discard"]]))

    def next(self):
        """A Cmd, or a list of them (g_tx: a transaction block)."""
        return self.rng.choices(self.funcs, self.weights)[0]()

    def sequence(self, n):
        """About n commands (DiffRunner.run pipelines them in random batches)."""
        out = []
        while len(out) < n:
            c = self.next()
            out.extend(c if isinstance(c, list) else [c])
        return out


def summarize(mismatches, ref_name, tgt_name, limit=60):
    """Groups (cmd, ref_raw, tgt_raw, problem) by command name and replies; most frequent first."""
    groups = {}
    for cmd, a, b, problem in mismatches:
        name = cmd.args[0].upper() if isinstance(cmd.args[0], str) else repr(cmd.args[0])
        key = (name, a[:int(os.environ.get("AKV_DIFF_SHOW", "100"))], b[:int(os.environ.get("AKV_DIFF_SHOW", "100"))], problem)
        groups.setdefault(key, []).append(cmd)
    lines = ["%d mismatches, %d distinct (command, replies) groups:" % (len(mismatches),
                                                                       len(groups))]
    for (name, a, b, problem), cmds in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:limit]:
        lines.append("  [%dx] %s   e.g. %s  (%s)\n      %-13s %r\n      %-13s %r" % (
            len(cmds), name, cmds[0], problem, ref_name + ":", a, tgt_name + ":", b))
    return "\n".join(lines)
