#!/usr/bin/python3
"""Restart (load) time of activekv-server vs redis-server, same run, same kind of data (issue 13).

Starts a fresh redis-server (appendonly yes, appendfsync everysec, save "", automatic AOF
rewrites off: `--auto-aof-rewrite-percentage 0`; `aof-use-rdb-preamble` left at its default,
yes) and a fresh activekv-server (one region, appendfsync everysec, then `CONFIG SET
auto-aof-rewrite-percentage 0`), and fills each with
`redis-benchmark -t set -n N -r R -P 16 -c 50 -d 64` (N=2,000,000 and R=1,000,000 by default:
about 864k distinct keys, 64-byte values). Then two cases:

  plain AOF       the AOF holds every SET: redis-server's multi-part AOF starts a fresh directory
                  with an empty RDB base and logs the commands into its incr file; activekv's
                  appendonly.aof holds one op record per SET.
  after rewrite   BGREWRITEAOF on each (one at a time), waited for until INFO persistence shows
                  aof_rewrite_in_progress:0 and aof_rewrite_scheduled:0 and aof_rewrites has
                  grown: redis-server's base is then an RDB (preamble), activekv's AOF a snapshot.

For each case, `--rounds` times (alternating which server goes first), each server is stopped
with SIGTERM (waited for until it exits), started again on the same data directory, and timed
from process start to the first `+PONG` (PING every ~5 ms on one raw socket; both answer
-LOADING while loading). DBSIZE after the restart must equal DBSIZE before the stop (it fails
otherwise). The table reports the median load time of the rounds, keys/s from it, the on-disk
size of the AOF files, and ratio = activekv keys/s / redis keys/s (higher is better for
activekv). Files are read from the page cache (no cache drop): this times parsing and applying,
not the disk.

  /usr/bin/python3 tests/bench/bench_restart.py                        # full run, ~1 minute here
  /usr/bin/python3 tests/bench/bench_restart.py --quick                # -n 200000 -r 100000
  /usr/bin/python3 tests/bench/bench_restart.py -n 200000 -r 100000 --rounds 1
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import akv  # noqa: E402

MIB = 1024.0 * 1024.0
PING = b"*1\r\n$4\r\nPING\r\n"


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------


def call(server, *args, timeout=120.0):
    """One command on a fresh connection; raises BenchError on an error reply."""
    with akv.RespClient(server.port, timeout=timeout) as c:
        r = c.call(*args)
    if isinstance(r.value, akv.Err):
        raise BenchError("%s on %s: %r" % (akv.fmt_cmd(args), server.describe(), r.raw))
    return r.value


def info(server, section="persistence"):
    text = bytes(call(server, "INFO", section)).decode()
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l and not l.startswith("#"))


def dbsize(server):
    return int(call(server, "DBSIZE"))


def configure(server):
    """activekv-server: automatic AOF rewrites off (a runtime setting: again after each start).
    redis-server has it on its command line; checked here."""
    if isinstance(server, akv.ActiveKvServer):
        call(server, "CONFIG", "SET", "auto-aof-rewrite-percentage", "0")
    got = call(server, "CONFIG", "GET", "auto-aof-rewrite-percentage")
    if [bytes(x) for x in got] != [b"auto-aof-rewrite-percentage", b"0"]:
        raise BenchError("%s: auto-aof-rewrite-percentage is %r" % (server.describe(), got))


def aof_files(server):
    """[(name, bytes)] of the server's AOF files: redis-server's appenddir (base, incr, manifest),
    activekv's appendonly.aof (and any other appendonly.* file, e.g. a leftover .rewrite)."""
    if isinstance(server, akv.RedisServer):
        d = os.path.join(server.data_dir, "appendonlydir")
        names = sorted(os.listdir(d)) if os.path.isdir(d) else []
    else:
        d = server.data_dir
        names = sorted(n for n in os.listdir(d) if n.startswith("appendonly"))
    return [(n, os.path.getsize(os.path.join(d, n))) for n in names]


