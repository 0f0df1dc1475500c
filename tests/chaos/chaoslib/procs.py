"""Regions as real activekv-server processes: topology, start / kill -9 / SIGSTOP / restart,
INFO parsing and convergence polling.

Every process is started from the MAIN thread with PR_SET_PDEATHSIG, so it dies with the harness
even when the harness is SIGKILLed (the death signal follows the thread that forked the child).
"""

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

from chaoslib import resp

_LIVE = []  # every Region that may have a process


def log(msg):
    print("[chaos %7.2f] %s" % (time.monotonic() - _T0, msg), file=sys.stderr, flush=True)


_T0 = time.monotonic()


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def source_dir():
    return os.environ.get("AKV_SOURCE_DIR") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def bin_dir():
    return os.environ.get("AKV_BIN_DIR") or os.path.join(source_dir(), "build", "bin")


def executable(name):
    p = os.path.join(bin_dir(), name)
    if not os.access(p, os.X_OK):
        raise SystemExit("CHAOS FAILURE: %s not found (set AKV_BIN_DIR or build it)" % p)
    return p


def parse_vv(text):
    """'r0:12 r1:3' -> {'r0': 12, 'r1': 3}; seq 0 entries dropped."""
    out = {}
    for part in (text or "").replace(",", " ").split():
        if part in ("{}",):
            continue
        name, _, seq = part.rpartition(":")
        if name and seq.isdigit() and int(seq) > 0:
            out[name] = int(seq)
    return out


def vv_covers(a, b):
    """True when version vector a has applied everything b has."""
    return all(a.get(k, 0) >= v for k, v in b.items())


def vv_str(vv):
    return "{" + " ".join("%s:%d" % kv for kv in sorted(vv.items())) + "}"


