"""Faults on a seeded schedule, executed from the main thread.

Kinds:
  kill       kill -9, down for d seconds, restart (the same argv: flags such as
             --clock-offset-ms are kept); measures restart -> serving and -> caught up
  powerloss  (everysec runs) kill -9, then the AOF is cut back to the size it had >= 1 s before
             the kill (what an OS crash loses: everything written since the last everysec fsync,
             at worst), then restart. The writes acknowledged in that window are a declared
             loss window; only those that no peer had pulled may be lost.
  stall      SIGSTOP for d seconds, then SIGCONT
  pause      CRDT.SYNC PAUSE (replication held, writes accepted) for d seconds, then RESUME
  partition  (netns) blackhole routes between two regions for d seconds
  isolate    (netns) the region's link down for d seconds: clients and peers cut off
  wan        (netns) WAN-like inter-region links (netem, or rate limiting) for 2d seconds
The plan first goes through every requested kind once (shuffled), then picks at random; one fault
at a time, with 0.5-1.5 s of calm between faults.
"""

import collections
import os
import random
import threading
import time

from chaoslib.procs import log, vv_covers
from chaoslib.verify import LossWindow


# Peers reconnect with a backoff of at most 2 s (docs/replication-protocol.md); gRPC's channel
# backoff (also at most 2 s) can add to it, and the machine may be loaded: 4 s.
LINK_UP_LIMIT_S = 4.0


class Fault:
    def __init__(self, t, kind, region, other, duration):
        self.t, self.kind, self.region, self.other, self.duration = (t, kind, region, other,
                                                                     duration)

    def __repr__(self):
        extra = "<->r%d" % self.other if self.kind == "partition" else ""
        return "t=%.1fs %s r%d%s for %.1fs" % (self.t, self.kind, self.region, extra,
                                                self.duration)


def make_plan(seed, duration, kinds, n, min_d=0.5, max_d=3.0, targets=None):
    """A deterministic schedule (a list of Fault) for `duration` seconds."""
    rng = random.Random(seed * 7919 + 17)
    targets = list(range(n)) if targets is None else targets
    order = list(kinds)
    rng.shuffle(order)
    plan = []
    t = 1.0
    while t < duration:
        kind = order.pop(0) if order else rng.choice(kinds)
        region = rng.choice(targets)
        other = rng.choice([j for j in range(n) if j != region])
        d = rng.uniform(min_d, max_d)
        plan.append(Fault(t, kind, region, other, d))
        t += d * (2 if kind == "wan" else 1) + rng.uniform(0.5, 1.5)
    return plan


def synced_point(region):
    """(fsynced AOF size, wall time its bytes had been written by) from INFO persistence, or
    None. A power loss can cut the AOF back to that size and no further; writes acknowledged
    after that time may be lost."""
    try:
        info = region.info("persistence", timeout=1.0)
        return int(info["aof_fsynced_size"]), int(info["aof_fsynced_as_of_ms"]) / 1000.0
    except (OSError, KeyError, ValueError):
        return None


class AofSampler(threading.Thread):
    """Samples every region's AOF size every 50 ms (for the simulated power loss)."""

    def __init__(self, cluster):
        super().__init__(name="aof-sampler", daemon=True)
        self.cluster = cluster
        self.samples = {r.name: collections.deque(maxlen=200) for r in cluster.regions}
        self.lock = threading.Lock()
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.wait(0.05):
            for r in self.cluster.regions:
                try:
                    size = os.path.getsize(r.aof_path())
                except OSError:
                    continue
                with self.lock:
                    self.samples[r.name].append((time.time(), size))

    def size_before(self, name, wall):
        with self.lock:
            older = [s for s in self.samples[name] if s[0] <= wall]
            return older[-1] if older else None

    def reset(self, name):
        with self.lock:
            self.samples[name].clear()


