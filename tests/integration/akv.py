"""Integration-test support for activekv: a raw RESP2/RESP3 client and process helpers.

Standard library only (runs under /usr/bin/python3).

Client:
    c = RespClient(port)                 # connects to 127.0.0.1:port
    r = c.call("SET", "k", "v")          # Reply(value=b'OK', raw=b'+OK\r\n')
    rs = c.pipeline([["INCR", "a"], ["GET", "a"]])   # one write, N replies, in order
    c.hello(3)                           # switch to RESP3

  Parsed values: bytes for bulk strings, SimpleString (a bytes subclass) for '+', Verbatim (bytes
  subclass, .fmt) for '=', int for ':' and '(', float for ',', bool for '#', None for nulls,
  list for arrays, RespSet (list subclass) for '~', dict for '%' (unhashable keys become tuples),
  Push (list subclass) for '>', and Err for '-' and '!' replies. `raw` is always the exact bytes
  on the wire.

Processes:
    target_kind()                        # "activekv" (default) or "redis" (AKV_TARGET, --target)
    start_target(workdir, appendfsync)   # the server under test, ready to serve
    start_redis(workdir, appendfsync)    # a reference redis-server, ready to serve
  Every server is registered and killed with SIGKILL at teardown (kill_all(), also at exit and when
  this Python process dies: PR_SET_PDEATHSIG). Logs go to <workdir>/server.log; the path is printed
  when a server starts and included in every failure message produced here.

run_tests() is the common `main` of the test files: it parses --target, creates the temporary root
(kept and printed when a test fails), and runs unittest.
"""

import atexit
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HOST = "127.0.0.1"

# ---------------------------------------------------------------------------------------------
# RESP values
# ---------------------------------------------------------------------------------------------


class SimpleString(bytes):
    """A '+' reply."""


class Verbatim(bytes):
    """A RESP3 '=' reply; the bytes exclude the 'txt:' prefix, kept in .fmt."""

    fmt = b"txt"


class RespSet(list):
    """A RESP3 '~' reply."""


class Push(list):
    """A RESP3 '>' out-of-band message."""


class Err:
    """An error reply ('-' or RESP3 '!')."""

    def __init__(self, message):
        self.message = message  # bytes, e.g. b"ERR syntax error"

    @property
    def code(self):
        return self.message.split(b" ", 1)[0]

    def __eq__(self, other):
        return isinstance(other, Err) and other.message == self.message

    def __hash__(self):
        return hash(self.message)

    def __repr__(self):
        return "Err(%r)" % self.message


class Reply:
    """One parsed reply plus its exact raw bytes."""

    __slots__ = ("value", "raw")

    def __init__(self, value, raw):
        self.value = value
        self.raw = raw

    def __repr__(self):
        return "Reply(%r)" % (self.raw,)


class ConnectionClosed(Exception):
    """The peer closed the connection."""


class ProtocolViolation(Exception):
    """The server sent bytes that are not valid RESP."""


def encode_command(args):
    """Encodes a command as a RESP array of bulk strings. Accepts str, bytes and int arguments."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def wait_for(test, what, predicate, timeout=30.0):
    """Polls `predicate` until it returns something true (returned), failing `test` with "timed
    out waiting for <what>" after `timeout` seconds: a wait on a condition, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        test.assertLess(time.monotonic(), deadline, "timed out waiting for " + what)
        time.sleep(0.005)


def ready_client(test, port, what):
    """A RespClient to `port` once it accepts connections and answers PING with +PONG (a
    started server that is still loading answers -LOADING); closed when `test` ends."""
    def connect():
        try:
            return RespClient(port)
        except OSError:
            return None
    c = wait_for(test, what + "'s RESP port", connect)
    test.addCleanup(c.close)
    wait_for(test, what + " to load", lambda: c.call("PING").raw == b"+PONG\r\n")
    return c


