#!/usr/bin/python3
"""Mutual TLS between regions and for the Status service (docs/security.md).

Certificates come from `activekvctl certs`. Regions a and b (topology t.yaml) hold certificates
of the topology's CA and replicate. Two intruders dial them (rogue.yaml lists a, b, c and d, with
certificates of another CA from a second `activekvctl certs` run): c trusts only the other CA, so
it refuses a's and b's certificates and its INFO names the verification failure; d trusts the
real CA but presents a foreign certificate, so a and b refuse it (d only sees the connection
closed). Neither gets an op, and a and b keep syncing. The Status service answers activekvctl presenting
the operator's certificate, and refuses a region's certificate and a plaintext caller.

  /usr/bin/python3 test_tls.py [-k pattern]
"""

import json
import os
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402


class TlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = akv.new_workdir("tls")
        cls.ctl = akv.require_executable(os.path.join(akv.bin_dir(), "activekvctl"), "activekvctl")
        cls.server = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                            "activekv-server")
        ports = akv.free_ports(8)
        cls.resp = {"a": ports[0], "b": ports[1], "c": ports[2], "d": ports[3]}
        cls.sync = {"a": ports[4], "b": ports[5], "c": ports[6], "d": ports[7]}
        cls.topology = os.path.join(cls.work, "t.yaml")
        cls.write_topology(cls.topology, names=("a", "b"))
        cls.rogue = os.path.join(cls.work, "rogue.yaml")
        cls.write_topology(cls.rogue)
        for out in ("certs", "rogue"):
            r = subprocess.run([cls.ctl, "certs", cls.rogue, "--out",
                                os.path.join(cls.work, out)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        cls.procs = {}
        for name in ("a", "b", "c", "d"):
            with open(os.path.join(cls.work, "%s.log" % name), "w") as log:
                cls.procs[name] = subprocess.Popen(
                    [cls.server, "--topology", cls.rogue if name in "cd" else cls.topology,
                     "--region", name], stdout=log, stderr=subprocess.STDOUT)

    @classmethod
    def write_topology(cls, path, operator="operator", tls=True, names=("a", "b", "c", "d")):
        lines = ["name: t"]
        if tls:
            lines += ["tls:", "  ca_file: certs/ca.pem",
                      "  operator_cert_file: certs/%s.pem" % operator,
                      "  operator_key_file: certs/%s.key" % operator]
        lines.append("regions:")
        for name in names:
            d = "rogue" if name in "cd" else "certs"
            ca = "rogue" if name == "c" else "certs"
            region_tls = (", tls: { ca_file: %s/ca.pem, cert_file: %s/%s.pem, key_file: %s/%s.key }"
                          % (ca, d, name, d, name)) if tls else ""
            lines.append("  - { name: %s, resp: 127.0.0.1:%d, sync: 127.0.0.1:%d, data_dir: %s%s }"
                         % (name, cls.resp[name], cls.sync[name], name, region_tls))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs.values():
            p.kill()
            p.wait()

    def client(self, name):
        def connect():
            try:
                return akv.RespClient(self.resp[name])
            except OSError:
                return None
        c = akv.wait_for(self, "region %s's RESP port" % name, connect)
        self.addCleanup(c.close)
        akv.wait_for(self, "region %s to load" % name,
                     lambda: c.call("PING").raw == b"+PONG\r\n")
        return c

    def info_field(self, client, field):
        text = client.call("INFO", "crdt").value.decode()
        for line in text.splitlines():
            if line.startswith(field + ":"):
                return line[len(field) + 1:]
        return None

    def test_regions_with_the_ca_sync_and_a_foreign_certificate_is_refused(self):
        a, b = self.client("a"), self.client("b")
        # A new region writes once its peers said which of its ops they hold (over TLS here).
        akv.wait_for(self, "a to take writes", lambda: a.call("SET", "k", "from-a").raw == b"+OK\r\n")
        akv.wait_for(self, "k on b", lambda: b.call("GET", "k").raw == b"$6\r\nfrom-a\r\n")
        c, d = self.client("c"), self.client("d")
        for who, intruder, reason in ((c, "c", "certificate_verify_failed|handshake"),
                                      (d, "d", "")):
            for peer in ("a", "b"):
                err = akv.wait_for(self, "%s's refused link's reason" % intruder,
                                   lambda: self.info_field(who, "crdt_link_error_%s" % peer))
                print("  %s's link from %s: %s" % (intruder, peer, err))
                if reason:
                    self.assertRegex(err.lower(), reason, err)
                self.assertEqual(self.info_field(who, "crdt_peer_%s" % peer).split(",")[0],
                                 "connected=0")
            self.assertEqual(who.call("GET", "k").raw, b"$-1\r\n")
        # a and b keep syncing meanwhile.
        self.assertEqual(b.call("SET", "k2", "from-b").raw, b"+OK\r\n")
        akv.wait_for(self, "k2 on a", lambda: a.call("GET", "k2").raw == b"$6\r\nfrom-b\r\n")

    def ctl_status(self, topology):
        return subprocess.run([self.ctl, "status", topology, "--json"], capture_output=True,
                              text=True, timeout=60)

    def test_status_answers_the_operators_certificate_only(self):
        self.client("a")
        self.client("b")
        ok = json.loads(self.ctl_status(self.topology).stdout)
        self.assertEqual(ok["a"]["region"], "a")
        self.assertEqual(ok["b"]["region"], "b")
        # A region's certificate is signed by the CA too, but it is not the operator's.
        as_region = os.path.join(self.work, "as-region.yaml")
        self.write_topology(as_region, operator="a")
        r = json.loads(self.ctl_status(as_region).stdout)
        self.assertTrue(r["a"]["down"])
        self.assertIn("operator's certificate only", r["a"]["error"])
        # No TLS at all: the handshake never completes.
        plain = os.path.join(self.work, "plain.yaml")
        self.write_topology(plain, tls=False)
        r = json.loads(self.ctl_status(plain).stdout)
        self.assertTrue(r["a"]["down"] and r["b"]["down"])

if __name__ == "__main__":
    unittest.main()
