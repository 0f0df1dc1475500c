"""A real S3-compatible server for the backup tests: @20minutes/s3rver 4.0.4 (it verifies SigV4
signatures; the upstream s3rver 3.x accepts any secret), run by tests/clients/s3rver_launch.js.

Standard library only (runs under /usr/bin/python3).

    srv = S3Server(workdir, "AKIDTEST", "secret", buckets=["backups"]).start()
    srv.endpoint                 # "http://127.0.0.1:PORT"
    srv.client_env()             # AWS_* variables for our activekv-objstore and for awscli
    srv.kill()                   # SIGKILL, e.g. in the middle of an upload
    srv.start()                  # again: same port, same data directory

The server listens on a free loopback port chosen by the kernel (port 0) at the first start, and
on the same port after a restart. Objects live in <workdir>/data, so a restarted server sees what
the killed one had stored. The credentials reach the server through its environment, never its
argv. Every server is registered with akv's kill_all (SIGKILL at teardown / exit) and gets SIGKILL
if this Python process dies. Its output goes to <workdir>/s3rver.log, quoted in failures.

Node.js 20 with OpenSSL 3 has no DES without the legacy provider, and s3rver encrypts its
ListObjectsV2 continuation tokens with DES: without --openssl-legacy-provider every second page
of a listing fails with HTTP 500 InternalError.
"""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import akv

CLIENTS_DIR = os.path.join(akv.source_dir(), "tests", "clients")
LAUNCHER = os.path.join(CLIENTS_DIR, "s3rver_launch.js")
PACKAGE = os.path.join(CLIENTS_DIR, "node_modules", "@20minutes", "s3rver", "package.json")


class S3Server:
    def __init__(self, workdir, access_key_id, secret_access_key, buckets=(), region="us-east-1"):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "s3rver.log")
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.buckets = list(buckets)
        self.region = region
        self.port = 0
        self.proc = None
        os.makedirs(self.data_dir, exist_ok=True)

    @property
    def endpoint(self):
        return "http://%s:%d" % (akv.HOST, self.port)

    def describe(self):
        return "s3rver on %s (log: %s)" % (self.endpoint, self.log_path)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def client_env(self, **overrides):
        """The environment for a client of this server: os.environ plus the AWS_* variables (and
        an empty AWS config, so a developer's ~/.aws never leaks in). overrides: AWS_* values to
        replace; None removes the variable."""
        env = dict(os.environ)
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_CONFIG_FILE": os.path.join(self.workdir, "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.workdir, "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
        })
        env.pop("AWS_SESSION_TOKEN", None)
        env.pop("AWS_PROFILE", None)
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def argv(self):
        node = akv.require_executable("node", "node (Debian package nodejs; make deps)")
        if not os.path.exists(PACKAGE):
            raise AssertionError("npm package @20minutes/s3rver is not installed in %s: run "
                                 "`make node-deps` (npm ci --prefix tests/clients)" % CLIENTS_DIR)
        args = [node, "--openssl-legacy-provider", LAUNCHER, "--directory", self.data_dir,
                "--port", str(self.port)]
        for b in self.buckets:
            args += ["--bucket", b]
        return args

    def start(self, timeout=30.0):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = dict(os.environ)
        env["S3RVER_ACCESS_KEY_ID"] = self.access_key_id
        env["S3RVER_SECRET_ACCESS_KEY"] = self.secret_access_key
        with open(self.log_path, "ab") as log:
            log.write(b"\n==== start %s\n" % time.strftime("%H:%M:%S").encode())
            start_offset = log.tell()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.workdir, env=env,
                                         preexec_fn=akv._die_with_parent)
        if self not in akv._LIVE:
            akv._LIVE.append(self)
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                raise akv.ServerFailedToStart("s3rver exited with code %s while starting\n%s" %
                                              (code, self.log_tail()))
            m = re.search(rb"listening (\d+)", self._log_since(start_offset))
            if m:
                self.port = int(m.group(1))
                break
            if time.monotonic() > deadline:
                raise akv.ServerFailedToStart("s3rver did not report its port in %.0fs\n%s" %
                                              (timeout, self.log_tail()))
            time.sleep(0.01)
        self.wait_ready(deadline)
        print("[s3] started %s pid=%d" % (self.describe(), self.proc.pid), file=sys.stderr)
        return self

    def _log_since(self, offset):
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read()

    def wait_ready(self, deadline):
        """Polls an anonymous GET / (ListBuckets: no auth header, so s3rver answers 200) until it
        answers, the process exits, or the deadline passes."""
        last = "no attempt"
        while True:
            if self.proc.poll() is not None:
                raise akv.ServerFailedToStart("s3rver exited while starting\n" + self.log_tail())
            try:
                with urllib.request.urlopen(self.endpoint + "/", timeout=1.0) as r:
                    if r.status == 200:
                        return
                    last = "HTTP %d" % r.status
            except (OSError, urllib.error.URLError) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                raise akv.ServerFailedToStart("s3rver on %s not answering (%s)\n%s" %
                                              (self.endpoint, last, self.log_tail()))
            time.sleep(0.01)

    def kill(self):
        """SIGKILL now (mid-operation if a client is in the middle of something) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def kill9(self):  # akv.kill_all's interface
        self.kill()

    stop = kill
