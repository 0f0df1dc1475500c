"""Checks after the faults stop: convergence, and every acknowledged write accounted for.

A write that is missing is a LOST write. It is *explained* when it was acknowledged by a region
inside a declared loss window -- (region, wall-clock start, end): a simulated power loss of an
`everysec` region (its unsynced AOF tail cut, so writes acknowledged in the last second that no
peer had pulled yet are gone), or a region lost for good (writes it acknowledged that no survivor
had received). Anything else is a failure.
"""

import time

from chaoslib import resp
from chaoslib.procs import log


class LossWindow:
    def __init__(self, region, start, end, why):
        self.region, self.start, self.end, self.why = region, start, end, why

    def covers(self, ack):
        return ack.region == self.region and self.start <= ack.wall <= self.end


class Verdict:
    def __init__(self):
        self.failures = []
        self.lost = []  # (what, explained_by or None)
        self.notes = []
        self.indoubt_applied = 0
        self.indoubt_total = 0
        self.collections = {}  # figures about the set and hash keys, for the summary

    def fail(self, msg):
        self.failures.append(msg)
        log("CHAOS FAILURE: " + msg)

    def lost_write(self, what, ack, windows):
        why = None
        for w in windows:
            if ack is not None and w.covers(ack):
                why = w.why
                break
        self.lost.append((what, why))
        if why is None:
            self.fail("acknowledged write lost: %s" % what)


def _mget(region, keys):
    out = {}
    with region.client(timeout=30.0) as c:
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            vals = c.call("MGET", *chunk).value
            if isinstance(vals, resp.Err):
                raise AssertionError("MGET on %s: %r" % (region.name, vals))
            out.update(zip(chunk, vals))
    return out


def collection_keys(clients):
    """The tracked set, hash and sorted-set keys: (set keys, hash keys, zset keys), sorted."""
    sets = sorted({st.key for c in clients for st in c.smembers.values()})
    hashes = sorted({kf[0] for c in clients
                     for kf in list(c.hctr_acked) + list(c.hctr_indoubt) + list(c.hf)})
    zsets = sorted({km[0] for c in clients for km in list(c.zctr_acked) + list(c.zctr_indoubt)})
    return sets, hashes, zsets


def _read_collections(region, set_keys, hash_keys, zset_keys=()):
    """{key: sorted tuple of members} and {key: sorted tuple of (field, value)} (a missing key
    reads empty); sorted sets go with the hashes, as (member, score text) pairs."""
    sets, hashes = {}, {}
    with region.client(timeout=30.0) as c:
        for key, rep in zip(set_keys, c.pipeline([("SMEMBERS", k) for k in set_keys])):
            v = rep.value
            if isinstance(v, resp.Err):
                raise AssertionError("SMEMBERS %s on %s: %r" % (key, region.name, v))
            sets[key] = tuple(sorted(v))
        for key, rep in zip(hash_keys, c.pipeline([("HGETALL", k) for k in hash_keys])):
            v = rep.value
            if isinstance(v, resp.Err):
                raise AssertionError("HGETALL %s on %s: %r" % (key, region.name, v))
            if isinstance(v, dict):  # RESP3 map
                pairs = list(v.items())
            else:
                pairs = list(zip(v[0::2], v[1::2]))
            hashes[key] = tuple(sorted(pairs))
        zrange = [("ZRANGE", k, "0", "-1", "WITHSCORES") for k in zset_keys]
        for key, rep in zip(zset_keys, c.pipeline(zrange)):
            v = rep.value
            if isinstance(v, resp.Err):
                raise AssertionError("ZRANGE %s on %s: %r" % (key, region.name, v))
            hashes[key] = tuple(sorted(zip(v[0::2], v[1::2])))
    return sets, hashes


def read_views(region, clients):
    """Every tracked key as `region` shows it: strings as bytes/None, sets as a sorted tuple of
    members, hashes as a sorted tuple of (field, value). For comparing regions."""
    keys = sorted({k for c in clients for k in list(c.ctr_acked) + list(c.ctr_indoubt)} |
                  set(tx_keys(clients)) |
                  {k for c in clients for k in list(c.u) + list(c.o) + list(c.mixed_keys)})
    out = _mget(region, keys)
    sets, hashes = _read_collections(region, *collection_keys(clients))
    out.update(sets)
    out.update(hashes)
    out.update(_read_lists(region, list_keys(clients)))
    return out