def fmt_files(files):
    def size(b):
        return "%.1f MiB" % (b / MIB) if b >= MIB else "%d B" % b
    return ", ".join("%s %s" % (n, size(b)) for n, b in files) or "(none)"


def stop(server, timeout):
    """SIGTERM, then wait for the process to exit; returns seconds. Fails rather than SIGKILL."""
    if not server.running():
        raise BenchError("%s is not running before the stop\n%s" % (server.describe(),
                                                                  server.log_tail()))
    t0 = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    code = server.wait_exit(timeout)
    if code is None:
        raise BenchError("%s did not exit within %.0f s of SIGTERM\n%s" % (
            server.describe(), timeout, server.log_tail()))
    if code != 0:
        raise BenchError("%s exited with code %d after SIGTERM\n%s" % (
            server.describe(), code, server.log_tail()))
    return time.monotonic() - t0


def start_until_pong(server, timeout):
    """Starts the server and polls PING (one raw socket, ~5 ms apart) until +PONG. Returns
    (seconds from process start to +PONG, seconds until the port accepted, -LOADING replies)."""
    t0 = time.monotonic()
    server.start(wait=False)
    deadline = t0 + timeout
    sock = None
    accepted = None
    loading = 0
    buf = b""
    try:
        while True:
            if server.proc.poll() is not None:
                raise BenchError("%s exited with code %s while loading\n%s" % (
                    server.describe(), server.proc.returncode, server.log_tail()))
            now = time.monotonic()
            if now > deadline:
                raise BenchError("%s: no +PONG within %.0f s (%d -LOADING replies)\n%s" % (
                    server.describe(), timeout, loading, server.log_tail()))
            if sock is None:
                try:
                    sock = socket.create_connection((akv.HOST, server.port), timeout=1.0)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    sock = None
                    time.sleep(0.005)
                    continue
                if accepted is None:
                    accepted = time.monotonic() - t0
                buf = b""
            try:
                # A loading redis-server serves its clients only between chunks of the file:
                # wait for the reply as long as the deadline allows (its arrival is the event).
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                sock.sendall(PING)
                while b"\r\n" not in buf:
                    chunk = sock.recv(4096)
                    if not chunk:
                        raise ConnectionResetError("closed")
                    buf += chunk
            except (OSError, socket.timeout):
                sock.close()
                sock = None
                time.sleep(0.005)
                continue
            line, buf = buf.split(b"\r\n", 1)
            if line == b"+PONG":
                return time.monotonic() - t0, accepted, loading
            if line.startswith(b"-LOADING"):
                loading += 1
                time.sleep(0.005)
                continue
            raise BenchError("%s: PING replied %r while starting" % (server.describe(), line))
    finally:
        if sock is not None:
            sock.close()


def restart(server, expect_keys, args, label):
    """Stop (SIGTERM), start on the same data directory, time to +PONG, check DBSIZE."""
    before = aof_files(server)
    down = stop(server, args.stop_timeout)
    files = aof_files(server)
    if files != before:
        print("# note: %s's AOF files changed during the stop: %s -> %s" % (
            server.kind, fmt_files(before), fmt_files(files)), flush=True)
    secs, accepted, loading = start_until_pong(server, args.load_timeout)
    keys = dbsize(server)
    if keys != expect_keys:
        raise BenchError("%s (%s): DBSIZE %d after the restart, %d before the stop\n%s" % (
            server.describe(), label, keys, expect_keys, server.log_tail()))
    configure(server)
    print("#   %-16s %-15s stop %5.2f s, port accepted at %5.3f s, %4d -LOADING replies, "
          "+PONG at %6.3f s (its log: loaded in %s), DBSIZE %d" % (
              label, server.kind, down, accepted or -1, loading, secs, logged_load(server),
              keys), flush=True)
    return secs, files


