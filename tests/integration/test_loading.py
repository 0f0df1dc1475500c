#!/usr/bin/python3
"""A restarting region answers -LOADING with progress instead of refusing connections.

activekv-server binds its RESP port first and replays its AOF on a loader thread, as redis-server
does. The test-only knob `--load-delay-us N` (sleep N us per replayed record, like Redis's
key-load-delay) makes the replay slow enough to observe; nothing here sleeps to wait for a state:
every wait polls a condition with a deadline.

- While loading: the port accepts at once; PING, GET, SET, DBSIZE answer exactly
  `-LOADING Redis is loading the dataset in memory`; commands Redis 7 allows while loading (INFO,
  ECHO, SELECT, CONFIG GET, CLIENT, COMMAND, TIME, HELLO) answer; INFO persistence shows
  loading:1 with Redis 7's loading_* fields, loading_total_bytes equal to the AOF size and
  loading_loaded_perc rising; a second client gets replies within a bounded time.
- Once PING answers +PONG: loading:0, every key is there, and a connection opened during the
  replay keeps working.
- A corrupt AOF still ends the process with a non-zero code and a log line naming file and offset
  (after having answered -LOADING).
- SIGTERM during the replay stops the process promptly with code 0, without a clean-shutdown
  marker, and the next start has every key.
- `activekvctl restart` treats -LOADING as "not ready yet" and reports the replay's progress.

  /usr/bin/python3 test_loading.py       (AKV_BIN_DIR: where activekv-server / activekvctl are)
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
import akv  # noqa: E402

LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"
KEYS = 20000
# ~20k records x (100 us + sleep overhead): a few seconds of loading, enough to look at it.
DELAY_US = 100
WAIT = 30.0  # upper bound for any wait-for-condition below


def value(i):
    return "value-%d-%s" % (i, "x" * (i % 17))


class LoadingServer(akv.ActiveKvServer):
    """activekv-server with extra command-line arguments (the test-only delay knob)."""

    extra_args = ()

    def argv(self):
        return super().argv() + list(self.extra_args)


def info_fields(client, section="persistence"):
    return akv.info_fields(client, section)


def wait_for(what, predicate, timeout=WAIT, server=None):
    """Polls predicate() (returning a truthy value when done) until the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s%s" %
                                 (timeout, what, "\n" + server.log_tail() if server else ""))
        time.sleep(0.01)  # poll interval, not a wait for a state


def connect_when_listening(server, timeout=WAIT, own_process=True):
    """The first client that connects (the process may still be exec'ing)."""

    def attempt():
        if own_process and not server.running():
            raise AssertionError("%s exited (code %s)\n%s" % (server.describe(),
                                                             server.proc.poll(),
                                                             server.log_tail()))
        try:
            return akv.RespClient(server.port, timeout=5.0)
        except OSError:
            return None

    return wait_for("the RESP port to accept", attempt, timeout, server)


