#!/usr/bin/python3
"""activekv-server vs redis-server throughput with redis-benchmark, same persistence policy.

For each appendfsync policy (no, everysec, always) it starts a fresh redis-server and a fresh
activekv-server, then runs `redis-benchmark -t set,get,incr -n N -c C --csv` without and with
`-P 16` against each (alternating, so both see the same machine load), and prints one row per case.

  /usr/bin/python3 tests/bench/bench_vs_redis.py                 # full run: -n 500000
  /usr/bin/python3 tests/bench/bench_vs_redis.py -n 20000        # quick run
  /usr/bin/python3 tests/bench/bench_vs_redis.py --policies everysec --pipelines 16
  /usr/bin/python3 tests/bench/bench_vs_redis.py --target redis  # redis vs redis (sanity check)
  /usr/bin/python3 tests/bench/bench_vs_redis.py --tests lpush,rpush,lpop,rpop,lrange_100,\
      lrange_600,evalsha                                          # lists and scripts (issue 10)

`evalsha` is not a redis-benchmark test name: it runs EVALSHA of EVALSHA_SCRIPT (three commands:
INCR, SET, GET) loaded on each server first, as `redis-benchmark ... EVALSHA <sha> 2 k1 k2 v`.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import akv  # noqa: E402


EVALSHA_SCRIPT = ("redis.call('INCR', KEYS[1]); redis.call('SET', KEYS[2], ARGV[1]); "
                  "return redis.call('GET', KEYS[2])")


def load_script(port):
    """SCRIPT LOAD of EVALSHA_SCRIPT on the server at `port`; returns its sha1."""
    with akv.RespClient(port) as c:
        sha = c.call("SCRIPT", "LOAD", EVALSHA_SCRIPT).value
    if not isinstance(sha, (bytes, bytearray)):
        raise RuntimeError("SCRIPT LOAD on port %d: %r" % (port, sha))
    return bytes(sha).decode()


def run_benchmark(exe, port, tests, n, clients, pipeline, keyspace):
    """rps per test name; the pseudo-test "evalsha" runs EVALSHA of EVALSHA_SCRIPT."""
    rps = {}
    names = [t for t in tests.split(",") if t]
    if "evalsha" in names:
        names.remove("evalsha")
        sha = load_script(port)
        got = _run(exe, port, [], n, clients, pipeline, keyspace,
                   ["EVALSHA", sha, "2", "bench:k1", "bench:k2", "v"])
        rps["EVALSHA"] = next(iter(got.values()))
    if names:
        rps.update(_run(exe, port, ["-t", ",".join(names)], n, clients, pipeline, keyspace, []))
    return rps


def _run(exe, port, test_args, n, clients, pipeline, keyspace, command):
    argv = [exe, "-h", akv.HOST, "-p", str(port)] + test_args + [
        "-n", str(n), "-c", str(clients), "--csv"]
    if pipeline > 1:
        argv += ["-P", str(pipeline)]
    if keyspace:
        argv += ["-r", str(keyspace)]
    argv += command
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=3600)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError("$ %s\nexit %d\n%s" % (" ".join(argv), p.returncode, out[-2000:]))
    rps = {}
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if len(cols) >= 2 and cols[0] != "test":
            try:
                # "LRANGE_100 (first 100 elements)" -> LRANGE_100; the LPUSH that fills the list
                # for LRANGE ("LPUSH (needed to benchmark LRANGE)") comes after the LPUSH test.
                rps.setdefault(cols[0].split(" (")[0], float(cols[1]))
            except ValueError:
                pass
    if not rps:
        raise RuntimeError("no CSV rows in redis-benchmark output:\n" + out[-2000:])
    return rps


def median_of(runs, test):
    """The median of `test`'s rps over the rounds that measured it (None if none did)."""
    values = [r[test] for r in runs if r.get(test)]
    return statistics.median(values) if values else None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=500000, help="requests per test (default 500000)")
    ap.add_argument("-c", "--clients", type=int, default=50, help="connections (default 50)")
    ap.add_argument("-r", "--keyspace", type=int, default=0,
                    help="random keys (redis-benchmark -r); 0 = one key per test (default)")
    ap.add_argument("--tests", default="set,get,incr", help="redis-benchmark -t (set,get,incr)")
    ap.add_argument("--policies", default="no,everysec,always",
                    help="comma-separated appendfsync policies (default no,everysec,always)")
    ap.add_argument("--pipelines", default="1,16", help="comma-separated -P values (default 1,16)")
    ap.add_argument("--target", choices=["activekv", "redis"], default=None,
                    help="server compared with redis (default: activekv; env AKV_TARGET)")
    ap.add_argument("--bin-dir", default=None, help="where activekv-server is (AKV_BIN_DIR)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs per server and case, alternating which server goes first; the "
                    "median of each is compared (default 1)")
    ap.add_argument("--keep", action="store_true", help="keep server logs and data afterwards")
    args = ap.parse_args()
    if args.target:
        os.environ["AKV_TARGET"] = args.target
    if args.bin_dir:
        os.environ["AKV_BIN_DIR"] = args.bin_dir
    bench = akv.require_executable("redis-benchmark", "redis-benchmark (Debian redis-tools)")
    tmp = tempfile.mkdtemp(prefix="akv-bench-")
    target_name = akv.target_kind()
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    pipelines = [int(p) for p in args.pipelines.split(",")]
    tests = [t.strip().upper() for t in args.tests.split(",")]

    server = akv.bin_dir() if target_name == "activekv" else "redis-server"
    print("# redis-benchmark -t %s -n %d -c %d%s, median of %d alternating round(s); "
          "target=%s (%s); logs in %s" % (
              args.tests, args.n, args.clients, " -r %d" % args.keyspace if args.keyspace else "",
              max(1, args.rounds), target_name, server, tmp))
    header = "%-9s %-10s %8s %14s %14s %7s" % ("policy", "test", "pipeline", "redis ops/s",
                                                target_name + " ops/s", "ratio")
    print(header)
    print("-" * len(header))
    started = time.monotonic()
    try:
        for policy in policies:
            redis = akv.RedisServer(os.path.join(tmp, "ref-redis-" + policy), policy).start()
            target = akv.make_target(os.path.join(tmp, "target-%s-%s" % (target_name, policy)),
                                     policy).start()
            try:
                for pipeline in pipelines:
                    runs1, runs2 = [], []
                    for rnd in range(max(1, args.rounds)):
                        # Alternate who goes first: a server warmed (or slowed) by the one
                        # before it must not favour the same side every round.
                        order = [(redis, runs1), (target, runs2)]
                        if rnd % 2 == 1:
                            order.reverse()
                        for server, runs in order:
                            runs.append(run_benchmark(bench, server.port, args.tests, args.n,
                                                      args.clients, pipeline, args.keyspace))
                    for t in tests:
                        a, b = median_of(runs1, t), median_of(runs2, t)
                        ratio = "%.2f" % (b / a) if a and b else "-"
                        print("%-9s %-10s %8d %14s %14s %7s" % (
                            policy, t, pipeline, "%.0f" % a if a else "-",
                            "%.0f" % b if b else "-", ratio), flush=True)
            finally:
                redis.kill9()
                target.kill9()
    except (RuntimeError, AssertionError) as e:
        print("\nFAILED: %s" % e, file=sys.stderr)
        akv.kill_all()
        sys.exit(1)
    akv.kill_all()
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print("# %.0fs" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
