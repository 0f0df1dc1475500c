#!/usr/bin/python3
"""activekvctl end to end with real activekv-server processes (docs/ctl.md).

Single region (always run): up / status / status --json / wait-sync / kill / restart / down,
pid files and stale pid files, a region that fails during startup, usage and topology errors.

Multi region (after a probe, run once: two regions, a SET in one -- retried while the new
region answers -TRYAGAIN -- must show in the other within 5 s, else every multi-region test fails
saying why): `up` waits for every link, writes in every region
converge (`wait-sync`), a killed region shows as down and catches up after `restart`, `down`
stops every region with SIGTERM alone.

  /usr/bin/python3 test_ctl.py [-k pattern]
  env: AKV_BIN_DIR (activekvctl and activekv-server; default build/bin), AKV_KEEP_TMP=1

activekvctl starts servers detached (setsid), so they do not die with this process; every test
runs `activekvctl down` at teardown and then SIGKILLs whatever a pid file still names, and the
same happens at exit for every topology file this run created.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
import akv  # noqa: E402

_TOPOLOGIES = []  # every topology file written by this run: (path, [data_dir, ...])


def ctl_path():
    return akv.require_executable(os.path.join(akv.bin_dir(), "activekvctl"),
                                  "activekvctl (set AKV_BIN_DIR or build target activekvctl)")


def server_path():
    return akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                  "activekv-server (set AKV_BIN_DIR or build it)")


def run_ctl(*args, timeout=120, cwd=None):
    """Runs activekvctl; returns CompletedProcess with text stdout/stderr (echoed to stderr)."""
    argv = [ctl_path()] + [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, cwd=cwd)
    print("[ctl] %s -> rc=%d in %.2fs\n%s%s" %
          (" ".join(argv[1:]), p.returncode, time.monotonic() - t0, _indent(p.stdout),
           _indent(p.stderr, "! ", 6 if p.returncode == 2 else 40)), file=sys.stderr)
    return p


def _indent(text, prefix="  ", max_lines=40):
    lines = text.splitlines()
    if len(lines) > max_lines:
        lines = lines[:max_lines] + ["... (%d more lines)" % (len(lines) - max_lines)]
    return "".join(prefix + line + "\n" for line in lines)


def read_pid(data_dir):
    try:
        with open(os.path.join(data_dir, "activekv.pid")) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode() for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def wait_dead(pid, timeout=10.0):
    deadline = time.monotonic() + timeout
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def kill_from_pid_files(data_dirs):
    """SIGKILLs every activekv-server a pid file in data_dirs names (teardown safety net)."""
    for d in data_dirs:
        pid = read_pid(d)
        if pid and alive(pid) and any(a.endswith("activekv-server") for a in cmdline(pid)[:1]):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            wait_dead(pid, 5)


@atexit.register
def _kill_everything():
    for _, dirs in _TOPOLOGIES:
        kill_from_pid_files(dirs)


class Topo:
    """A topology file of n regions with free loopback ports, in its own work directory.
    data_dirs are written relative to the file's folder (docs/topology.md), so they resolve to
    <workdir>/data/<region>."""

    def __init__(self, name, regions, appendfsync="always"):
        self.workdir = akv.new_workdir(name)
        ports = akv.free_ports(2 * len(regions))
        self.regions = list(regions)
        self.resp = {r: ports[2 * i] for i, r in enumerate(regions)}
        self.sync = {r: ports[2 * i + 1] for i, r in enumerate(regions)}
        self.data_dir = {r: os.path.join(self.workdir, "data", r) for r in regions}
        self.path = os.path.join(self.workdir, "topology.yaml")
        lines = ["name: %s" % name, "persistence: { appendfsync: %s }" % appendfsync, "regions:"]
        for r in regions:
            lines.append("  - { name: %s, resp: %s:%d, sync: %s:%d, data_dir: data/%s }" %
                         (r, akv.HOST, self.resp[r], akv.HOST, self.sync[r], r))
        with open(self.path, "w") as f:
            f.write("\n".join(lines) + "\n")
        _TOPOLOGIES.append((self.path, list(self.data_dir.values())))

    def pid(self, region):
        return read_pid(self.data_dir[region])

    def log(self, region):
        try:
            with open(os.path.join(self.data_dir[region], "server.log")) as f:
                return f.read()
        except OSError:
            return ""

    def client(self, region):
        return akv.RespClient(self.resp[region])

    def cleanup(self):
        if os.path.exists(ctl_path()):
            run_ctl("down", self.path, timeout=60)
        kill_from_pid_files(self.data_dir.values())


class CtlTestCase(unittest.TestCase):

    def topo(self, name, regions, appendfsync="always"):
        t = Topo(name, regions, appendfsync)
        self.addCleanup(t.cleanup)
        return t

    def ok(self, p, what=""):
        self.assertEqual(p.returncode, 0, "%s: activekvctl failed\nstdout:\n%s\nstderr:\n%s" %
                         (what, p.stdout, p.stderr))
        return p

    def up(self, t, *extra):
        p = self.ok(run_ctl("up", t.path, *extra), "up")
        for r in t.regions:
            pid = t.pid(r)
            self.assertTrue(pid and alive(pid), "%s: no live pid after up\n%s" % (r, t.log(r)))
        return p

    def status_json(self, t, *extra):
        p = run_ctl("status", t.path, "--json", *extra)
        self.assertIn(p.returncode, (0, 1), p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(list(doc.keys()), t.regions, "JSON keyed by region, in topology order")
        return p.returncode, doc


class UsageTest(CtlTestCase):
    """Usage and configuration errors exit 2 and say what is wrong."""

    def test_usage_errors_exit_2_with_usage_text(self):
        t = Topo("usage", ["r1"])  # never started
        cases = [
            ([], "no command"),
            (["frobnicate", t.path], "unknown command 'frobnicate'"),
            (["up"], "up takes FILE, got 0 arguments"),
            (["up", t.path, t.path], "up takes FILE, got 2 arguments"),
            (["kill", t.path], "kill takes FILE REGION, got 1 argument"),
            (["status", t.path, "--colour"], "unknown option '--colour' for status"),
            (["status", t.path, "--timeout", "3"], "unknown option '--timeout' for status"),
            (["up", t.path, "--timeout"], "--timeout needs a value"),
            (["up", t.path, "--timeout", "soon"], "--timeout: 'soon' is not a number"),
            (["wait-sync", t.path, "--timeout=-1"], "--timeout: '-1' is not a number"),
            (["status", t.path, "--json=yes"], "--json takes no value"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                p = run_ctl(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn(message, p.stderr)
                self.assertIn("usage: activekvctl", p.stderr)
        p = self.ok(run_ctl("--help"), "--help")
        for command in ("up FILE", "down FILE", "status FILE", "kill FILE REGION",
                        "restart FILE REGION", "wait-sync FILE"):
            self.assertIn(command, p.stdout)

    def test_bad_topology_file_prints_loader_message_and_exits_2(self):
        d = akv.new_workdir("badtopo")
        bad = os.path.join(d, "bad.yaml")
        with open(bad, "w") as f:
            f.write("name: x\nregions:\n  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:1, "
                    "data_dir: a }\n")
        for command in (["up", bad], ["down", bad], ["status", bad], ["kill", bad, "a"],
                        ["restart", bad, "a"], ["wait-sync", bad]):
            with self.subTest(command=command[0]):
                p = run_ctl(*command)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("%s:3: regions[0].sync: address 127.0.0.1:1 is already used by "
                              "regions[0].resp" % bad, p.stderr)
        missing = os.path.join(d, "missing.yaml")
        p = run_ctl("status", missing)
        self.assertEqual(p.returncode, 2)
        self.assertIn("%s: cannot read topology file: No such file or directory" % missing,
                      p.stderr)
        self.assertEqual(os.listdir(d), ["bad.yaml"], "nothing created for a bad file")

    def test_unknown_region_exits_2_listing_the_regions(self):
        t = Topo("unknown", ["us-east", "eu-west"])
        for command in ("kill", "restart"):
            p = run_ctl(command, t.path, "ap-south")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("unknown region 'ap-south'", p.stderr)
            self.assertIn("(regions: us-east, eu-west)", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(t.workdir, "data")))


class SingleRegionTest(CtlTestCase):
    """Everything end to end with one region (no peers)."""

    def test_up_status_wait_sync_down(self):
        t = self.topo("single", ["solo"])
        # From another directory: data_dir is relative to the YAML file, not to the cwd.
        p = self.ok(run_ctl("up", t.path, cwd=akv.tmp_root()), "up")
        self.assertIn("solo: started activekv-server, pid", p.stdout)
        self.assertIn("solo: serving RESP on 127.0.0.1:%d" % t.resp["solo"], p.stdout)
        self.assertIn("solo: Status answering on 127.0.0.1:%d" % t.sync["solo"], p.stdout)
        self.assertIn("up: 1 region ready in", p.stdout)
        self.assertNotIn("links:", p.stdout, "a single region has no links")
        pid = t.pid("solo")
        self.assertTrue(pid and alive(pid))
        argv = cmdline(pid)
        self.assertEqual(argv, [server_path(), "--topology", t.path, "--region", "solo"])
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        self.assertEqual(int(fields[3]), pid, "detached: the server leads its own session")
        self.assertEqual(os.readlink("/proc/%d/cwd" % pid), t.data_dir["solo"])
        log = t.log("solo")
        self.assertIn("activekvctl: starting %s --topology %s --region solo" %
                      (server_path(), t.path), log)
        self.assertIn("serving RESP", log, "the server's output goes to <data_dir>/server.log")

        with t.client("solo") as c:
            self.assertEqual(c.call("SET", "k1", "v1").value, b"OK")
            self.assertEqual(c.call("INCRBY", "n", 5).value, 5)

        p = self.ok(run_ctl("status", t.path), "status")
        row = [line.split() for line in p.stdout.splitlines() if line.startswith("solo ")]
        self.assertEqual(len(row), 1, p.stdout)
        self.assertEqual(row[0][:4], ["solo", "127.0.0.1:%d" % t.resp["solo"], "up", "2"])
        self.assertEqual(row[0][4], "solo:2", "version vector: two ops of solo")
        self.assertIn("REGION", p.stdout)
        self.assertIn("VERSION VECTOR", p.stdout)
        self.assertIn("no peer links (single region)", p.stdout)

        p = self.ok(run_ctl("status", t.path, "--digest"), "status --digest")
        self.assertIn("DIGEST", p.stdout)

        rc, doc = self.status_json(t, "--digest")
        self.assertEqual(rc, 0)
        st = doc["solo"]
        self.assertEqual(st["region"], "solo")
        self.assertEqual(st["database"], "single")
        self.assertEqual(st["resp_address"], "127.0.0.1:%d" % t.resp["solo"])
        self.assertEqual(st["sync_address"], "127.0.0.1:%d" % t.sync["solo"])
        self.assertEqual(st["keys"], "2", "proto3 JSON prints uint64 as a string")
        self.assertEqual(st["version_vector"], [{"region": "solo", "seq": "2"}])
        self.assertEqual(st["peers"], [])
        self.assertEqual(st["aof"]["appendfsync"], "always")
        self.assertIs(st["loading"], False, "every field is present, even false ones")
        self.assertTrue(st["digest"], "--digest asks for the digest")
        for field in ("applied_ops", "unix_ms", "uptime_ms"):
            self.assertIn(field, st)

        p = self.ok(run_ctl("wait-sync", t.path, "--timeout", "10"), "wait-sync")
        self.assertIn("in sync: 1 region, version vector {solo:2}, digest %s" % st["digest"],
                      p.stdout)

        p = run_ctl("up", t.path)
        self.assertEqual(p.returncode, 1, "up refuses while a region runs")
        self.assertIn("already running: solo (pid %d)" % pid, p.stderr)
        self.assertEqual(t.pid("solo"), pid)
        self.assertTrue(alive(pid))

        p = self.ok(run_ctl("down", t.path), "down")
        self.assertIn("solo: stopping pid %d (SIGTERM)" % pid, p.stdout)
        self.assertIn("solo: stopped", p.stdout)
        self.assertFalse(alive(pid))
        self.assertIsNone(t.pid("solo"), "pid file removed")
        self.assertIn("bye", t.log("solo"), "SIGTERM lets the server shut down cleanly")

        p = self.ok(run_ctl("down", t.path), "second down")
        self.assertIn("solo: not running", p.stdout)

        p = run_ctl("status", t.path)
        self.assertEqual(p.returncode, 1, "status exits 1 when a region is down")
        row = [line.split() for line in p.stdout.splitlines() if line.startswith("solo ")]
        self.assertEqual(row[0][2:], ["down", "-", "-"])
        self.assertIn("solo: no answer from 127.0.0.1:%d" % t.sync["solo"], p.stdout)
        self.assertIn("no local process (no pid file)", p.stdout)
        rc, doc = self.status_json(t)
        self.assertEqual(rc, 1)
        self.assertEqual(doc["solo"]["down"], True)
        self.assertEqual(doc["solo"]["region"], "solo")
        self.assertIn("no answer", doc["solo"]["error"])

        t0 = time.monotonic()
        p = run_ctl("wait-sync", t.path, "--timeout", "0.5")
        self.assertEqual(p.returncode, 1)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("wait-sync: not in sync after", p.stderr)
        self.assertIn("solo: down (no answer from", p.stderr)

        # The data is still there after a new `up`.
        self.up(t)
        with t.client("solo") as c:
            self.assertEqual(c.call("GET", "k1").value, b"v1")

    def test_kill_leaves_a_stale_pid_file_and_restart_recovers(self):
        t = self.topo("killrestart", ["solo"])
        self.up(t)
        pid1 = t.pid("solo")
        with t.client("solo") as c:
            self.assertEqual(c.call("SET", "durable", "yes").value, b"OK")

        p = self.ok(run_ctl("kill", t.path, "solo"), "kill")
        self.assertIn("solo: killed pid %d (SIGKILL)" % pid1, p.stdout)
        self.assertFalse(alive(pid1), "kill returns once the process is gone")
        self.assertEqual(t.pid("solo"), pid1, "kill removes nothing: the pid file stays")
        self.assertNotIn("bye", t.log("solo"), "SIGKILL: no clean shutdown")

        p = self.ok(run_ctl("kill", t.path, "solo"), "kill again")
        self.assertIn("solo: not running (stale pid file)", p.stdout)
        p = run_ctl("status", t.path)
        self.assertEqual(p.returncode, 1)
        self.assertIn("stale pid file naming pid %d" % pid1, p.stdout)

        p = self.ok(run_ctl("restart", t.path, "solo"), "restart after kill")
        self.assertIn("solo: not running", p.stdout)
        self.assertIn("solo: replacing stale pid file", p.stdout)
        self.assertIn("solo: serving RESP", p.stdout)
        self.assertIn("restart: 1 region ready in", p.stdout)
        pid2 = t.pid("solo")
        self.assertNotEqual(pid2, pid1)
        self.assertTrue(alive(pid2))
        with t.client("solo") as c:
            self.assertEqual(c.call("GET", "durable").value, b"yes", "appendfsync always")

        p = self.ok(run_ctl("restart", t.path, "solo", "--timeout", "20"), "restart while up")
        self.assertIn("solo: stopping pid %d (SIGTERM)" % pid2, p.stdout)
        self.assertIn("solo: stopped", p.stdout)
        pid3 = t.pid("solo")
        self.assertFalse(alive(pid2))
        self.assertTrue(alive(pid3))
        self.assertNotEqual(pid3, pid2)
        self.ok(run_ctl("status", t.path), "status after restart")

        # `up` after a kill replaces the stale pid file.
        self.ok(run_ctl("kill", t.path, "solo"))
        p = self.up(t)
        self.assertIn("solo: replacing stale pid file (pid %d" % pid3, p.stdout)
        with t.client("solo") as c:
            self.assertEqual(c.call("GET", "durable").value, b"yes")

    def test_pid_file_naming_another_process_is_stale_and_never_signalled(self):
        t = self.topo("stale", ["solo"])
        os.makedirs(t.data_dir["solo"])
        other = subprocess.Popen(["sleep", "60"])
        self.addCleanup(other.wait)
        self.addCleanup(other.kill)
        with open(os.path.join(t.data_dir["solo"], "activekv.pid"), "w") as f:
            f.write("%d\n" % other.pid)

        p = self.ok(run_ctl("kill", t.path, "solo"), "kill")
        self.assertIn("not running (stale pid file)", p.stdout)
        p = self.ok(run_ctl("down", t.path), "down")
        self.assertIn("solo: not running (removed stale pid file naming pid %d)" % other.pid,
                      p.stdout)
        self.assertIsNone(t.pid("solo"))
        self.assertIsNone(other.poll(), "the unrelated process was not signalled")

        with open(os.path.join(t.data_dir["solo"], "activekv.pid"), "w") as f:
            f.write("garbage\n")
        p = self.up(t)
        self.assertIn("replacing stale pid file", p.stdout)
        self.assertIsNone(other.poll())

    def test_region_failing_during_startup_shows_its_log_and_fails(self):
        t = self.topo("startfail", ["solo"])
        # Occupy the RESP port: the server cannot listen and exits.
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(blocker.close)
        blocker.bind((akv.HOST, t.resp["solo"]))
        blocker.listen(1)
        t0 = time.monotonic()
        p = run_ctl("up", t.path, "--timeout", "30")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertLess(time.monotonic() - t0, 20, "a dead region fails `up` at once")
        self.assertRegex(p.stderr, r"solo: activekv-server \(pid \d+\) exited with code \d+ "
                                   r"during startup; end of .*server\.log:")
        self.assertIn("activekvctl: starting", p.stderr, "the log tail is printed")
        self.assertIsNone(t.pid("solo"), "the dead region's pid file is removed")

    def test_stopped_region_status_deadline_and_down_escalates_to_sigkill(self):
        t = self.topo("stopped", ["solo"])
        self.up(t)
        pid = t.pid("solo")
        os.kill(pid, signal.SIGSTOP)
        self.addCleanup(lambda: alive(pid) and os.kill(pid, signal.SIGCONT))
        t0 = time.monotonic()
        p = run_ctl("status", t.path)
        elapsed = time.monotonic() - t0
        self.assertEqual(p.returncode, 1)
        self.assertLess(elapsed, 8, "GetStatus has a 2 s deadline")
        self.assertIn("its process (pid %d) is running" % pid, p.stdout)
        self.assertIn("DEADLINE_EXCEEDED", p.stdout)
        p = run_ctl("wait-sync", t.path, "--timeout", "1")
        self.assertEqual(p.returncode, 1)
        self.assertIn("solo: down", p.stderr)
        # down: SIGTERM is not acted upon while stopped, so SIGKILL after --timeout.
        p = self.ok(run_ctl("down", t.path, "--timeout", "0.5"), "down of a stopped server")
        self.assertIn("still running after 0.5 s, sending SIGKILL", p.stdout)
        self.assertIn("solo: stopped", p.stdout)
        self.assertFalse(alive(pid))

    def test_up_times_out_when_a_region_never_answers_status(self):
        # activekvctl runs the activekv-server next to itself: put a copy of it next to a fake
        # server that answers RESP PING but never serves gRPC.
        t = self.topo("fake", ["solo"])
        bindir = os.path.join(t.workdir, "bin")
        os.makedirs(bindir)
        shutil.copy2(ctl_path(), os.path.join(bindir, "activekvctl"))
        with open(os.path.join(bindir, "fake_server.py"), "w") as f:
            f.write(FAKE_SERVER)
        fake = os.path.join(bindir, "activekv-server")
        with open(fake, "w") as f:
            # exec -a keeps argv[0] = .../activekv-server, so the pid file is trusted.
            f.write('#!/bin/bash\nexec -a "$0" /usr/bin/python3 "$(dirname "$0")/fake_server.py" '
                    '"$@"\n')
        os.chmod(fake, 0o755)
        local_ctl = os.path.join(bindir, "activekvctl")
        t0 = time.monotonic()
        p = subprocess.run([local_ctl, "up", t.path, "--timeout", "1.5"], capture_output=True,
                           text=True, timeout=60)
        elapsed = time.monotonic() - t0
        print("[ctl] fake up -> rc=%d\n%s%s" % (p.returncode, _indent(p.stdout),
                                               _indent(p.stderr, "! ")), file=sys.stderr)
        self.assertEqual(p.returncode, 1)
        self.assertGreaterEqual(elapsed, 1.4)
        self.assertLess(elapsed, 10)
        self.assertIn("solo: serving RESP on 127.0.0.1:%d" % t.resp["solo"], p.stdout)
        self.assertNotIn("Status answering", p.stdout)
        self.assertIn("up: not ready after", p.stderr)
        self.assertIn("solo: Status not answering on 127.0.0.1:%d" % t.sync["solo"], p.stderr)
        self.assertIn("the regions keep running", p.stderr)
        pid = t.pid("solo")
        self.assertTrue(pid and alive(pid))
        p = self.ok(subprocess.run([local_ctl, "down", t.path], capture_output=True, text=True,
                                   timeout=60), "down of the fake server")
        self.assertIn("solo: stopped", p.stdout)
        self.assertFalse(alive(pid))


# A stand-in for activekv-server that serves RESP PING on the region's resp address and nothing
# else; exits on SIGTERM.
FAKE_SERVER = r"""
import socket, sys
args = sys.argv[1:]
topology, region = args[args.index("--topology") + 1], args[args.index("--region") + 1]
port = None
for line in open(topology):
    if "name: %s," % region in line:
        port = int(line.split("resp:")[1].split(",")[0].split(":")[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
print("fake server: serving RESP PING on", port, flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        if c.recv(100).startswith(b"*1\r\n$4\r\nPING"):
            c.sendall(b"+PONG\r\n")
    except OSError:
        pass
    c.close()
"""


# ------------------------------------------------------------------------------------------------
# Multi region: needs replication in activekv-server.
# ------------------------------------------------------------------------------------------------

_REPLICATION = None  # None: not probed yet; else (bool, reason)


def replication_available():
    """Starts two regions directly (not through activekvctl), SETs in one and waits up to 5 s
    for the other to see it. Cached for the run."""
    global _REPLICATION
    if _REPLICATION is not None:
        return _REPLICATION
    t = Topo("probe", ["a", "b"], appendfsync="everysec")
    procs = []
    try:
        for r in t.regions:
            os.makedirs(t.data_dir[r], exist_ok=True)
            log = open(os.path.join(t.data_dir[r], "server.log"), "ab")
            procs.append(subprocess.Popen(
                [server_path(), "--topology", t.path, "--region", r], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=akv._die_with_parent))
            log.close()
        deadline = time.monotonic() + 20
        for r in t.regions:
            while True:
                try:
                    with t.client(r) as c:
                        if c.call("PING").value == b"PONG":
                            break
                except (OSError, akv.ConnectionClosed):
                    pass
                if time.monotonic() > deadline:
                    _REPLICATION = (False, "probe: region %s did not start:\n%s" % (r, t.log(r)))
                    return _REPLICATION
                time.sleep(0.02)
        # A region that starts with nothing on disk answers -TRYAGAIN until it heard from its
        # peers (docs/replication-protocol.md, "Catching up"): retry until the SET is taken.
        with t.client("a") as c:
            while c.call("SET", "probe", "replicated").value != b"OK":
                if time.monotonic() > deadline:
                    _REPLICATION = (False, "probe: region a refused the SET for 20 s")
                    return _REPLICATION
                time.sleep(0.02)
        deadline = time.monotonic() + 5
        with t.client("b") as c:
            while time.monotonic() < deadline:
                if c.call("GET", "probe").value == b"replicated":
                    _REPLICATION = (True, "")
                    return _REPLICATION
                time.sleep(0.05)
        _REPLICATION = (False, "activekv-server does not replicate yet (probe: SET in region a "
                               "not visible in region b after 5 s)")
        return _REPLICATION
    finally:
        for p in procs:
            p.kill()
            p.wait()


class MultiRegionTest(CtlTestCase):

    def setUp(self):
        ok, reason = replication_available()
        if not ok:
            self.fail(reason)

    def test_three_regions_up_converge_and_report_links(self):
        regions = ["us-east", "eu-west", "ap-south"]
        t = self.topo("trio", regions, appendfsync="everysec")
        p = self.up(t)
        self.assertIn("links: 6/6 connected", p.stdout)
        for r in regions:
            self.assertIn("%s: serving RESP" % r, p.stdout)
        for i, r in enumerate(regions):
            with t.client(r) as c:
                c.call("SET", "from-%s" % r, r)
                c.call("INCRBY", "counter", i + 1)
        self.ok(run_ctl("wait-sync", t.path, "--timeout", "30"), "wait-sync")
        for r in regions:
            with t.client(r) as c:
                self.assertEqual(c.call("GET", "counter").value, b"6", r)
                for src in regions:
                    self.assertEqual(c.call("GET", "from-%s" % src).value, src.encode())

        p = self.ok(run_ctl("status", t.path), "status")
        link_rows = [line.split() for line in p.stdout.splitlines()
                     if line.split()[:1] and line.split()[0] in regions and
                     len(line.split()) == 5 and line.split()[1] in regions]
        self.assertEqual(len(link_rows), 6, p.stdout)
        for row in link_rows:
            self.assertEqual(row[2:], ["yes", "0", "0"], row)
        vv = "us-east:2 eu-west:2 ap-south:2"
        self.assertEqual(p.stdout.count(vv), 3, p.stdout)

        rc, doc = self.status_json(t, "--digest")
        self.assertEqual(rc, 0)
        self.assertEqual(len({doc[r]["digest"] for r in regions}), 1)
        for r in regions:
            peers = {x["region"]: x for x in doc[r]["peers"]}
            self.assertEqual(sorted(peers), sorted(set(regions) - {r}))
            for x in peers.values():
                self.assertIs(x["connected"], True)
                self.assertEqual(x["lag_ops"], "0")

        self.down(t)

    def down(self, t):
        p = self.ok(run_ctl("down", t.path), "down")
        for r in t.regions:
            self.assertIsNone(t.pid(r))
        return p

    def test_down_stops_every_region_with_sigterm_alone(self):
        """Each region shuts down cleanly on SIGTERM ("bye"), with its peer streams open."""
        t = self.topo("cleandown", ["us-east", "eu-west"], appendfsync="everysec")
        self.up(t)
        with t.client("us-east") as c:
            c.call("SET", "k", "v")
        self.ok(run_ctl("wait-sync", t.path, "--timeout", "30"), "wait-sync")
        p = self.down(t)
        self.assertNotIn("sending SIGKILL", p.stdout,
                         "a region did not exit within 10 s of SIGTERM\n" +
                         "\n".join(t.log(r)[-2000:] for r in t.regions))
        for r in t.regions:
            self.assertTrue(t.log(r).rstrip().endswith("bye"), t.log(r)[-2000:])

    def test_killed_region_is_down_then_catches_up_after_restart(self):
        regions = ["us-east", "eu-west", "ap-south"]
        t = self.topo("chaos", regions, appendfsync="always")
        self.up(t)
        self.ok(run_ctl("kill", t.path, "eu-west"))
        with t.client("us-east") as c:
            for i in range(50):
                c.call("INCR", "hits")
        with t.client("ap-south") as c:
            c.call("SET", "while-down", "1")
        p = run_ctl("status", t.path)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stdout, r"eu-west\s+127\.0\.0\.1:%d\s+down" % t.resp["eu-west"])
        p = run_ctl("wait-sync", t.path, "--timeout", "1")
        self.assertEqual(p.returncode, 1)
        self.assertIn("eu-west: down", p.stderr)
        self.assertRegex(p.stderr, r"lag: us-east -> eu-west lag_ops=[1-9]\d* lag_ms=\d+")

        self.ok(run_ctl("restart", t.path, "eu-west"), "restart")
        p = self.ok(run_ctl("wait-sync", t.path, "--timeout", "30"), "wait-sync")
        self.assertIn("in sync: 3 regions", p.stdout)
        with t.client("eu-west") as c:
            self.assertEqual(c.call("GET", "hits").value, b"50")
            self.assertEqual(c.call("GET", "while-down").value, b"1")
        self.down(t)


if __name__ == "__main__":
    akv.run_tests()
