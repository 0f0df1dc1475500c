"""Real network faults with Linux network namespaces (root only).

Each region runs in its own namespace `akvc<pid>n<i>` with one interface `eth0` (a veth pair whose
other end `akvc<pid>h<i>` is a port of the bridge `akvc<pid>b` in the root namespace). Addresses
come from a private /24 picked at start (10.77.X.0/24, X free on this host): region i is
10.77.X.(i+1), the bridge (where the harness and its clients sit) is 10.77.X.254. Only these
namespaces and this bridge are ever touched; everything is removed at exit, and namespaces left
behind by a harness that was SIGKILLed are removed by the next run (their pid is dead).

Faults:
  partition(i, j)   blackhole routes both ways: packets between i and j vanish silently (no RST,
                    no ICMP), like a cut WAN link; clients still reach both regions.
  isolate(i)        the bridge port of region i goes down: nobody (peers, clients) reaches it.
  wan_on()          inter-region traffic (not client traffic) goes through an HTB class with
                    `netem delay 50ms 20ms loss 1%` when the kernel has sch_netem; otherwise
                    (e.g. this machine) a 4 Mbit/s class with a 100-packet queue, i.e.
                    bandwidth-limited with queueing delay and tail drops, and a clear message.
"""

import os
import re
import subprocess

from chaoslib.procs import log

PREFIX = "akvc"


def _run(args, check=True):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode(errors="replace").strip()
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), p.returncode, out))
    return p.returncode, out


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def available():
    """(True, '') when network namespaces can be used, else (False, why)."""
    if os.geteuid() != 0:
        return False, "not running as root (network namespaces need CAP_NET_ADMIN)"
    if not os.path.exists("/usr/sbin/ip") and not os.path.exists("/sbin/ip"):
        return False, "the `ip` command (iproute2) is not installed"
    probe = "%s%dprobe" % (PREFIX, os.getpid())
    code, out = _run(["ip", "netns", "add", probe], check=False)
    if code != 0:
        return False, "`ip netns add` failed: %s" % out
    _run(["ip", "netns", "del", probe], check=False)
    return True, ""


def sweep_stale():
    """Removes namespaces and links of earlier harness runs whose process is gone."""
    code, out = _run(["ip", "netns", "list"], check=False)
    for line in out.splitlines() if code == 0 else []:
        name = line.split()[0] if line.split() else ""
        m = re.match(r"^%s(\d+)" % PREFIX, name)
        if m and not _pid_alive(int(m.group(1))):
            _run(["ip", "netns", "del", name], check=False)
            log("removed stale namespace %s" % name)
    code, out = _run(["ip", "-o", "link", "show"], check=False)
    for line in out.splitlines() if code == 0 else []:
        m = re.match(r"^\d+:\s+(%s(\d+)[bh]\d*)[@:]" % PREFIX, line)
        if m and not _pid_alive(int(m.group(2))):
            _run(["ip", "link", "del", m.group(1)], check=False)
            log("removed stale link %s" % m.group(1))


