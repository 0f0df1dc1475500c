#!/usr/bin/python3
"""Memory per element: activekv-server vs redis-server, loaded with the same data in one run.

For each data shape it starts a fresh redis-server and a fresh activekv-server (appendfsync no),
loads the same elements into both with `redis-cli --pipe`, and prints bytes per element from
INFO `used_memory` (allocator accounting: jemalloc's for redis-server, glibc's mallinfo2 for
activekv) and from the process RSS, each as the growth over the empty server, with the ratio.
Target (issue 9): activekv <= 1.5x redis-server's bytes per element in every row.

  /usr/bin/python3 tests/bench/bench_memory.py                # 1M elements per row
  /usr/bin/python3 tests/bench/bench_memory.py -n 100000      # quick run
  /usr/bin/python3 tests/bench/bench_memory.py --rows strings,hash
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import akv  # noqa: E402


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


# Each row: (name, description, generator of commands for n elements). Elements are batched a
# hundred per command (HSET/SADD/ZADD), like an application loading a collection.
def strings(n):
    value = b"v" * 64
    for i in range(n):
        yield resp("SET", "key:%08d" % i, value)


def hashes(n):
    per = 1000
    for h in range(max(1, n // per)):
        for start in range(0, per, 100):
            args = ["HSET", "hash:%05d" % h]
            for f in range(start, start + 100):
                args += ["field:%05d" % f, "value:%05d" % f]
            yield resp(*args)


def sets(n):
    per = 1000
    for s in range(max(1, n // per)):
        for start in range(0, per, 100):
            yield resp("SADD", "set:%05d" % s, *["member:%08d" % (s * per + m)
                                                  for m in range(start, start + 100)])


def zsets(n):
    per = 1000
    for z in range(max(1, n // per)):
        for start in range(0, per, 100):
            args = ["ZADD", "zset:%05d" % z]
            for m in range(start, start + 100):
                args += [str((m * 7919) % 1000 + 0.5), "member:%08d" % (z * per + m)]
            yield resp(*args)


ROWS = {
    "strings": ("%s string keys, 64-byte values", strings),
    "hash": ("%s hash fields in 1k-field hashes", hashes),
    "set": ("%s set members in 1k-member sets", sets),
    "zset": ("%s sorted-set members in 1k-member zsets", zsets),
}


def memory(server):
    c = server.client()
    try:
        used = int(akv.info_fields(c, "memory")["used_memory"])
    finally:
        c.close()
    with open("/proc/%d/statm" % server.proc.pid) as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return used, rss


def load(server, payload_path):
    with open(payload_path, "rb") as f:
        p = subprocess.run(["redis-cli", "-h", akv.HOST, "-p", str(server.port), "--pipe"],
                           stdin=f, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=3600)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0 or "errors: 0" not in out:
        raise RuntimeError("redis-cli --pipe into %s failed:\n%s" % (server.describe(), out[-1000:]))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=1000000, help="elements per row (default 1000000)")
    ap.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows (%s)" % ",".join(ROWS))
    ap.add_argument("--bin-dir", default=None, help="where activekv-server is (AKV_BIN_DIR)")
    args = ap.parse_args()
    if args.bin_dir:
        os.environ["AKV_BIN_DIR"] = args.bin_dir
    akv.require_executable("redis-cli", "redis-cli (Debian redis-tools)")
    tmp = tempfile.mkdtemp(prefix="akv-bench-mem-")
    print("# memory per element, -n %d; logs in %s" % (args.n, tmp))
    header = "%-44s %10s %10s %6s %10s %10s %6s" % ("row", "redis B/el", "akv B/el", "ratio",
                                                 "redis RSS", "akv RSS", "ratio")
    print(header)
    print("-" * len(header))
    started = time.monotonic()
    try:
        for row in [r.strip() for r in args.rows.split(",") if r.strip()]:
            title, gen = ROWS[row]
            payload = os.path.join(tmp, row + ".resp")
            with open(payload, "wb") as f:
                for cmd in gen(args.n):
                    f.write(cmd)
            results = []
            for kind in ("redis", "activekv"):
                workdir = os.path.join(tmp, "%s-%s" % (kind, row))
                server = (akv.RedisServer(workdir, "no") if kind == "redis" else
                          akv.make_target(workdir, "no")).start()
                try:
                    used0, rss0 = memory(server)
                    load(server, payload)
                    used1, rss1 = memory(server)
                    results.append(((used1 - used0) / args.n, (rss1 - rss0) / args.n))
                finally:
                    server.kill9()
            (ru, rr), (au, ar) = results
            print("%-44s %10.1f %10.1f %6.2f %10.1f %10.1f %6.2f" % (
                title % format(args.n, ","), ru, au, au / ru, rr, ar, ar / rr), flush=True)
            os.remove(payload)
    except (RuntimeError, AssertionError) as e:
        print("\nFAILED: %s" % e, file=sys.stderr)
        akv.kill_all()
        sys.exit(1)
    akv.kill_all()
    shutil.rmtree(tmp, ignore_errors=True)
    print("# %.0fs" % (time.monotonic() - started))


if __name__ == "__main__":
    main()
