"""The chaos scenarios (docs/chaos.md). Each returns a Summary; failures are in summary.failures."""

import os
import shutil
import subprocess
import tempfile
import threading
import time

from chaoslib import netlab, resp
from chaoslib.faults import AofSampler, FaultRunner, make_plan, synced_point
from chaoslib.procs import Cluster, kill_everything, log, vv_covers, vv_str
from chaoslib.report import Summary, fmt_s, gap_text
from chaoslib.verify import (LossWindow, check, check_relay, collections_text, counts_table,
                             read_views, wait_expired)
from chaoslib.workload import Client, FaultBoard

CLOCK_OFFSET_MS = 5000


class Env:
    """Per-scenario resources, all released by close() (also on failure)."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.root = tempfile.mkdtemp(prefix="akv-chaos-%s-" % scenario)
        self.net = None
        self.mounts = []
        log("%s: work dir %s" % (scenario, self.root))

    def netlab(self, n):
        ok, why = netlab.available()
        if not ok:
            return None, why
        self.net = netlab.NetLab(n)
        try:
            self.net.setup()
        except Exception as e:
            self.net.cleanup()
            self.net = None
            return None, "network namespace setup failed: %s" % e
        return self.net, ""

    def tmpfs(self, path, size):
        os.makedirs(path, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            return p.stdout.decode(errors="replace").strip() or "mount failed"
        self.mounts.append(path)
        return None

    def close(self, ok):
        kill_everything()
        if self.net is not None:
            self.net.cleanup()
            self.net = None
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.mounts = []
        if ok and not os.environ.get("CHAOS_KEEP_TMP"):
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            log("%s: logs and data kept in %s" % (self.scenario, self.root))


def _stop_clients(clients, stop, summary):
    stop.set()
    for c in clients:
        c.join(timeout=15)
        if c.is_alive():
            summary.fail("client c%d did not stop within 15 s (a reply never came?)" % c.idx)
        if c.error:
            summary.fail("client c%d crashed: %s" % (c.idx, c.error))
        for u in c.unexpected[:5]:
            summary.fail("unexpected reply: %s" % u)


def _writes_text(clients, seconds):
    kinds = counts_table(clients)
    total = sum(kinds.values())
    return ("%d in %.0f s (%.0f/s): %s" %
            (total, seconds, total / max(seconds, 1e-9),
             ", ".join("%s %d" % kv for kv in sorted(kinds.items())))), total


def _unacked_text(clients, verdict):
    indoubt = sum(c.counts.get("indoubt", 0) for c in clients)
    refused = sum(c.counts.get("refused", 0) for c in clients)
    skipped = {}
    for c in clients:
        for k, n in c.skipped.items():
            skipped[k] = skipped.get(k, 0) + n
    return ("in doubt %d (no reply: may or may not apply; %d counter units of them applied), "
            "refused %d (-MISCONF/-LOADING); guard skips: %s" %
            (indoubt, verdict.indoubt_applied, refused,
             ", ".join("%s %d" % kv for kv in sorted(skipped.items()))))


def _lost_text(verdict):
    if not verdict.lost:
        return "0"
    explained = [(w, why) for w, why in verdict.lost if why]
    unexplained = [w for w, why in verdict.lost if not why]
    lines = ["%d (%d explained, %d UNEXPLAINED)" % (len(verdict.lost), len(explained),
                                                     len(unexplained))]
    whys = {}
    for w, why in explained:
        whys.setdefault(why, []).append(w)
    for why, ws in whys.items():
        lines.append("%d x %s, e.g. %s" % (len(ws), why, ws[0]))
    for w in unexplained[:10]:
        lines.append("UNEXPLAINED: %s" % w)
    return "\n".join(lines)


def _restarts_text(runner):
    if not runner.restarts:
        return "none"
    serve = max(x["serve_s"] for x in runner.restarts)
    caught = [x["catchup_s"] for x in runner.restarts]
    lines = ["%d; serving after max %.3f s; caught up (has every op its peers had at restart) "
             "after max %s" % (len(runner.restarts), serve,
                               fmt_s(max(caught)) if None not in caught else "NEVER (30 s)")]
    for x in runner.restarts:
        lines.append("%s %s down %.1f s: serving %.3f s, caught up %s, links up %s" %
                     (x["region"], x["kind"], x["down_s"], x["serve_s"], fmt_s(x["catchup_s"]),
                      fmt_s(x["links_s"])))
    return "\n".join(lines)


def _diverged(cluster, clients):
    """When regions hold the same ops but differ: the tracked keys whose values differ (strings
    by MGET, sets by sorted SMEMBERS, hashes by sorted HGETALL)."""
    views = {r.name: read_views(r, clients) for r in cluster.live()}
    names = sorted(views)
    keys = sorted(views[names[0]]) if names else []
    out = []
    for k in keys:
        vs = {n: views[n][k] for n in names}
        if len(set(vs.values())) > 1:
            out.append("%s: %s" % (k, ", ".join("%s=%r" % (n, _short(x)) for n, x in vs.items())))
    return out


def _short(x):
    """A set/hash view, shortened for a failure line."""
    if isinstance(x, tuple) and len(x) > 6:
        return "%d entries: %r ..." % (len(x), x[:3])
    return x


def _converge(cluster, clients, summary, when, names=None, timeout=60):
    """wait_sync; on failure, a failure naming the differing keys when the version vectors are
    equal (same ops, different state: a convergence bug). Returns wait_sync's tuple or None."""
    try:
        return cluster.wait_sync(names=names, timeout=timeout)
    except AssertionError as e:
        msg = str(e).replace("CHAOS FAILURE: ", "")
        vvs = {r.name: vv_str(r.vv()[0]) for r in cluster.live()}
        if len(set(vvs.values())) == 1:
            diff = _diverged(cluster, clients)
            summary.fail("DIVERGENCE %s: every region applied the same ops (version vector %s) "
                         "but their state differs (digests); differing keys: %s" %
                         (when, next(iter(vvs.values())), "; ".join(diff[:5]) or
                          "none of the tracked keys"))
        else:
            summary.fail("no convergence %s: %s" % (when, msg))
        return None


