#!/usr/bin/python3
"""activekv messaging benchmark (issue 11): pub/sub fan-out latency across regions, and stream
throughput against redis-server in the same run.

1. PUBLISH fan-out latency. A redis-server and a three-region activekv cluster (a, b, c) on
   loopback, same appendfsync. One subscriber per server (activekv: one in each region); one
   publisher (activekv: in region a) sends `PUBLISH lat <t_ns>` at --rate messages/s for
   --duration seconds, one process, select() between sends. A message's latency is
   (time its subscriber read it) - (t_ns, taken just before it was sent), by
   time.monotonic_ns(). Table 1: p50 / p99 / max per destination: redis-server (local),
   activekv a (local), b and c (across regions), and messages lost.
2. Stream throughput (single region, no peers, as bench_vs_redis.py): `redis-benchmark -c 50
   -n N` of `XADD s * f v` (with and without `-P 16`) and of `XREADGROUP GROUP g c COUNT 1
   STREAMS s >` over a stream pre-filled with enough entries, against activekv and redis-server
   alternating, --rounds times (median). Table 2: ops/s and activekv/redis ratio (target >= 1.0).

Not part of `make test`; every process shares the machine's cores: compare ratios, not
absolute numbers across runs.

  /usr/bin/python3 tests/bench/bench_messaging.py
  /usr/bin/python3 tests/bench/bench_messaging.py --quick
  /usr/bin/python3 tests/bench/bench_messaging.py --skip-streams --rate 5000
"""

import argparse
import os
import re
import selectors
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "integration"))
import akv  # noqa: E402
from bench_sync_lag import Cluster, percentile  # noqa: E402


def subscribe(port, channel):
    c = akv.RespClient(port, timeout=10.0)
    r = c.call("SUBSCRIBE", channel)
    if not isinstance(r.value, list) or r.value[0] != b"subscribe":
        raise RuntimeError("SUBSCRIBE on :%d: %r" % (port, r.raw))
    return c


