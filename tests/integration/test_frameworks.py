#!/usr/bin/python3
"""Acceptance with real job-queue frameworks and pub/sub across 3 real regions (issue 11).

One 3-region cluster (test_replication.Cluster) is started for the module; A, B and C below are
its regions r0, r1, r2. Each case:
  - rq (Debian python3-rq): jobs enqueued through A run in an `rq worker` subprocess connected
    to B (parked in BLPOP before the enqueue); their results and failure read back through C.
  - Celery (Debian python3-celery, Redis broker and result backend): tasks sent through A run in
    a `celery worker --pool solo` subprocess connected to B; `AsyncResult.get()` through C (the
    Redis backend waits on a pub/sub message) and the stored state through A.
  - Bull and BullMQ (npm, tests/clients/bull_suite.js, bullmq_suite.js): a job added in A is
    processed by a worker on B; the completion (and a failure) is seen by a listener on C
    (Bull: a Queue's global events over pub/sub; BullMQ: QueueEvents over XREAD BLOCK).
  - Pub/sub: a redis-py subscriber in each region receives what is PUBLISHed in any one
    (channels and patterns); the same through RESP3 push messages with node-redis v5
    (tests/clients/pubsub_resp3_suite.js).
Queue and channel names carry the seed (printed; AKV_SEED replays). Every wait polls a condition
with a deadline; each case is bounded (CASE_DEADLINE, 60 s) and all of them together
(FILE_DEADLINE, 230 s; ctest's timeout is 300 s).

  /usr/bin/python3 test_frameworks.py [--target redis]
        env: AKV_BIN_DIR, AKV_SEED, AKV_CLIENT_CASE (node cases), AKV_FW_MONITOR=DIR
With --target redis one redis-server stands for all three regions (the cases' own check that
they assert Redis's behaviour). AKV_FW_MONITOR=DIR (redis target only): each case's commands, as
`redis-cli MONITOR` prints them, are written to DIR/<case>.monitor (docs/frameworks.md was made
from them with tests/integration/fw_monitor_summary.py).
"""

import os
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402
from akv import wait_for  # noqa: E402
from test_replication import Cluster  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_PACKAGES = ("bull", "bullmq", "ioredis", "redis5")
CASE_DEADLINE = 60.0  # seconds for one framework case
FILE_DEADLINE = 230.0  # seconds for every case together (ctest's timeout is 300)
PYTHON = "/usr/bin/python3"

_SETUP = {}  # "ports": [A, B, C], "cluster": Cluster or None, "seed": int


class _ModuleScope:
    """What Cluster needs from a TestCase, for a cluster that lives as long as the module."""

    def addCleanup(self, fn, *args):
        unittest.addModuleCleanup(fn, *args)

    def fail(self, msg):
        raise AssertionError(msg)


def setUpModule():
    _SETUP["t0"] = time.monotonic()
    _SETUP["seed"] = akv.seed_from_env()
    if akv.target_kind() == "redis":
        server = akv.RedisServer(akv.new_workdir("redis"))
        unittest.addModuleCleanup(server.kill9)
        server.start()
        _SETUP["ports"] = [server.port] * 3
        _SETUP["cluster"] = None
    else:
        cluster = Cluster(_ModuleScope(), 3)
        _SETUP["cluster"] = cluster
        _SETUP["ports"] = [cluster.regions[n].port for n in cluster.names]
    print("[frameworks] regions A=%d B=%d C=%d" % tuple(_SETUP["ports"]), file=sys.stderr)


def port(i):
    return _SETUP["ports"][i]


def addr(i):
    return "%s:%d" % (akv.HOST, port(i))


def url(i):
    return "redis://%s/0" % addr(i)


def seed():
    return _SETUP["seed"]


def wait_sync():
    """Every region holds every op and the digests are equal (no-op against redis-server)."""
    if _SETUP["cluster"] is not None:
        _SETUP["cluster"].wait_sync()