def _final_restart(cluster, clients, victim, digest, summary, windows):
    """kill -9 + restart of one region after convergence: state and checks unchanged."""
    victim.kill9()
    victim.start()
    serve = victim.wait_serving(timeout=60)
    synced = _converge(cluster, clients, summary, "after the final kill -9 + restart of %s" %
                       victim.name)
    if synced is None:
        return "kill -9 + restart of %s: NOT back in sync within 60 s" % victim.name
    took, _, digest2 = synced
    if digest2 != digest:
        summary.fail("after kill -9 + restart of %s the digest changed: %s -> %s" %
                     (victim.name, digest, digest2))
    v2 = check(cluster, clients, [r.name for r in cluster.live()], windows)
    for f in v2.failures:
        summary.fail("after the final restart: " + f)
    return "kill -9 + restart of %s: serving %.3f s, in sync %.3f s, digest %s, checks %s" % (
        victim.name, serve, took, "unchanged" if digest2 == digest else "CHANGED",
        "pass" if not v2.failures else "FAIL")


def _quiet_powerloss(cluster, clients, sampler, victim, t_stop_wall, digest, summary, windows):
    """After convergence, with no client writing: a simulated power loss of `victim` that cuts
    its AOF back to its size 1 s before the workload stopped. Every op it loses is held by its
    peers (all regions had converged), so it must catch up again without any new write."""
    sample = sampler.size_before(victim.name, t_stop_wall - 1.0)
    victim.kill9()
    size = os.path.getsize(victim.aof_path())
    if sample is None or sample[1] >= size:
        victim.start()
        victim.wait_serving(timeout=60)
        cluster.wait_sync(timeout=60)
        return "skipped (no AOF size sample of %s from 1 s before the workload stopped)" % (
            victim.name)
    with open(victim.aof_path(), "r+b") as fh:
        fh.truncate(sample[1])
    victim.start()
    serve = victim.wait_serving(timeout=60)
    try:
        took, _, digest2 = cluster.wait_sync(timeout=20)
    except AssertionError as e:
        peers = {r.name: r.vv()[1] for r in cluster.live()}
        summary.fail(
            "after a simulated power loss that cut %d bytes from %s's AOF (ops its peers hold), "
            "with no new writes, %s did not catch up within 20 s: %s; links as %s sees them: %s" %
            (size - sample[1], victim.name, victim.name, str(e).replace("CHAOS FAILURE: ", ""),
             victim.name, peers.get(victim.name)))
        # Let it catch up anyway (a restart of every link), for the checks that follow.
        for r in cluster.live():
            r.call("CRDT.SYNC", "PAUSE")
            r.call("CRDT.SYNC", "RESUME")
        _converge(cluster, clients, summary, "after the final power loss (links reset)",
                  timeout=20)
        return "kill -9 of %s + AOF cut by %d bytes, no new writes: NOT caught up in 20 s" % (
            victim.name, size - sample[1])
    if digest2 != digest:
        summary.fail("after the final power loss of %s the digest changed: %s -> %s" %
                     (victim.name, digest, digest2))
    v = check(cluster, clients, cluster.names, windows)
    for f in v.failures:
        summary.fail("after the final power loss: " + f)
    return ("kill -9 of %s + AOF cut by %d bytes (ops its peers hold), no new writes: serving "
            "%.3f s, caught up and in sync %.3f s later, digest %s" %
            (victim.name, size - sample[1], serve, took,
             "unchanged" if digest2 == digest else "CHANGED"))


# ---------------------------------------------------------------------------------------------
# faults / everysec: the workload under a seeded fault schedule
# ---------------------------------------------------------------------------------------------


