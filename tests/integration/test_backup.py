#!/usr/bin/python3
"""Backups through the real binaries (docs/backup-format.md, docs/operations.md "Backups"):
`activekvctl backup create | list | verify | validate` against live regions, to a local directory
and to a real S3-compatible server that verifies signatures (@20minutes/s3rver, s3server.py),
with Debian's awscli as an independent reader.

- A backup taken while writes go on holds a consistent state: a region started on its snapshot
  has every key written before the request, and the counter as it was.
- verify downloads, checks the SHA-256 of every object against the manifest and parses the
  snapshot; a corrupted object is named, a backup without its manifest lists as incomplete.
- Bad credentials, a missing bucket and a region of another database get clear errors, the
  secret never appears in any output, and the regions keep serving.
- Scheduled backups (topology `backup:`) run by the region itself keep the retention; a failing
  one is reported in INFO, retried, and succeeds once the credentials are fixed.
- The S3 server killed in the middle of `backup create`: a clear error naming the endpoint, the
  region serves on, and no complete backup lists; the next backup is whole.
- Regress without downtime: one backup restored into a second deployment while the first keeps
  taking writes; the clients switch; the first is taken down.
- Recovery of a database whose regions are all lost: `activekvctl restore` seeds a new
  deployment's empty data directories from each region's newest backup; the regions start,
  hold the data, replicate and converge. A non-empty directory and another database's backup
  are refused. A region whose data directory survived starts from its AOF (writes after the
  backups kept) while only the others are restored (`--region`).
- Merge into a live region (`restore --merge`, docs/crdt-semantics.md "Restore --merge"): every
  type, every database and the function libraries of a backup written into the live region as
  new writes (counters add, written values win, collections unite, a live key of another type
  and a live value that is no number stay), replicated to the peer; a region that is down is
  named, another database's backup refused.

  /usr/bin/python3 test_backup.py     env: AKV_SEED, AKV_BIN_DIR
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

sys.dont_write_bytecode = True
import akv  # noqa: E402
from s3server import S3Server  # noqa: E402
from test_s3_store import aws  # noqa: E402
from test_replication import Cluster  # noqa: E402

KEY_ID = "AKIABACKUPTEST"
SECRET = "backup/s3cr:et+key"
BUCKET = "backups"


def ctl():
    return akv.require_executable(os.path.join(akv.bin_dir(), "activekvctl"), "activekvctl")


class BackupTest(akv.ServerTestCase):
    s3 = None

    @classmethod
    def setUpClass(cls):
        cls.s3_dir = akv.new_workdir("backup-s3")
        cls.s3 = S3Server(cls.s3_dir, KEY_ID, SECRET, buckets=[BUCKET]).start()

    @classmethod
    def tearDownClass(cls):
        if cls.s3 is not None:
            cls.s3.kill()

    def run_ctl(self, *args, env=None, ok=True):
        env = env if env is not None else self.s3.client_env()
        p = subprocess.run([ctl()] + list(args), env=env, capture_output=True, timeout=300)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        self.assertNotIn(SECRET, out + err, "the secret appeared in activekvctl's output")
        what = "activekvctl %s -> exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, out[-3000:], err[-3000:])
        self.assertEqual(p.returncode == 0, ok, what)
        return out, err

    def cluster_with_data(self):
        cl = Cluster(self, 2)
        a, b = cl.client("r0"), cl.client("r1")
        a.pipeline([("SET", "before%d" % i, "v%d" % i) for i in range(3000)])
        self.assertEqual(b.call("INCRBY", "ctr", "7").value, 7)
        self.assertEqual(b.call("HSET", "h", "f", "1").value, 1)
        cl.wait_sync()
        return cl

    def new_deployment(self, name):
        """Another deployment of database "test" (regions r0, r1 on new ports and empty
        directories), not started: (root, topology path, [resp r0, resp r1, sync r0, sync r1])."""
        root = akv.new_workdir(name)
        ports = akv.free_ports(4)
        regions = [{"name": "r%d" % i, "resp": "127.0.0.1:%d" % ports[i],
                    "sync": "127.0.0.1:%d" % ports[2 + i],
                    "data_dir": os.path.join(root, "data", "r%d" % i)} for i in range(2)]
        return root, akv.write_topology(os.path.join(root, "topology.yaml"), regions), ports

    def assert_counter_replicates(self, writer_port, reader_port):
        """ctr (7 in the backup) counts on from it in one region and the other sees it."""
        with akv.RespClient(writer_port) as c:
            self.assertEqual(c.call("INCRBY", "ctr", "1").value, 8)
        with akv.RespClient(reader_port) as c:
            akv.wait_for(self, "the increment reaches the other region",
                         lambda: c.call("GET", "ctr").value == b"8", timeout=20)

    def restore_and_check(self, snapshot_path):
        """Starts a lone region on the snapshot (as its AOF) and checks the data before."""
        srv = akv.ActiveKvServer(akv.new_workdir("restored"))
        shutil.copyfile(snapshot_path, os.path.join(srv.data_dir, "appendonly.aof"))
        srv.start()
        self.addCleanup(srv.kill9)
        with srv.client() as c:
            got = c.pipeline([("GET", "before%d" % i) for i in range(3000)])
            self.assertEqual([r.value for r in got], [b"v%d" % i for i in range(3000)])
            self.assertEqual(c.call("GET", "ctr").value, b"7")
            self.assertEqual(c.call("HGET", "h", "f").value, b"1")
            return c.call("DBSIZE").value

    def test_local_backup_during_writes_is_consistent_and_verifies(self):
        cl = self.cluster_with_data()
        stop = threading.Event()
        written = []

        def writer():
            with cl.regions["r0"].client() as c:
                i = 0
                while not stop.is_set():
                    c.call("SET", "during%d" % i, "x")
                    written.append(i)
                    i += 1

        t = threading.Thread(target=writer)
        t.start()
        dest = os.path.join(akv.new_workdir("backup-local"), "backups")
        try:
            out, _ = self.run_ctl("backup", "create", cl.topology, "--to", dest)
        finally:
            stop.set()
            t.join()
        self.assertGreater(len(written), 0)
        self.assertEqual(out.count("backup test/"), 2, out)
        out, _ = self.run_ctl("backup", "list", dest)
        self.assertEqual(len([l for l in out.splitlines() if "region=" in l]), 2, out)
        m = re.search(r"region=r0 .* version=\[r0:(\d+) r1:\d+\]", out)
        self.assertIsNotNone(m, out)
        self.assertGreaterEqual(int(m.group(1)), 3000)  # the writes before the request
        out, _ = self.run_ctl("backup", "verify", dest)
        self.assertEqual(out.count(": ok ("), 2, out)
        snaps = sorted(glob.glob(os.path.join(dest, "test", "r0", "*", "snapshot.akv")))
        self.assertEqual(len(snaps), 1)
        n = self.restore_and_check(snaps[0])
        self.assertGreaterEqual(n, 3002)
        # The regions kept serving throughout.
        self.assertEqual(cl.client("r1").call("GET", "before1").value, b"v1")

    def test_corruption_and_incomplete_backups_are_named(self):
        cl = self.cluster_with_data()
        dest = os.path.join(akv.new_workdir("backup-bad"), "b")
        self.run_ctl("backup", "create", cl.topology, "--region", "r0", "--to", dest)
        self.run_ctl("backup", "create", cl.topology, "--region", "r1", "--to", dest)
        snap = glob.glob(os.path.join(dest, "test", "r0", "*", "snapshot.akv"))[0]
        with open(snap, "r+b") as f:  # one flipped byte in the middle
            f.seek(os.path.getsize(snap) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0x40]))
        _, err = self.run_ctl("backup", "verify", dest, ok=False)
        self.assertIn("snapshot.akv: checksum mismatch", err)
        self.assertIn("/r0/", err)
        # Without its manifest a backup is incomplete: listed so, never verified as complete.
        r1 = glob.glob(os.path.join(dest, "test", "r1", "*"))[0]
        os.remove(os.path.join(r1, "manifest.yaml"))
        out, _ = self.run_ctl("backup", "list", dest)
        self.assertIn("incomplete (no manifest)", out)
        _, err = self.run_ctl("backup", "verify", dest, "--backup",
                              os.path.relpath(r1, dest), ok=False)
        self.assertIn("incomplete", err)

    def test_s3_backup_lists_verifies_and_is_readable_by_awscli(self):
        cl = self.cluster_with_data()
        loc = "s3://%s/prod" % BUCKET
        self.run_ctl("backup", "validate", loc)
        out, _ = self.run_ctl("backup", "create", cl.topology, "--to", loc)
        self.assertEqual(out.count("backup test/"), 2, out)
        out, _ = self.run_ctl("backup", "verify", loc)
        self.assertEqual(out.count(": ok ("), 2, out)
        # awscli, an independent client, sees the same objects and can fetch the snapshot.
        p = subprocess.run([aws(), "--endpoint-url", self.s3.endpoint, "s3", "ls", "--recursive",
                            "s3://%s/prod/" % BUCKET], env=self.s3.client_env(),
                           capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        keys = [l.split()[-1] for l in p.stdout.decode().splitlines()]
        snaps = [k for k in keys if k.endswith("/r0/" + k.split("/r0/")[-1]) and
                 k.endswith("snapshot.akv")]
        self.assertEqual(len([k for k in keys if k.endswith("manifest.yaml")]), 2, keys)
        self.assertEqual(len(snaps), 1, keys)
        local = os.path.join(akv.new_workdir("backup-fetch"), "snapshot.akv")
        p = subprocess.run([aws(), "--endpoint-url", self.s3.endpoint, "s3", "cp",
                            "s3://%s/%s" % (BUCKET, snaps[0]), local],
                           env=self.s3.client_env(), capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.restore_and_check(local)

    def test_s3_server_killed_mid_backup_leaves_no_complete_backup(self):
        workdir = akv.new_workdir("backup-s3-killed")
        s3 = S3Server(workdir, KEY_ID, SECRET, buckets=[BUCKET]).start()
        self.addCleanup(s3.kill)
        cl = Cluster(self, 1)
        c = cl.client("r0")
        for j in range(20):  # about 20 MB of snapshot: a multipart upload of 3 parts
            c.pipeline([("SET", "big%d" % (j * 1000 + i), "v" * 1000) for i in range(1000)])
        loc = "s3://%s/killed" % BUCKET
        p = subprocess.Popen([ctl(), "backup", "create", cl.topology, "--to", loc],
                             env=s3.client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # Once the first part is stored, hold the uploader, kill the server, let it go on.
            uploads = os.path.join(s3.data_dir, BUCKET, "._S3rver_uploads")
            akv.wait_for(self, "the first part stored",
                         lambda: glob.glob(os.path.join(uploads, "*", "1.md5")) or
                         p.poll() is not None, timeout=60)
            os.kill(p.pid, signal.SIGSTOP)
            s3.kill()
            os.kill(p.pid, signal.SIGCONT)
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
        self.assertNotIn(SECRET, out + err)
        self.assertEqual(p.returncode, 1, "backup create did not fail: %s %s" % (out, err))
        self.assertIn(s3.endpoint, err)
        # The region served throughout.
        self.assertEqual(c.call("SET", "after", "1").value, b"OK")
        s3.start()  # same directory, same port
        out, _ = self.run_ctl("backup", "list", loc, env=s3.client_env())
        self.assertNotIn("database=", out, "a backup lists as complete: " + out)
        _, err = self.run_ctl("backup", "verify", loc, env=s3.client_env(), ok=False)
        self.assertIn("no complete backup", err)
        # Once the store is back, the next backup is whole.
        self.run_ctl("backup", "create", cl.topology, "--to", loc, env=s3.client_env())
        out, _ = self.run_ctl("backup", "verify", loc, env=s3.client_env())
        self.assertEqual(out.count(": ok ("), 1, out)

    def test_bad_credentials_missing_bucket_and_another_database_get_clear_errors(self):
        cl = self.cluster_with_data()
        _, err = self.run_ctl("backup", "create", cl.topology, "--to", "s3://%s/x" % BUCKET,
                              env=self.s3.client_env(AWS_SECRET_ACCESS_KEY="wrong-secret"),
                              ok=False)
        self.assertIn(KEY_ID, err)
        _, err = self.run_ctl("backup", "validate", "s3://no-such-bucket/x", ok=False)
        self.assertIn("no-such-bucket", err)
        _, err = self.run_ctl("backup", "create", cl.topology, "--to", "s3://no-such-bucket/x",
                              ok=False)
        self.assertIn("no-such-bucket", err)
        # A topology of another database pointing at these regions: refused, nothing written.
        other = os.path.join(akv.new_workdir("otherdb"), "topology.yaml")
        with open(cl.topology) as f:
            text = f.read().replace("name: test", "name: otherdb", 1)
        with open(other, "w") as f:
            f.write(text)
        dest = os.path.join(akv.new_workdir("backup-other"), "b")
        _, err = self.run_ctl("backup", "create", other, "--to", dest, ok=False)
        self.assertIn("belongs to database 'test', not 'otherdb'", err)
        self.assertEqual(glob.glob(os.path.join(dest, "*", "*", "*", "manifest.yaml")), [])
        # The regions kept serving.
        self.assertEqual(cl.client("r0").call("GET", "before2").value, b"v2")

    def test_restore_recovers_a_database_whose_regions_are_all_lost(self):
        cl = self.cluster_with_data()
        dest = os.path.join(akv.new_workdir("backup-dr"), "b")
        self.run_ctl("backup", "create", cl.topology, "--to", dest)
        # Every region is lost: processes killed, data directories gone.
        for p in cl.regions.values():
            p.kill9()
        shutil.rmtree(os.path.join(cl.root, "data"))
        # A new deployment of the same database (other ports and directories) from the backups.
        root, topo, ports = self.new_deployment("restored-db")
        out, _ = self.run_ctl("restore", "--from", dest, "--into", topo)
        self.assertEqual(out.count("restored test/"), 2, out)
        # Restoring over data is refused, and changes nothing.
        _, err = self.run_ctl("restore", "--from", dest, "--into", topo, ok=False)
        self.assertIn("is not empty", err)
        # A backup of another database is refused by name.
        other = os.path.join(root, "other.yaml")
        with open(topo) as f:
            text = f.read().replace("name: test", "name: other", 1)
        with open(other, "w") as f:
            f.write(text.replace(os.path.join(root, "data"), os.path.join(root, "other")))
        some = sorted(glob.glob(os.path.join(dest, "test", "r0", "*")))[0]
        _, err = self.run_ctl("restore", "--from", dest, "--backup", os.path.relpath(some, dest),
                              "--into", other, ok=False)
        self.assertIn("is of database 'test', not 'other'", err)
        self.run_ctl("up", topo)
        self.addCleanup(lambda: subprocess.run([ctl(), "down", topo], capture_output=True,
                                               timeout=60))
        for i in range(2):
            with akv.RespClient(ports[i]) as c:
                got = c.pipeline([("GET", "before%d" % k) for k in range(0, 3000, 7)])
                self.assertEqual([r.value for r in got],
                                 [b"v%d" % k for k in range(0, 3000, 7)])
                self.assertEqual(c.call("GET", "ctr").value, b"7")
        # The restored regions replicate to each other, and keep counting from the backup.
        self.assert_counter_replicates(ports[0], ports[1])
        self.run_ctl("wait-sync", topo)

    def test_recovery_keeps_what_a_surviving_aof_holds(self):
        """Every region lost, but one region's data directory survived: it starts from its own
        AOF (writes after the backups included) and only the other region is restored."""
        cl = self.cluster_with_data()
        dest = os.path.join(akv.new_workdir("backup-aof"), "b")
        self.run_ctl("backup", "create", cl.topology, "--to", dest)
        a = cl.client("r0")
        a.pipeline([("SET", "after%d" % i, "w%d" % i) for i in range(500)])
        self.assertEqual(a.call("INCRBY", "ctr", "5").value, 12)
        cl.wait_sync()
        for p in cl.regions.values():
            p.kill9()
        root, topo, ports = self.new_deployment("aof-survived")
        shutil.copytree(os.path.join(cl.root, "data", "r0"), os.path.join(root, "data", "r0"))
        # r0's directory holds its AOF: a restore of every region is refused, of r1 alone not.
        _, err = self.run_ctl("restore", "--from", dest, "--into", topo, ok=False)
        self.assertIn("region r0: data directory", err)
        out, _ = self.run_ctl("restore", "--from", dest, "--into", topo, "--region", "r1")
        self.assertIn("region r1: restored test/r1/", out)
        self.assertNotIn("region r0", out)
        self.run_ctl("up", topo)
        self.addCleanup(lambda: subprocess.run([ctl(), "down", topo], capture_output=True,
                                               timeout=60))
        self.run_ctl("wait-sync", topo)
        for i in range(2):
            with akv.RespClient(ports[i]) as c:
                got = c.pipeline([("GET", "after%d" % k) for k in range(0, 500, 7)])
                self.assertEqual([r.value for r in got], [b"w%d" % k for k in range(0, 500, 7)])
                self.assertEqual(c.call("GET", "before42").value, b"v42")
                self.assertEqual(c.call("GET", "ctr").value, b"12")

    def test_regress_by_restoring_into_a_second_database_then_switching(self):
        """The Redis Enterprise procedure to go back to an earlier point without taking the live
        database down: restore a backup into a second deployment, check it, move the clients."""
        cl = self.cluster_with_data()
        dest = os.path.join(akv.new_workdir("backup-regress"), "b")
        self.run_ctl("backup", "create", cl.topology, "--to", dest, "--region", "r0")
        # Then a bad deploy damages the data; the live database goes on serving it.
        a = cl.client("r0")
        self.assertEqual(a.call("SET", "before5", "damaged").value, b"OK")
        self.assertEqual(a.call("DEL", "before6").value, 1)
        self.assertEqual(a.call("INCRBY", "ctr", "1000").value, 1007)
        cl.wait_sync()
        _, topo, ports = self.new_deployment("second-db")
        backup_id = os.path.relpath(
            sorted(glob.glob(os.path.join(dest, "test", "r0", "*")))[-1], dest)
        # The whole second database from the one backup; the live one keeps taking writes.
        stop = threading.Event()
        live_writes = []

        def write_live():
            with akv.RespClient(cl.regions["r1"].port) as c:
                i = 0
                while not stop.is_set():
                    self.assertEqual(c.call("SET", "live%d" % i, "x").value, b"OK")
                    live_writes.append(i)
                    i += 1
        writer = threading.Thread(target=write_live)
        writer.start()
        try:
            out, _ = self.run_ctl("restore", "--from", dest, "--backup", backup_id, "--into",
                                  topo)
            self.assertEqual(out.count("restored " + backup_id), 2, out)
            self.run_ctl("up", topo)
            self.addCleanup(lambda: subprocess.run([ctl(), "down", topo], capture_output=True,
                                                   timeout=60))
            self.run_ctl("wait-sync", topo)
        finally:
            stop.set()
            writer.join()
        self.assertGreater(len(live_writes), 0, "the live database stopped serving")
        for i in range(2):
            with akv.RespClient(ports[i]) as c:
                self.assertEqual(c.call("GET", "before5").value, b"v5")
                self.assertEqual(c.call("GET", "before6").value, b"v6")
                self.assertEqual(c.call("GET", "ctr").value, b"7")
                self.assertEqual(c.call("EXISTS", "live0").value, 0)  # two separate databases
        with akv.RespClient(cl.regions["r0"].port) as c:
            self.assertEqual(c.call("GET", "before5").value, b"damaged")
        # Switch: the clients now use the second database, which replicates on its own; the
        # first one is taken down.
        self.assert_counter_replicates(ports[1], ports[0])
        for p in cl.regions.values():
            p.stop()
        self.run_ctl("wait-sync", topo)

    LIBRARY = "#!lua name=mergelib\nredis.register_function('mergefn', function() return 1 end)"

    def test_merge_into_a_live_region_adds_counters_and_unites_the_rest(self):
        cl = Cluster(self, 2)
        a, b = cl.client("r0"), cl.client("r1")
        for cmd in [("INCRBY", "ctr", "10"), ("SET", "str", "old"), ("SET", "num", "5"),
                    ("HSET", "h", "f1", "a", "f2", "b"), ("HINCRBY", "h", "n", "5"),
                    ("SADD", "s", "a", "b"), ("SADD", "s2", "p", "q"),
                    ("ZADD", "z", "1", "m1"), ("ZINCRBY", "z", "2", "m2"),
                    ("RPUSH", "l", "x", "y"), ("XADD", "x", "1-1", "f", "v"),
                    ("XADD", "x", "2-1", "f", "w"), ("XGROUP", "CREATE", "x", "g", "0"),
                    ("XADD", "x2", "5-1", "f", "1"), ("XADD", "x2", "6-1", "f", "2"),
                    ("XGROUP", "CREATE", "x2", "g2", "0"),
                    ("XREADGROUP", "GROUP", "g2", "c1", "COUNT", "1", "STREAMS", "x2", ">"),
                    ("SET", "gone", "back"), ("SET", "ttl", "t", "PX", "600000"),
                    ("SET", "short", "s", "PX", "3000"), ("SET", "typed", "text"),
                    ("INCRBYFLOAT", "fl", "1.5"), ("INCR", "ctr2"),
                    ("FUNCTION", "LOAD", self.LIBRARY)]:
            r = a.call(*cmd)
            self.assertFalse(isinstance(r.value, akv.Err), "%r: %r" % (cmd, r.value))
        self.assertEqual(a.call("SELECT", "3").value, b"OK")
        self.assertEqual(a.call("SET", "db3key", "three").value, b"OK")
        self.assertEqual(a.call("SELECT", "0").value, b"OK")
        cl.wait_sync()
        dest = os.path.join(akv.new_workdir("backup-merge"), "b")
        self.run_ctl("backup", "create", cl.topology, "--to", dest, "--region", "r0")
        # The live database moves on, in both regions.
        for c, cmd in [(b, ("INCRBY", "ctr", "5")), (a, ("SET", "str", "new")),
                       (b, ("HSET", "h", "f1", "live", "f3", "c")), (a, ("HINCRBY", "h", "n", "1")),
                       (b, ("SREM", "s", "a")), (b, ("SADD", "s", "c")), (a, ("DEL", "s2")),
                       (a, ("ZADD", "z", "10", "m1")), (b, ("ZINCRBY", "z", "1", "m2")),
                       (a, ("DEL", "l")), (b, ("RPUSH", "l", "z")),
                       (b, ("XADD", "x", "3-1", "f", "u")), (a, ("DEL", "x2")),
                       (a, ("DEL", "gone")), (b, ("DEL", "typed")),
                       (b, ("HSET", "typed", "f", "v")), (a, ("INCRBYFLOAT", "fl", "1")),
                       (b, ("SET", "ctr2", "text")), (a, ("FUNCTION", "DELETE", "mergelib"))]:
            r = c.call(*cmd)
            self.assertFalse(isinstance(r.value, akv.Err), "%r: %r" % (cmd, r.value))
        akv.wait_for(self, "'short' expires", lambda: a.call("EXISTS", "short").value == 0,
                     timeout=10)
        cl.wait_sync()
        # Merged into r0, the region the backup came from (no --region).
        out, _ = self.run_ctl("restore", "--merge", "--from", dest, "--into", cl.topology)
        self.assertIn("region r0: merged test/r0/", out)
        self.assertIn("17 keys (3 created, 12 merged, 1 kept: another type live, "
                      "1 expired in the backup), 1 values kept, 1 function libraries loaded, "
                      "0 kept", out)
        cl.wait_sync()
        for c in (a, b):  # the peer got the merge as ordinary writes
            got = c.pipeline([
                ("GET", "ctr"), ("GET", "str"), ("GET", "num"), ("HGETALL", "h"),
                ("SMEMBERS", "s"), ("SMEMBERS", "s2"), ("ZRANGE", "z", "0", "-1", "WITHSCORES"),
                ("LRANGE", "l", "0", "-1"), ("XLEN", "x"), ("GET", "gone"), ("TYPE", "typed"),
                ("GET", "fl"), ("GET", "ctr2"), ("EXISTS", "short"), ("XLEN", "x2"),
                ("FCALL", "mergefn", "0")])
            v = [r.value for r in got]
            self.assertEqual(v[0], b"25")  # counters add: 15 live + 10 in the backup
            self.assertEqual(v[1:3], [b"old", b"5"])  # a written value: the backup's wins
            h = dict(zip(v[3][::2], v[3][1::2]))
            self.assertEqual(h, {b"f1": b"a", b"f2": b"b", b"f3": b"c", b"n": b"11"})
            self.assertEqual(sorted(v[4]), [b"a", b"b", b"c"])
            self.assertEqual(sorted(v[5]), [b"p", b"q"])
            self.assertEqual(v[6], [b"m1", b"1", b"m2", b"5"])
            self.assertEqual(v[7], [b"z", b"x", b"y"])  # the backup's elements appended
            self.assertEqual(v[8], 3)  # entries at or below the live stream's last id: kept
            self.assertEqual(v[9:11], [b"back", b"hash"])
            self.assertEqual(v[11], b"4")  # 2.5 live + 1.5
            self.assertEqual(v[12], b"text")  # no number live: kept
            self.assertEqual(v[13:16], [0, 2, 1])
            self.assertGreater(c.call("PTTL", "ttl").value, 0)
            pending = c.call("XPENDING", "x2", "g2").value
            self.assertEqual(pending[0], 1, pending)
            self.assertEqual(pending[3], [[b"c1", b"1"]], pending)
            self.assertEqual(c.call("SELECT", "3").value, b"OK")
            self.assertEqual(c.call("GET", "db3key").value, b"three")
            self.assertEqual(c.call("SELECT", "0").value, b"OK")

    def test_merge_errors_name_the_region_and_the_database(self):
        cl = self.cluster_with_data()
        dest = os.path.join(akv.new_workdir("backup-merge-err"), "b")
        self.run_ctl("backup", "create", cl.topology, "--to", dest, "--region", "r0")
        # Another database's topology: refused before anything is sent.
        other = os.path.join(akv.new_workdir("mergeother"), "topology.yaml")
        with open(cl.topology) as f:
            text = f.read().replace("name: test", "name: otherdb", 1)
        with open(other, "w") as f:
            f.write(text)
        some = sorted(glob.glob(os.path.join(dest, "test", "r0", "*")))[0]
        _, err = self.run_ctl("restore", "--merge", "--from", dest, "--backup",
                              os.path.relpath(some, dest), "--into", other, ok=False)
        self.assertIn("is of database 'test', not 'otherdb'", err)
        # The target region is down: its name and address in the error.
        cl.regions["r1"].kill9()
        _, err = self.run_ctl("restore", "--merge", "--from", dest, "--into", cl.topology,
                              "--region", "r1", ok=False)
        self.assertIn("region r1 (", err)
        self.assertEqual(cl.client("r0").call("GET", "ctr").value, b"7")  # nothing merged

    def scheduled_region(self, backup_yaml):
        srv = akv.ActiveKvServer(akv.new_workdir("scheduled"))
        with open(srv.topology, "a") as f:
            f.write("backup: %s\n" % backup_yaml)
        srv.start()
        self.addCleanup(srv.kill9)
        return srv

    def persistence_info(self, srv):
        with srv.client() as c:
            text = c.call("INFO", "persistence").value.decode()
        return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)

    def test_scheduled_backups_run_by_the_region_keep_the_retention(self):
        dest = os.path.join(akv.new_workdir("scheduled-dest"), "b")
        srv = self.scheduled_region("{ location: %s, interval: 1s, retention: 2 }" % dest)
        with srv.client() as c:
            c.pipeline([("SET", "k%d" % i, "v") for i in range(500)])
        akv.wait_for(self, "three scheduled backups",
                     lambda: int(self.persistence_info(srv).get("backups_completed", "0")) >= 3,
                     timeout=30)
        info = self.persistence_info(srv)
        self.assertEqual(info["backup_location"], dest)
        self.assertEqual(info["backup_last_status"], "ok")
        # Retention: only the two newest complete backups stay (a third may be on its way).
        akv.wait_for(self, "retention applied", lambda: len(
            glob.glob(os.path.join(dest, "test", "r1", "*", "manifest.yaml"))) <= 2, timeout=10)
        out, _ = self.run_ctl("backup", "verify", dest)
        self.assertGreaterEqual(out.count(": ok ("), 1, out)
        self.assertLessEqual(out.count(": ok ("), 2, out)
        self.assertIn("500 keys", out)

    def test_a_failing_scheduled_backup_is_reported_and_retried_while_the_region_serves(self):
        creds = os.path.join(akv.new_workdir("creds"), "credentials")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = wrong\n"
                    "region = us-east-1\nendpoint_url = %s\n" % (KEY_ID, self.s3.endpoint))
        srv = self.scheduled_region(
            "{ location: \"s3://%s/sched\", interval: 1s, credentials_file: %s }" %
            (BUCKET, creds))
        akv.wait_for(self, "a failed scheduled backup",
                     lambda: int(self.persistence_info(srv).get("backup_failures", "0")) >= 1,
                     timeout=30)
        info = self.persistence_info(srv)
        self.assertEqual(info["backup_last_status"], "err")
        self.assertIn(KEY_ID, info["backup_last_error"])
        self.assertNotIn("wrong", info["backup_last_error"])
        self.assertEqual(info["backups_completed"], "0")
        with srv.client() as c:
            self.assertEqual(c.call("SET", "still", "serving").raw, b"+OK\r\n")
        # Fixed credentials: the retry succeeds without a restart.
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    "region = us-east-1\nendpoint_url = %s\n" % (KEY_ID, SECRET, self.s3.endpoint))
        akv.wait_for(self, "a scheduled backup after the fix",
                     lambda: int(self.persistence_info(srv).get("backups_completed", "0")) >= 1,
                     timeout=90)
        self.assertEqual(self.persistence_info(srv)["backup_last_status"], "ok")


if __name__ == "__main__":
    akv.run_tests()