class RespClient:
    """A blocking RESP2/RESP3 client over one TCP connection. Not thread-safe."""

    def __init__(self, port, host=HOST, timeout=10.0):
        self.host = host
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.pushes = []  # out-of-band RESP3 pushes received while waiting for replies
        self.protocol = 2

    # -- sending ---------------------------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_command(self, *args):
        self.sock.sendall(encode_command(args))

    # -- receiving -------------------------------------------------------------------------
    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError as e:
            raise ConnectionClosed("connection reset") from e
        if not chunk:
            raise ConnectionClosed("connection closed by peer")
        self.buf += chunk

    def _readline(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _readn(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        if self.buf[self.pos + n:self.pos + n + 2] != b"\r\n":
            raise ProtocolViolation("bulk payload not followed by CRLF")
        self.pos += n + 2
        return data

    def _parse(self):
        line = self._readline()
        if not line:
            raise ProtocolViolation("empty line where a reply was expected")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return SimpleString(rest)
        if t == b"-":
            return Err(rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._readn(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self._parse() for _ in range(n)]
            return {b"*": list, b"~": RespSet, b">": Push}[t](items)
        if t == b"%":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self._parse()
                v = self._parse()
                d[_hashable(k)] = v
            return d
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)  # float() accepts inf, -inf, nan
        if t == b"(":
            return int(rest)
        if t == b"=":
            data = self._readn(int(rest))
            v = Verbatim(data[4:])
            v.fmt = data[:3]
            return v
        if t == b"!":
            return Err(self._readn(int(rest)))
        if t == b"|":
            n = int(rest)
            for _ in range(2 * n):
                self._parse()  # attributes are skipped; the raw bytes keep them
            return self._parse()
        raise ProtocolViolation("unknown reply type byte %r in line %r" % (t, line))

    def read_reply(self, keep_pushes=False):
        """Reads one reply. RESP3 pushes are stored in self.pushes unless keep_pushes."""
        while True:
            start = self.pos
            value = self._parse()
            raw = bytes(self.buf[start:self.pos])
            del self.buf[:self.pos]
            self.pos = 0
            if isinstance(value, Push) and not keep_pushes:
                self.pushes.append(Reply(value, raw))
                continue
            return Reply(value, raw)

    def call(self, *args):
        self.send_command(*args)
        return self.read_reply()

    def pipeline(self, commands):
        """Sends every command in one write, then reads one reply per command."""
        self.sock.sendall(b"".join(encode_command(c) for c in commands))
        return [self.read_reply() for _ in commands]

    def hello(self, protocol):
        r = self.call("HELLO", protocol)
        if not isinstance(r.value, Err):
            self.protocol = protocol
        return r

    def read_until_closed(self, timeout=5.0):
        """Returns every byte received until the peer closes; raises socket.timeout otherwise."""
        self.sock.settimeout(timeout)
        data = bytes(self.buf[self.pos:])
        self.buf.clear()
        self.pos = 0
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def info_fields(client, section="crdt"):
    """The `field:value` lines of `INFO section` over a RespClient, as a dict of strings."""
    r = client.call("INFO", section)
    if isinstance(r.value, Err):
        raise AssertionError("INFO %s: %r" % (section, r.raw))
    fields = {}
    for line in bytes(r.value).decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v


def fmt_cmd(args):
    """A readable one-line form of a command, for failure messages."""
    parts = []
    for a in args:
        if isinstance(a, bytes):
            try:
                s = a.decode()
                if s.isprintable() and " " not in s and s:
                    parts.append(s)
                    continue
            except UnicodeDecodeError:
                pass
            parts.append(repr(a))
        else:
            parts.append(str(a))
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# Ports, paths, topology
# ---------------------------------------------------------------------------------------------


def free_ports(n):
    """Returns n distinct loopback TCP ports that were free a moment ago. They are drawn below the
    kernel's ephemeral range (net.ipv4.ip_local_port_range starts at 32768), so that no outgoing
    connection of a test running in parallel (a gRPC peer link, a client) can take one between
    this check and the server's listen: ports the kernel hands out by itself (bind to 0) come from
    that range and did collide ("Address already in use" under ctest -j 2)."""
    rng = random.SystemRandom()
    socks, ports = [], []
    try:
        while len(ports) < n:
            port = rng.randrange(20000, 32768)
            if port in ports:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((HOST, port))
            except OSError:
                s.close()
                continue
            socks.append(s)
            ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def free_port():
    return free_ports(1)[0]


def source_dir():
    return os.environ.get("AKV_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def bin_dir():
    return os.environ.get("AKV_BIN_DIR") or os.path.join(source_dir(), "build", "bin")


def target_kind():
    """'activekv' (default) or 'redis' (develop the harness against redis-server on both sides)."""
    kind = os.environ.get("AKV_TARGET", "activekv")
    if kind not in ("activekv", "redis"):
        raise SystemExit("AKV_TARGET must be 'activekv' or 'redis', not %r" % kind)
    return kind


def run_node_suite(test, suite, args, packages, timeout, env=None, tag="clients"):
    """Runs tests/clients/<suite> under node with `args` (and `env`), echoing its output to
    stderr; fails `test` when a needed npm package is missing (`make node-deps`), when the suite
    runs past `timeout` seconds, exits non-zero, or does not report "N cases ok, 0 cases
    failed"."""
    clients = os.path.join(source_dir(), "tests", "clients")
    node = require_executable("node", "node (Debian package nodejs; make deps)")
    for pkg in packages:
        if not os.path.exists(os.path.join(clients, "node_modules", pkg, "package.json")):
            test.fail("npm package %r is not installed in %s/node_modules: run `make "
                      "node-deps` (npm ci --prefix tests/clients)" % (pkg, clients))
    argv = [node, os.path.join(clients, suite)] + list(args)
    print("[%s] %s" % (tag, " ".join(argv)), file=sys.stderr)
    try:
        proc = subprocess.run(argv, cwd=clients, stdin=subprocess.DEVNULL, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.output or b"").decode(errors="replace")
        print(out, file=sys.stderr)
        test.fail("%s did not finish in %ds\n%s" % (suite, timeout, out))
    out = proc.stdout.decode(errors="replace")
    print(out, file=sys.stderr)
    test.assertEqual(proc.returncode, 0, "%s exited %d\n%s" % (suite, proc.returncode, out))
    test.assertRegex(out, r"\d+ cases ok, 0 cases failed")


def write_topology(path, regions, appendfsync="everysec", name="test", persistence=None):
    """Writes a topology YAML. regions: list of dicts with name, resp, sync, data_dir and
    optionally persistence (the text inside the region's `persistence: { ... }`). `persistence`:
    the text inside the top-level mapping (default: `appendfsync: <appendfsync>`)."""
    top = persistence if persistence is not None else "appendfsync: %s" % appendfsync
    lines = ["name: %s" % name, "persistence: { %s }" % top, "regions:"]
    for r in regions:
        extra = ", persistence: { %s }" % r["persistence"] if r.get("persistence") else ""
        lines.append("  - { name: %s, resp: %s, sync: %s, data_dir: %s%s }" %
                     (r["name"], r["resp"], r["sync"], r["data_dir"], extra))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def require_executable(path_or_name, what):
    """Returns the absolute path, or raises AssertionError saying clearly what is missing."""
    p = path_or_name if os.path.isabs(path_or_name) else shutil.which(path_or_name)
    if not p or not os.access(p, os.X_OK):
        raise AssertionError(
            "%s not found (%s). This is a test failure, not a skip: install it or build it." %
            (what, path_or_name))
    return p


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

_LIVE = []  # every ServerProcess that may be running


def _die_with_parent():
    # PR_SET_PDEATHSIG = 1: the child gets SIGKILL if this (Python) process dies.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


class ServerFailedToStart(AssertionError):
    pass


class ServerProcess:
    """A server process with a RESP port, a log file and a work directory."""

    kind = "?"

    def __init__(self, workdir, port):
        self.workdir = workdir
        self.port = port
        self.log_path = os.path.join(workdir, "server.log")
        self.proc = None
        os.makedirs(workdir, exist_ok=True)

    def argv(self):
        raise NotImplementedError

    def describe(self):
        return "%s on %s:%d (log: %s)" % (self.kind, HOST, self.port, self.log_path)

    def start(self, wait=True, timeout=None):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = open(self.log_path, "ab")
        log.write(b"\n==== start %s: %s\n" % (time.strftime("%H:%M:%S").encode(),
                                              " ".join(self.argv()).encode()))
        log.flush()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT, cwd=self.workdir,
                                     preexec_fn=_die_with_parent)
        log.close()
        if self not in _LIVE:
            _LIVE.append(self)
        print("[akv] started %s pid=%d" % (self.describe(), self.proc.pid), file=sys.stderr)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=None):
        """Polls PING until +PONG, the process exits, or the deadline passes."""
        if timeout is None:
            timeout = float(os.environ.get("AKV_START_TIMEOUT", "20"))
        deadline = time.monotonic() + timeout
        last = "no attempt"
        while True:
            code = self.proc.poll()
            if code is not None:
                raise ServerFailedToStart("%s exited with code %s while starting\n%s" %
                                          (self.describe(), code, self.log_tail()))
            try:
                with RespClient(self.port, timeout=1.0) as c:
                    r = c.call("PING")
                    if r.raw == b"+PONG\r\n":
                        return
                    last = "PING replied %r" % r.raw
            except (OSError, ConnectionClosed, ProtocolViolation) as e:
                last = "%s: %s" % (type(e).__name__, e)
            if time.monotonic() > deadline:
                raise ServerFailedToStart("%s not ready after %.0fs (%s)\n%s" %
                                          (self.describe(), timeout, last, self.log_tail()))
            time.sleep(0.02)

    def wait_exit(self, timeout):
        """Waits for the process to exit; returns the exit code or None if still running."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL if it has not exited by the deadline."""
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.kill9()
        if self.proc is not None:
            self.proc.wait()

    def restart(self, wait=True):
        self.kill9()
        return self.start(wait=wait)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=30):
        tail = self.log_text().splitlines()[-lines:]
        return "---- last %d lines of %s ----\n%s\n----" % (len(tail), self.log_path,
                                                            "\n".join(tail))

    def client(self, protocol=2, timeout=10.0):
        c = RespClient(self.port, timeout=timeout)
        if protocol == 3:
            r = c.hello(3)
            if isinstance(r.value, Err):
                raise AssertionError("HELLO 3 failed on %s: %r" % (self.describe(), r.raw))
        return c

    def data_files(self):
        """Every regular file under the data directory, as absolute paths."""
        out = []
        for root, _, files in os.walk(self.data_dir):
            out.extend(os.path.join(root, f) for f in files)
        return sorted(out)

    def aof_file(self):
        """The append-only file to damage in tests: the largest file whose name mentions 'aof'
        (manifests excluded); if none does, the largest file in the data directory."""
        files = [f for f in self.data_files() if "manifest" not in os.path.basename(f)]
        aofs = [f for f in files if "aof" in os.path.basename(f).lower()]
        pool = aofs or files
        if not pool:
            raise AssertionError("no files in data dir %s" % self.data_dir)
        return max(pool, key=os.path.getsize)