def workload_under_faults(scenario, seed, duration, appendfsync, kinds, use_net=True,
                          powerloss=False):
    summary = Summary(scenario)
    env = Env(scenario)
    ok = False
    stop = threading.Event()
    clients = []
    try:
        net, net_why = (env.netlab(3) if use_net else (None, "not requested"))
        if use_net and net is None:
            log("SKIP real network faults (partition, isolate, wan): %s" % net_why)
        kinds = [k for k in kinds if net is not None or k not in ("partition", "isolate", "wan")]
        cluster = Cluster(env.root, 3, appendfsync,
                          extra_args={"r2": ["--clock-offset-ms", str(CLOCK_OFFSET_MS)]}, net=net)
        cluster.start_all()
        board = FaultBoard()
        clients = [Client(i, cluster, cluster.regions[i], seed, stop, board) for i in range(3)]
        sampler = AofSampler(cluster) if powerloss else None
        if sampler:
            sampler.start()
        runner = FaultRunner(cluster, board, net, sampler)
        plan = make_plan(seed, duration, kinds, 3)
        log("plan (%d faults): %s" % (len(plan), "; ".join(map(repr, plan))))
        t0 = time.monotonic()
        for c in clients:
            c.start()
        try:
            runner.run(plan, t0, t0 + duration)
            rest = t0 + duration - time.monotonic()
            if rest > 0:
                time.sleep(rest)
        finally:
            runner.heal_everything()
        t_heal = time.monotonic()
        ran = t_heal - t0
        t_stop_wall = time.time()
        _stop_clients(clients, stop, summary)
        counts = dict(runner.counts)
        counts["clock_offset"] = 1
        summary.add("seed", "%d (replay: CHAOS_SEED=%d CHAOS_DURATION=%s /usr/bin/python3 "
                    "tests/chaos/chaos_run.py %s)" % (seed, seed, duration, scenario))
        net_text = ("network namespaces on %s.0/24" % net.host(0).rsplit(".", 1)[0]
                    if net else "loopback (real network faults SKIPPED: %s)" % net_why)
        summary.add("setup", "3 regions, appendfsync %s, %s, r2 clock +%d ms, %.0f s of faults" %
                    (appendfsync, net_text, CLOCK_OFFSET_MS, duration))
        if net is not None and counts.get("wan"):
            summary.add("wan links", net.describe_wan())
        summary.add("faults injected", "%s (total %d)" % (
            " ".join("%s=%d" % kv for kv in sorted(counts.items())), sum(counts.values())))
        text, _ = _writes_text(clients, ran)
        summary.add("acknowledged writes", text)
        for f in runner.problems:
            summary.fail(f)
        gt, _ = gap_text(clients)
        summary.add("max failover gap", gt)
        summary.add("max reply latency", "%.3f s (acknowledged ops; timeouts are in doubt)" %
                    max(c.max_latency for c in clients))
        summary.add("restarts / catch-up", _restarts_text(runner))
        synced = _converge(cluster, clients, summary, "after the faults were healed")
        if synced is None:
            return summary
        conv_after_heal = time.monotonic() - t_heal
        stuck = wait_expired(cluster, clients, runner.windows)
        synced = _converge(cluster, clients, summary, "after the expiries")
        if synced is None:
            return summary
        _, vv, digest = synced
        rc, out = cluster.ctl("wait-sync", "--timeout", "30")
        if rc != 0:
            summary.fail("activekvctl wait-sync disagrees with the INFO poll: %s" % out.strip())
        verdict = check(cluster, clients, cluster.names, runner.windows)
        for f in verdict.failures:
            summary.fail(f)
        if stuck:
            log("%d keys with an acknowledged PEXPIRE still present 20 s later, e.g. %s" %
                (len(stuck), stuck[0]))  # check() reports them as lost writes
        summary.add("not acknowledged", _unacked_text(clients, verdict))
        summary.add("sets / hashes", collections_text(verdict))
        if powerloss:
            at_risk = sum(1 for c in clients for a in c.acks
                          if any(w.covers(a) for w in runner.windows))
            lines = ["%d simulated (AOF cut by %s bytes); %d writes were acknowledged inside "
                     "them (at risk)" % (len(runner.windows),
                                         "+".join(str(b) for _, b in runner.powerloss_cut) or "0",
                                         at_risk)]
            for p in runner.powerloss_origins:
                end = vv.get(p["origin"], 0)
                lines.append("%s: origin %s had >= %d ops at the kill, its peers %d; after "
                             "recovery the origin ends at %d: %d ops lost (acknowledged, not "
                             "fsynced, not yet pulled by a peer)" %
                             (p["region"], p["origin"], p["had"], p["peers_had"], end,
                              max(0, p["had"] - end)))
                if end < p["peers_had"]:
                    summary.fail("after the power loss of %s, its old origin %s ends at seq %d "
                                 "but a peer held %d at the kill: the survivors did not relay "
                                 "its ops back" % (p["region"], p["origin"], end, p["peers_had"]))
            summary.add("power-loss windows", "\n".join(lines))
        summary.add("writes lost", _lost_text(verdict))
        summary.add("convergence after heal", "%.3f s (all regions: equal version vectors and "
                    "digests, zero lag); %s" % (conv_after_heal, out.strip().splitlines()[-1]
                                                 if out.strip() else ""))
        summary.add("final state", "version vector %s, digest %s" % (vv_str(vv), digest))
        if sampler:
            summary.add("final power loss",
                        _quiet_powerloss(cluster, clients, sampler,
                                         cluster.regions[(seed + 1) % 3], t_stop_wall, digest,
                                         summary, runner.windows))
            sampler.stop_event.set()
        summary.add("final durability",
                    _final_restart(cluster, clients, cluster.regions[seed % 3], digest, summary,
                                   runner.windows))
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        stop.set()
        env.close(ok and not summary.failures)
    return summary


# ---------------------------------------------------------------------------------------------
# lost: a region lost for good; survivors converge, relaying its ops
# ---------------------------------------------------------------------------------------------


def region_lost(seed, duration=6.0):
    summary = Summary("lost")
    env = Env("lost")
    ok = False
    stop = threading.Event()
    try:
        cluster = Cluster(env.root, 3, "always")
        cluster.start_all()
        board = FaultBoard()
        clients = [Client(i, cluster, cluster.regions[i], seed, stop, board) for i in range(3)]
        r0, r1, r2 = cluster.regions
        t0 = time.monotonic()
        for c in clients:
            c.start()
        time.sleep(duration * 0.3)
        # r1 stops replicating: r2's next ops reach r0 only.
        if r1.call("CRDT.SYNC", "PAUSE") != b"OK":
            raise AssertionError("CRDT.SYNC PAUSE failed")
        time.sleep(duration * 0.3)
        board.set(r2.name, "lost")
        before = {r.name: r.vv()[0] for r in (r0, r1)}
        r2.kill9()
        t_kill = time.time()
        r2.lost = True
        window = LossWindow("r2", t_kill - 1.0, t_kill,
                            "acknowledged by r2 in its last second, never pulled by a peer "
                            "before it was lost")
        after_kill = {r.name: r.vv()[0] for r in (r0, r1)}
        r1.call("CRDT.SYNC", "RESUME")
        time.sleep(duration * 0.4)
        t_heal = time.monotonic()
        _stop_clients(clients, stop, summary)
        if _converge(cluster, clients, summary, "of the survivors", names=["r0", "r1"]) is None:
            return summary
        conv_after = time.monotonic() - t_heal
        wait_expired(cluster, clients, [window])
        if _converge(cluster, clients, summary, "of the survivors after the expiries",
                     names=["r0", "r1"]) is None:
            return summary
        final = {r.name: r.vv()[0] for r in (r0, r1)}
        want, bad = check_relay(after_kill, final, "r2")
        if bad:
            summary.fail("survivors miss ops of the lost region r2 that a survivor had: want "
                         "r2:%d, got %s" % (want, bad))
        gap_r1 = want - before["r1"].get("r2", 0)
        verdict = check(cluster, clients, ["r0", "r1"], [window])
        for f in verdict.failures:
            summary.fail(f)
        acked_r2 = sum(1 for c in clients for a in c.acks if a.region == "r2")
        summary.add("seed", "%d (replay: CHAOS_SEED=%d /usr/bin/python3 tests/chaos/chaos_run.py "
                    "lost)" % (seed, seed))
        summary.add("setup", "3 regions, appendfsync always, loopback; r1 replication paused, "
                    "then r2 killed for good, then r1 resumed")
        summary.add("faults injected", "pause=1 lost_region=1 (total 2)")
        text, _ = _writes_text(clients, time.monotonic() - t0)
        summary.add("acknowledged writes", text + "; %d acknowledged by r2" % acked_r2)
        summary.add("not acknowledged", _unacked_text(clients, verdict))
        summary.add("sets / hashes", collections_text(verdict))
        summary.add("relay", "r2 ops held at its death: r0 r2:%d, r1 r2:%d; after convergence "
                    "both r2:%d (%d ops reached r1 only through r0)" %
                    (after_kill["r0"].get("r2", 0), after_kill["r1"].get("r2", 0),
                     final["r0"].get("r2", 0), gap_r1))
        summary.add("writes lost", _lost_text(verdict))
        gt, _ = gap_text(clients)
        summary.add("max failover gap", gt)
        summary.add("convergence after heal", "%.3f s (r0, r1)" % conv_after)
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        stop.set()
        env.close(ok and not summary.failures)
    return summary


