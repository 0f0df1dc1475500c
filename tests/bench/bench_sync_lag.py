#!/usr/bin/python3
"""activekv replication benchmark: end-to-end lag between regions and throughput with peers.

Starts three regions (a, b, c) of one database on loopback, then:

1. Lag under a steady write load. For each target rate (default 10000, 30000 and `max`) three
   writer processes, one per region, each with its own connection, write SETs to their region on
   a schedule (target/3 ops/s each, sent as a small pipelined batch about every millisecond;
   `max`: pipelined batches back to back, no sleeping). Meanwhile a probe writes
   `SET lagprobe:<n> <t_ns>` in region a every 5 ms and one reader per region MGETs the probe
   keys it has not seen yet, one request in flight, in a tight loop. A probe's lag is
   (reply that first shows it) - (just before its SET was sent), by time.monotonic_ns().
   Table 1: achieved write rate and p50/p99/max lag per destination (b, c; and a itself, the
   harness's floor), per rate.
2. Throughput with two peers attached: `redis-benchmark -t set,incr -n N -c 50` with and
   without `-P 16` against region a of a fresh 3-region cluster and against a plain
   `redis-server` with the same appendfsync, alternating the two, --rounds times (median).
   Table 2: ops/s and activekv/redis ratio per row.

Then one `summary:` line (issue 3 targets: p99 lag <= 5 ms at 30k ops/s; throughput with two
peers >= 1.0x redis-server; reported, not asserted). Not part of `make test`.

  /usr/bin/python3 tests/bench/bench_sync_lag.py                  # full run, < 4 min
  /usr/bin/python3 tests/bench/bench_sync_lag.py --quick          # smoke run, < 40 s
  /usr/bin/python3 tests/bench/bench_sync_lag.py --appendfsync always --rates 30000
  /usr/bin/python3 tests/bench/bench_sync_lag.py --skip-throughput --duration 20
"""

import argparse
import math
import multiprocessing
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "integration"))
import akv  # noqa: E402

REGIONS = ("a", "b", "c")
OK = b"+OK\r\n"

# ---------------------------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------------------------


class Region(akv.ServerProcess):
    kind = "activekv-server"

    def __init__(self, workdir, exe, topology, name, port):
        super().__init__(workdir, port)
        self.exe = exe
        self.topology = topology
        self.name = name

    def argv(self):
        return [self.exe, "--topology", self.topology, "--region", self.name]

    def describe(self):
        return "region %s on :%d (log: %s)" % (self.name, self.port, self.log_path)


def info_crdt(port):
    with akv.RespClient(port, timeout=5.0) as c:
        return akv.info_fields(c, "crdt")


def peer_links(fields):
    """{peer: {"connected": "1", "lag_ops": "0", ...}} from INFO crdt fields."""
    out = {}
    for k, v in fields.items():
        if k.startswith("crdt_peer_"):
            out[k[len("crdt_peer_"):]] = dict(kv.split("=", 1) for kv in v.split(",") if "=" in kv)
    return out


