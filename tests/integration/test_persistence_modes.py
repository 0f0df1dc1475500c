#!/usr/bin/python3
"""Persistence options through the real binaries (docs/operations.md, "Persistence options"):
topology `persistence: { mode: aof | snapshot | none, snapshot: <interval> }` and
`CONFIG SET appendonly yes|no`.

- mode snapshot writes no AOF, only dump.akv; a clean stop saves a final snapshot and the next
  start keeps its origin; after kill -9 it starts from the snapshot as a new incarnation and takes
  back from its peer the writes made after the snapshot.
- mode none keeps nothing on disk: a restart rejoins from its peer. When it is the only region
  up and a peer with a wiped disk needs a full resync, it writes a fresh snapshot to serve it.
- CONFIG SET appendonly no removes the AOF; yes writes a new one by a rewrite; the data survives
  kill -9 either way it is meant to. BGREWRITEAOF without an AOF is refused with a clear error.
- Changing the mode by restart: aof -> snapshot loads the AOF once and retires it after the
  first snapshot; snapshot -> aof starts the AOF from dump.akv.
- A damaged dump.akv stops the start with an error naming it, and is left as it was.
- A disk that fills during a snapshot: the save fails with its reason, the previous snapshot is
  untouched, writes get Redis's -MISCONF (stop-writes-on-bgsave-error) while reads go on, and
  everything works again once there is space.

  /usr/bin/python3 test_persistence_modes.py     env: AKV_SEED, AKV_BIN_DIR
"""

import os
import random
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True
import akv  # noqa: E402
from test_replication import Cluster  # noqa: E402

SEED = akv.seed_from_env()


def files(data_dir):
    """What the region keeps in its data directory (activekvctl's pid file and logs aside)."""
    return sorted(f for f in os.listdir(data_dir)
                  if not f.endswith(".log") and f != "activekv.pid")


def wait_caught_up(test, proc, timeout=30.0):
    """Until the region accepts writes again (crdt_joining:0)."""
    def ready():
        with proc.client() as c:
            return akv.info_fields(c).get("crdt_joining") == "0"
    akv.wait_for(test, "%s catches up" % proc.region, ready, timeout=timeout)


def save(test, client):
    """SAVE, once no BGSAVE runs (a region without an AOF starts one by itself to serve a peer's
    full resync; SAVE then answers "Background save already in progress", as Redis does)."""
    akv.wait_for(test, "no background save",
                 lambda: akv.info_fields(client, "persistence")["rdb_bgsave_in_progress"] == "0")
    test.assertEqual(client.call("SAVE").value, b"OK")