# ---------------------------------------------------------------------------------------------
# catchup: partial sync vs full resync
# ---------------------------------------------------------------------------------------------


def _peer_sum(region, field):
    return sum(p.get(field, 0) for p in region.vv()[1].values())


def _resyncs_sent(cluster, to):
    return sum(r.vv()[1].get(to, {}).get("full_resyncs_sent", 0)
               for r in cluster.regions if r.name != to and r.serving())


def _catch_up(cluster, victim, write, summary, what):
    """kill -9 victim, write() on the others, restart: returns a dict of measurements."""
    others = [r for r in cluster.regions if r is not victim]
    victim.kill9()
    missed = write()
    target = {}
    for r in others:
        for k, v in r.vv()[0].items():
            target[k] = max(target.get(k, 0), v)
    resyncs0 = _resyncs_sent(cluster, victim.name)
    t = time.monotonic()
    victim.start()
    serve = victim.wait_serving(timeout=60)
    caught = None
    while time.monotonic() - t < 60:
        if vv_covers(victim.vv()[0], target):
            caught = time.monotonic() - t
            break
        time.sleep(0.01)
    if caught is None:
        summary.fail("%s: %s did not catch up within 60 s" % (what, victim.name))
    cluster.wait_sync(timeout=60)
    return {"missed": missed, "serve": serve, "caught": caught,
            "bytes": _peer_sum(victim, "bytes_received"),
            "ops": _peer_sum(victim, "ops_received"),
            "resyncs": _resyncs_sent(cluster, victim.name) - resyncs0}


def catchup(seed, log_ops=3000):
    summary = Summary("catchup")
    env = Env("catchup")
    ok = False
    try:
        cluster = Cluster(env.root, 3, "always",
                          extra_args={n: ["--replication-log-ops", str(log_ops)]
                                      for n in ("r0", "r1", "r2")})
        cluster.start_all()
        r0, r1, r2 = cluster.regions
        value = "v" * 100
        with r0.client() as c:
            c.pipeline([("SET", "pre:%d" % i, value) for i in range(2000)])
        cluster.wait_sync()

        def short():
            with r0.client() as a, r1.client() as b:
                a.pipeline([("SET", "short:%d" % i, value) for i in range(500)])
                b.pipeline([("INCRBY", "short:ctr", 1) for _ in range(100)])
            return 600

        def long():
            with r0.client() as a:
                for k in range(0, 3 * log_ops, 1000):
                    a.pipeline([("SET", "long:%d" % i, value) for i in range(k, k + 1000)])
            return 3 * log_ops

        partial = _catch_up(cluster, r2, short, summary, "partial sync")
        full = _catch_up(cluster, r2, long, summary, "full resync")
        if partial["resyncs"] != 0:
            summary.fail("a region down for 600 ops (log keeps %d) got a full resync" % log_ops)
        if full["resyncs"] < 1:
            summary.fail("a region %d ops behind (log keeps %d) got no full resync" %
                         (full["missed"], log_ops))
        # Partial: bytes proportional to what was missed (~150 B an op).
        if partial["bytes"] > partial["missed"] * 150 + 64 * 1024:
            summary.fail("partial sync moved %d bytes for %d missed ops" %
                         (partial["bytes"], partial["missed"]))
        # Each missed op arrives once: from its origin, not also relayed by the other peer (the
        # restarted region's hellos hold its peers until every link answered; finding 4).
        for name, c in (("partial sync", partial), ("full resync", full)):
            if c["ops"] > c["missed"]:
                summary.fail("%s: %d ops received for %d missed (duplicates from relaying peers)"
                             % (name, c["ops"], c["missed"]))
        with r2.client() as c:
            n = c.call("DBSIZE").value
            ctr = c.call("GET", "short:ctr").value
        if n != 2000 + 500 + 1 + 3 * log_ops or ctr != b"100":
            summary.fail("after catch-up r2 has %r keys (want %d) and short:ctr=%r" %
                         (n, 2000 + 500 + 1 + 3 * log_ops, ctr))
        summary.add("seed", "%d (deterministic scenario)" % seed)
        summary.add("setup", "3 regions, appendfsync always, --replication-log-ops %d, 2000 keys "
                    "of 100 B" % log_ops)
        summary.add("faults injected", "kill=2 (r2, restarted)")
        for name, m in (("partial sync", partial), ("full resync", full)):
            summary.add(name, "missed %d ops; full resyncs %d; received %d ops, %d bytes (%.0f B "
                        "per missed op); serving after %s, caught up after %s" %
                        (m["missed"], m["resyncs"], m["ops"], m["bytes"],
                         m["bytes"] / max(m["missed"], 1), fmt_s(m["serve"]), fmt_s(m["caught"])))
        summary.add("writes lost", "0" if not summary.failures else "see failures")
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        env.close(ok and not summary.failures)
    return summary


