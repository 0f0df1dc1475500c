#!/usr/bin/python3
"""The cost of being active-active (issue 13): an activekv region with two peers attached vs
redis-server with two replicas attached, measured in one run on the same cores.

Servers (every one appendonly yes, the same --appendfsync):
  redis+2   a redis-server master and two redis-server replicas (--replicaof), both replicas
            state=online before anything is measured;
  akv+2     region a of a three-region activekv database (a, b, c);
  akv       a lone activekv region (the latency baseline: "with peers attached, client p99/max
            at most 2x a region alone's").

For each test (-t, default set,incr,hset,sadd,zadd,lpush) without and with -P 16,
`redis-benchmark -c 50 -r 100000 --csv` runs against each server, in alternating order, --rounds times
(median). Each run is followed by a wait until every copy has every write (redis: the replicas'
offsets reach the master's; activekv: lag 0, equal version vectors), and the CPU time
(utime + stime of every thread, /proc/<pid>/stat) and voluntary context switches (summed over
/proc/<pid>/task/*/status) of every server process are taken across run + catch-up. So the CPU
per op counts the whole cost of replicating it.

Table 1: ops/s, ratio akv+2 / redis+2, client p99 and max latency (ms) of akv+2 and of a region
alone. Table 2: CPU us per op: origin (redis master / activekv a) and each copy (replica /
peer), the total, and its ratio; voluntary context switches per op, same split.

Targets (issue 13; reported, not asserted): ratio >= 1.0 in every row; total CPU per op <= redis's;
p99/max with peers <= 2x a region alone's. Not part of `make test`.

  /usr/bin/python3 tests/bench/bench_replication_cost.py              # ~5 min
  /usr/bin/python3 tests/bench/bench_replication_cost.py --quick      # smoke run
  /usr/bin/python3 tests/bench/bench_replication_cost.py -t set,incr --rounds 1
"""

import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "integration"))
sys.path.insert(0, _HERE)
import akv  # noqa: E402
from bench_sync_lag import Cluster  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of every thread of `pid` (dead threads included), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def voluntary_switches(pid):
    """Voluntary context switches of the live threads of `pid`."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except FileNotFoundError:  # a thread that just ended
            pass
    return total


def usage(pids):
    return {pid: (cpu_seconds(pid), voluntary_switches(pid)) for pid in pids}


class RedisGroup:
    """A redis-server master and two replicas."""

    def __init__(self, root, appendfsync):
        self.master = akv.RedisServer(os.path.join(root, "master"), appendfsync).start()
        self.replicas = [
            akv.RedisServer(os.path.join(root, "replica%d" % i), appendfsync,
                            extra_args=["--replicaof", akv.HOST, str(self.master.port)]).start()
            for i in range(2)]
        self.port = self.master.port
        self.wait_quiet(60)

    def replication(self):
        with akv.RespClient(self.master.port, timeout=5.0) as c:
            return akv.info_fields(c, "replication")

    def wait_quiet(self, timeout):
        """Both replicas online with the master's offset."""
        start = time.monotonic()
        while True:
            f = self.replication()
            offset = f.get("master_repl_offset")
            slaves = [v for k, v in f.items() if k.startswith("slave") and k[5:].isdigit()]
            if (len(slaves) == 2 and all("state=online" in s for s in slaves) and
                    all(("offset=%s," % offset) in s + "," for s in slaves)):
                return
            if time.monotonic() - start > timeout:
                raise RuntimeError("redis replicas not in sync after %.0f s: %r" % (timeout, f))
            time.sleep(0.01)

    def pids(self):
        return [self.master.proc.pid] + [r.proc.pid for r in self.replicas]

    def stop(self):
        for s in [self.master] + self.replicas:
            s.kill9()


class AkvGroup:
    def __init__(self, cluster):
        self.cluster = cluster
        self.port = cluster.port["a"]

    def wait_quiet(self, timeout):
        self.cluster.wait_quiet(timeout)

    def pids(self):
        return [r.proc.pid for r in self.cluster.regions]  # a first

    def stop(self):
        self.cluster.stop()


class Alone:
    def __init__(self, root, appendfsync):
        self.server = akv.ActiveKvServer(root, appendfsync).start()
        self.port = self.server.port

    def wait_quiet(self, timeout):
        pass

    def pids(self):
        return [self.server.proc.pid]

    def stop(self):
        self.server.kill9()


def bench(exe, port, test, n, clients, pipeline, timeout, keyspace):
    """One redis-benchmark run: {"rps", "p99", "max"} (latencies in ms)."""
    argv = [exe, "-h", akv.HOST, "-p", str(port), "-t", test, "-n", str(n), "-c", str(clients),
            "-r", str(keyspace), "--csv"]
    if pipeline > 1:
        argv += ["-P", str(pipeline)]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError("$ %s\nexit %d\n%s" % (" ".join(argv), p.returncode, out[-2000:]))
    header = None
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if cols and cols[0] == "test":
            header = cols
        elif header and cols and cols[0].upper() == test.upper():
            row = dict(zip(header, cols))
            return {"rps": float(row["rps"]), "p99": float(row["p99_latency_ms"]),
                    "max": float(row["max_latency_ms"])}
    raise RuntimeError("no CSV row for %s in redis-benchmark output:\n%s" % (test, out[-2000:]))