class RedisServer(ServerProcess):
    kind = "redis-server"

    def __init__(self, workdir, appendfsync="everysec", port=None, extra_args=()):
        super().__init__(workdir, port or free_port())
        self.appendfsync = appendfsync
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.extra_args = list(extra_args)
        self.exe = require_executable("redis-server", "redis-server (Debian package redis-server)")

    def argv(self):
        return [self.exe, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--dir", self.data_dir,
                "--daemonize", "no", "--logfile", ""] + self.extra_args

    def check_aof_argv(self, path, fix=False):
        exe = require_executable("redis-check-aof", "redis-check-aof")
        return [exe] + (["--fix"] if fix else []) + [path]


class ActiveKvServer(ServerProcess):
    kind = "activekv-server"

    def __init__(self, workdir, appendfsync="everysec", port=None, region="r1"):
        port = port or free_port()
        super().__init__(workdir, port)
        self.exe = require_executable(os.path.join(bin_dir(), "activekv-server"),
                                      "activekv-server (set AKV_BIN_DIR or build it)")
        self.region = region
        self.appendfsync = appendfsync
        self.sync_port = self._other_port(port)
        self.data_dir = os.path.join(workdir, "data", region)
        os.makedirs(self.data_dir, exist_ok=True)
        self.topology = write_topology(
            os.path.join(workdir, "topology.yaml"),
            [{"name": region, "resp": "%s:%d" % (HOST, port),
              "sync": "%s:%d" % (HOST, self.sync_port), "data_dir": self.data_dir}],
            appendfsync=appendfsync)

    @staticmethod
    def _other_port(port):
        while True:
            p = free_port()
            if p != port:
                return p

    def argv(self):
        return [self.exe, "--topology", self.topology, "--region", self.region]

    def check_aof_argv(self, path, fix=False):
        exe = require_executable(os.path.join(bin_dir(), "activekv-check-aof"),
                                 "activekv-check-aof")
        return [exe] + (["--fix"] if fix else []) + [path]


