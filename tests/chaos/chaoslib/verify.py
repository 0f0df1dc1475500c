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
    while time.time() < covered_until:
        time.sleep(min(0.1, max(0.0, covered_until - time.time())))
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
    all_keys = ctr_keys + u_keys + o_keys + m_keys
    views = {r.name: _mget(r, all_keys) for r in regions}
    ref = views[regions[0].name]
    for r in regions[1:]:
        diff = [k for k in all_keys if views[r.name][k] != ref[k]]
        if diff:
            v.fail("regions %s and %s show different values for %d keys, e.g. %s: %r vs %r" %
                   (regions[0].name, r.name, len(diff), diff[0], ref[diff[0]],
                    views[r.name][diff[0]]))
    acks_by_key = {}
    for c in clients:
        for a in c.acks:
            acks_by_key.setdefault(a.key, []).append(a)

    # Counters: value = acked + a subset of the in-doubt increments.
    for key in ctr_keys:
        acked = sum(c.ctr_acked.get(key, 0) for c in clients)
        indoubt = [d for c in clients for d in c.ctr_indoubt.get(key, [])]
        raw = ref.get(key)
        value = int(raw) if raw is not None else 0
        v.indoubt_total += len(indoubt)
        if value < acked:
            short = acked - value
            incr_acks = [a for a in acks_by_key.get(key, []) if a.kind == "incrby"]
            covered = sum(a.arg for a in incr_acks if any(w.covers(a) for w in windows))
            why = next((w.why for w in windows
                        for a in incr_acks if w.covers(a)), None) if short <= covered else None
            v.lost.append(("%s: %d increments short (acked sum %d, value %d)" %
                           (key, short, acked, value), why))
            if why is None:
                v.fail("counter %s = %d but acknowledged increments sum to %d (%d lost; only %d "
                       "were acknowledged inside loss windows)" % (key, value, acked, short,
                                                                    covered))
            v.notes.append("counter %s short by %d (in loss windows: %d)" % (key, short, covered))
        elif value > acked + sum(indoubt):
            v.fail("counter %s = %d exceeds acknowledged %d + every in-doubt increment %d "
                   "(an increment applied twice?)" % (key, value, acked, sum(indoubt)))
        elif len(indoubt) <= 64 and not _subset_sum_ok(value - acked, indoubt):
            v.fail("counter %s = %d: %d above the acknowledged sum, which no subset of the "
                   "in-doubt increments %s adds up to" % (key, value, value - acked, indoubt))
        else:
            v.indoubt_applied += value - acked  # in units, not ops

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
    return v


def check_relay(before, after, lost_region):
    """A region lost for good: every survivor ends with every op of it that ANY survivor had
    when it died. before/after: {survivor: vv dict}."""
    want = max((vv.get(lost_region, 0) for vv in before.values()), default=0)
    bad = {n: vv.get(lost_region, 0) for n, vv in after.items()
           if vv.get(lost_region, 0) < want}
    return want, bad


def counts_table(clients):
    kinds = {}
    for c in clients:
        for k, n in c.kind_counts.items():
            kinds[k] = kinds.get(k, 0) + n
    return kinds