class NetLab:
    def __init__(self, n):
        self.n = n
        self.tag = "%s%d" % (PREFIX, os.getpid())
        self.bridge = self.tag + "b"
        self.subnet = None
        self.created_ns = []
        self.created_links = []
        self.partitions = set()
        self.isolated = set()
        self.wan = False
        self.netem = None  # probed in setup()
        self.netem_reason = ""

    def ns(self, i):
        return "%sn%d" % (self.tag, i)

    def host_if(self, i):
        return "%sh%d" % (self.tag, i)

    def host(self, i):
        return "10.77.%d.%d" % (self.subnet, i + 1)

    def gateway(self):
        return "10.77.%d.254" % self.subnet

    def _pick_subnet(self):
        _, routes = _run(["ip", "-4", "route", "show"], check=False)
        _, addrs = _run(["ip", "-4", "-o", "addr", "show"], check=False)
        used = routes + "\n" + addrs
        start = os.getpid() % 200 + 1
        for k in range(250):
            x = (start + k) % 250 + 1
            if ("10.77.%d." % x) not in used:
                return x
        raise RuntimeError("no free 10.77.X.0/24 subnet")

    def setup(self):
        sweep_stale()
        self.subnet = self._pick_subnet()
        _run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self.created_links.append(self.bridge)
        _run(["ip", "addr", "add", self.gateway() + "/24", "dev", self.bridge])
        _run(["ip", "link", "set", self.bridge, "up"])
        for i in range(self.n):
            ns = self.ns(i)
            _run(["ip", "netns", "add", ns])
            self.created_ns.append(ns)
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            _run(["ip", "link", "add", self.host_if(i), "type", "veth", "peer", "name", "eth0",
                  "netns", ns])
            self.created_links.append(self.host_if(i))
            _run(["ip", "link", "set", self.host_if(i), "master", self.bridge, "up"])
            _run(["ip", "-n", ns, "addr", "add", self.host(i) + "/24", "dev", "eth0"])
            _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        code, out = _run(["ip", "netns", "exec", self.ns(0), "tc", "qdisc", "add", "dev", "lo",
                          "root", "netem", "delay", "1ms"], check=False)
        self.netem = code == 0
        if self.netem:
            _run(["ip", "netns", "exec", self.ns(0), "tc", "qdisc", "del", "dev", "lo", "root"],
                 check=False)
        else:
            self.netem_reason = out.splitlines()[0] if out else "exit %d" % code
        log("netns: %d regions on 10.77.%d.0/24 (bridge %s, harness at %s); netem: %s" %
            (self.n, self.subnet, self.bridge, self.gateway(),
             "yes" if self.netem else "NO (%s)" % self.netem_reason))

    def describe_wan(self):
        if self.netem:
            return "netem delay 50ms 20ms loss 1% on inter-region traffic"
        return ("SKIPPED netem (tc: %s; the kernel has no sch_netem): inter-region traffic is "
                "limited to 4 Mbit/s with a 100-packet queue instead (queueing delay, tail "
                "drops)" % self.netem_reason)

    # -- faults -------------------------------------------------------------------------------
    def partition(self, i, j):
        for a, b in ((i, j), (j, i)):
            _run(["ip", "-n", self.ns(a), "route", "add", "blackhole", self.host(b) + "/32"])
        self.partitions.add((min(i, j), max(i, j)))

    def heal(self, i, j):
        for a, b in ((i, j), (j, i)):
            _run(["ip", "-n", self.ns(a), "route", "del", "blackhole", self.host(b) + "/32"],
                 check=False)
        self.partitions.discard((min(i, j), max(i, j)))

    def isolate(self, i):
        _run(["ip", "link", "set", self.host_if(i), "down"])
        self.isolated.add(i)

    def unisolate(self, i):
        _run(["ip", "link", "set", self.host_if(i), "up"], check=False)
        self.isolated.discard(i)

    def wan_on(self):
        for i in range(self.n):
            x = ["ip", "netns", "exec", self.ns(i), "tc"]
            _run(x + ["qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default",
                      "10", "r2q", "1000"])
            _run(x + ["class", "add", "dev", "eth0", "parent", "1:", "classid", "1:10", "htb",
                      "rate", "10gbit"])
            if self.netem:
                _run(x + ["class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb",
                          "rate", "1gbit"])
                _run(x + ["qdisc", "add", "dev", "eth0", "parent", "1:20", "handle", "20:",
                          "netem", "delay", "50ms", "20ms", "loss", "1%"])
            else:
                _run(x + ["class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb",
                          "rate", "4mbit", "ceil", "4mbit"])
                _run(x + ["qdisc", "add", "dev", "eth0", "parent", "1:20", "handle", "20:",
                          "pfifo", "limit", "100"])
            for j in range(self.n):
                if j != i:
                    _run(x + ["filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip",
                              "prio", "1", "u32", "match", "ip", "dst", self.host(j) + "/32",
                              "flowid", "1:20"])
        self.wan = True

    def wan_off(self):
        for i in range(self.n):
            _run(["ip", "netns", "exec", self.ns(i), "tc", "qdisc", "del", "dev", "eth0", "root"],
                 check=False)
        self.wan = False

    def heal_all(self):
        for (i, j) in list(self.partitions):
            self.heal(i, j)
        for i in list(self.isolated):
            self.unisolate(i)
        if self.wan:
            self.wan_off()

    def cleanup(self):
        """Removes everything this lab created. Processes inside must be dead already."""
        for link in reversed(self.created_links):
            _run(["ip", "link", "del", link], check=False)
        for ns in self.created_ns:
            _run(["ip", "netns", "del", ns], check=False)
        self.created_links = []
        self.created_ns = []