def make_target(workdir, appendfsync="everysec"):
    """The server under test (not started): activekv-server, or redis-server if AKV_TARGET=redis."""
    if target_kind() == "redis":
        return RedisServer(workdir, appendfsync)
    return ActiveKvServer(workdir, appendfsync)


def start_target(workdir, appendfsync="everysec"):
    return make_target(workdir, appendfsync).start()


def start_redis(workdir, appendfsync="everysec"):
    return RedisServer(workdir, appendfsync).start()


def kill_all():
    """SIGKILLs every server started by this process."""
    while _LIVE:
        s = _LIVE.pop()
        try:
            s.kill9()
        except Exception as e:  # keep killing the others
            print("[akv] kill of %s failed: %s" % (s.describe(), e), file=sys.stderr)


atexit.register(kill_all)

# ---------------------------------------------------------------------------------------------
# Test running
# ---------------------------------------------------------------------------------------------

_TMP_ROOT = None


def tmp_root():
    """The per-run temporary root (kept on failure)."""
    global _TMP_ROOT
    if _TMP_ROOT is None:
        _TMP_ROOT = tempfile.mkdtemp(prefix="akv-it-")
    return _TMP_ROOT


def new_workdir(name):
    d = tempfile.mkdtemp(prefix=name + "-", dir=tmp_root())
    return d


