#!/usr/bin/python3
"""Snapshots, backups and restores of N keys (issue 12), next to redis-server in the same run.

One activekv region and one redis-server (both appendfsync everysec), each loaded with N keys
(`SET key:<i> <100 bytes>`, pipelined MSETs). Then, per row, wall-clock time and throughput:

  activekv BGSAVE (dump.akv)            vs  redis-server BGSAVE (dump.rdb, forked child)
  activekvctl backup create -> a local directory, and -> s3rver (S3, SigV4)
  activekvctl restore (local directory -> an empty data directory)
  activekvctl restore --merge (the same backup into the live restored region: N new writes)
  time to a serving region: from the restored snapshot  vs  from the full AOF (every SET)
                                                          vs  redis-server from dump.rdb

Not part of `make test`; every process shares the machine's cores: compare within one run.

  /usr/bin/python3 tests/bench/bench_backup.py            # N = 1,000,000
  /usr/bin/python3 tests/bench/bench_backup.py -n 200000
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, "..", "integration"))
import akv  # noqa: E402
from s3server import S3Server  # noqa: E402

VALUE = "v" * 100


def load(port, n):
    with akv.RespClient(port, timeout=120.0) as c:
        batch = 1000
        for i in range(0, n, batch):
            args = ["MSET"]
            for k in range(i, min(n, i + batch)):
                args += ["key:%d" % k, VALUE]
            c.pipeline([args])
        return c.call("DBSIZE").value


def info(port, section="persistence"):
    with akv.RespClient(port, timeout=60.0) as c:
        text = c.call("INFO", section).value.decode()
    return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)


def bgsave(port):
    """Starts a BGSAVE and waits for its end; returns seconds."""
    before = info(port)
    t0 = time.monotonic()
    with akv.RespClient(port, timeout=60.0) as c:
        r = c.call("BGSAVE")
        assert r.raw.startswith(b"+Background saving started"), r.raw
    while True:
        now = info(port)
        if now.get("rdb_bgsave_in_progress") == "0" and (
                now.get("rdb_last_save_time") != before.get("rdb_last_save_time") or
                now.get("rdb_saves", "0") != before.get("rdb_saves", "0")):
            break
        time.sleep(0.005)
    assert now.get("rdb_last_bgsave_status") == "ok", now
    return time.monotonic() - t0


def ctl(*args, env=None):
    exe = os.path.join(akv.bin_dir(), "activekvctl")
    t0 = time.monotonic()
    p = subprocess.run([exe] + list(args), capture_output=True, env=env, timeout=3600)
    if p.returncode != 0:
        raise RuntimeError("activekvctl %s: %s" % (" ".join(args), p.stderr.decode()))
    return time.monotonic() - t0


def start_timed(server):
    t0 = time.monotonic()
    server.start(timeout=600)
    return time.monotonic() - t0


def row(label, seconds, nbytes, keys):
    print("%-44s %8.2f s %9.1f MB/s %11.0f keys/s" % (label, seconds, nbytes / seconds / 1e6,
                                                      keys / seconds), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000000)
    args = ap.parse_args()
    root = akv.new_workdir("bench-backup")
    n = args.n
    redis = akv.RedisServer(os.path.join(root, "redis")).start()
    region = akv.ActiveKvServer(os.path.join(root, "akv")).start()
    try:
        print("loading %d keys into each server..." % n, flush=True)
        assert load(region.port, n) == n
        assert load(redis.port, n) == n
        print("\n%-44s %10s %14s %18s" % ("operation (%d keys)" % n, "time", "throughput", ""))
        t = bgsave(region.port)
        dump = os.path.join(region.data_dir, "dump.akv")
        size = os.path.getsize(dump)
        row("activekv BGSAVE (dump.akv, %.0f MB)" % (size / 1e6), t, size, n)
        t = bgsave(redis.port)
        rdb = os.path.join(redis.data_dir, "dump.rdb")
        row("redis-server BGSAVE (dump.rdb, %.0f MB)" % (os.path.getsize(rdb) / 1e6), t,
            os.path.getsize(rdb), n)

        local = os.path.join(root, "backups")
        t = ctl("backup", "create", region.topology, "--to", local)
        snap = glob.glob(os.path.join(local, "*", "*", "*", "snapshot.akv"))[0]
        row("backup create -> local directory", t, os.path.getsize(snap), n)
        s3 = S3Server(os.path.join(root, "s3"), "AKIABENCH", "bench-secret", buckets=["bench"]).start()
        try:
            t = ctl("backup", "create", region.topology, "--to", "s3://bench/prod",
                    env=s3.client_env())
            row("backup create -> s3rver (S3, multipart)", t, os.path.getsize(snap), n)
        finally:
            s3.kill()

        restored = akv.ActiveKvServer(os.path.join(root, "restored"))
        shutil.rmtree(restored.data_dir)
        t = ctl("restore", "--from", local, "--into", restored.topology, "--backup",
                os.path.relpath(os.path.dirname(snap), local))
        row("restore (local directory -> data dir)", t, os.path.getsize(snap), n)
        t = start_timed(restored)
        row("serving from the restored snapshot", t, os.path.getsize(snap), n)
        with restored.client() as c:
            assert c.call("DBSIZE").value == n
        # The same backup merged into the live restored region: every key a new write (SET).
        t = ctl("restore", "--merge", "--from", local, "--into", restored.topology, "--backup",
                os.path.relpath(os.path.dirname(snap), local))
        row("restore --merge into the live region", t, os.path.getsize(snap), n)
        restored.kill9()

        # The original AOF holds every SET (no rewrite at this size by default).
        region.stop()
        aof = os.path.join(region.data_dir, "appendonly.aof")
        t = start_timed(region)
        row("serving from the full AOF (%.0f MB)" % (os.path.getsize(aof) / 1e6), t,
            os.path.getsize(aof), n)
        redis.kill9()
        redis_rdb = akv.RedisServer(os.path.join(root, "redis"), port=redis.port,
                                    extra_args=["--appendonly", "no"])
        t = start_timed(redis_rdb)
        row("redis-server serving from dump.rdb", t, os.path.getsize(rdb), n)
        redis_rdb.kill9()
    finally:
        region.kill9()
        redis.kill9()


if __name__ == "__main__":
    main()