class PersistenceModesTest(akv.ServerTestCase):

    def data_dir(self, cl, name):
        return os.path.join(cl.root, "data", name)

    def test_snapshot_mode_restarts_from_its_snapshot_and_catches_up(self):
        rng = random.Random(SEED)
        cl = Cluster(self, 2, region_persistence={"r0": "mode: snapshot, snapshot: 1h"})
        r0, r1 = cl.client("r0"), cl.client("r1")
        n = rng.randrange(500, 1500)
        r0.pipeline([("SET", "k%d" % i, "v%d" % i) for i in range(n)])
        self.assertEqual(r1.call("INCRBY", "ctr", "5").value, 5)
        cl.wait_sync()
        save(self, r0)
        self.assertEqual(files(self.data_dir(cl, "r0")),
                         ["dump.akv", "incarnation"])
        fields = akv.info_fields(r0, "persistence")
        self.assertEqual(fields["aof_enabled"], "0")
        self.assertNotIn("aof_current_size", fields)
        self.assertEqual(r0.call("CONFIG", "GET", "save").value, [b"save", b"3600 1"])
        self.assertEqual(r0.call("CONFIG", "GET", "appendonly").value, [b"appendonly", b"no"])
        # Written after the snapshot: only the peer has them once r0 dies.
        r0.pipeline([("SET", "late%d" % i, "x") for i in range(100)])
        self.assertEqual(r0.call("INCRBY", "ctr", "2").value, 7)
        cl.wait_sync()
        cl.regions["r0"].kill9()
        cl.regions["r0"].start()
        wait_caught_up(self, cl.regions["r0"])
        self.assertIn("started from a snapshot after an unclean stop",
                      cl.regions["r0"].log_text())
        with cl.regions["r0"].client() as c:
            self.assertEqual(akv.info_fields(c)["crdt_origin"], "r0~1")
            got = c.pipeline([("GET", "late%d" % i) for i in range(100)])
            self.assertEqual([g.value for g in got], [b"x"] * 100)
            self.assertEqual(c.call("GET", "ctr").value, b"7")
            self.assertEqual(c.call("DBSIZE").value, n + 101)
            self.assertEqual(c.call("INCR", "ctr").value, 8)
        cl.wait_sync()
        # A clean stop saves everything; the next start needs nothing from its peer and keeps
        # its origin (shown with the peer down).
        cl.regions["r1"].kill9()
        with cl.regions["r0"].client() as c:
            self.assertEqual(c.call("SET", "solo", "1").value, b"OK")
        cl.regions["r0"].stop()
        cl.regions["r0"].start()
        with cl.regions["r0"].client() as c:
            fields = akv.info_fields(c)
            self.assertEqual(fields["crdt_origin"], "r0~1")
            self.assertEqual(fields["crdt_joining"], "0")
            self.assertEqual(c.call("GET", "solo").value, b"1")
            self.assertEqual(c.call("GET", "ctr").value, b"8")

    def test_none_mode_keeps_nothing_and_serves_a_resync_from_a_fresh_snapshot(self):
        # A short replication log, so that the wiped peer below cannot be served from it.
        cl = Cluster(self, 2, region_persistence={"r0": "mode: none"},
                     extra_args=("--replication-log-ops", "200"))
        r0 = cl.client("r0")
        r0.pipeline([("SET", "k%d" % i, "v") for i in range(1000)])
        self.assertEqual(r0.call("INCRBY", "ctr", "3").value, 3)
        cl.wait_sync()
        # Nothing but its incarnation number -- and dump.akv if r1 fell behind the short log
        # and needed a full resync (below).
        self.assertLessEqual(set(files(self.data_dir(cl, "r0"))), {"incarnation", "dump.akv"})
        self.assertEqual(r0.call("CONFIG", "GET", "save").value, [b"save", b""])
        # A restart rejoins from the peer (its ops there: a new incarnation).
        cl.regions["r0"].stop()
        cl.regions["r0"].start()
        wait_caught_up(self, cl.regions["r0"])
        with cl.regions["r0"].client() as c:
            self.assertEqual(c.call("DBSIZE").value, 1001)
            self.assertEqual(akv.info_fields(c)["crdt_origin"], "r0~1")
            self.assertEqual(c.call("INCRBY", "ctr", "1").value, 4)
        cl.wait_sync()
        # r0 alone serves a peer whose disk was wiped: with no AOF it writes a snapshot for it.
        with cl.regions["r0"].client() as c:
            saves = int(akv.info_fields(c, "persistence")["rdb_saves"])
        cl.regions["r1"].kill9()
        shutil.rmtree(self.data_dir(cl, "r1"))
        with cl.regions["r0"].client() as c:
            # More than the log holds: the snapshot r0 has (if any) is too old to serve r1.
            c.pipeline([("SET", "while-r1-down%d" % i, "y") for i in range(500)])
        cl.regions["r1"].start()
        wait_caught_up(self, cl.regions["r1"])
        cl.wait_sync()
        with cl.regions["r1"].client() as c:
            self.assertEqual(c.call("DBSIZE").value, 1501)
            self.assertEqual(c.call("GET", "ctr").value, b"4")
        with cl.regions["r0"].client() as c:
            self.assertGreater(int(akv.info_fields(c, "persistence")["rdb_saves"]), saves)
        self.assertIn("dump.akv", files(self.data_dir(cl, "r0")))
        self.assertNotIn("appendonly.aof", files(self.data_dir(cl, "r0")))

    def test_config_set_appendonly_switches_the_aof_at_run_time(self):
        srv = self.start_target()
        aof = os.path.join(srv.data_dir, "appendonly.aof")
        with srv.client() as c:
            c.pipeline([("SET", "a%d" % i, "1") for i in range(300)])
            self.assertEqual(c.call("CONFIG", "SET", "appendonly", "no").value, b"OK")
            self.assertFalse(os.path.exists(aof))
            self.assertEqual(akv.info_fields(c, "persistence")["aof_enabled"], "0")
            r = c.call("BGREWRITEAOF")
            self.assertEqual(r.raw, b"-ERR appendonly is off: there is no AOF to rewrite "
                                    b"(CONFIG SET appendonly yes writes one)\r\n")
            r = c.call("CONFIG", "SET", "appendonly", "maybe")
            self.assertEqual(r.raw, b"-ERR CONFIG SET failed (possibly related to argument "
                                    b"'appendonly') - argument must be 'yes' or 'no'\r\n")
            c.pipeline([("SET", "b%d" % i, "2") for i in range(300)])
            self.assertEqual(c.call("CONFIG", "SET", "appendonly", "YES").value, b"OK")
            self.assertEqual(c.call("CONFIG", "GET", "appendonly").value,
                             [b"appendonly", b"yes"])
            akv.wait_for(self, "the rewrite that turns the AOF on",
                         lambda: akv.info_fields(c, "persistence").get("aof_current_size")
                         is not None and
                         akv.info_fields(c, "persistence")["aof_rewrite_in_progress"] == "0")
            self.assertTrue(os.path.exists(aof))
            c.pipeline([("SET", "c%d" % i, "3") for i in range(300)])
        srv.kill9()
        srv.start()
        with srv.client() as c:
            self.assertEqual(c.call("DBSIZE").value, 900)
            self.assertEqual(c.call("GET", "b7").value, b"2")
            self.assertEqual(c.call("GET", "c299").value, b"3")

    def set_mode(self, srv, mode):
        with open(srv.topology) as f:
            text = f.read()
        start = text.index("persistence: {")
        end = text.index("}", start)
        with open(srv.topology, "w") as f:
            f.write(text[:start] + "persistence: { %s " % mode + text[end:])

    def test_changing_the_mode_by_restart_keeps_the_data_and_no_stale_file(self):
        srv = self.start_target()
        aof = os.path.join(srv.data_dir, "appendonly.aof")
        with srv.client() as c:
            c.pipeline([("SET", "k%d" % i, "1") for i in range(500)])
        srv.stop()
        self.set_mode(srv, "mode: snapshot")
        srv.start()
        akv.wait_for(self, "the AOF retired after the first snapshot",
                     lambda: not os.path.exists(aof))
        self.assertIn("dump.akv", files(srv.data_dir))
        with srv.client() as c:
            self.assertEqual(c.call("DBSIZE").value, 500)
            self.assertEqual(c.call("SET", "snap", "1").value, b"OK")
        srv.stop()  # the final save holds "snap"
        self.set_mode(srv, "mode: aof")
        srv.start()
        self.assertTrue(os.path.exists(aof))
        with srv.client() as c:
            self.assertEqual(c.call("DBSIZE").value, 501)
            self.assertEqual(c.call("SET", "aof", "1").value, b"OK")
        srv.kill9()  # nothing lost: it is in the AOF that began with the snapshot
        srv.start()
        with srv.client() as c:
            self.assertEqual(c.call("DBSIZE").value, 502)

    def test_a_damaged_snapshot_stops_the_start_naming_the_file(self):
        srv = self.track(akv.ActiveKvServer(akv.new_workdir("damaged")))
        self.set_mode(srv, "mode: snapshot")  # from its first start: no AOF to retire by a save
        srv.start()
        with srv.client() as c:
            c.pipeline([("SET", "k%d" % i, "v" * 50) for i in range(200)])
            save(self, c)
        srv.kill9()
        dump = os.path.join(srv.data_dir, "dump.akv")
        size = os.path.getsize(dump)
        with open(dump, "r+b") as f:
            f.truncate(size - 7)
        with self.assertRaises(akv.ServerFailedToStart) as failed:
            srv.start()
        self.assertIn(dump, str(failed.exception))
        self.assertEqual(os.path.getsize(dump), size - 7, "the damaged file was changed")

    def test_a_disk_that_fills_during_a_snapshot(self):
        """ENOSPC while writing dump.akv: the save fails with the reason in INFO, the previous
        snapshot stays as it was, writes are refused as Redis refuses them
        (stop-writes-on-bgsave-error) while reads go on, and all works again once there is
        space. Needs root (mount -t tmpfs), as the chaos suite's full disk does."""
        self.assertEqual(os.geteuid(), 0, "mount -t tmpfs needs root")
        workdir = akv.new_workdir("snapshot-disk")
        disk = os.path.join(workdir, "data")
        os.makedirs(disk)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", disk],
                           capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.addCleanup(subprocess.run, ["umount", "-l", disk], capture_output=True)
        srv = self.track(akv.ActiveKvServer(workdir))
        self.set_mode(srv, "mode: snapshot")
        srv.start()
        dump = os.path.join(srv.data_dir, "dump.akv")
        with srv.client() as c:
            c.pipeline([("SET", "k%d" % i, "v" * 1000) for i in range(2000)])
            save(self, c)
            with open(dump, "rb") as f:
                saved = f.read()
            # Leave less room than one more snapshot takes.
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            with open(os.path.join(disk, "filler"), "wb") as f:
                f.write(b"\0" * max(0, free - len(saved) // 2))
            c.pipeline([("SET", "more%d" % i, "w" * 1000) for i in range(10)])
            self.assertEqual(c.call("BGSAVE").value, b"Background saving started")
            akv.wait_for(self, "the save fails",
                         lambda: akv.info_fields(c, "persistence")["rdb_bgsave_in_progress"]
                         == "0")
            fields = akv.info_fields(c, "persistence")
            self.assertEqual(fields["rdb_last_bgsave_status"], "err")
            self.assertIn("No space left on device", fields["rdb_last_bgsave_error"])
            self.assertFalse(os.path.exists(dump + ".tmp"), "the partial file was left")
            with open(dump, "rb") as f:
                self.assertEqual(f.read(), saved, "the previous snapshot changed")
            r = c.call("SET", "x", "1")
            self.assertTrue(r.raw.startswith(b"-MISCONF Redis is configured to save RDB "
                                             b"snapshots, but it's currently unable"), r.raw)
            self.assertEqual(c.call("SAVE").raw, b"-ERR\r\n")
            self.assertEqual(c.call("GET", "more9").value, b"w" * 1000)  # reads go on
            os.remove(os.path.join(disk, "filler"))
            self.assertEqual(c.call("BGSAVE").value, b"Background saving started")
            akv.wait_for(self, "the save succeeds",
                         lambda: akv.info_fields(c, "persistence")["rdb_last_bgsave_status"]
                         == "ok")
            self.assertEqual(c.call("SET", "x", "1").value, b"OK")
        srv.stop()  # the final save holds x
        srv.start()
        with srv.client() as c:
            self.assertEqual(c.call("DBSIZE").value, 2011)


if __name__ == "__main__":
    akv.run_tests()