def parse_info(text):
    fields = {}
    for line in bytes(text).decode(errors="replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


def parse_peer(value):
    """'connected=1,lag_ops=0,...' -> dict of ints."""
    out = {}
    for part in value.split(","):
        k, _, v = part.partition("=")
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    return out


class Region:
    """One region process. start()/kill9()/stop()/cont() are called from the main thread only."""

    def __init__(self, cluster, index, name, host, resp_port, sync_port, data_dir, extra_args=()):
        self.cluster = cluster
        self.index = index
        self.name = name
        self.host = host
        self.port = resp_port
        self.sync_port = sync_port
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.netns = None  # set by NetLab
        self.proc = None
        self.stopped = False  # SIGSTOPped
        self.lost = False  # killed for good
        self.log_path = os.path.join(cluster.root, "%s.log" % name)
        self.starts = 0

    # -- process ------------------------------------------------------------------------------
    def argv(self):
        cmd = [executable("activekv-server"), "--topology", self.cluster.topology, "--region",
               self.name] + self.extra_args
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        return cmd

    def start(self):
        assert threading.current_thread() is threading.main_thread(), "start from main thread"
        assert not self.running(), "%s already running" % self.name
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.log_path, "ab") as f:
            f.write(b"==== %s start: %s\n" % (time.strftime("%H:%M:%S").encode(),
                                              " ".join(self.argv()).encode()))
            f.flush()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=subprocess.STDOUT, cwd=self.data_dir,
                                         preexec_fn=_die_with_parent)
        self.stopped = False
        self.starts += 1
        if self not in _LIVE:
            _LIVE.append(self)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def serving(self):
        return self.running() and not self.stopped

    def kill9(self):
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
        self.stopped = False

    def terminate(self, timeout=10.0):
        if self.running():
            if self.stopped:
                self.cont()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill9()

    def sigstop(self):
        if self.running():
            self.proc.send_signal(signal.SIGSTOP)
            self.stopped = True

    def cont(self):
        if self.running():
            self.proc.send_signal(signal.SIGCONT)
        self.stopped = False

    def wait_serving(self, timeout=30.0):
        """Polls PING until +PONG. Returns seconds waited."""
        t0 = time.monotonic()
        last = "no attempt"
        while True:
            if not self.running():
                raise AssertionError("CHAOS FAILURE: %s exited with code %s while starting\n%s" %
                                     (self.name, self.proc.returncode, self.log_tail()))
            try:
                with resp.RespClient(self.port, host=self.host, timeout=1.0) as c:
                    r = c.call("PING")
                    if r.raw == b"+PONG\r\n":
                        return time.monotonic() - t0
                    last = "PING replied %r" % r.raw
            except (OSError, resp.ConnectionClosed, resp.ProtocolViolation) as e:
                last = "%s: %s" % (type(e).__name__, e)
            if time.monotonic() - t0 > timeout:
                raise AssertionError("CHAOS FAILURE: %s not serving after %.0f s (%s)\n%s" %
                                     (self.name, timeout, last, self.log_tail()))
            time.sleep(0.01)

    def log_tail(self, lines=25):
        try:
            with open(self.log_path, "rb") as f:
                tail = f.read().decode(errors="replace").splitlines()[-lines:]
        except OSError:
            tail = []
        return "---- last %d lines of %s ----\n%s\n----" % (len(tail), self.log_path,
                                                            "\n".join(tail))

    # -- RESP ---------------------------------------------------------------------------------
    def client(self, timeout=5.0):
        return resp.RespClient(self.port, host=self.host, timeout=timeout)

    def call(self, *args, timeout=5.0):
        with self.client(timeout) as c:
            return c.call(*args).value

    def info(self, section="crdt", timeout=5.0):
        return parse_info(self.call("INFO", section, timeout=timeout))

    def state(self, timeout=5.0):
        """(version vector dict, digest, {peer: stats dict}, info fields)."""
        with self.client(timeout) as c:
            fields = parse_info(c.call("INFO", "crdt").value)
            digest = c.call("CRDT.DIGEST").value
        if isinstance(digest, bytes):
            digest = digest.decode()
        peers = {k[len("crdt_peer_"):]: parse_peer(v) for k, v in fields.items()
                 if k.startswith("crdt_peer_")}
        return parse_vv(fields.get("crdt_version_vector")), digest, peers, fields

    def vv(self, timeout=5.0):
        """(version vector, {peer: stats}, info fields) from INFO crdt only: cheap, unlike
        CRDT.DIGEST, which walks every key on the region's event loop."""
        fields = self.info("crdt", timeout=timeout)
        peers = {k[len("crdt_peer_"):]: parse_peer(v) for k, v in fields.items()
                 if k.startswith("crdt_peer_")}
        return parse_vv(fields.get("crdt_version_vector")), peers, fields

    def aof_path(self):
        return os.path.join(self.data_dir, "appendonly.aof")