def logged_load(server):
    """The load time the server logged for its last start (a string), "?" if none was found."""
    text = server.log_text().rsplit("==== start", 1)[-1]
    if isinstance(server, akv.RedisServer):
        m = re.findall(r"DB loaded from append only file: ([0-9.]+) seconds", text)
        return "%.3f s" % float(m[-1]) if m else "?"
    m = re.findall(r"replayed \d+ records .* in (\d+) ms", text)
    return "%.3f s" % (int(m[-1]) / 1000.0) if m else "?"


def fill(bench, server, args):
    argv = [bench, "-h", akv.HOST, "-p", str(server.port), "-t", "set", "-n", str(args.n),
            "-r", str(args.keyspace), "-P", "16", "-c", "50", "-d", "64", "-q"]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=3600)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise BenchError("$ %s\nexit %d\n%s" % (" ".join(argv), p.returncode, out[-2000:]))
    secs = time.monotonic() - t0
    keys = dbsize(server)
    print("# filled %-15s %d SETs in %.1f s, DBSIZE %d" % (server.kind, args.n, secs, keys),
          flush=True)
    return keys


def rewrite(server, timeout):
    """BGREWRITEAOF, waited for until done (in progress 0, scheduled 0, aof_rewrites grown)."""
    before = int(info(server).get("aof_rewrites", "0"))
    t0 = time.monotonic()
    r = call(server, "BGREWRITEAOF")
    while True:
        now = info(server)
        if (now.get("aof_rewrite_in_progress") == "0" and
                now.get("aof_rewrite_scheduled", "0") == "0" and
                int(now.get("aof_rewrites", "0")) > before):
            break
        if time.monotonic() - t0 > timeout:
            raise BenchError("%s: BGREWRITEAOF (%r) not done after %.0f s: %r" % (
                server.describe(), r, timeout, now))
        time.sleep(0.005)
    if now.get("aof_last_bgrewrite_status") != "ok":
        raise BenchError("%s: BGREWRITEAOF failed: %r" % (server.describe(), now))
    secs = time.monotonic() - t0
    if isinstance(server, akv.RedisServer):
        # redis-server deletes the old base/incr files (history) right after the switch, in the
        # background: wait until the manifest's files are all that is left.
        end = time.monotonic() + timeout
        while len(aof_files(server)) > 3 and time.monotonic() < end:
            time.sleep(0.01)
    print("# BGREWRITEAOF %-15s %.2f s: %s" % (server.kind, secs, fmt_files(aof_files(server))),
          flush=True)
    return secs


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------