def list_keys(clients):
    """The lq: keys RPUSHed to (workload.op_rpush)."""
    return sorted({st.key for c in clients for st in c.lpushed.values()})


def _read_lists(region, keys):
    """{key: tuple of elements in list order} (a missing key reads empty)."""
    with region.client(timeout=30.0) as c:
        out = {}
        for key, rep in zip(keys, c.pipeline([("LRANGE", k, "0", "-1") for k in keys])):
            if isinstance(rep.value, resp.Err):
                raise AssertionError("LRANGE %s on %s: %r" % (key, region.name, rep.value))
            out[key] = tuple(rep.value)
    return out


def tx_keys(clients):
    """The counters of the MULTI/EXEC pairs (workload.op_tx), a and b of each pair."""
    ks = sorted({k for c in clients for k in list(c.tx_acked) + list(c.tx_indoubt)})
    return [name for k in ks for name in ("tx:%d:a" % k, "tx:%d:b" % k)]


def _subset_sum_ok(target, deltas):
    """True when `target` is the sum of some subset of `deltas` (bounded search)."""
    if target == 0:
        return True
    if target < 0 or target > sum(deltas):
        return False
    reachable = {0}
    for d in deltas:
        reachable |= {r + d for r in reachable if r + d <= target}
        if target in reachable:
            return True
    return target in reachable


def wait_expired(cluster, clients, windows=(), timeout=20.0, max_ttl_s=1.5, skew_s=5.0):
    """Waits until every key with an acknowledged PEXPIRE is gone in every live region. A PEXPIRE
    acknowledged inside a loss window may be lost (then the key stays): for those, only waits
    until their deadline (+ the clock skew) has passed; check() classifies them."""
    keys, covered_until = [], 0.0
    for c in clients:
        for a in c.acks:
            if a.kind == "expire":
                if any(w.covers(a) for w in windows):
                    covered_until = max(covered_until, a.wall + max_ttl_s + skew_s + 0.5)
                else:
                    keys.append(a.key)
    # A PEXPIRE in doubt (no reply) may have applied: its key then expires up to max_ttl_s after
    # the writers stopped, and the DEL that follows changes the state. Wait for that deadline and
    # read those keys everywhere (lazy expiry), so the final digest is taken after it.
    indoubt = sorted({k for c in clients for k, st in getattr(c, "u", {}).items()
                      if st.action == "expire" and st.action_state == "indoubt"})
    if indoubt:
        covered_until = max(covered_until, time.time() + max_ttl_s + skew_s + 0.5)
    while time.time() < covered_until:
        time.sleep(min(0.1, max(0.0, covered_until - time.time())))
    for r in cluster.live():
        if indoubt:
            _mget(r, indoubt)
    t0 = time.monotonic()
    while keys:
        pending = set()
        for r in cluster.live():
            vals = _mget(r, keys)
            pending |= {k for k, v in vals.items() if v is not None}
        if not pending:
            break
        if time.monotonic() - t0 > timeout:
            return sorted(pending)
        keys = sorted(pending)
        time.sleep(0.1)
    return []


def _check_counter(v, what, raw, acked, indoubt, incr_acks, windows):
    """A counter (string key or hash field) shows `raw`: it must be the sum of the acknowledged
    increments plus a subset of the in-doubt ones; less only when the missing increments were
    acknowledged inside loss windows."""
    value = int(raw) if raw is not None else 0
    v.indoubt_total += len(indoubt)
    if value < acked:
        short = acked - value
        covered = sum(a.arg for a in incr_acks if any(w.covers(a) for w in windows))
        why = next((w.why for w in windows
                    for a in incr_acks if w.covers(a)), None) if short <= covered else None
        v.lost.append(("%s: %d increments short (acked sum %d, value %d)" %
                       (what, short, acked, value), why))
        if why is None:
            v.fail("%s = %d but acknowledged increments sum to %d (%d lost; only %d were "
                   "acknowledged inside loss windows)" % (what, value, acked, short, covered))
        v.notes.append("%s short by %d (in loss windows: %d)" % (what, short, covered))
    elif value > acked + sum(indoubt):
        v.fail("%s = %d exceeds acknowledged %d + every in-doubt increment %d "
               "(an increment applied twice?)" % (what, value, acked, sum(indoubt)))
    elif len(indoubt) <= 64 and not _subset_sum_ok(value - acked, indoubt):
        v.fail("%s = %d: %d above the acknowledged sum, which no subset of the "
               "in-doubt increments %s adds up to" % (what, value, value - acked, indoubt))
    else:
        v.indoubt_applied += value - acked  # in units, not ops