class ServerTestCase(unittest.TestCase):
    """Base class: servers started through self.start_*() are SIGKILLed at test teardown."""

    def track(self, server):
        self.addCleanup(server.kill9)
        return server

    def start_target(self, appendfsync="everysec", name="target"):
        s = make_target(new_workdir(name), appendfsync)
        self.track(s)
        return s.start()

    def start_redis(self, appendfsync="everysec", name="redis"):
        s = RedisServer(new_workdir(name), appendfsync)
        self.track(s)
        return s.start()


def seed_from_env():
    """AKV_SEED or a fresh random seed; always printed as 'seed=N' so a failure replays."""
    s = os.environ.get("AKV_SEED")
    seed = int(s) if s else random.SystemRandom().randrange(1, 2**31)
    print("seed=%d  (replay with AKV_SEED=%d)" % (seed, seed), file=sys.stderr)
    return seed


def run_tests():
    """main() of every integration test file: python3 test_x.py [--target redis|activekv] [...]"""
    argv = list(sys.argv)
    if "--target" in argv:
        i = argv.index("--target")
        os.environ["AKV_TARGET"] = argv[i + 1]
        del argv[i:i + 2]
    print("[akv] target=%s bin_dir=%s" % (target_kind(), bin_dir()), file=sys.stderr)
    prog = unittest.main(argv=argv, exit=False, verbosity=2)
    ok = prog.result.wasSuccessful()
    kill_all()
    r = prog.result
    print("[akv] %d run, %d failed, %d errors, %d skipped" %
          (r.testsRun, len(r.failures), len(r.errors), len(r.skipped)), file=sys.stderr)
    if _TMP_ROOT:
        if ok and not os.environ.get("AKV_KEEP_TMP"):
            shutil.rmtree(_TMP_ROOT, ignore_errors=True)
        else:
            print("[akv] logs and data kept in %s" % _TMP_ROOT, file=sys.stderr)
    sys.exit(0 if ok else 1)