class Cluster:
    """N regions from a generated topology. `net` (a NetLab) puts each region in its own network
    namespace; otherwise everything listens on 127.0.0.1."""

    def __init__(self, root, n=3, appendfsync="always", name="chaos", extra_args=None, net=None,
                 data_dirs=None, region_persistence=None):
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.net = net
        self.appendfsync = appendfsync
        names = ["r%d" % i for i in range(n)]
        extra_args = extra_args or {}
        data_dirs = data_dirs or {}
        region_persistence = region_persistence or {}
        if net is None:
            ports = resp.free_ports(2 * n)
            hosts = ["127.0.0.1"] * n
            resp_ports, sync_ports = ports[:n], ports[n:]
        else:
            hosts = [net.host(i) for i in range(n)]
            resp_ports = [7001] * n
            sync_ports = [7101] * n
        self.regions = []
        for i, nm in enumerate(names):
            dd = data_dirs.get(nm) or os.path.join(root, "data", nm)
            self.regions.append(Region(self, i, nm, hosts[i], resp_ports[i], sync_ports[i], dd,
                                       extra_args.get(nm, ())))
        if net is not None:
            for r in self.regions:
                r.netns = net.ns(r.index)
        lines = ["name: %s" % name, "persistence: { appendfsync: %s }" % appendfsync, "regions:"]
        for r in self.regions:
            extra = ""
            if r.name in region_persistence:
                extra = ", persistence: { appendfsync: %s }" % region_persistence[r.name]
            lines.append("  - { name: %s, resp: %s:%d, sync: %s:%d, data_dir: %s%s }" %
                         (r.name, r.host, r.port, r.host, r.sync_port, r.data_dir, extra))
        self.topology = os.path.join(root, "topology.yaml")
        with open(self.topology, "w") as f:
            f.write("\n".join(lines) + "\n")

    def __getitem__(self, name):
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def names(self):
        return [r.name for r in self.regions]

    def start_all(self, timeout=30.0):
        for r in self.regions:
            r.start()
        for r in self.regions:
            r.wait_serving(timeout)
        self.wait_links(timeout=timeout)

    def wait_links(self, names=None, timeout=30.0):
        """Every pull link between the given regions is connected (and none is joining)."""
        names = names or [r.name for r in self.regions if r.serving() and not r.lost]
        t0 = time.monotonic()
        while True:
            missing = []
            for n in names:
                try:
                    _, peers, fields = self[n].vv()
                except (OSError, resp.ConnectionClosed) as e:
                    missing.append("%s: %s" % (n, e))
                    continue
                if fields.get("crdt_joining") == "1":
                    missing.append("%s: joining (new data directory)" % n)
                missing += ["%s<-%s" % (n, p) for p in names
                            if p != n and peers.get(p, {}).get("connected") != 1]
            if not missing:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError("CHAOS FAILURE: links not connected after %.0f s: %s" %
                                     (timeout, ", ".join(missing)))
            time.sleep(0.05)

    def live(self):
        return [r for r in self.regions if r.serving() and not r.lost]

    def wait_sync(self, names=None, timeout=60.0, poll=0.05):
        """Own poll of INFO crdt + CRDT.DIGEST on the given (default: every live) region:
        equal version vectors, equal digests, zero lag towards each other. Returns (seconds,
        vv, digest). Raises AssertionError naming what still differs."""
        names = names or [r.name for r in self.live()]
        t0 = time.monotonic()
        last = "no poll"
        while True:
            try:
                states = {n: self[n].state(timeout=5.0) for n in names}
                vvs = {n: s[0] for n, s in states.items()}
                digests = {n: s[1] for n, s in states.items()}
                lags = ["%s->%s lag_ops=%d" % (n, p, st.get("lag_ops", 0))
                        for n, s in states.items() for p, st in s[2].items()
                        if p in names and st.get("lag_ops", 0) != 0]
                same_vv = len({vv_str(v) for v in vvs.values()}) == 1
                same_digest = len(set(digests.values())) == 1
                if same_vv and same_digest and not lags:
                    v = next(iter(vvs.values()))
                    return time.monotonic() - t0, v, next(iter(digests.values()))
                last = "; ".join(
                    (["version vectors differ: " + ", ".join(
                        "%s %s" % (n, vv_str(v)) for n, v in vvs.items())] if not same_vv else []) +
                    (["digests differ: " + ", ".join(
                        "%s %s" % (n, d) for n, d in digests.items())] if not same_digest else []) +
                    lags)
            except (OSError, resp.ConnectionClosed) as e:
                last = "%s: %s" % (type(e).__name__, e)
            if time.monotonic() - t0 > timeout:
                raise AssertionError("CHAOS FAILURE: regions %s not in sync after %.0f s: %s" %
                                     (",".join(names), timeout, last))
            time.sleep(poll)

    def ctl(self, *args, timeout=120):
        """Runs activekvctl on this topology; returns (exit code, output)."""
        cmd = [executable("activekvctl")] + [args[0], self.topology] + list(args[1:])
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")

    def stop_all(self):
        for r in self.regions:
            if r.running():
                if r.stopped:
                    r.cont()
                r.proc.send_signal(signal.SIGTERM)
        for r in self.regions:
            if r.proc is not None:
                try:
                    r.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    r.kill9()


def kill_everything():
    while _LIVE:
        r = _LIVE.pop()
        try:
            if r.running() and r.stopped:
                r.cont()
            r.kill9()
        except Exception as e:  # keep going
            print("[chaos] kill of %s failed: %s" % (r.name, e), file=sys.stderr)