def wait_subscribed(port, channel, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    with akv.RespClient(port) as c:
        while c.call("PUBSUB", "NUMSUB", channel).value != [channel.encode(), n]:
            if time.monotonic() > deadline:
                raise RuntimeError("subscribers not registered on :%d" % port)
            time.sleep(0.01)


def fanout(pub_port, subs, rate, duration):
    """subs: {name: RespClient subscribed to 'lat'}. Returns {name: [latency ns]}, sent."""
    sel = selectors.DefaultSelector()
    for name, c in subs.items():
        c.sock.setblocking(False)
        sel.register(c.sock, selectors.EVENT_READ, name)
    bufs = {name: b"" for name in subs}
    lat = {name: [] for name in subs}
    pub = akv.RespClient(pub_port)
    interval = 1e9 / rate
    start = time.monotonic_ns()
    end = start + int(duration * 1e9)
    drain_end = end + int(2e9)
    sent = 0
    pattern = re.compile(rb"\*3\r\n\$7\r\nmessage\r\n\$3\r\nlat\r\n\$(\d+)\r\n(\d+)\r\n")
    while True:
        now = time.monotonic_ns()
        if now < end and now >= start + sent * interval:
            pub.send_command("PUBLISH", "lat", str(time.monotonic_ns()))
            pub.read_reply()
            sent += 1
            continue
        if now >= end and all(len(v) >= sent for v in lat.values()):
            break
        if now >= drain_end:
            break
        wait = max(0.0, (start + sent * interval - now) / 1e9) if now < end else 0.05
        for key, _ in sel.select(timeout=min(wait, 0.05)):
            name = key.data
            try:
                chunk = key.fileobj.recv(1 << 16)
            except BlockingIOError:
                continue
            t = time.monotonic_ns()
            buf = bufs[name] + chunk
            pos = 0
            for m in pattern.finditer(buf):
                lat[name].append(t - int(m.group(2)))
                pos = m.end()
            bufs[name] = buf[pos:]
    pub.close()
    return lat, sent


def ms(ns):
    return "%.2f" % (ns / 1e6)


def run_fanout(cluster, redis, args):
    rows = []
    # Reference: redis-server, one local subscriber.
    rsub = {"redis (local)": subscribe(redis.port, "lat")}
    wait_subscribed(redis.port, "lat", 1)
    lat, sent = fanout(redis.port, rsub, args.rate, args.duration)
    rows.append((lat, sent))
    subs = {}
    for region in cluster.regions:
        label = "activekv %s (%s)" % (region.name, "local" if region.name == "a" else "remote")
        subs[label] = subscribe(region.port, "lat")
        wait_subscribed(region.port, "lat", 1)
    lat, sent = fanout(cluster.port["a"], subs, args.rate, args.duration)
    rows.append((lat, sent))
    print("\nTable 1: PUBLISH fan-out latency, %d msg/s for %.0f s (publisher in region a), ms"
          % (args.rate, args.duration))
    print("%-24s %8s %8s %8s %8s %6s" % ("destination", "received", "p50", "p99", "max", "lost"))
    p99 = {}
    for lat, sent in rows:
        for name, values in lat.items():
            v = sorted(values)
            if not v:
                print("%-24s %8d %8s %8s %8s %6d" % (name, 0, "-", "-", "-", sent))
                continue
            p99[name] = percentile(v, 0.99)
            print("%-24s %8d %8s %8s %8s %6d" % (name, len(v), ms(percentile(v, 0.5)),
                                                 ms(p99[name]), ms(v[-1]), sent - len(v)))
    return p99


def bench_one(port, argv, n, pipeline):
    cmd = ["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(n), "-q"]
    if pipeline > 1:
        cmd += ["-P", str(pipeline)]
    out = subprocess.run(cmd + argv, capture_output=True, text=True, timeout=300).stdout
    m = re.findall(r"([\d.]+) requests per second", out.replace("\r", "\n"))
    if not m:
        raise RuntimeError("redis-benchmark gave no rate: %r" % out[-400:])
    return float(m[-1])


def prepare_group(port, n):
    with akv.RespClient(port, timeout=60.0) as c:
        c.call("DEL", "bs")
        c.call("XGROUP", "CREATE", "bs", "g", "$", "MKSTREAM")
        batch = 1000
        for i in range(0, n, batch):
            c.pipeline([["XADD", "bs", "*", "f", "v"]] * min(batch, n - i))


def run_streams(akv_port, redis_port, args):
    rows = []
    tests = [("XADD", ["XADD", "bx", "*", "f", "v"], 1),
             ("XADD -P 16", ["XADD", "bx", "*", "f", "v"], 16),
             ("XREADGROUP", ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "bs", ">"],
              1),
             ("XREADGROUP -P 16",
              ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "bs", ">"], 16)]
    for label, argv, pipeline in tests:
        rates = {"activekv": [], "redis": []}
        for _ in range(args.rounds):
            for name, port in (("activekv", akv_port), ("redis", redis_port)):
                if argv[0] == "XREADGROUP":
                    prepare_group(port, args.n + 1000)
                else:
                    with akv.RespClient(port) as c:
                        c.call("DEL", "bx")
                rates[name].append(bench_one(port, argv, args.n, pipeline))
        a, r = statistics.median(rates["activekv"]), statistics.median(rates["redis"])
        rows.append((label, a, r))
    print("\nTable 2: stream throughput, redis-benchmark -c 50 -n %d, median of %d (ops/s)" %
          (args.n, args.rounds))
    print("%-18s %12s %12s %7s" % ("test", "activekv", "redis", "ratio"))
    for label, a, r in rows:
        print("%-18s %12.0f %12.0f %7.2f" % (label, a, r, a / r))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rate", type=int, default=2000, help="PUBLISH messages per second")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("-n", type=int, default=100000, help="requests per stream benchmark")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--appendfsync", default="everysec")
    p.add_argument("--quick", action="store_true", help="smoke run")
    p.add_argument("--skip-fanout", action="store_true")
    p.add_argument("--skip-streams", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.duration, args.n, args.rounds = 2.0, 20000, 1
    exe = os.path.join(akv.bin_dir(), "activekv-server")
    akv.require_executable(exe, "activekv-server (make build)")
    root = tempfile.mkdtemp(prefix="akv-bench-msg-")
    redis = akv.RedisServer(os.path.join(root, "redis"), appendfsync=args.appendfsync).start()
    print("redis-server %s; activekv %s; appendfsync %s; data in %s" %
          (redis.describe(), exe, args.appendfsync, root))
    summary = []
    try:
        if not args.skip_fanout:
            cluster = Cluster(os.path.join(root, "cluster"), exe, args.appendfsync).start()
            p99 = run_fanout(cluster, redis, args)
            cluster.stop()
            remote = [v for k, v in p99.items() if "remote" in k]
            if remote:
                summary.append("PUBLISH fan-out p99 across regions %s ms (redis-server local %s "
                               "ms)" % (ms(max(remote)), ms(p99.get("redis (local)", 0))))
        if not args.skip_streams:
            single = akv.ActiveKvServer(os.path.join(root, "single"),
                                        appendfsync=args.appendfsync).start()
            rows = run_streams(single.port, redis.port, args)
            single.kill9()
            summary.append("stream ratios " + ", ".join("%s %.2f" % (l, a / r) for l, a, r in rows))
    finally:
        redis.kill9()
    print("\nsummary: " + "; ".join(summary))


if __name__ == "__main__":
    main()