class Cluster:
    """Three regions of one database, started as child processes (SIGKILLed by akv at exit)."""

    def __init__(self, root, exe, appendfsync):
        os.makedirs(root, exist_ok=True)
        ports = akv.free_ports(2 * len(REGIONS))
        n = len(REGIONS)
        spec = [{"name": r, "resp": "%s:%d" % (akv.HOST, ports[i]),
                 "sync": "%s:%d" % (akv.HOST, ports[n + i]),
                 "data_dir": os.path.join(root, "data", r)} for i, r in enumerate(REGIONS)]
        self.topology = akv.write_topology(os.path.join(root, "topology.yaml"), spec,
                                           appendfsync=appendfsync, name="benchlag")
        self.regions = [Region(os.path.join(root, r), exe, self.topology, r, ports[i])
                        for i, r in enumerate(REGIONS)]
        self.port = {r.name: r.port for r in self.regions}

    def start(self, timeout=30.0):
        for r in self.regions:
            r.start(wait=False)
        for r in self.regions:
            r.wait_ready()
        self.wait_quiet(timeout, need_connected=True)
        return self

    def check_alive(self):
        for r in self.regions:
            if not r.running():
                raise RuntimeError("%s exited (code %s)\n%s" % (r.describe(), r.proc.poll(),
                                                                r.log_tail()))

    def wait_quiet(self, timeout, need_connected=False):
        """Waits until every link is connected, every lag_ops is 0 and the version vectors are
        equal. Returns the seconds it took; raises RuntimeError on timeout."""
        start = time.monotonic()
        last = None
        while True:
            self.check_alive()
            states = {r.name: info_crdt(r.port) for r in self.regions}
            links = {n: peer_links(f) for n, f in states.items()}
            vvs = {f.get("crdt_version_vector") for f in states.values()}
            n_links = sum(len(l) for l in links.values())
            connected = all(p.get("connected") == "1" for l in links.values() for p in l.values())
            lag = sum(int(p.get("lag_ops", "1")) for l in links.values() for p in l.values())
            if (n_links == len(REGIONS) * (len(REGIONS) - 1) and len(vvs) == 1 and lag == 0 and
                    (connected or not need_connected)):
                return time.monotonic() - start
            last = {n: (f.get("crdt_version_vector"), links[n]) for n, f in states.items()}
            if time.monotonic() - start > timeout:
                raise RuntimeError("cluster not quiet after %.0f s: %r" % (timeout, last))
            time.sleep(0.02)

    def stop(self):
        for r in self.regions:
            r.kill9()


# ---------------------------------------------------------------------------------------------
# Writers: one process per region
# ---------------------------------------------------------------------------------------------


def _encode(*args):
    return akv.encode_command(list(args))