def measure(group, exe, test, n, args, pipeline):
    """A run plus the catch-up: the benchmark's figures and, per server process, CPU seconds
    and voluntary switches."""
    group.wait_quiet(120)
    pids = group.pids()
    before = usage(pids)
    r = bench(exe, group.port, test, n, args.clients, pipeline, args.timeout, args.keyspace)
    group.wait_quiet(120)
    after = usage(pids)
    r["cpu"] = [after[p][0] - before[p][0] for p in pids]
    r["csw"] = [after[p][1] - before[p][1] for p in pids]
    return r


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def median_list(runs, key):
    return [statistics.median(r[key][i] for r in runs) for i in range(len(runs[0][key]))]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-t", "--tests", default="set,incr,hset,sadd,zadd,lpush")
    ap.add_argument("-n", type=int, default=100000, help="requests per run without -P")
    ap.add_argument("--n-pipelined", type=int, default=400000, help="requests per run with -P")
    ap.add_argument("-c", "--clients", type=int, default=50)
    ap.add_argument("-P", "--pipeline", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-r", "--keyspace", type=int, default=100000,
                    help="redis-benchmark -r: random keys and members (without it SADD and ZADD "
                    "re-add one member, which redis-server does not replicate at all)")
    ap.add_argument("--appendfsync", choices=["no", "everysec", "always"], default="everysec")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per benchmark run")
    ap.add_argument("--quick", action="store_true", help="-t set,incr, small n, 1 round")
    ap.add_argument("--bin-dir", default=None)
    args = ap.parse_args()
    if args.quick:
        args.tests, args.n, args.n_pipelined, args.rounds = "set,incr", 20000, 80000, 1
    if args.bin_dir:
        os.environ["AKV_BIN_DIR"] = args.bin_dir
    exe = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                 "activekv-server (build it, or --bin-dir DIR)")
    rb = akv.require_executable("redis-benchmark", "redis-benchmark (Debian redis-tools)")
    tmp = tempfile.mkdtemp(prefix="akv-bench-cost-")
    exe = shutil.copy2(exe, os.path.join(tmp, "activekv-server"))  # immune to rebuilds mid-run
    started = time.monotonic()
    print("# bench_replication_cost: appendfsync %s, -c %d, %d cpus, load %.2f; logs in %s" %
          (args.appendfsync, args.clients, os.cpu_count(), os.getloadavg()[0], tmp), flush=True)
    groups = {}
    ok = False
    try:
        groups["redis+2"] = RedisGroup(os.path.join(tmp, "redis"), args.appendfsync)
        groups["akv+2"] = AkvGroup(Cluster(os.path.join(tmp, "akv"), exe,
                                           args.appendfsync).start())
        groups["akv"] = Alone(os.path.join(tmp, "alone"), args.appendfsync)
        tests = [t.strip() for t in args.tests.split(",") if t.strip()]
        runs = {}  # (test, pipeline, group) -> [measure()]
        for rnd in range(args.rounds):
            for pipeline in (1, args.pipeline):
                n = args.n if pipeline == 1 else args.n_pipelined
                for t in tests:
                    order = list(groups)
                    if rnd % 2:
                        order.reverse()
                    for g in order:
                        runs.setdefault((t, pipeline, g), []).append(
                            measure(groups[g], rb, t, n, args, pipeline))
        print("\n## Table 1: throughput and client latency (median of %d rounds)" % args.rounds)
        h1 = "%-6s %3s %12s %12s %6s %12s %15s %15s" % (
            "test", "-P", "redis+2", "akv+2", "ratio", "akv alone", "p99 ms +2/alone",
            "max ms +2/alone")
        print(h1)
        print("-" * len(h1))
        for pipeline in (1, args.pipeline):
            for t in tests:
                r, a, s = (runs[(t, pipeline, g)] for g in ("redis+2", "akv+2", "akv"))
                print("%-6s %3d %12.0f %12.0f %6.2f %12.0f %7.2f/%-7.2f %7.2f/%-7.2f" % (
                    t, pipeline, median_of(r, "rps"), median_of(a, "rps"),
                    median_of(a, "rps") / median_of(r, "rps"), median_of(s, "rps"),
                    median_of(a, "p99"), median_of(s, "p99"), median_of(a, "max"),
                    median_of(s, "max")))
        print("\n## Table 2: CPU us per op and voluntary context switches per op, run + catch-up")
        print("# origin = redis master / activekv a; copies = each replica / peer (b, c)")
        h2 = "%-6s %3s | %-26s %-26s %6s | %-21s %-21s" % (
            "test", "-P", "redis: origin copies =sum", "akv: origin copies =sum", "ratio",
            "redis csw/op", "akv csw/op")
        print(h2)
        print("-" * len(h2))
        for pipeline in (1, args.pipeline):
            n = args.n if pipeline == 1 else args.n_pipelined
            for t in tests:
                cells = []
                totals = []
                sw = []
                for g in ("redis+2", "akv+2"):
                    cpu = [c * 1e6 / n for c in median_list(runs[(t, pipeline, g)], "cpu")]
                    csw = [c / n for c in median_list(runs[(t, pipeline, g)], "csw")]
                    totals.append(sum(cpu))
                    cells.append("%5.1f %5.1f %5.1f =%6.1f" % (cpu[0], cpu[1], cpu[2], sum(cpu)))
                    sw.append("%5.2f %5.2f %5.2f" % tuple(csw))
                print("%-6s %3d | %-26s %-26s %6.2f | %-21s %-21s" % (
                    t, pipeline, cells[0], cells[1], totals[1] / totals[0], sw[0], sw[1]))
        ok = True
    except (RuntimeError, AssertionError, OSError, subprocess.TimeoutExpired) as e:
        print("\nFAILED: %s" % e, file=sys.stderr)
    finally:
        for g in groups.values():
            g.stop()
        akv.kill_all()
    print("\n# %.0f s" % (time.monotonic() - started))
    if ok:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("# logs and data kept in %s" % tmp, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