# ---------------------------------------------------------------------------------------------
# recovery: a killed region with a large dataset
# ---------------------------------------------------------------------------------------------


class Prober(threading.Thread):
    """Hammers one region with PING/GET/SET on a fresh connection whenever needed; records the
    latency of every reply and every refused connection. Never waits more than `timeout`."""

    def __init__(self, region, stop, timeout=5.0):
        super().__init__(name="prober", daemon=True)
        self.region, self.stop_event, self.timeout = region, stop, timeout
        self.samples = []  # (monotonic end, latency, kind)
        self.refused = 0
        self.loading = 0
        self.timeouts = 0
        self.first_reply = None

    def run(self):
        c = None
        i = 0
        while not self.stop_event.is_set():
            if c is None:
                try:
                    c = resp.RespClient(self.region.port, host=self.region.host,
                                        timeout=self.timeout)
                except OSError:
                    self.refused += 1
                    time.sleep(0.005)
                    continue
            i += 1
            cmd = [("PING",), ("GET", "k:%d" % (i % 1000)), ("SET", "probe:%d" % i, "x")][i % 3]
            t = time.monotonic()
            try:
                v = c.call(*cmd).value
            except socket_errors() as e:
                if isinstance(e, OSError) and "timed out" in str(e):
                    self.timeouts += 1
                c.close()
                c = None
                continue
            now = time.monotonic()
            if isinstance(v, resp.Err) and v.code == b"LOADING":
                self.loading += 1
            if self.first_reply is None:
                self.first_reply = now
            self.samples.append((now, now - t, cmd[0]))
        if c is not None:
            c.close()


def socket_errors():
    return (OSError, resp.ConnectionClosed, resp.ProtocolViolation)


def recovery(seed, keys=None, target_s=None):
    keys = keys or int(os.environ.get("CHAOS_RECOVERY_KEYS", "300000"))
    # The target (issue 4): serving and caught up within 2 s of the restart with 300k keys. It is
    # a performance figure: reported against 2 s always, enforced only when asked
    # (CHAOS_RECOVERY_TARGET_S=2), so sanitizer and debug builds test correctness, not speed.
    report_target_s = 2.0 if keys <= 300000 else None
    if target_s is None and os.environ.get("CHAOS_RECOVERY_TARGET_S"):
        target_s = float(os.environ["CHAOS_RECOVERY_TARGET_S"])
    summary = Summary("recovery")
    env = Env("recovery")
    ok = False
    stop = threading.Event()
    try:
        cluster = Cluster(env.root, 3, "always")
        cluster.start_all()
        r0, r1, r2 = cluster.regions
        t = time.monotonic()
        value = "v" * 16
        with r0.client(timeout=120) as c:
            for k in range(0, keys, 20000):
                cmds = []
                for j in range(k, min(keys, k + 20000), 1000):
                    args = ["MSET"]
                    for i in range(j, min(keys, j + 1000)):
                        args += ["k:%d" % i, value]
                    cmds.append(args)
                for rep in c.pipeline(cmds):
                    if rep.value != b"OK":
                        raise AssertionError("MSET while loading: %r" % rep.raw)
        load = time.monotonic() - t
        sync, _, _ = cluster.wait_sync(timeout=300)
        log("loaded %d keys in %.1f s; replicated %.1f s later" % (keys, load, sync))
        aof = os.path.getsize(r2.aof_path())
        t = time.monotonic()
        r2.call("CRDT.DIGEST", timeout=60)
        digest_s = time.monotonic() - t
        board = FaultBoard()
        writers = [Client(i, cluster, cluster.regions[i], seed, stop, board) for i in (0, 1)]
        t_writers = time.monotonic()
        for w in writers:
            w.start()
        time.sleep(0.5)
        r2.kill9()
        time.sleep(1.0)
        target = {}
        for r in (r0, r1):
            for k, v in r.vv()[0].items():
                target[k] = max(target.get(k, 0), v)
        pstop = threading.Event()
        prober = Prober(r2, pstop)
        t_start = time.monotonic()
        r2.start()
        prober.start()
        serve = r2.wait_serving(timeout=120)
        caught = None
        while time.monotonic() - t_start < 120:
            try:
                if vv_covers(r2.vv(timeout=10)[0], target):
                    caught = time.monotonic() - t_start
                    break
            except socket_errors():
                pass
            time.sleep(0.01)
        t_caught = time.monotonic()
        time.sleep(0.5)
        pstop.set()
        prober.join(timeout=15)
        _stop_clients(writers, stop, summary)
        wait_expired(cluster, writers)
        took, vv, digest = cluster.wait_sync(timeout=120)
        verdict = check(cluster, writers, cluster.names)
        for f in verdict.failures:
            summary.fail(f)
        during = [s for s in prober.samples if s[0] <= t_caught + 0.5]
        max_lat = max((s[1] for s in during), default=None)
        if caught is None:
            summary.fail("restarted region not caught up within 120 s")
        elif target_s is not None and caught > target_s:
            summary.fail("recovery of %d keys took %.2f s (serving %.2f s), target %.1f s "
                         "(CHAOS_RECOVERY_TARGET_S)" % (keys, caught, serve, target_s))
        if prober.timeouts:
            summary.fail("%d requests to the recovering region got no reply within %.0f s" %
                         (prober.timeouts, prober.timeout))
        summary.add("seed", "%d (replay: CHAOS_SEED=%d CHAOS_RECOVERY_KEYS=%d /usr/bin/python3 "
                    "tests/chaos/chaos_run.py recovery)" % (seed, seed, keys))
        summary.add("setup", "3 regions, appendfsync always, %d keys loaded in %.1f s "
                    "(replicated %.1f s later), r2 AOF %.1f MB" % (keys, load, sync, aof / 1e6))
        summary.add("faults injected", "kill=1 (r2, down 1.0 s while r0/r1 take writes)")
        text, _ = _writes_text(writers, time.monotonic() - t_writers)
        summary.add("acknowledged writes", text + " (clients of r0 and r1, during the outage)")
        summary.add("sets / hashes", collections_text(verdict))
        shown = target_s or report_target_s
        summary.add("recovery time", "serving (PING) %s after restart, caught up %s after "
                    "restart (%s%s)" % (fmt_s(serve), fmt_s(caught),
                                        "target %.1f s" % shown if shown else "no target",
                                        "" if target_s else ", reported, not enforced"))
        summary.add("clients during recovery", "%d connections refused while replaying, %d "
                    "-LOADING, %d replies, max reply latency %s, %d timeouts" %
                    (prober.refused, prober.loading, len(during), fmt_s(max_lat),
                     prober.timeouts))
        summary.add("writes lost", _lost_text(verdict))
        summary.add("convergence after heal", "%.3f s after the writers stopped (each poll "
                    "computes CRDT.DIGEST: %.3f s for %d keys, on the region's event loop)" %
                    (took, digest_s, keys))
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        stop.set()
        env.close(ok and not summary.failures)
    return summary