def check(cluster, clients, names, windows=(), verdict=None):
    """Reads every tracked key from every region in `names` (already in sync) and checks the
    history of every client. Returns the Verdict."""
    v = verdict or Verdict()
    regions = [cluster[n] for n in names]
    # What every region shows must be identical (digests equal already; this reads it).
    ctr_keys = sorted({k for c in clients for k in list(c.ctr_acked) + list(c.ctr_indoubt)})
    u_keys = [k for c in clients for k in c.u]
    o_keys = [k for c in clients for k in c.o]
    m_keys = sorted({k for c in clients for k in c.mixed_keys})
    t_keys = tx_keys(clients)
    all_keys = ctr_keys + u_keys + o_keys + m_keys + t_keys
    views = {r.name: _mget(r, all_keys) for r in regions}
    ref = views[regions[0].name]
    for r in regions[1:]:
        diff = [k for k in all_keys if views[r.name][k] != ref[k]]
        if diff:
            v.fail("regions %s and %s show different values for %d keys, e.g. %s: %r vs %r" %
                   (regions[0].name, r.name, len(diff), diff[0], ref[diff[0]],
                    views[r.name][diff[0]]))
    # Sets (SMEMBERS) and hashes (HGETALL), sorted: identical everywhere too.
    set_keys, hash_keys, zset_keys = collection_keys(clients)
    coll = {r.name: _read_collections(r, set_keys, hash_keys, zset_keys) for r in regions}
    ref_sets, ref_hashes = coll[regions[0].name]
    for r in regions[1:]:
        sets, hashes = coll[r.name]
        for what, mine, theirs in (("SMEMBERS", ref_sets, sets), ("HGETALL", ref_hashes, hashes)):
            for key in sorted(mine):
                if mine[key] != theirs[key]:
                    a, b = set(mine[key]), set(theirs[key])
                    v.fail("regions %s and %s differ on %s %s (%d vs %d entries): only in %s: "
                           "%s; only in %s: %s" %
                           (regions[0].name, r.name, what, key, len(a), len(b), regions[0].name,
                            _few(a - b), r.name, _few(b - a)))
    # Lists (LRANGE, in order): identical everywhere too.
    l_keys = list_keys(clients)
    lists = {r.name: _read_lists(r, l_keys) for r in regions}
    ref_lists = lists[regions[0].name]
    for r in regions[1:]:
        for key in l_keys:
            if lists[r.name][key] != ref_lists[key]:
                v.fail("regions %s and %s show list %s differently: %d vs %d elements" %
                       (regions[0].name, r.name, key, len(ref_lists[key]),
                        len(lists[r.name][key])))
    acks_by_key = {}
    for c in clients:
        for a in c.acks:
            acks_by_key.setdefault(a.key, []).append(a)
    _check_lists(v, clients, ref_lists, acks_by_key, windows)

    # Counters: value = acked + a subset of the in-doubt increments.
    for key in ctr_keys:
        acked = sum(c.ctr_acked.get(key, 0) for c in clients)
        indoubt = [d for c in clients for d in c.ctr_indoubt.get(key, [])]
        incr_acks = [a for a in acks_by_key.get(key, []) if a.kind == "incrby"]
        _check_counter(v, "counter %s" % key, ref.get(key), acked, indoubt, incr_acks, windows)

    # MULTI/EXEC pairs: both counters equal (EXEC is one unit), each the acked sum plus a subset
    # of the in-doubt EXECs' deltas.
    for a_key, b_key in zip(t_keys[::2], t_keys[1::2]):
        k = int(a_key.split(":")[1])
        if ref.get(a_key) != ref.get(b_key):
            v.fail("transaction counters differ: %s = %r, %s = %r (half an EXEC applied?)" %
                   (a_key, ref.get(a_key), b_key, ref.get(b_key)))
        acked = sum(c.tx_acked.get(k, 0) for c in clients)
        indoubt = [d for c in clients for d in c.tx_indoubt.get(k, [])]
        for key in (a_key, b_key):
            tx_acks = [a for a in acks_by_key.get(key, []) if a.kind == "tx"]
            _check_counter(v, "EXEC counter %s" % key, ref.get(key), acked, indoubt, tx_acks,
                           windows)
    v.collections["tx_execs"] = sum(c.kind_counts.get("tx", 0) for c in clients)

    # Unique SETs, DEL, PEXPIRE.
    for c in clients:
        for key, st in c.u.items():
            got = ref.get(key)
            ack = next((a for a in acks_by_key.get(key, []) if a.kind == "set"), None)
            if st["state"] == "indoubt":
                if got is not None and got != st["value"]:
                    v.fail("%s holds %r, never written (in-doubt SET was %r)" %
                           (key, got, st["value"]))
                continue
            if st["action"] is None or st["action_state"] == "indoubt":
                if got is None and st["action"] is None:
                    v.lost_write("SET %s (acked by %s)" % (key, st["region"]), ack, windows)
                elif got is not None and got != st["value"]:
                    v.fail("%s holds %r, expected %r" % (key, got, st["value"]))
                continue
            # An acknowledged DEL / PEXPIRE that observed the value: the key must be gone.
            if got is not None:
                rm = next((a for a in acks_by_key.get(key, []) if a.kind == st["action"]), None)
                v.lost_write("%s %s (acked by %s): the key came back with %r" %
                             ("DEL" if st["action"] == "del" else "PEXPIRE", key,
                              st.get("action_region"), got), rm, windows)

    # Overwrites: the last acknowledged value, or one that was in doubt.
    for c in clients:
        for key, st in c.o.items():
            got = ref.get(key)
            allowed = set(st["indoubt"]) | {st["value"]}  # st["value"] is None if never acked
            if got in allowed:
                continue
            acks = [a for a in acks_by_key.get(key, []) if a.kind == "overwrite"]
            older = [i for i, a in enumerate(acks) if a.arg == got]
            if got is not None and not older:
                v.fail("%s holds %r, which its client never wrote" % (key, got))
                continue
            # An older acknowledged value (or nothing) won: every later ack was lost.
            later = acks[older[-1] + 1:] if older else acks
            explained = all(any(w.covers(a) for w in windows) for a in later)
            v.lost_write("SET %s = %r (acked by %s; the key shows %r)" %
                         (key, st["value"], st["region"], got),
                         later[-1] if explained else None, windows)

    _check_sets(v, clients, ref_sets, acks_by_key, windows)
    _check_hashes(v, clients, ref_hashes, acks_by_key, windows)
    _check_zsets(v, clients, ref_hashes, acks_by_key, windows)
    return v