def writer_main(port, tag, rate, pipeline, keyspace, value_size, start_ns, end_ns, out):
    """Writes SET w:<tag>:<i> <value> to 127.0.0.1:port from start_ns to end_ns (monotonic).

    rate > 0: on a schedule of `rate` ops/s, a batch about every millisecond (at most `pipeline`
    commands a batch; a writer that falls behind catches up in full batches). rate == 0: batches
    of `pipeline` commands back to back. Sends (ops, first_ns, last_ns) or an error string.
    """
    try:
        sock = socket.create_connection((akv.HOST, port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        value = (tag * value_size)[:value_size]
        cmds = [_encode("SET", "w:%s:%d" % (tag, i), value) for i in range(keyspace)]
        cmds += cmds[:pipeline]  # a batch never wraps
        min_batch = max(1, min(pipeline, int(rate / 1000))) if rate else pipeline
        now = time.monotonic_ns()
        if start_ns > now:
            time.sleep((start_ns - now) / 1e9)
        sent = 0
        idx = 0
        first_ns = time.monotonic_ns()
        while True:
            now = time.monotonic_ns()
            if now >= end_ns:
                break
            if rate:
                due = (now - first_ns) * rate // 1_000_000_000
                k = due - sent
                if k < min_batch:
                    wake = first_ns + (sent + min_batch) * 1_000_000_000 // rate
                    time.sleep(max(wake - now, 50_000) / 1e9)
                    continue
                k = min(k, pipeline)
            else:
                k = pipeline
            sock.sendall(b"".join(cmds[idx:idx + k]))
            need = len(OK) * k
            buf = bytearray()
            while len(buf) < need:
                chunk = sock.recv(65536)
                if not chunk:
                    raise RuntimeError("connection closed by the server")
                buf += chunk
            if buf != OK * k:
                raise RuntimeError("unexpected replies: %r" % bytes(buf[:200]))
            sent += k
            idx = (idx + k) % keyspace
        last_ns = time.monotonic_ns()
        sock.close()
        out.send((sent, first_ns, last_ns))
    except Exception as e:  # reported by the parent
        out.send("writer %s: %s: %s" % (tag, type(e).__name__, e))


# ---------------------------------------------------------------------------------------------
# Probe (region a) and readers (a, b, c): one single-threaded loop
# ---------------------------------------------------------------------------------------------


def parse_mget(buf):
    """Parses one RESP2 array of bulk strings from the start of buf. Returns (values, consumed)
    or None if incomplete. Raises RuntimeError on anything else (an error reply)."""
    i = buf.find(b"\r\n")
    if i < 0:
        return None
    if buf[0:1] != b"*":
        raise RuntimeError("MGET reply: %r" % bytes(buf[:200]))
    n = int(buf[1:i])
    pos = i + 2
    values = []
    for _ in range(n):
        j = buf.find(b"\r\n", pos)
        if j < 0:
            return None
        ln = int(buf[pos + 1:j])
        pos = j + 2
        if ln < 0:
            values.append(None)
            continue
        if len(buf) < pos + ln + 2:
            return None
        values.append(bytes(buf[pos:pos + ln]))
        pos += ln + 2
    return values, pos


class Reader:
    """One destination region: MGETs the oldest unseen probe keys, one request in flight."""

    def __init__(self, name, port, batch, base):
        self.name = name
        self.base = base  # probe i is the key lagprobe:<base + i>
        self.sock = socket.create_connection((akv.HOST, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.batch = batch
        self.pending = []  # probe indexes not seen yet, ascending
        self.inflight = None  # probe indexes asked in the request in flight
        self.sent_ns = 0
        self.buf = bytearray()
        self.lags_ns = []
        self.polls = 0
        self.poll_ns = 0

    def maybe_send(self):
        if self.inflight is None and self.pending:
            self.inflight = self.pending[:self.batch]
            cmd = akv.encode_command(["MGET"] + ["lagprobe:%d" % (self.base + i)
                                                 for i in self.inflight])
            self.sent_ns = time.monotonic_ns()
            if self.sock.send(cmd) != len(cmd):  # small: fits the empty send buffer
                raise RuntimeError("short send to region %s" % self.name)

    def on_readable(self, probes_ns):
        chunk = self.sock.recv(65536)
        now = time.monotonic_ns()
        if not chunk:
            raise RuntimeError("region %s closed the reader connection" % self.name)
        self.buf += chunk
        parsed = parse_mget(self.buf)
        if parsed is None:
            return
        values, used = parsed
        del self.buf[:used]
        self.polls += 1
        self.poll_ns += now - self.sent_ns
        seen = set()
        for i, v in zip(self.inflight, values):
            if v is not None:
                if v != b"%d" % probes_ns[i]:
                    raise RuntimeError("region %s: lagprobe:%d = %r, wrote %d" %
                                       (self.name, self.base + i, v, probes_ns[i]))
                self.lags_ns.append(now - probes_ns[i])
                seen.add(i)
        if seen:
            self.pending = [i for i in self.pending if i not in seen]
        self.inflight = None


def probe_loop(port_a, reader_ports, start_ns, end_ns, interval_ns, drain_s, batch, base):
    """Runs the probe in region a from start_ns to end_ns (keys lagprobe:<base>, <base+1>, ...)
    and the readers until every probe was seen or drain_s after end_ns.
    Returns ({dest: Reader}, probes_sent)."""
    sel = selectors.DefaultSelector()
    a = socket.create_connection((akv.HOST, port_a), timeout=10)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a.setblocking(False)
    sel.register(a, selectors.EVENT_READ, None)
    readers = {}
    for name, port in reader_ports.items():
        r = Reader(name, port, batch, base)
        readers[name] = r
        sel.register(r.sock, selectors.EVENT_READ, r)
    probes_ns = []
    acks = bytearray()
    next_probe = start_ns
    drain_deadline = end_ns + int(drain_s * 1e9)
    now = time.monotonic_ns()
    if start_ns > now:
        time.sleep((start_ns - now) / 1e9)
    try:
        while True:
            now = time.monotonic_ns()
            probing = now < end_ns
            if probing and now >= next_probe:
                i = len(probes_ns)
                t = time.monotonic_ns()
                probes_ns.append(t)
                cmd = akv.encode_command(["SET", "lagprobe:%d" % (base + i), "%d" % t])
                if a.send(cmd) != len(cmd):
                    raise RuntimeError("short send to region a")
                for r in readers.values():
                    r.pending.append(i)
                next_probe += interval_ns
                if next_probe < now:  # fell behind (descheduled): no burst of probes
                    next_probe = now + interval_ns
            if not probing:
                done = all(not r.pending for r in readers.values())
                if (done and len(acks) >= len(OK) * len(probes_ns)) or now >= drain_deadline:
                    break
            for r in readers.values():
                r.maybe_send()
            until = next_probe if probing else drain_deadline
            for key, _ in sel.select(max(until - time.monotonic_ns(), 0) / 1e9):
                if key.data is None:
                    chunk = a.recv(65536)
                    if not chunk:
                        raise RuntimeError("region a closed the probe connection")
                    acks += chunk
                else:
                    key.data.on_readable(probes_ns)
        if acks != OK * len(probes_ns):
            raise RuntimeError("probe SET replies: %r" % bytes(acks[:200]))
    finally:
        sel.close()
        a.close()
        for r in readers.values():
            r.sock.close()
    return readers, len(probes_ns)


# ---------------------------------------------------------------------------------------------
# Phase 1: lag
# ---------------------------------------------------------------------------------------------


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def parse_rate(text):
    t = text.strip().lower()
    if t == "max":
        return 0
    mult = 1
    if t.endswith("k"):
        t, mult = t[:-1], 1000
    return int(float(t) * mult)


def rate_label(rate):
    if rate == 0:
        return "max"
    return "%gk" % (rate / 1000) if rate % 1000 == 0 else str(rate)


def run_lag(cluster, rate, args, base):
    """One target rate; probe keys from lagprobe:<base>. Returns a dict for the table."""
    ctx = multiprocessing.get_context("fork")
    now = time.monotonic_ns()
    start_ns = now + int(0.3e9)  # time to fork, connect and encode
    probe_start = start_ns + int(args.warmup * 1e9)
    end_ns = probe_start + int(args.duration * 1e9)
    per_writer = rate // len(REGIONS) if rate else 0
    procs, pipes = [], []
    for name in REGIONS:
        rx, tx = ctx.Pipe(duplex=False)
        p = ctx.Process(target=writer_main, daemon=True,
                        args=(cluster.port[name], name, per_writer, args.max_pipeline,
                              args.keyspace, args.value_size, start_ns, end_ns, tx))
        p.start()
        procs.append(p)
        pipes.append(rx)
    try:
        readers, n_probes = probe_loop(
            cluster.port["a"], {n: cluster.port[n] for n in REGIONS}, probe_start,
            end_ns, int(args.probe_interval_ms * 1e6), args.drain_timeout, args.probe_batch,
            base)
    finally:
        results = []
        for p, rx in zip(procs, pipes):
            if rx.poll(max(0.0, (end_ns - time.monotonic_ns()) / 1e9) + 30):
                results.append(rx.recv())
            else:
                results.append("writer pid %d: no result" % p.pid)
            p.join(5)
            if p.is_alive():
                p.kill()
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        raise RuntimeError("; ".join(errors))
    ops = sum(r[0] for r in results)
    span = (max(r[2] for r in results) - min(r[1] for r in results)) / 1e9
    cluster.wait_quiet(args.drain_timeout + 30)
    drain = (time.monotonic_ns() - end_ns) / 1e9  # from the end of the writes
    row = {"rate": rate, "achieved": ops / span if span > 0 else 0.0, "ops": ops,
           "probes": n_probes, "drain": drain, "dest": {}}
    for name, r in readers.items():
        lags = sorted(r.lags_ns)
        row["dest"][name] = {
            "seen": len(lags), "lost": n_probes - len(lags),
            "p50": percentile(lags, 0.50), "p99": percentile(lags, 0.99),
            "max": lags[-1] if lags else None,
            "poll_us": r.poll_ns / r.polls / 1e3 if r.polls else None}
    return row


def ms(ns):
    return "-" if ns is None else "%.2f" % (ns / 1e6)


LAG_HEADER = "%-6s %10s %10s %4s %6s %5s %8s %8s %8s %8s %7s" % (
    "rate", "target/s", "achieved/s", "dest", "probes", "lost", "p50 ms", "p99 ms", "max ms",
    "poll us", "drain s")


def lag_lines(row):
    lines = []
    for i, (name, d) in enumerate(sorted(row["dest"].items())):
        lines.append(("%-6s %10s %10s %4s %6d %5d %8s %8s %8s %8s %7s" % (
            rate_label(row["rate"]) if i == 0 else "",
            ("%d" % row["rate"] if row["rate"] else "max") if i == 0 else "",
            "%.0f" % row["achieved"] if i == 0 else "", name + ("*" if name == "a" else ""),
            row["probes"], d["lost"],
            ms(d["p50"]), ms(d["p99"]), ms(d["max"]),
            "-" if d["poll_us"] is None else "%.0f" % d["poll_us"],
            "%.2f" % row["drain"] if i == 0 else "")).rstrip())
    return lines


# ---------------------------------------------------------------------------------------------
# Phase 2: throughput with two peers attached
# ---------------------------------------------------------------------------------------------


def bench_one(exe, port, test, n, clients, pipeline, timeout, notes):
    """One `redis-benchmark -t test --csv`. Returns (ops/s, timed_out); after a timeout the
    process is killed, a line is added to notes and n / timeout, an upper bound, is returned."""
    argv = [exe, "-h", akv.HOST, "-p", str(port), "-t", test, "-n", str(n), "-c", str(clients),
            "--csv"]
    if pipeline > 1:
        argv += ["-P", str(pipeline)]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        notes.append("# $ %s: no result after %g s (counted as < %.0f ops/s)" %
                     (" ".join(argv), timeout, n / timeout))
        return n / timeout, True
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise RuntimeError("$ %s\nexit %d\n%s" % (" ".join(argv), p.returncode, out[-2000:]))
    for line in out.splitlines():
        cols = [c.strip('"') for c in line.split(",")]
        if len(cols) >= 2 and cols[0].upper() == test.upper():
            try:
                return float(cols[1]), False
            except ValueError:
                pass
    raise RuntimeError("no CSV row for %s in redis-benchmark output:\n%s" % (test, out[-2000:]))


def run_throughput(cluster, redis, bench, args, deadline, notes):
    """Returns (rows, rounds run): rows are (test, pipeline, redis ops/s, activekv ops/s,
    (redis bounded, activekv bounded)), medians over the rounds; bounded says a run timed out
    (its value is an upper bound). Each test is its own redis-benchmark run, redis and activekv
    alternating. A round that would end after `deadline` (monotonic s) is not started, so the
    run stays bounded on a slow or busy machine (at least one round runs)."""
    tests = [t.strip().upper() for t in args.tests.split(",") if t.strip()]
    samples = {}  # (pipeline, server, test) -> [ops/s]
    bounded = set()  # (pipeline, server, test) with a timed-out run
    rounds = 0
    for rnd in range(args.rounds):
        t0 = time.monotonic()
        if rnd > 0 and t0 + round_s > deadline:
            break
        for pipeline in (1, args.pipeline):
            n = args.n if pipeline == 1 else args.n_pipelined
            for t in tests:
                order = ("redis", "activekv") if rnd % 2 == 0 else ("activekv", "redis")
                for server in order:
                    if server == "activekv":
                        cluster.wait_quiet(60)  # no replication backlog from the previous run
                        port = cluster.port["a"]
                    else:
                        port = redis.port
                    rps, timed_out = bench_one(bench, port, t.lower(), n, args.clients, pipeline,
                                               args.bench_timeout, notes)
                    samples.setdefault((pipeline, server, t), []).append(rps)
                    if timed_out:
                        bounded.add((pipeline, server, t))
        cluster.check_alive()
        rounds += 1
        round_s = time.monotonic() - t0
    rows = []
    for pipeline in (1, args.pipeline):
        for t in tests:
            vals = [statistics.median(samples[(pipeline, server, t)])
                    for server in ("redis", "activekv")]
            rows.append((t, pipeline, vals[0], vals[1],
                         tuple((pipeline, server, t) in bounded
                               for server in ("redis", "activekv"))))
    return rows, rounds


TP_HEADER = "%-5s %8s %14s %14s %7s" % ("test", "pipeline", "redis ops/s", "activekv ops/s",
                                       "ratio")


def tp_line(row):
    t, pipeline, a, b, (ba, bb) = row
    # "~": a run timed out, the median mixes in an upper bound (n / timeout)
    return "%-5s %8d %14s %14s %7s" % (t, pipeline, "~" * ba + "%.0f" % a, "~" * bb + "%.0f" % b,
                                       "~" * (ba or bb) + "%.2f" % (b / a))


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--appendfsync", choices=["no", "everysec", "always"], default="everysec",
                    help="policy of every region and of the reference redis (default everysec)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run (< 40 s): 2 s per rate, -n 20000, one round")
    ap.add_argument("--rates", default=None,
                    help="comma-separated target write rates, ops/s over the 3 regions; 'max' = "
                         "no rate limit (default 10000,30000,max)")
    ap.add_argument("--duration", type=float, default=None,
                    help="seconds of probing per rate (default 10; --quick 2)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds of writes before probing starts (default 1; --quick 0.3)")
    ap.add_argument("--probe-interval-ms", type=float, default=5.0,
                    help="one probe SET in region a every this many ms (default 5)")
    ap.add_argument("--probe-batch", type=int, default=32,
                    help="a reader MGETs at most this many unseen probe keys (default 32)")
    ap.add_argument("--drain-timeout", type=float, default=None,
                    help="seconds to wait for unseen probes after the writes end (default 20; "
                         "--quick 5); probes not seen by then are 'lost'")
    ap.add_argument("--max-pipeline", type=int, default=64,
                    help="largest writer batch, and the batch of 'max' (default 64)")
    ap.add_argument("--keyspace", type=int, default=10000,
                    help="keys per writer (default 10000)")
    ap.add_argument("--value-size", type=int, default=16, help="writer value bytes (default 16)")
    ap.add_argument("-n", type=int, default=None,
                    help="redis-benchmark requests per test without pipelining (default 200000; "
                         "--quick 20000)")
    ap.add_argument("--n-pipelined", type=int, default=None,
                    help="redis-benchmark requests per test with -P (default 1000000; --quick "
                         "100000)")
    ap.add_argument("-c", "--clients", type=int, default=50, help="redis-benchmark -c (50)")
    ap.add_argument("-P", "--pipeline", type=int, default=16, help="redis-benchmark -P (16)")
    ap.add_argument("--tests", default="set,incr", help="redis-benchmark -t (default set,incr)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="alternating redis/activekv rounds, median reported (default 3; "
                         "--quick 1)")
    ap.add_argument("--bench-timeout", type=float, default=None,
                    help="seconds one redis-benchmark run may take; then it is killed and "
                         "counted as n/timeout ops/s, marked '~' (default 30; --quick 3)")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds for the whole run: throughput rounds that would end later are "
                         "skipped (default 225; --quick 36)")
    ap.add_argument("--skip-lag", action="store_true", help="no lag table")
    ap.add_argument("--skip-throughput", action="store_true", help="no throughput table")
    ap.add_argument("--bin-dir", default=None,
                    help="where activekv-server is (default build/bin; env AKV_BIN_DIR)")
    ap.add_argument("--keep", action="store_true", help="keep logs and data afterwards")
    args = ap.parse_args()
    q = args.quick
    defaults = {"rates": "10000,30000,max", "duration": 2.0 if q else 10.0,
                "warmup": 0.3 if q else 1.0, "drain_timeout": 5.0 if q else 20.0,
                "n": 20000 if q else 200000, "n_pipelined": 100000 if q else 1000000,
                "rounds": 1 if q else 3, "budget": 36.0 if q else 225.0,
                "bench_timeout": 3.0 if q else 30.0}
    for k, v in defaults.items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    args.rate_list = [parse_rate(r) for r in args.rates.split(",") if r.strip()]
    if args.bin_dir:
        os.environ["AKV_BIN_DIR"] = os.path.abspath(args.bin_dir)
    return args


def summary(lag_rows, tp_rows, args, load_before, load_after):
    parts = ["summary:", "appendfsync=%s" % args.appendfsync]
    at30 = [r for r in lag_rows if r["rate"] == 30000]
    if at30:
        peers = [d for n, d in at30[0]["dest"].items() if n != "a"]
        p99s = [d["p99"] for d in peers]
        lost = sum(d["lost"] for d in peers)
        if any(p is None for p in p99s) or lost:
            parts.append("p99_lag@30k=n/a(lost %d) (target <=5ms: MISSED)" % lost)
        else:
            worst = max(p99s) / 1e6
            parts.append("p99_lag@30k=%.2fms (target <=5ms: %s)" %
                         (worst, "met" if worst <= 5.0 else "MISSED"))
    for r in lag_rows:
        if r["rate"] == 0:
            p99s = [d["p99"] for n, d in r["dest"].items() if n != "a" and d["p99"] is not None]
            parts.append("max_rate=%.0f/s p99_lag@max=%s" % (
                r["achieved"], "%.2fms" % (max(p99s) / 1e6) if p99s else "n/a"))
    ratios = [b / a for _, _, a, b, _ in tp_rows if a and b]
    if ratios:
        worst = min(ratios)
        parts.append("throughput_ratio min=%.2f geomean=%.2f (target >=1.0x: %s)" % (
            worst, math.exp(sum(math.log(x) for x in ratios) / len(ratios)),
            "met" if worst >= 1.0 else "MISSED"))
    parts.append("load=%.2f->%.2f" % (load_before, load_after))
    return " ".join(parts)


def main():
    args = parse_args()
    started = time.monotonic()
    exe = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                 "activekv-server (build it, or --bin-dir DIR)")
    bench = None
    if not args.skip_throughput:
        bench = akv.require_executable("redis-benchmark", "redis-benchmark (Debian redis-tools)")
        akv.require_executable("redis-server", "redis-server (Debian redis-server)")
    tmp = tempfile.mkdtemp(prefix="akv-bench-lag-")
    source_exe = exe
    exe = shutil.copy2(exe, os.path.join(tmp, "activekv-server"))  # immune to rebuilds mid-run
    load_before = os.getloadavg()[0]
    print("# bench_sync_lag: 3 regions on loopback, appendfsync %s, %s (built %s); %d cpus, "
          "load %.2f; logs in %s" % (
              args.appendfsync, source_exe,
              time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(source_exe))),
              os.cpu_count(), load_before, tmp), flush=True)
    lag_rows, tp_rows = [], []
    ok = False
    try:
        if not args.skip_lag and args.rate_list:
            cluster = Cluster(os.path.join(tmp, "lag"), exe, args.appendfsync).start()
            print("\n## Table 1: end-to-end replication lag, probe SET in a -> visible in b / c")
            print("# writers: 1 process per region, SET w:<region>:<0..%d> (%d-byte values), "
                  "batches <= %d; probe every %g ms for %g s per rate after %g s warm-up" % (
                      args.keyspace - 1, args.value_size, args.max_pipeline,
                      args.probe_interval_ms, args.duration, args.warmup))
            print("# lag = reply showing the key - SET sent (monotonic ns); poll us = mean "
                  "reader round trip (resolution); drain s = writes end -> every lag_ops 0")
            print("# a* = region a itself (no replication: the harness's own floor under the "
                  "same load); b, c = the peers")
            print(LAG_HEADER)
            print("-" * len(LAG_HEADER), flush=True)
            base = 0
            for rate in args.rate_list:
                row = run_lag(cluster, rate, args, base)
                base += row["probes"]
                lag_rows.append(row)
                for line in lag_lines(row):
                    print(line, flush=True)
            cluster.stop()
        if not args.skip_throughput:
            cluster = Cluster(os.path.join(tmp, "tp"), exe, args.appendfsync).start()
            redis = akv.RedisServer(os.path.join(tmp, "redis"), args.appendfsync).start()
            print("\n## Table 2: redis-benchmark -t %s -c %d (-n %d; with -P %d: -n %d) against "
                  "region a (2 peers attached) vs redis-server, appendfsync %s; median of up to %d "
                  "alternating rounds" % (args.tests, args.clients, args.n, args.pipeline,
                                            args.n_pipelined, args.appendfsync, args.rounds))
            print(TP_HEADER)
            print("-" * len(TP_HEADER), flush=True)
            notes = []
            tp_rows, rounds = run_throughput(cluster, redis, bench, args,
                                             started + args.budget, notes)
            for row in tp_rows:
                print(tp_line(row), flush=True)
            for line in notes:
                print(line)
            if rounds < args.rounds:
                print("# only %d of %d rounds: the next one would have passed --budget %g s" %
                      (rounds, args.rounds, args.budget))
            cluster.stop()
            redis.kill9()
        ok = True
    except (RuntimeError, AssertionError, OSError) as e:
        print("\nFAILED: %s" % e, file=sys.stderr)
    finally:
        akv.kill_all()
    print("\n" + summary(lag_rows, tp_rows, args, load_before, os.getloadavg()[0]))
    print("# %.0fs" % (time.monotonic() - started))
    if ok and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    elif not ok:
        print("# logs and data kept in %s" % tmp, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