# ---------------------------------------------------------------------------------------------
# disk: a full disk for one region
# ---------------------------------------------------------------------------------------------


def full_disk(seed, size="8m"):
    summary = Summary("disk")
    env = Env("disk")
    ok = False
    stop = threading.Event()
    try:
        if os.geteuid() != 0:
            summary.skipped = "not running as root: mount -t tmpfs needs CAP_SYS_ADMIN"
            log("SKIP full disk: " + summary.skipped)
            ok = True
            return summary
        mnt = os.path.join(env.root, "tmpfs-r1")
        err = env.tmpfs(mnt, size)
        if err:
            summary.skipped = "mount -t tmpfs failed: %s" % err
            log("SKIP full disk: " + summary.skipped)
            ok = True
            return summary
        cluster = Cluster(env.root, 3, "always", data_dirs={"r1": os.path.join(mnt, "r1")})
        cluster.start_all()
        r0, r1, r2 = cluster.regions
        board = FaultBoard()
        clients = [Client(i, cluster, cluster.regions[i], seed, stop, board) for i in range(3)]
        t0 = time.monotonic()
        for c in clients:
            c.start()
        if r1.call("SET", "disk:before", "kept") != b"OK":
            raise AssertionError("SET on r1 failed before the disk filled")
        time.sleep(1.5)
        board.set("r1", "full_disk")
        filler = os.path.join(mnt, "filler")
        filled = 0
        # Unbuffered: with a buffer, the bytes a failed write left behind are written again when
        # the file is closed, and that ENOSPC escapes the loop.
        with open(filler, "wb", buffering=0) as f:
            chunk = b"\0" * 65536
            try:
                while True:
                    n = f.write(chunk)
                    if not n:
                        break
                    filled += n
            except OSError:
                pass
        log("disk of r1 full: filler %d bytes" % filled)
        # r1 must refuse writes with -MISCONF (a write caught in flight may wait: in doubt).
        misconf = None
        probe_acked, probe_indoubt = [], []
        t_fill = time.monotonic()
        i = 0
        while time.monotonic() - t_fill < 20:
            i += 1
            key = "disk:probe:%d" % i
            try:
                with r1.client(timeout=1.0) as c:
                    v = c.call("SET", key, "p").value
            except socket_errors():
                probe_indoubt.append(key)
                continue
            if isinstance(v, resp.Err) and v.code == b"MISCONF":
                misconf = v.message.decode(errors="replace")
                break
            if v == b"OK":
                probe_acked.append(key)
            time.sleep(0.01)
        if misconf is None:
            summary.fail("r1 with a full disk did not answer -MISCONF within 20 s")
        t_misconf = time.monotonic() - t_fill
        # Reads still served; peers still replicate among themselves; INFO answers.
        got = r1.call("GET", "disk:before")
        if got != b"kept":
            summary.fail("r1 with a full disk: GET disk:before -> %r" % got)
        info = r1.info("persistence")
        r0.call("SET", "disk:peer", "ok")
        t = time.monotonic()
        while r2.call("GET", "disk:peer") != b"ok":
            if time.monotonic() - t > 10:
                summary.fail("r0 -> r2 replication stalled while r1's disk was full")
                break
            time.sleep(0.02)
        time.sleep(2.0)  # the workload keeps going: r1's clients fail over
        os.unlink(filler)
        t_free = time.monotonic()
        recovered = None
        while time.monotonic() - t_free < 30:
            try:
                with r1.client(timeout=2.0) as c:
                    v = c.call("SET", "disk:after", "ok").value
                if v == b"OK":
                    recovered = time.monotonic() - t_free
                    break
            except socket_errors():
                pass
            time.sleep(0.02)
        board.clear("r1")
        if recovered is None:
            summary.fail("r1 still refuses writes 30 s after space was freed")
        time.sleep(1.5)
        t_heal = time.monotonic()
        _stop_clients(clients, stop, summary)
        if _converge(cluster, clients, summary, "after the disk recovered") is None:
            return summary
        conv_after = time.monotonic() - t_heal
        wait_expired(cluster, clients)
        synced = _converge(cluster, clients, summary, "after the expiries")
        if synced is None:
            return summary
        _, vv, digest = synced
        verdict = check(cluster, clients, cluster.names)
        for k in probe_acked + ["disk:before", "disk:after", "disk:peer"]:
            if any(r.call("GET", k) is None for r in cluster.regions):
                verdict.fail("acknowledged %s missing after the disk recovered" % k)
        for f in verdict.failures:
            summary.fail(f)
        final = _final_restart(cluster, clients, r1, digest, summary, [])
        summary.add("seed", "%d (replay: CHAOS_SEED=%d /usr/bin/python3 tests/chaos/chaos_run.py "
                    "disk)" % (seed, seed))
        summary.add("setup", "3 regions, appendfsync always, r1 data_dir on a %s tmpfs" % size)
        summary.add("faults injected", "full_disk=1 (r1: filler of %d bytes, %.1f s)" %
                    (filled, t_free - t_fill))
        text, _ = _writes_text(clients, time.monotonic() - t0)
        summary.add("acknowledged writes", text)
        summary.add("not acknowledged", _unacked_text(clients, verdict))
        summary.add("sets / hashes", collections_text(verdict))
        summary.add("full disk", "-MISCONF %.2f s after the disk filled (%d probe writes acked "
                    "before, %d in doubt): %s; reads served; aof_last_write_status=%s" %
                    (t_misconf, len(probe_acked), len(probe_indoubt), misconf,
                     info.get("aof_last_write_status")))
        summary.add("recovery", "writes accepted %s after space was freed" % fmt_s(recovered))
        summary.add("writes lost", _lost_text(verdict))
        gt, _ = gap_text(clients)
        summary.add("max failover gap", gt)
        summary.add("convergence after heal", "%.3f s" % conv_after)
        summary.add("final durability", final)
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        stop.set()
        env.close(ok and not summary.failures)
    return summary