def _few(items, n=5):
    items = sorted(items)
    return "%s%s" % (", ".join(repr(x) for x in items[:n]), " ..." if len(items) > n else "") \
        if items else "-"


def _check_lists(v, clients, ref_lists, acks_by_key, windows):
    """lq: lists: each element at most once and only elements some client pushed there; an
    element an acknowledged LPOP returned is gone; every acknowledged RPUSH's element is present
    unless popped -- up to one missing element per LPOP in doubt on that key (it may have taken
    any element)."""
    pushed, popped, pop_indoubt = {}, set(), {}
    for c in clients:
        pushed.update(c.lpushed)
        popped |= c.lpopped
        for key, n in c.lpop_indoubt.items():
            pop_indoubt[key] = pop_indoubt.get(key, 0) + n
    stats = v.collections
    stats["list_elements"] = sum(len(x) for x in ref_lists.values())
    stats["lpop_acked"] = len(popped)
    for key, elems in ref_lists.items():
        if len(set(elems)) != len(elems):
            v.fail("list %s holds an element twice" % key)
        stray = [e for e in elems if e not in pushed or pushed[e].key != key]
        if stray:
            v.fail("list %s holds %d elements no client pushed there, e.g. %r" %
                   (key, len(stray), stray[0]))
        back = [e for e in elems if e in popped]
        if back:
            v.fail("list %s holds %d elements an acknowledged LPOP removed, e.g. %r" %
                   (key, len(back), back[0]))
    missing = {}
    for e, st in pushed.items():
        if st.state != "ok" or e in popped or e in ref_lists.get(st.key, ()):
            continue
        missing.setdefault(st.key, []).append(e)
    for key, elems in missing.items():
        for e in elems[pop_indoubt.get(key, 0):]:
            name = "%s %s" % (key, e.decode())
            ack = next((a for a in acks_by_key.get(name, []) if a.kind == "rpush"), None)
            v.lost_write("RPUSH %s (acked by %s)" % (name, pushed[e].region), ack, windows)


