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
import re
import socket
import ssl
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
        return akv.ready_client(self, self.resp[name], "region %s" % name)

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
                # The first error may be the peer's port not listening yet ("connection
                # refused"): wait for the refusal itself.
                def refusal():
                    err = self.info_field(who, "crdt_link_error_%s" % peer)
                    return err if err and re.search(reason, err.lower()) else None
                err = akv.wait_for(self, "%s's refused link's reason" % intruder, refusal)
                print("  %s's link from %s: %s" % (intruder, peer, err))
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

class CertificateRotationTest(unittest.TestCase):
    """Certificates replaced in place are used without a restart (docs/security.md, "Rotation"):
    regions a and b start with one CA; every file is then replaced by certificates of a new CA.
    The sync port soon presents the new certificate and accepts only the new CA (checked with
    Python's ssl as the operator); a restarted b (which reads the new files) and the running a
    (which never restarted) link again both ways and replicate."""

    def setUp(self):
        self.work = akv.new_workdir("tls-rotation")
        ctl = akv.require_executable(os.path.join(akv.bin_dir(), "activekvctl"), "activekvctl")
        self.server = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                             "activekv-server")
        ports = akv.free_ports(4)
        self.resp = {"a": ports[0], "b": ports[1]}
        self.sync = {"a": ports[2], "b": ports[3]}
        self.topology = os.path.join(self.work, "t.yaml")
        lines = ["name: t", "tls: { ca_file: live/ca.pem }", "regions:"]
        for name in ("a", "b"):
            lines.append("  - { name: %s, resp: 127.0.0.1:%d, sync: 127.0.0.1:%d, data_dir: %s, "
                         "tls: { cert_file: live/%s.pem, key_file: live/%s.key } }"
                         % (name, self.resp[name], self.sync[name], name, name, name))
        with open(self.topology, "w") as f:
            f.write("\n".join(lines) + "\n")
        for out in ("live", "next"):
            r = subprocess.run([ctl, "certs", self.topology, "--out",
                                os.path.join(self.work, out)], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.procs = {}
        for name in ("a", "b"):
            self.start(name)

    def start(self, name):
        with open(os.path.join(self.work, "%s.log" % name), "a") as log:
            p = subprocess.Popen([self.server, "--topology", self.topology, "--region", name],
                                 stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = p
        self.addCleanup(lambda: (p.kill(), p.wait()))

    def client(self, name):
        return akv.ready_client(self, self.resp[name], "region %s" % name)

    def sync_port_accepts(self, name, certs):
        """A TLS handshake with the sync port, as the operator of `certs` trusting its CA."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.work, certs, "ca.pem"))
        ctx.check_hostname = False
        ctx.load_cert_chain(os.path.join(self.work, certs, "operator.pem"),
                            os.path.join(self.work, certs, "operator.key"))
        ctx.set_alpn_protocols(["h2"])
        try:
            with socket.create_connection(("127.0.0.1", self.sync[name]), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=name):
                    return True
        except (ssl.SSLError, OSError):
            return False

    def test_replaced_certificates_are_used_without_a_restart(self):
        a, b = self.client("a"), self.client("b")
        akv.wait_for(self, "a to take writes", lambda: a.call("SET", "k1", "1").raw == b"+OK\r\n")
        akv.wait_for(self, "k1 on b", lambda: b.call("GET", "k1").raw == b"$1\r\n1\r\n")
        self.assertTrue(self.sync_port_accepts("a", "live"))
        self.assertFalse(self.sync_port_accepts("a", "next"))
        # Rotation: each file replaced by its successor (rename: never half written).
        for f in os.listdir(os.path.join(self.work, "next")):
            os.replace(os.path.join(self.work, "next", f), os.path.join(self.work, "live", f))
        for name in ("a", "b"):
            akv.wait_for(self, "%s's sync port on the new CA" % name,
                         lambda: self.sync_port_accepts(name, "live"), timeout=30)
        # b restarts on the new files; a, still running, dials it with its reloaded certificate
        # and accepts b's new one.
        self.procs["b"].kill()
        self.procs["b"].wait()
        self.start("b")
        b = self.client("b")
        akv.wait_for(self, "b to take writes", lambda: b.call("SET", "k2", "2").raw == b"+OK\r\n")
        akv.wait_for(self, "k2 on a", lambda: a.call("GET", "k2").raw == b"$1\r\n2\r\n")
        self.assertEqual(a.call("SET", "k3", "3").raw, b"+OK\r\n")
        akv.wait_for(self, "k3 on b", lambda: b.call("GET", "k3").raw == b"$1\r\n3\r\n")


if __name__ == "__main__":
    unittest.main()