# ---------------------------------------------------------------------------------------------
# clock: one region's clock runs CLOCK_OFFSET_MS fast
# ---------------------------------------------------------------------------------------------


def _wait_value(region, key, want, timeout=10.0):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if region.call("GET", key) == want:
            return time.monotonic() - t
        time.sleep(0.005)
    return None


def _link_times(cluster, target, t0, probe_key=None, timeout=15.0):
    """Seconds (from t0) until every other region's pull link from `target` is connected, and
    until `probe_key` is visible in every other region."""
    seen = {}
    visible = {}
    others = [r for r in cluster.regions if r is not target]
    while time.monotonic() - t0 < timeout and (len(seen) < len(others) or
                                                (probe_key and len(visible) < len(others))):
        for r in others:
            if r.name not in seen and r.vv()[1].get(target.name, {}).get("connected") == 1:
                seen[r.name] = time.monotonic() - t0
            if probe_key and r.name not in visible and r.call("GET", probe_key) is not None:
                visible[r.name] = time.monotonic() - t0
        time.sleep(0.01)
    return seen, visible


def clock(seed):
    summary = Summary("clock")
    env = Env("clock")
    ok = False
    try:
        d = CLOCK_OFFSET_MS
        cluster = Cluster(env.root, 3, "always",
                          extra_args={"r2": ["--clock-offset-ms", str(d)]})
        cluster.start_all()
        r0, r1, r2 = cluster.regions
        # 1. Once a region has seen the fast region's write, its own later write wins.
        r2.call("SET", "clk:observed", "fast")
        _wait_value(r0, "clk:observed", b"fast")
        r0.call("SET", "clk:observed", "later")
        cluster.wait_sync()
        vals = {r.name: r.call("GET", "clk:observed") for r in cluster.regions}
        if set(vals.values()) != {b"later"}:
            summary.fail("a write issued after observing the fast region's write lost LWW: %s" %
                         vals)
        # 2. The documented bound: a concurrent write issued < D later loses to the fast one.
        for r in (r0, r2):
            r.call("CRDT.SYNC", "PAUSE")
        r2.call("SET", "clk:concurrent", "fast")
        time.sleep(0.5)
        r0.call("SET", "clk:concurrent", "half-a-second-later")
        for r in (r0, r2):
            r.call("CRDT.SYNC", "RESUME")
        cluster.wait_sync()
        concurrent = r1.call("GET", "clk:concurrent")
        if concurrent != b"fast":
            summary.fail("concurrent write 0.5 s after the +%d ms region's: %r won, the "
                         "documented bound says the fast one wins" % (d, concurrent))
        # 3. kill -9 + immediate restart of the fast region: peers must reconnect as usual.
        r2.call("SET", "clk:before-kill", "x")
        cluster.wait_sync()
        r2.kill9()
        t0 = time.monotonic()
        r2.start()
        serve = r2.wait_serving()
        r2.call("SET", "clk:after-restart", "y")
        seen, visible = _link_times(cluster, r2, t0, "clk:after-restart")
        limit = 2.5
        late = {n: s for n, s in seen.items() if s - serve > limit}
        missing = [r.name for r in (r0, r1) if r.name not in seen]
        if late or missing:
            summary.fail(
                "after kill -9 + restart of the region whose clock runs +%d ms, peers "
                "reconnected to it after %s (it served after %.3f s; limit %.1f s more; missing: "
                "%s). Suspected: the replicator times its reconnect backoff and heartbeats with "
                "the HLC-based NowMs(), which stands still until the wall clock catches up with "
                "the fast region's last timestamp" %
                (d, ", ".join("%s %.3f s" % kv for kv in sorted(seen.items())) or "never",
                 serve, limit, ",".join(missing) or "none"))
        summary.add("seed", "%d (deterministic scenario)" % seed)
        summary.add("setup", "3 regions, appendfsync always, loopback, r2 clock +%d ms" % d)
        summary.add("faults injected", "clock_offset=1 pause=2 kill=1")
        summary.add("lww after observing", "a write issued after observing the fast region's "
                    "write wins: %s" % ", ".join("%s=%s" % (n, v.decode() if v else v)
                                                 for n, v in sorted(vals.items())))
        summary.add("lww concurrent", "the fast region's write (%s) wins over a concurrent one "
                    "issued 0.5 s later elsewhere (documented bound)" %
                    (concurrent.decode() if concurrent else concurrent))
        summary.add("restart of fast region", "serving %.3f s after restart; peers' links to it "
                    "up after %s; its first write visible in %s" %
                    (serve, ", ".join("%s %.3f s" % kv for kv in sorted(seen.items())) or "never",
                     ", ".join("%s %.3f s" % kv for kv in sorted(visible.items())) or "none"))
        summary.add("writes lost", "0")
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        env.close(ok and not summary.failures)
    return summary