def _check_sets(v, clients, ref_sets, acks_by_key, windows):
    """s: members: every acknowledged SADD present. sr: members: present after an acknowledged
    SADD with no SREM, absent after an acknowledged SREM (it observed the only add instance),
    either when the SADD or the SREM was in doubt. Anywhere: no member that no client sent."""
    members = {}  # member -> SMember
    for c in clients:
        members.update(c.smembers)
    shown = {key: set(ms) for key, ms in ref_sets.items()}
    for key, ms in shown.items():
        stray = [m for m in ms if m not in members or members[m].key != key]
        if stray:
            v.fail("set %s holds %d members no client added to it, e.g. %r" %
                   (key, len(stray), stray[0]))
    stats = v.collections
    stats["s_keys"] = len([k for k in shown if k.startswith("s:")])
    stats["sr_keys"] = len([k for k in shown if k.startswith("sr:")])
    stats["s_members"] = sum(len(ms) for k, ms in shown.items() if k.startswith("s:"))
    stats["sr_members"] = sum(len(ms) for k, ms in shown.items() if k.startswith("sr:"))
    stats["srem_acked"] = sum(1 for st in members.values() if st.rm_state == "ok")
    stats["sadd_indoubt_present"] = sum(1 for m, st in members.items() if st.state == "indoubt"
                                        and m in shown.get(st.key, ()))
    stats["sadd_indoubt"] = sum(1 for st in members.values() if st.state == "indoubt")
    for m, st in members.items():
        present = m in shown.get(st.key, ())
        name = "%s %s" % (st.key, m.decode())
        if st.state == "indoubt":
            continue  # may or may not have applied; the SREM guard never touches it
        if st.rm_state is None or st.rm_state == "indoubt":
            if not present and st.rm_state is None:
                ack = next((a for a in acks_by_key.get(name, []) if a.kind == "sadd"), None)
                v.lost_write("SADD %s (acked by %s)" % (name, st.region), ack, windows)
            continue
        if present:  # an acknowledged SREM that observed the only add instance
            rm = next((a for a in acks_by_key.get(name, []) if a.kind == "srem"), None)
            v.lost_write("SREM %s (acked by %s): the member came back" % (name, st.rm_region),
                         rm, windows)


def _check_hashes(v, clients, ref_hashes, acks_by_key, windows):
    """hc: fields are counters (as ctr:); hf: fields are the o: overwrite history of one client;
    no field that no client wrote."""
    hash_keys = set(collection_keys(clients)[1])  # ref_hashes holds the sorted sets too
    hashes = {key: dict(pairs) for key, pairs in ref_hashes.items() if key in hash_keys}
    hctr = sorted({kf for c in clients for kf in list(c.hctr_acked) + list(c.hctr_indoubt)})
    hf = {}
    for c in clients:
        hf.update(c.hf)
    known = set(hctr) | set(hf)
    for key, fields in sorted(hashes.items()):
        stray = [f for f in fields if (key, f.decode(errors="replace")) not in known]
        if stray:
            v.fail("hash %s holds %d fields no client wrote, e.g. %r = %r" %
                   (key, len(stray), stray[0], fields[stray[0]]))
    v.collections["hc_fields"] = len(hctr)
    v.collections["hc_sum"] = sum(int(hashes.get(k, {}).get(f.encode(), 0)) for k, f in hctr)
    v.collections["hf_fields"] = sum(len(fs) for k, fs in hashes.items() if k.startswith("hf:"))
    for kf in hctr:
        acked = sum(c.hctr_acked.get(kf, 0) for c in clients)
        indoubt = [d for c in clients for d in c.hctr_indoubt.get(kf, [])]
        name = "%s %s" % kf
        incr_acks = [a for a in acks_by_key.get(name, []) if a.kind == "hincrby"]
        _check_counter(v, "hash counter %s" % name, hashes.get(kf[0], {}).get(kf[1].encode()),
                       acked, indoubt, incr_acks, windows)
    for kf, st in sorted(hf.items()):
        got = hashes.get(kf[0], {}).get(kf[1].encode())
        name = "%s %s" % kf
        allowed = set(st["indoubt"]) | {st["value"]}
        if got in allowed:
            continue
        acks = [a for a in acks_by_key.get(name, []) if a.kind == "hset"]
        older = [i for i, a in enumerate(acks) if a.arg == got]
        if got is not None and not older:
            v.fail("hash field %s holds %r, which its client never wrote" % (name, got))
            continue
        later = acks[older[-1] + 1:] if older else acks
        explained = all(any(w.covers(a) for w in windows) for a in later)
        v.lost_write("HSET %s = %r (acked by %s; the field shows %r)" %
                     (name, st["value"], st["region"], got),
                     later[-1] if explained else None, windows)