def measure(case, servers, keys, args):
    """`--rounds` restarts of each server, alternating which goes first; median seconds."""
    times = {s.kind: [] for s in servers}
    files = {}
    for rnd in range(args.rounds):
        order = servers if rnd % 2 == 0 else list(reversed(servers))
        for s in order:
            secs, f = restart(s, keys[s.kind], args, "%s r%d" % (case, rnd + 1))
            times[s.kind].append(secs)
            files[s.kind] = f
    return {k: statistics.median(v) for k, v in times.items()}, files


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=None, help="SETs loaded (default 2000000)")
    ap.add_argument("-r", "--keyspace", type=int, default=None,
                    help="redis-benchmark -r (default 1000000)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="restarts per server and case, median reported (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="-n 200000 -r 100000 --rounds 1 unless given (smoke run, ~5 s)")
    ap.add_argument("--load-timeout", type=float, default=600.0,
                    help="seconds a start may take to answer +PONG (default 600)")
    ap.add_argument("--stop-timeout", type=float, default=120.0,
                    help="seconds a server may take to exit after SIGTERM (default 120)")
    ap.add_argument("--bin-dir", default=None, help="where activekv-server is (AKV_BIN_DIR)")
    ap.add_argument("--keep", action="store_true", help="keep server logs and data afterwards")
    args = ap.parse_args()
    quick = (200000, 100000, 1) if args.quick else (2000000, 1000000, 3)
    args.n = args.n if args.n is not None else quick[0]
    args.keyspace = args.keyspace if args.keyspace is not None else quick[1]
    args.rounds = args.rounds if args.rounds is not None else quick[2]
    if args.n <= 0 or args.keyspace <= 0 or args.rounds <= 0:
        ap.error("-n, -r and --rounds must be positive")
    if args.bin_dir:
        os.environ["AKV_BIN_DIR"] = args.bin_dir
    os.environ["AKV_TARGET"] = "activekv"
    bench = akv.require_executable("redis-benchmark", "redis-benchmark (Debian redis-tools)")
    tmp = tempfile.mkdtemp(prefix="akv-bench-restart-")
    version = subprocess.run([akv.require_executable("redis-server", "redis-server"),
                              "--version"], capture_output=True).stdout.decode().split()
    version = next((v[2:] for v in version if v.startswith("v=")), "?")

    print("# redis-benchmark -t set -n %d -r %d -P 16 -c 50 -d 64 (keys drawn by "
          "redis-benchmark: no seed); rounds=%d; appendfsync everysec, auto-aof-rewrite-"
          "percentage 0; redis-server %s vs activekv-server (%s); logs in %s" % (
              args.n, args.keyspace, args.rounds, version, akv.bin_dir(), tmp), flush=True)
    started = time.monotonic()
    ok = False
    redis = target = None
    try:
        redis = akv.RedisServer(os.path.join(tmp, "redis"), "everysec", extra_args=[
            "--auto-aof-rewrite-percentage", "0", "--aof-use-rdb-preamble", "yes"])
        target = akv.ActiveKvServer(os.path.join(tmp, "activekv"), "everysec")
        servers = [redis, target]
        for s in servers:
            s.start(timeout=60)
            configure(s)
        keys = {}
        for s in servers:
            keys[s.kind] = fill(bench, s, args)
        # The plain case is only plain if nothing was rewritten while loading.
        for s in servers:
            n = int(info(s).get("aof_rewrites", "0"))
            if n:
                raise BenchError("%s rewrote its AOF %d time(s) while loading" % (s.describe(), n))
        rows = []
        for s in servers:
            print("# plain AOF, %-15s %s" % (s.kind, fmt_files(aof_files(s))), flush=True)
        med, files = measure("plain AOF", servers, keys, args)
        rows.append(("plain AOF", keys, files, med))
        for s in servers:
            rewrite(s, args.load_timeout)
        med, files = measure("after rewrite", servers, keys, args)
        rows.append(("after rewrite", keys, files, med))

        print()
        header = "%-13s %15s %9s %9s %8s %8s %10s %10s %6s" % (
            "case", "keys", "redis MiB", "akv MiB", "redis s", "akv s", "redis k/s", "akv k/s",
            "ratio")
        print(header)
        print("-" * len(header))
        for case, k, f, m in rows:
            kr, ka = k[redis.kind], k[target.kind]
            rate_r, rate_a = kr / m[redis.kind], ka / m[target.kind]
            print("%-13s %15s %9.1f %9.1f %8.2f %8.2f %10.0f %10.0f %6.2f" % (
                case, str(kr) if kr == ka else "%d/%d" % (kr, ka),
                sum(b for _, b in f[redis.kind]) / MIB, sum(b for _, b in f[target.kind]) / MIB,
                m[redis.kind], m[target.kind], rate_r, rate_a, rate_a / rate_r))
        print("# load s: median of %d, process start to first +PONG; k/s = DBSIZE / load s; "
              "ratio = akv k/s / redis k/s" % args.rounds)
        print("# %.0fs" % (time.monotonic() - started), flush=True)
        ok = True
    except (BenchError, AssertionError, OSError, subprocess.SubprocessError) as e:
        print("\nFAILED: %s" % e, file=sys.stderr)
    finally:
        akv.kill_all()
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("# logs and data kept in %s" % tmp, file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