def require_module(name, package):
    try:
        return __import__(name)
    except ImportError as e:
        raise AssertionError("Python module %r not importable (%s): install the Debian package %s "
                             "with `make deps`" % (name, e, package))


def blocked_in(i, cmd):
    """The CLIENT LIST entries of region i blocked (flags b) in `cmd` (e.g. "blpop"), as dicts.
    (`CLIENT LIST TYPE normal`: a shape none of the frameworks sends, left out of the MONITOR
    summaries.)"""
    with akv.RespClient(port(i)) as c:
        r = c.call("CLIENT", "LIST", "TYPE", "normal")
    if isinstance(r.value, akv.Err):
        raise AssertionError("CLIENT LIST TYPE normal on port %d: %r" % (port(i), r.raw))
    out = []
    for line in bytes(r.value).decode().splitlines():
        fields = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        if "b" in fields.get("flags", "") and fields.get("cmd") == cmd:
            out.append(fields)
    return out


class Monitor:
    """`redis-cli MONITOR` into a file while a case runs (AKV_FW_MONITOR, redis target only)."""

    def __init__(self, test, name):
        self.proc = None
        out_dir = os.environ.get("AKV_FW_MONITOR")
        if not out_dir or akv.target_kind() != "redis":
            return
        os.makedirs(out_dir, exist_ok=True)
        self.test = test
        self.path = os.path.join(out_dir, name + ".monitor")
        cli = akv.require_executable("redis-cli", "redis-cli (Debian package redis-tools)")
        self.out = open(self.path, "wb")
        self.proc = subprocess.Popen([cli, "-p", str(port(0)), "MONITOR"], stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for(test, "redis-cli MONITOR to start", lambda: self._seen(b"OK"), timeout=10)
        test.addCleanup(self.stop)

    def _seen(self, marker):
        with open(self.path, "rb") as f:
            return marker in f.read()

    def stop(self):
        if self.proc is None:
            return
        # Everything before the marker was received once the marker itself shows up.
        marker = "akv-fw-monitor-end-%d" % os.getpid()
        with akv.RespClient(port(0)) as c:
            c.call("ECHO", marker)
        wait_for(self.test, "the MONITOR end marker", lambda: self._seen(marker.encode()), 10)
        self.proc.kill()
        self.proc.wait()
        self.out.close()
        self.proc = None
        print("[frameworks] MONITOR log: %s" % self.path, file=sys.stderr)


class Subprocess:
    """A framework worker process: output to a log file, stopped (SIGTERM, then SIGKILL after a
    deadline) at cleanup, and dies with the test (PR_SET_PDEATHSIG)."""

    def __init__(self, test, name, argv, env=None, cwd=HERE):
        self.test = test
        self.name = name
        self.log_path = os.path.join(akv.new_workdir(name), name + ".log")
        full_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
        full_env.update(env or {})
        print("[frameworks] %s: %s (log: %s)" % (name, " ".join(argv), self.log_path),
              file=sys.stderr)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=cwd, env=full_env,
                                         preexec_fn=akv._die_with_parent)
        test.addCleanup(self.stop)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def check_alive(self):
        code = self.proc.poll()
        if code is not None:
            self.test.fail("%s exited with code %d\n---- %s ----\n%s" %
                           (self.name, code, self.log_path, self.log()[-6000:]))

    def wait(self, what, predicate, timeout, seen=None):
        """wait_for that also fails at once (with the log) if the process died; `seen()` tells
        what was last observed, in the failure message."""
        def check():
            self.check_alive()
            return predicate()
        try:
            return wait_for(self.test, what, check, timeout)
        except AssertionError as e:
            if "timed out" in str(e):
                self.test.fail("%s%s\n---- %s ----\n%s" % (
                    e, "; last seen: %r" % (seen(),) if seen else "", self.log_path,
                    self.log()[-6000:]))
            raise

    def stop(self, timeout=15.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown for rq and celery
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                print("[frameworks] %s ignored SIGTERM for %.0fs: SIGKILL" % (self.name, timeout),
                      file=sys.stderr)
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class FrameworkCase(unittest.TestCase):

    def setUp(self):
        self.t0 = time.monotonic()
        Monitor(self, self._testMethodName)

    def tearDown(self):
        print("[frameworks] %s took %.1fs" % (self._testMethodName, time.monotonic() - self.t0),
              file=sys.stderr)

    def remaining(self):
        """Seconds left of this case's deadline and of the file's (at least 1)."""
        now = time.monotonic()
        return max(1.0, min(CASE_DEADLINE - (now - self.t0),
                            FILE_DEADLINE - (now - _SETUP["t0"])))

    def redis(self, i, **kwargs):
        redis = require_module("redis", "python3-redis")
        r = redis.Redis(host=akv.HOST, port=port(i), socket_timeout=30, **kwargs)
        self.addCleanup(r.close)
        return r


# ---------------------------------------------------------------------------------------------
# rq
# ---------------------------------------------------------------------------------------------


class RqTest(FrameworkCase):

    def test_rq_enqueue_in_a_work_in_b_result_in_c(self):
        rq = require_module("rq", "python3-rq")
        from rq.exceptions import NoSuchJobError
        from rq.job import Job
        rq_cli = akv.require_executable("rq", "rq (Debian package python3-rq; make deps)")
        qname = "akvfw-rq-%d" % seed()
        print("[frameworks] rq %s: queue %s enqueue@%d worker@%d results@%d" %
              (rq.VERSION, qname, port(0), port(1), port(2)), file=sys.stderr)
        worker = Subprocess(self, "rq-worker", [
            PYTHON, rq_cli, "worker", "--url", url(1), "--path", HERE,
            "--name", "akvfw-rq-worker-%d" % seed(), "--logging_level", "DEBUG", qname])
        # The worker waits in BLPOP on B before anything is enqueued: the job must wake it.
        worker.wait("the rq worker to block in BLPOP on B (CLIENT LIST: flags=b cmd=blpop)",
                    lambda: blocked_in(1, "blpop"), self.remaining())

        q = rq.Queue(qname, connection=self.redis(0))
        ok = q.enqueue("fw_jobs.add", 2, 3)
        bad = q.enqueue("fw_jobs.fail", 7)
        print("[frameworks] rq enqueued %s and %s through A" % (ok.id, bad.id), file=sys.stderr)

        rc = self.redis(2)

        def status(job_id):
            try:
                return Job.fetch(job_id, connection=rc).get_status(refresh=True)
            except NoSuchJobError:
                return None

        seen = {}

        def finished(job_id, want):
            seen[job_id] = status(job_id)
            return seen[job_id] == want

        worker.wait("job %s finished, seen through C" % ok.id,
                    lambda: finished(ok.id, "finished"), self.remaining(), lambda: seen)
        job = Job.fetch(ok.id, connection=rc)
        result = job.return_value()
        self.assertEqual(result, {"sum": 5, "port": port(1), "pid": (result or {}).get("pid")},
                         "the result read through C is the one the worker in B computed")
        self.assertNotEqual(result["pid"], os.getpid())
        self.assertEqual(job.func_name, "fw_jobs.add")
        self.assertEqual(job.args, (2, 3))
        worker.wait("job %s failed, seen through C" % bad.id,
                    lambda: finished(bad.id, "failed"), self.remaining(), lambda: seen)
        failed = Job.fetch(bad.id, connection=rc)
        exc = (failed.latest_result().exc_string if failed.supports_redis_streams
               else failed.exc_info)
        self.assertIn("ValueError: boom 7", exc or "", "the failure's traceback read through C")
        qc = rq.Queue(qname, connection=rc)
        self.assertEqual(qc.failed_job_registry.get_job_ids(), [bad.id])
        self.assertEqual(qc.finished_job_registry.get_job_ids(), [ok.id])
        self.assertEqual(len(qc), 0, "jobs left in the queue, seen through C")
        self.assertIn("Job OK (%s)" % ok.id, worker.log())
        worker.stop()
        wait_sync()


# ---------------------------------------------------------------------------------------------
# Celery
# ---------------------------------------------------------------------------------------------


class CeleryTest(FrameworkCase):

    def test_celery_send_in_a_work_in_b_result_in_c(self):
        celery = require_module("celery", "python3-celery")
        sys.path.insert(0, HERE)
        import fw_celery_app
        qname = "akvfw-celery-%d" % seed()
        print("[frameworks] celery %s (kombu %s): queue %s send@%d worker@%d results@%d" %
              (celery.__version__, require_module("kombu", "python3-kombu").__version__, qname,
               port(0), port(1), port(2)), file=sys.stderr)
        worker = Subprocess(self, "celery-worker", [
            PYTHON, "-m", "celery", "-A", "fw_celery_app", "worker", "--pool", "solo",
            "--concurrency", "1", "--loglevel", "INFO", "--hostname",
            "akvfw-%d@localhost" % seed(), "--queues", qname],
            env={"AKV_CELERY_BROKER": url(1), "AKV_CELERY_BACKEND": url(1),
                 "AKV_CELERY_QUEUE": qname})
        worker.wait("the celery worker on B to log 'ready.'", lambda: "ready." in worker.log(),
                    self.remaining())

        sender = fw_celery_app.make_app(url(0), url(2), qname)  # broker A, results through C
        self.addCleanup(sender.close)
        ok = sender.send_task("fw_celery_app.add", (2, 3))
        bad = sender.send_task("fw_celery_app.fail", (7,))
        print("[frameworks] celery sent %s and %s through A" % (ok.id, bad.id), file=sys.stderr)
        # get(): the Redis result backend SUBSCRIBEs to celery-task-meta-<id> in C and waits for
        # the worker's PUBLISH (made in B) or finds the stored result (GET) there.
        from celery.exceptions import TimeoutError as CeleryTimeout
        try:
            result = ok.get(timeout=self.remaining())
        except CeleryTimeout:
            self.fail("no result for task %s through C in time: state %s (expected SUCCESS)\n"
                      "---- %s ----\n%s" % (ok.id, ok.state, worker.log_path, worker.log()[-6000:]))
        self.assertEqual(result, {"sum": 5, "broker": url(1), "pid": result.get("pid")},
                         "the result read through C is the one the worker on B computed")
        self.assertNotEqual(result["pid"], os.getpid())
        self.assertEqual(ok.state, "SUCCESS")
        with self.assertRaisesRegex(Exception, "boom 7"):
            bad.get(timeout=self.remaining())
        self.assertEqual(bad.state, "FAILURE")
        # The stored states, read through A.
        reader = fw_celery_app.make_app(url(0), url(0), qname)
        self.addCleanup(reader.close)
        seen = {}

        def state(task_id):
            seen[task_id] = reader.AsyncResult(task_id).state
            return seen[task_id]

        try:
            wait_for(self, "the states through A", lambda: state(ok.id) == "SUCCESS" and
                     state(bad.id) == "FAILURE", self.remaining())
        except AssertionError as e:
            self.fail("%s; expected SUCCESS and FAILURE, last seen %r" % (e, seen))
        self.assertEqual(reader.AsyncResult(ok.id).get(timeout=self.remaining())["sum"], 5)
        log = worker.log()
        self.assertIn("fw_celery_app.add[%s] succeeded" % ok.id, log)
        self.assertIn("fw_celery_app.fail[%s] raised unexpected" % bad.id, log)
        self.assertIn("ValueError: boom 7", log)
        worker.stop()
        wait_sync()


# ---------------------------------------------------------------------------------------------
# Pub/sub (redis-py)
# ---------------------------------------------------------------------------------------------


class PubSubTest(FrameworkCase):

    def test_pubsub_each_region_receives_a_publish_in_any_region(self):
        channel = "fw:ch:%d" % seed()
        pattern = "fw:pat:%d:*" % seed()
        subs = []
        for i in range(3):
            p = self.redis(i, decode_responses=True).pubsub()
            self.addCleanup(p.close)
            p.subscribe(channel)
            p.psubscribe(pattern)
            acks = []
            while len(acks) < 2:  # the SUBSCRIBE and PSUBSCRIBE confirmations
                m = p.get_message(timeout=self.remaining())
                self.assertIsNotNone(m, "no subscription confirmation from region %d" % i)
                acks.append((m["type"], m["channel"], m["data"]))
            self.assertEqual(acks, [("subscribe", channel, 1), ("psubscribe", pattern, 2)])
            subs.append(p)
        pubs = [self.redis(i, decode_responses=True) for i in range(3)]
        for i, pub in enumerate(pubs):
            n = pub.publish(channel, "hello from %d" % i)
            self.assertGreaterEqual(n, 1, "PUBLISH in region %d: receivers" % i)
            n = pub.publish("fw:pat:%d:%d" % (seed(), i), "pattern %d" % i)
            self.assertGreaterEqual(n, 1, "PUBLISH (pattern) in region %d: receivers" % i)
        for j, p in enumerate(subs):
            got = self.read_messages(p, 6, "region %d" % j)
            messages = sorted((m["channel"], m["data"]) for m in got if m["type"] == "message")
            pmessages = sorted((m["pattern"], m["channel"], m["data"]) for m in got
                               if m["type"] == "pmessage")
            self.assertEqual(messages, [(channel, "hello from %d" % i) for i in range(3)],
                             "messages received in region %d" % j)
            self.assertEqual(pmessages, [(pattern, "fw:pat:%d:%d" % (seed(), i), "pattern %d" % i)
                                         for i in range(3)], "pmessages in region %d" % j)
        # UNSUBSCRIBE in region C only: a publish in A to the channel then to the pattern reaches
        # C through the pattern only (the one after it proves the first did not arrive).
        subs[2].unsubscribe(channel)
        m = subs[2].get_message(timeout=self.remaining())
        self.assertEqual((m["type"], m["channel"], m["data"]), ("unsubscribe", channel, 1))
        pubs[0].publish(channel, "after unsubscribe")
        pubs[0].publish("fw:pat:%d:last" % seed(), "last")
        got = self.read_messages(subs[2], 1, "region 2 after UNSUBSCRIBE")
        self.assertEqual([(m["type"], m["data"]) for m in got], [("pmessage", "last")])
        got = self.read_messages(subs[1], 2, "region 1 after region 2's UNSUBSCRIBE")
        self.assertEqual([(m["type"], m["data"]) for m in got],
                         [("message", "after unsubscribe"), ("pmessage", "last")])

    def read_messages(self, p, n, where):
        got = []
        deadline = time.monotonic() + min(20.0, self.remaining())
        while len(got) < n:
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, "%s: expected %d messages, received %d in time: %r" %
                               (where, n, len(got), got))
            m = p.get_message(timeout=left)
            if m is not None:
                got.append(m)
        return got


# ---------------------------------------------------------------------------------------------
# Node.js: Bull, BullMQ, RESP3 pub/sub
# ---------------------------------------------------------------------------------------------


class NodeFrameworksTest(FrameworkCase):

    def run_suite(self, suite):
        env = dict(os.environ, AKV_FW_QUEUE="akvfw-%s-%d" % (suite.split("_")[0], seed()))
        print("[frameworks] AKV_FW_QUEUE=%s" % env["AKV_FW_QUEUE"], file=sys.stderr)
        akv.run_node_suite(self, suite, [addr(0), addr(1), addr(2)], NODE_PACKAGES,
                           self.remaining() + 15,  # the suite's own case deadline is 60 s
                           env=env, tag="frameworks")
        wait_sync()

    def test_bull(self):
        self.run_suite("bull_suite.js")

    def test_bullmq(self):
        self.run_suite("bullmq_suite.js")

    def test_pubsub_resp3_node_redis_v5(self):
        self.run_suite("pubsub_resp3_suite.js")


if __name__ == "__main__":
    akv.run_tests()