class FaultRunner:
    def __init__(self, cluster, board, net=None, sampler=None):
        self.cluster = cluster
        self.board = board
        self.net = net
        self.sampler = sampler
        self.counts = collections.Counter()
        self.events = []
        self.restarts = []  # dicts: region, kind, down_s, serve_s, catchup_s
        self.windows = []  # LossWindow
        self.powerloss_cut = []  # (region, bytes cut)
        self.problems = []  # failures seen while injecting
        self.powerloss_origins = []  # dicts: region, origin, had, peers_had

    def run(self, plan, t0, stop_at):
        for f in plan:
            wait = t0 + f.t - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            if time.monotonic() >= stop_at:
                break
            log("fault: %r" % f)
            self.apply(f)
            self.counts[f.kind] += 1
            self.events.append(f)

    def _restart(self, r, kind, down_s):
        peers = [p for p in self.cluster.live() if p is not r]
        target = {}
        for p in peers:
            try:
                for k, v in p.vv()[0].items():
                    target[k] = max(target.get(k, 0), v)
            except OSError:
                pass
        t = time.monotonic()
        r.start()
        serve = r.wait_serving(timeout=60)
        self.board.clear(r.name)
        catchup = links = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (catchup is None or links is None):
            try:
                vv, mine, _ = r.vv()
                theirs = [p.vv()[1].get(r.name, {}) for p in peers]
            except OSError:
                vv, mine, theirs = {}, {}, []
            # An origin r itself wrote as may have a new incarnation name after an unclean
            # everysec start; the old one must still be covered.
            if catchup is None and vv_covers(vv, target):
                catchup = time.monotonic() - t
            if links is None and all(mine.get(p.name, {}).get("connected") == 1 for p in peers) \
                    and all(x.get("connected") == 1 for x in theirs):
                links = time.monotonic() - t
            time.sleep(0.02)
        self.restarts.append({"region": r.name, "kind": kind, "down_s": down_s,
                              "serve_s": serve, "catchup_s": catchup, "links_s": links})
        log("%s restarted: serving after %.3f s, caught up after %s, all links to and from it "
            "up after %s" % (r.name, serve, "%.3f s" % catchup if catchup is not None else
                             "NOT within 30 s", "%.3f s" % links if links is not None else
                             "NOT within 30 s"))
        if catchup is None:
            self.problems.append("%s restarted after %s did not catch up within 30 s" %
                                 (r.name, kind))
        if links is None or links - serve > LINK_UP_LIMIT_S:
            self.problems.append(
                "%s restarted after %s: its replication links were not all up %.1f s after it "
                "served (took %s from the restart; reconnect backoff is at most 2 s, gRPC's "
                "channel backoff 2 s more)" %
                (r.name, kind, LINK_UP_LIMIT_S, "%.3f s" % links if links else "> 30 s"))

    def _rewrite(self, r, f):
        """BGREWRITEAOF under load; half of the time the region is killed -9 a few milliseconds
        into it (the old AOF must still be the AOF, the half-written file is discarded)."""
        rng = random.Random(int(f.t * 1000) * 31 + f.region)
        crash = rng.random() < 0.5
        try:
            before = int(r.info("persistence", timeout=2.0).get("aof_rewrites", 0))
            reply = r.call("BGREWRITEAOF", timeout=2.0)
        except OSError as e:
            self.problems.append("BGREWRITEAOF on %s failed: %s" % (r.name, e))
            return
        log("rewrite of %s: %r%s" % (r.name, reply, " (kill -9 during it)" if crash else ""))
        if crash:
            self.board.set(r.name, "kill")
            time.sleep(rng.uniform(0.0, 0.03))
            r.kill9()
            time.sleep(f.duration / 2)
            self._restart(r, "kill during rewrite", f.duration / 2)
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                info = r.info("persistence", timeout=2.0)
                if int(info.get("aof_rewrites", 0)) > before:
                    if info.get("aof_last_bgrewrite_status") != "ok":
                        self.problems.append("rewrite of %s: status %s" %
                                             (r.name, info.get("aof_last_bgrewrite_status")))
                    return
            except OSError:
                pass
            time.sleep(0.02)
        self.problems.append("rewrite of %s did not finish within 30 s" % r.name)

    def apply(self, f):
        r = self.cluster.regions[f.region]
        o = self.cluster.regions[f.other]
        if f.kind == "rewrite":
            self._rewrite(r, f)
        elif f.kind == "kill":
            self.board.set(r.name, "kill")
            r.kill9()
            time.sleep(f.duration)
            self._restart(r, "kill", f.duration)
        elif f.kind == "powerloss":
            self.board.set(r.name, "powerloss")
            try:
                vv, _, fields = r.vv(timeout=1.0)
                origin = fields.get("crdt_origin", r.name)
                had = vv.get(origin, 0)
            except OSError:
                origin, had = None, 0
            # A power loss loses what was not fsynced: at most back to the fsynced size (read
            # just before the kill, so a lower bound of it), never more.
            synced = synced_point(r)
            r.kill9()
            t_kill = time.time()
            peers_had = 0
            if origin is not None:
                for p in self.cluster.live():
                    if p is not r:
                        try:
                            peers_had = max(peers_had, p.vv(timeout=5.0)[0].get(origin, 0))
                        except OSError:
                            pass
                self.powerloss_origins.append({"region": r.name, "origin": origin, "had": had,
                                               "peers_had": peers_had})
                log("powerloss of %s: origin %s had >= %d ops, its peers %d (%d not yet pulled)" %
                    (r.name, origin, had, peers_had, max(0, had - peers_had)))
            size = os.path.getsize(r.aof_path())
            if synced is None:
                log("powerloss of %s: its fsynced size is unknown; nothing cut" % r.name)
            else:
                cut_to, as_of = synced
                with open(r.aof_path(), "r+b") as fh:
                    fh.truncate(cut_to)
                self.windows.append(LossWindow(r.name, as_of, t_kill,
                                               "simulated power loss of %s (everysec): "
                                               "acknowledged in its last %.2f s" %
                                               (r.name, t_kill - as_of)))
                self.powerloss_cut.append((r.name, size - cut_to))
                log("powerloss of %s: AOF cut from %d to %d bytes (what it had fsynced %.2f s "
                    "before the kill)" % (r.name, size, cut_to, t_kill - as_of))
            time.sleep(f.duration)
            self._restart(r, "powerloss", f.duration)
        elif f.kind == "stall":
            self.board.set(r.name, "stall")
            r.sigstop()
            time.sleep(f.duration)
            r.cont()
            self.board.clear(r.name)
        elif f.kind == "pause":
            self.board.set(r.name, "pause")
            self._sync(r, "PAUSE")
            time.sleep(f.duration)
            self._sync(r, "RESUME")
            self.board.clear(r.name)
        elif f.kind == "partition":
            for x in (r, o):
                self.board.set(x.name, "partition")
            self.net.partition(r.index, o.index)
            time.sleep(f.duration)
            self.net.heal(r.index, o.index)
            for x in (r, o):
                self.board.clear(x.name)
        elif f.kind == "isolate":
            self.board.set(r.name, "isolate")
            self.net.isolate(r.index)
            time.sleep(f.duration)
            self.net.unisolate(r.index)
            self.board.clear(r.name)
        elif f.kind == "wan":
            for x in self.cluster.regions:
                self.board.set(x.name, "wan")
            self.net.wan_on()
            time.sleep(2 * f.duration)
            self.net.wan_off()
            for x in self.cluster.regions:
                self.board.clear(x.name)
        else:
            raise ValueError(f.kind)

    def _sync(self, r, what):
        try:
            v = r.call("CRDT.SYNC", what, timeout=5.0)
        except OSError as e:
            raise AssertionError("CHAOS FAILURE: CRDT.SYNC %s on %s: %s" % (what, r.name, e))
        if v != b"OK":
            raise AssertionError("CHAOS FAILURE: CRDT.SYNC %s on %s replied %r" % (what, r.name, v))

    def heal_everything(self):
        """After the run (or on an error): every fault undone, every non-lost region running."""
        if self.net is not None:
            self.net.heal_all()
        for r in self.cluster.regions:
            if r.running() and r.stopped:
                r.cont()
            self.board.clear(r.name)
        for r in self.cluster.regions:
            if not r.lost and not r.running():
                r.start()
                r.wait_serving(timeout=60)