def _check_zsets(v, clients, ref_coll, acks_by_key, windows):
    """zc: members: the score is the sum of the acknowledged ZINCRBYs (plus in-doubt ones); no
    member that no client incremented."""
    zctr = sorted({km for c in clients for km in list(c.zctr_acked) + list(c.zctr_indoubt)})
    zsets = {key: dict(ref_coll.get(key, ())) for key in {km[0] for km in zctr}}
    known = set(zctr)
    for key, members in sorted(zsets.items()):
        stray = [m for m in members if (key, m.decode(errors="replace")) not in known]
        if stray:
            v.fail("sorted set %s holds %d members no client incremented, e.g. %r" %
                   (key, len(stray), stray[0]))
    v.collections["zc_members"] = len(zctr)
    v.collections["zc_sum"] = sum(int(zsets[k].get(m.encode(), 0)) for k, m in zctr)
    for km in zctr:
        acked = sum(c.zctr_acked.get(km, 0) for c in clients)
        indoubt = [d for c in clients for d in c.zctr_indoubt.get(km, [])]
        name = "%s %s" % km
        incr_acks = [a for a in acks_by_key.get(name, []) if a.kind == "zincrby"]
        _check_counter(v, "zset score %s" % name, zsets[km[0]].get(km[1].encode()), acked,
                       indoubt, incr_acks, windows)


def check_relay(before, after, lost_region):
    """A region lost for good: every survivor ends with every op of it that ANY survivor had
    when it died. before/after: {survivor: vv dict}."""
    want = max((vv.get(lost_region, 0) for vv in before.values()), default=0)
    bad = {n: vv.get(lost_region, 0) for n, vv in after.items()
           if vv.get(lost_region, 0) < want}
    return want, bad


def collections_text(verdict):
    """The summary row about sets, hashes, sorted sets, transactions and lists."""
    s = verdict.collections
    if not s:
        return "not checked"
    return ("s: %d keys, %d members (%d of %d in-doubt SADDs applied); sr: %d keys, %d members "
            "left after %d acknowledged SREMs; hc: %d counter fields summing to %d; hf: %d "
            "fields; zc: %d scores summing to %d; tx: %d acknowledged EXECs; lq: %d elements left "
            "after %d acknowledged LPOPs" % (
                s.get("s_keys", 0), s.get("s_members", 0), s.get("sadd_indoubt_present", 0),
                s.get("sadd_indoubt", 0), s.get("sr_keys", 0), s.get("sr_members", 0),
                s.get("srem_acked", 0), s.get("hc_fields", 0), s.get("hc_sum", 0),
                s.get("hf_fields", 0), s.get("zc_members", 0), s.get("zc_sum", 0),
                s.get("tx_execs", 0), s.get("list_elements", 0), s.get("lpop_acked", 0)))


def counts_table(clients):
    kinds = {}
    for c in clients:
        for k, n in c.kind_counts.items():
            kinds[k] = kinds.get(k, 0) + n
    return kinds