# ---------------------------------------------------------------------------------------------
# powerloss: deterministic everysec power-loss cases (the everysec scenario hits them at random)
# ---------------------------------------------------------------------------------------------


def _cut_and_restart(region, size):
    region.kill9()
    with open(region.aof_path(), "r+b") as fh:
        fh.truncate(size)
    region.start()
    return region.wait_serving(timeout=60)


def _wait_aof_synced(region, timeout=5.0):
    """everysec: until the last write is covered by an fsync (INFO aof_last_fsync_unix_ms moves
    past the moment this was called)."""
    t = time.time() * 1000
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(region.info("persistence").get("aof_last_fsync_unix_ms", 0)) > t:
            return
        time.sleep(0.05)


def powerloss(seed, ops=20000):
    summary = Summary("powerloss")
    env = Env("powerloss")
    ok = False
    try:
        summary.add("seed", "%d (deterministic scenario)" % seed)
        summary.add("setup", "2 regions, appendfsync everysec, loopback; a power loss = kill -9 "
                    "+ the AOF cut back to an earlier size")
        # 1. A region loses ops it had acknowledged; its peer still holds them: it must get them
        #    back, with no new write to nudge the link.
        cluster = Cluster(os.path.join(env.root, "regain"), 2, "everysec")
        cluster.start_all()
        r0, r1 = cluster.regions
        r0.call("SET", "base", "1")
        cluster.wait_sync()
        _wait_aof_synced(r0)
        size = os.path.getsize(r0.aof_path())
        with r1.client() as c:
            for k in range(0, ops, 1000):
                c.pipeline([("SET", "k:%d" % i, "v") for i in range(k, k + 1000)])
        cluster.wait_sync()
        _cut_and_restart(r0, size)
        t = time.monotonic()
        try:
            took, _, _ = cluster.wait_sync(timeout=15)
            regain = "%d ops re-pulled in %.3f s" % (ops, took)
        except AssertionError:
            vv, peers, _ = r0.vv()
            regain = "stuck at %s of r1:%d after 15 s" % (vv_str(vv), ops)
            summary.fail(
                "r0 lost %d ops of r1 that it had acknowledged (power loss) and got only %s back "
                "in %.0f s with the link up (r0 sees r1: %s; r1 sees r0: %s). Suspected: "
                "SyncerCore::OnAck merges the peer's pre-crash `acked` into `known`, so the "
                "server skips what the puller lost" %
                (ops, vv_str(vv), time.monotonic() - t, peers.get("r1"),
                 r1.vv()[1].get("r0")))
        summary.add("lost acked ops", regain)
        cluster.stop_all()
        # 2. Counter folding: r0's increment reaches r1 but is not fsynced by r0; r0 loses it in
        #    a power loss, and its new incarnation writes a base that observed the old base but
        #    not the increment, before re-pulling it. r1 must not have folded the increment (it
        #    was never fsynced by r0), so everyone ends with 7 + 5. The power loss cuts the AOF
        #    to what r0 had fsynced (INFO aof_fsynced_size, read just before the kill); if the
        #    once-a-second fsync covered the increment meanwhile, the round is repeated.
        cluster = Cluster(os.path.join(env.root, "fold"), 2, "everysec")
        cluster.start_all()
        r0, r1 = cluster.regions
        rounds, key, want = 0, None, None
        for attempt in range(6):
            key = "m%d" % attempt
            r1.call("SET", key, "100")
            cluster.wait_sync()
            _wait_aof_synced(r0)
            size = os.path.getsize(r0.aof_path())
            r0.call("INCRBY", key, "5")
            cluster.wait_sync()
            r1.call("CRDT.SYNC", "PAUSE")  # r0 must write before it can re-pull its increment
            synced = synced_point(r0)
            r0.kill9()
            rounds += 1
            if synced is None or synced[0] > size:  # the increment may be on disk: no loss
                r0.start()
                r0.wait_serving(timeout=60)
                r1.call("CRDT.SYNC", "RESUME")
                cluster.wait_sync()
                continue
            with open(r0.aof_path(), "r+b") as fh:
                fh.truncate(synced[0])
            r0.start()
            r0.wait_serving(timeout=60)
            want = b"12"
            break
        if want is None:
            summary.fail("the increment was fsynced before the kill in every one of %d rounds"
                         % rounds)
        r0.call("SET", key, "7")
        r1.call("CRDT.SYNC", "RESUME")
        diverged = None
        try:
            cluster.wait_sync(timeout=10)
        except AssertionError:
            diverged = {r.name: r.call("GET", key) for r in cluster.regions}
            vvs = {r.name: vv_str(r.vv()[0]) for r in cluster.regions}
            summary.fail(
                "DIVERGENCE: r1 SET %s 100; r0 INCRBY %s 5; power loss of r0 loses the "
                "increment; r0 (new incarnation) SET %s 7 before re-pulling it: %s with version "
                "vectors %s" % (key, key, key, ", ".join(
                    "%s=%s" % (n, v.decode() if v else v) for n, v in sorted(diverged.items())),
                    vvs))
        vals = {r.name: r.call("GET", key) for r in cluster.regions}
        if want is not None and not diverged and any(v != want for v in vals.values()):
            summary.fail("after the power loss %s is %s, not 7 + the concurrent 5 everywhere" %
                         (key, vals))
        summary.add("fold after power loss", "%s = %s%s (round %d)" % (
            key, ", ".join("%s=%s" % (n, v.decode() if v else v) for n, v in sorted(vals.items())),
            " (DIVERGED)" if diverged else " everywhere", rounds))
        summary.add("writes lost", "0 expected (every lost op was held by the peer)")
        ok = not summary.failures
    except AssertionError as e:
        summary.fail(str(e))
    finally:
        env.close(ok and not summary.failures)
    return summary