class LoadingTest(akv.ServerTestCase):

    def make_server(self, name, appendfsync="everysec"):
        s = LoadingServer(akv.new_workdir(name), appendfsync)
        self.track(s)
        return s

    def fill(self, server, n=KEYS):
        with server.client() as c:
            for start in range(0, n, 1000):
                replies = c.pipeline([["SET", "key:%05d" % i, value(i)]
                                      for i in range(start, min(n, start + 1000))])
                bad = [r.raw for r in replies if r.raw != b"+OK\r\n"]
                self.assertEqual(bad, [], "SETs failed")
            self.assertEqual(c.call("DBSIZE").value, n)

    def assert_all_keys(self, client, n=KEYS):
        self.assertEqual(client.call("DBSIZE").value, n)
        for start in range(0, n, 1000):
            keys = ["key:%05d" % i for i in range(start, min(n, start + 1000))]
            got = client.call("MGET", *keys).value
            want = [value(i).encode() for i in range(start, min(n, start + 1000))]
            self.assertEqual(got, want, "keys %d.. after the replay" % start)

    def restart_slow(self, server, delay_us=DELAY_US):
        server.kill9()
        server.extra_args = ["--load-delay-us", str(delay_us)]
        server.start(wait=False)
        return connect_when_listening(server)

    def test_restart_answers_loading_then_serves_every_key(self):
        server = self.make_server("loading")
        server.start()
        self.fill(server)
        server.kill9()
        aof_size = os.path.getsize(server.aof_file())

        c1 = self.restart_slow(server)
        self.addCleanup(c1.close)
        c2 = akv.RespClient(server.port, timeout=5.0)  # a second client, connected during loading
        self.addCleanup(c2.close)
        where = server.describe()

        # -LOADING for everything Redis 7 does not allow while loading (PING included).
        for cmd in (["PING"], ["GET", "key:00001"], ["SET", "k", "v"], ["DBSIZE"],
                    ["CONFIG", "SET", "appendfsync", "always"]):
            r = c1.call(*cmd)
            self.assertEqual(r.raw, LOADING, "%s while loading (%s)" % (" ".join(cmd), where))
        # The second client is served too: a reply within the socket timeout, never a hang.
        t0 = time.monotonic()
        self.assertEqual(c2.call("PING").raw, LOADING)
        self.assertLess(time.monotonic() - t0, 5.0)

        # Allowed while loading (CMD_LOADING in Redis 7).
        self.assertEqual(c1.call("ECHO", "hi").raw, b"$2\r\nhi\r\n")
        self.assertEqual(c1.call("SELECT", "0").raw, b"+OK\r\n")
        self.assertEqual(c1.call("CONFIG", "GET", "appendfsync").value,
                         [b"appendfsync", b"everysec"])
        self.assertIsInstance(c1.call("CLIENT", "ID").value, int)
        self.assertIsInstance(c1.call("COMMAND", "COUNT").value, int)
        self.assertIsInstance(c1.call("TIME").value, list)
        self.assertIsInstance(c2.hello(3).value, dict)

        first = info_fields(c1)
        self.assertEqual(first.get("loading"), "1", "INFO while loading: %r" % first)
        self.assertEqual(first.get("async_loading"), "0")
        for field in ("loading_start_time", "loading_total_bytes", "loading_rdb_used_mem",
                      "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds"):
            self.assertIn(field, first, "INFO persistence while loading lacks %s" % field)
        self.assertEqual(int(first["loading_total_bytes"]), aof_size)
        self.assertRegex(first["loading_loaded_perc"], r"^\d+\.\d\d$")
        self.assertLessEqual(int(first["loading_loaded_bytes"]), aof_size)
        self.assertLess(abs(int(first["loading_start_time"]) - time.time()), 60)
        self.assertIn("redis_version", info_fields(c2, "server"))
        p1 = float(first["loading_loaded_perc"])
        print("  loading: %s%% of %d bytes, eta %ss" % (first["loading_loaded_perc"], aof_size,
                                                         first["loading_eta_seconds"]))

        # Progress rises while the replay goes on.
        def risen():
            f = info_fields(c1)
            if f.get("loading") != "1":
                raise AssertionError("loading ended before a second progress reading; raise "
                                     "DELAY_US (first reading %.2f%%)" % p1)
            return float(f["loading_loaded_perc"]) > p1 and f

        second = wait_for("loading_loaded_perc to rise above %.2f" % p1, risen, server=server)
        self.assertGreater(int(second["loading_loaded_bytes"]), int(first["loading_loaded_bytes"]))
        self.assertEqual(int(second["loading_total_bytes"]), aof_size)

        # Ready: PING answers +PONG (what akv's wait_ready polls for), every key is there.
        server.wait_ready(timeout=WAIT)
        fields = info_fields(c1)
        self.assertEqual(fields.get("loading"), "0")
        self.assertNotIn("loading_loaded_perc", fields)
        self.assertEqual(c1.call("PING").raw, b"+PONG\r\n")
        self.assert_all_keys(c1)
        # The connection opened during the replay works after it, writes included.
        self.assertEqual(c2.call("SET", "after", "loading").raw, b"+OK\r\n")
        self.assertEqual(c1.call("GET", "after").value, b"loading")
        crdt = info_fields(c1, "crdt")
        self.assertEqual(crdt.get("crdt_keys"), str(KEYS + 1))
        self.assertRegex(server.log_text(), r"replaying \S*appendonly.aof")

    def test_corrupt_aof_still_exits_non_zero_after_answering_loading(self):
        server = self.make_server("corrupt")
        server.start()
        self.fill(server, 2000)
        server.kill9()
        aof = server.aof_file()
        with open(aof, "rb") as f:
            data = f.read()
        pos = data.find(value(1500).encode())
        self.assertGreater(pos, 0)
        with open(aof, "r+b") as f:
            f.seek(pos + 3)
            f.write(bytes([data[pos + 3] ^ 0x01]))
        log_before = len(server.log_text())

        c = self.restart_slow(server, delay_us=1000)  # ~1.5 s before the damage is reached
        self.addCleanup(c.close)
        try:
            r = c.call("PING")
            self.assertEqual(r.raw, LOADING)
        except (akv.ConnectionClosed, OSError):
            pass  # the replay reached the damage already: the process is ending
        code = server.wait_exit(WAIT)
        log = server.log_text()[log_before:]
        self.assertIsNotNone(code, "server still running on a corrupt AOF\n" + server.log_tail())
        self.assertNotEqual(code, 0, "exit code on a corrupt AOF")
        lines = [ln for ln in log.splitlines()
                 if "critical" in ln and os.path.basename(aof) in ln and "offset" in ln]
        self.assertTrue(lines, "no critical log line names the file and the offset\n" + log)
        print("  refusal: %s" % lines[0].strip()[:200])
        self.assertFalse(os.path.exists(os.path.join(server.data_dir, "clean-shutdown")))

    def test_sigterm_during_loading_stops_promptly_without_clean_marker(self):
        server = self.make_server("sigterm")
        server.start()
        self.fill(server, 5000)
        server.stop()  # clean: the marker is written...
        marker = os.path.join(server.data_dir, "clean-shutdown")
        self.assertTrue(os.path.exists(marker), "no clean-shutdown marker after SIGTERM")

        server.extra_args = ["--load-delay-us", "2000"]  # ~10 s of loading
        server.start(wait=False)
        c = connect_when_listening(server)
        self.addCleanup(c.close)
        wait_for("loading to make progress",
                 lambda: int(info_fields(c).get("loading_loaded_bytes", "0")) > 0, server=server)
        self.assertFalse(os.path.exists(marker), "...and consumed by the next start")
        t0 = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = server.wait_exit(WAIT)
        took = time.monotonic() - t0
        self.assertEqual(code, 0, "exit code after SIGTERM during loading\n" + server.log_tail())
        self.assertLess(took, 5.0, "SIGTERM during loading took %.1fs" % took)
        self.assertFalse(os.path.exists(marker),
                         "a half-loaded region was marked clean\n" + server.log_tail())
        self.assertIn("stopping during the AOF replay", server.log_text())

        server.extra_args = []
        server.start()
        with server.client() as c2:
            self.assert_all_keys(c2, 5000)

    def test_activekvctl_restart_reports_loading_progress(self):
        # activekvctl starts the activekv-server that sits next to it: a copy of activekvctl next
        # to a wrapper that adds the delay knob.
        ctl_real = akv.require_executable(os.path.join(akv.bin_dir(), "activekvctl"),
                                          "activekvctl")
        server_real = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                             "activekv-server")
        server = self.make_server("ctl")
        server.start()
        self.fill(server)
        server.kill9()
        bindir = os.path.join(server.workdir, "bin")
        os.makedirs(bindir)
        ctl = os.path.join(bindir, "activekvctl")
        shutil.copy2(ctl_real, ctl)
        wrapper = os.path.join(bindir, "activekv-server")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s "$@" --load-delay-us 300\n' % server_real)
        os.chmod(wrapper, 0o755)

        def kill_ctl_region():
            pid_file = os.path.join(server.data_dir, "activekv.pid")
            try:
                with open(pid_file) as f:
                    os.kill(int(f.read().split()[0]), signal.SIGKILL)
            except (OSError, ValueError):
                pass

        self.addCleanup(kill_ctl_region)
        p = subprocess.run([ctl, "restart", server.topology, server.region, "--timeout", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode(errors="replace")
        self.assertNotEqual(p.returncode, 0, "restart was ready within 1 s?\n" + out)
        m = re.search(r"loading the dataset \((\d+\.\d\d)% of the AOF replayed[^\n]*", out)
        self.assertTrue(m, "activekvctl does not report the replay's progress:\n" + out)
        print("  activekvctl: %s" % m.group(0))
        # The region keeps loading and then serves.
        with connect_when_listening(server, own_process=False) as c:
            wait_for("PING to answer +PONG", lambda: c.call("PING").raw == b"+PONG\r\n")
            self.assert_all_keys(c)


if __name__ == "__main__":
    akv.run_tests()
