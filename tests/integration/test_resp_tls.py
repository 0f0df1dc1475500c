#!/usr/bin/python3
"""TLS for RESP clients (docs/security.md, "Clients over TLS").

Regions a and b (certificates from `activekvctl certs`) sync over mutual TLS and each opens a
`resp_tls` port beside its plain one: a requires client certificates (tls-auth-clients yes, the
default), b's topology says `auth_clients: optional`. Real clients connect: redis-cli --tls,
redis-py (ssl=True, checking the host name), ioredis and node-redis (tests/clients/tls_suite.js).
Refused: a client without a certificate, one whose certificate comes from another CA, a
plaintext client and garbage on the TLS port, a TLS 1.2 client once tls-protocols says TLSv1.3;
everyone else keeps being served. CONFIG SET tls-* reloads the certificate for new connections
(connected ones keep theirs) and a change that cannot be applied is refused with Redis's error and
changes nothing. The CONFIG replies are compared with redis-server 7.0 running with the same
certificates.

  /usr/bin/python3 test_resp_tls.py [-k pattern]
"""

import os
import socket
import ssl
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402

try:
    import redis  # Debian's python3-redis
except ImportError:  # pragma: no cover - reported as a failure below
    redis = None


class RespTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = akv.new_workdir("resp_tls")
        cls.ctl = akv.require_executable(os.path.join(akv.bin_dir(), "activekvctl"), "activekvctl")
        server = akv.require_executable(os.path.join(akv.bin_dir(), "activekv-server"),
                                        "activekv-server")
        ports = akv.free_ports(6)
        cls.resp = {"a": ports[0], "b": ports[1]}
        cls.tls = {"a": ports[2], "b": ports[3]}
        sync = {"a": ports[4], "b": ports[5]}
        cls.certs = os.path.join(cls.work, "certs")
        lines = ["name: t", "tls: { ca_file: certs/ca.pem }", "regions:"]
        for name in ("a", "b"):
            auth = ", auth_clients: optional" if name == "b" else ""
            lines.append("  - { name: %s, resp: 127.0.0.1:%d, resp_tls: 127.0.0.1:%d, "
                         "sync: 127.0.0.1:%d, data_dir: %s, tls: { cert_file: certs/%s.pem, "
                         "key_file: certs/%s.key%s } }"
                         % (name, cls.resp[name], cls.tls[name], sync[name], name, name, name,
                            auth))
        topology = os.path.join(cls.work, "t.yaml")
        with open(topology, "w") as f:
            f.write("\n".join(lines) + "\n")
        # A second run against the same topology: another CA, certificates of the same names.
        for out in ("certs", "rogue"):
            r = subprocess.run([cls.ctl, "certs", topology, "--out", os.path.join(cls.work, out)],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        cls.procs = {}
        cls.logs = {}
        for name in ("a", "b"):
            cls.logs[name] = os.path.join(cls.work, "%s.log" % name)
            with open(cls.logs[name], "w") as log:
                cls.procs[name] = subprocess.Popen(
                    [server, "--topology", topology, "--region", name], stdout=log,
                    stderr=subprocess.STDOUT)

    @classmethod
    def tearDownClass(cls):
        for p in cls.procs.values():
            p.kill()
            p.wait()

    def cert(self, name, where="certs"):
        return os.path.join(self.work, where, name)

    def plain(self, name):
        return akv.ready_client(self, self.resp[name], "region %s" % name)

    def context(self, cert="client", where="certs", ca="certs", **versions):
        ctx = ssl.create_default_context(cafile=self.cert("ca.pem", ca))
        ctx.check_hostname = False  # redis-py's and redis-cli's default; test_redis_py checks it
        if cert:
            ctx.load_cert_chain(self.cert(cert + ".pem", where), self.cert(cert + ".key", where))
        for attr, value in versions.items():
            setattr(ctx, attr, value)
        return ctx

    def tls_call(self, region, ctx, *args):
        """One command over a new TLS connection; the raw reply, or raises ssl.SSLError /
        ConnectionError / OSError when the server refuses."""
        with socket.create_connection(("127.0.0.1", self.tls[region]), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=region) as s:
                s.sendall(akv.encode_command(args))
                data = s.recv(65536)
                if not data:
                    raise ConnectionError("closed")
                return data

    def refused(self, region, ctx):
        try:
            self.tls_call(region, ctx, "PING")
        except (ssl.SSLError, ConnectionError, OSError) as e:
            return str(e) or type(e).__name__
        return None

    def redis_cli(self, region, *args, cert="client"):
        argv = ["redis-cli", "--tls", "--cacert", self.cert("ca.pem"), "-p", str(self.tls[region])]
        if cert:
            argv += ["--cert", self.cert(cert + ".pem"), "--key", self.cert(cert + ".key")]
        return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=30)

    def test_redis_cli_writes_over_tls_and_the_write_replicates(self):
        self.plain("a")
        b = self.plain("b")
        akv.wait_for(self, "a to take writes over TLS",
                     lambda: self.redis_cli("a", "SET", "cli:k", "over-tls").stdout == "OK\n")
        self.assertEqual(self.redis_cli("a", "GET", "cli:k").stdout, "over-tls\n")
        akv.wait_for(self, "the write on b", lambda: b.call("GET", "cli:k").raw ==
                     b"$8\r\nover-tls\r\n")
        # a requires a client certificate; b's is optional.
        r = self.redis_cli("a", "PING", cert=None)
        self.assertNotEqual(r.stdout, "PONG\n", r)
        self.assertEqual(self.redis_cli("b", "PING", cert=None).stdout, "PONG\n")
        self.assertEqual(self.redis_cli("b", "GET", "cli:k").stdout, "over-tls\n")

    def test_redis_py_checks_the_host_and_moves_large_values(self):
        self.assertIsNotNone(redis, "python3-redis (Debian) is needed")
        self.plain("a")
        # The region's certificate names its resp_tls host too (activekvctl certs), so the
        # client's host name check passes.
        r = redis.Redis(host="127.0.0.1", port=self.tls["a"], ssl=True,
                        ssl_ca_certs=self.cert("ca.pem"), ssl_certfile=self.cert("client.pem"),
                        ssl_keyfile=self.cert("client.key"), ssl_check_hostname=True,
                        ssl_cert_reqs="required", socket_timeout=30)
        self.addCleanup(r.close)
        akv.wait_for(self, "a to take writes", lambda: r.set("py:small", "1"))
        # Values much larger than a TLS record and than the socket buffers: partial writes and
        # reads on both sides, the server's output waiting for the socket.
        big = os.urandom(6 * 1024 * 1024)
        self.assertTrue(r.set("py:big", big))
        self.assertEqual(r.get("py:big"), big)
        pipe = r.pipeline(transaction=False)
        for i in range(2000):
            pipe.set("py:p:%d" % i, str(i) * 50)
        for i in range(2000):
            pipe.get("py:p:%d" % i)
        out = pipe.execute()
        self.assertEqual(out[2000:], [(str(i) * 50).encode() for i in range(2000)])
        self.assertEqual(len(r.mget(["py:big"] * 4)[3]), len(big))
        pubsub = r.pubsub()
        pubsub.subscribe("py:ch")
        self.addCleanup(pubsub.close)
        akv.wait_for(self, "the subscription",
                     lambda: (pubsub.get_message(timeout=1) or {}).get("type") == "subscribe")
        self.assertEqual(r.publish("py:ch", "hello"), 1)
        msg = akv.wait_for(self, "the message", lambda: pubsub.get_message(timeout=1))
        self.assertEqual(msg["data"], b"hello")

    def test_node_clients(self):
        self.plain("a")
        akv.wait_for(self, "a to take writes",
                     lambda: self.redis_cli("a", "SET", "node:ready", "1").stdout == "OK\n")
        akv.run_node_suite(self, "tls_suite.js",
                           ["127.0.0.1:%d" % self.tls["a"], self.certs, "a"],
                           ("ioredis", "redis", "redis5"), 90, tag="tls")

    def test_bad_clients_are_refused_and_others_served(self):
        a = self.plain("a")
        self.assertIsNotNone(self.refused("a", self.context(cert=None)))
        # A certificate of another CA (same names).
        self.assertIsNotNone(self.refused("a", self.context(where="rogue")))
        # Plaintext RESP on the TLS port, then garbage: closed without a reply.
        for payload in (b"PING\r\n", b"*1\r\n$4\r\nPING\r\n", os.urandom(4096)):
            with socket.create_connection(("127.0.0.1", self.tls["a"]), timeout=10) as s:
                s.sendall(payload)
                s.settimeout(10)
                try:
                    got = s.recv(100)
                except ConnectionResetError:
                    got = b""
                self.assertNotIn(b"PONG", got)
        # A client that connects and says nothing does not stop anyone else.
        idle = socket.create_connection(("127.0.0.1", self.tls["a"]), timeout=10)
        self.addCleanup(idle.close)
        self.assertEqual(self.tls_call("a", self.context(), "PING"), b"+PONG\r\n")
        self.assertEqual(a.call("PING").raw, b"+PONG\r\n")
        with open(self.logs["a"]) as f:
            self.assertIn("TLS client", f.read())

    def test_protocol_versions(self):
        a = self.plain("a")
        tls12 = self.context(maximum_version=ssl.TLSVersion.TLSv1_2)
        tls13 = self.context(minimum_version=ssl.TLSVersion.TLSv1_3)
        self.assertEqual(self.tls_call("a", tls12, "PING"), b"+PONG\r\n")
        self.assertEqual(a.call("CONFIG", "SET", "tls-protocols", "TLSv1.3").raw, b"+OK\r\n")
        self.addCleanup(a.call, "CONFIG", "SET", "tls-protocols", "")
        self.assertIsNotNone(self.refused("a", tls12))
        self.assertEqual(self.tls_call("a", tls13, "PING"), b"+PONG\r\n")
        self.assertEqual(a.call("CONFIG", "SET", "tls-protocols", "TLSv1.2 TLSv1.3").raw,
                         b"+OK\r\n")
        self.assertEqual(self.tls_call("a", tls12, "PING"), b"+PONG\r\n")

    def peer_common_name(self, region):
        with socket.create_connection(("127.0.0.1", self.tls[region]), timeout=10) as raw:
            with self.context().wrap_socket(raw, server_hostname=region) as s:
                return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]

    def test_config_set_reloads_certificates_for_new_connections(self):
        a = self.plain("a")
        self.assertEqual(self.peer_common_name("a"), "a")
        before = a.call("CONFIG", "GET", "tls-cert-file").raw
        # b's certificate with a's key cannot work: refused, nothing changes.
        r = a.call("CONFIG", "SET", "tls-cert-file", self.cert("b.pem"))
        self.assertEqual(r.raw, b"-ERR CONFIG SET failed (possibly related to argument "
                                b"'tls-cert-file') - Unable to update TLS configuration. Check "
                                b"server logs.\r\n")
        self.assertEqual(a.call("CONFIG", "GET", "tls-cert-file").raw, before)
        self.assertEqual(self.peer_common_name("a"), "a")
        # A connection made before the reload keeps working after it.
        with socket.create_connection(("127.0.0.1", self.tls["a"]), timeout=10) as raw:
            with self.context().wrap_socket(raw, server_hostname="a") as old:
                old.sendall(akv.encode_command(["PING"]))
                self.assertEqual(old.recv(100), b"+PONG\r\n")
                # Certificate and key change together in one CONFIG SET.
                self.assertEqual(a.call("CONFIG", "SET", "tls-cert-file", self.cert("b.pem"),
                                        "tls-key-file", self.cert("b.key")).raw, b"+OK\r\n")
                self.addCleanup(a.call, "CONFIG", "SET", "tls-cert-file", self.cert("a.pem"),
                                "tls-key-file", self.cert("a.key"))
                self.assertEqual(self.peer_common_name("a"), "b")
                old.sendall(akv.encode_command(["ECHO", "still here"]))
                self.assertEqual(old.recv(100), b"$10\r\nstill here\r\n")
        # tls-auth-clients no: a client without a certificate is served from now on.
        self.assertIsNotNone(self.refused("a", self.context(cert=None)))
        self.assertEqual(a.call("CONFIG", "SET", "tls-auth-clients", "no").raw, b"+OK\r\n")
        self.addCleanup(a.call, "CONFIG", "SET", "tls-auth-clients", "yes")
        self.assertEqual(self.tls_call("a", self.context(cert=None), "PING"), b"+PONG\r\n")

    def test_config_replies_match_redis_server(self):
        a = self.plain("a")
        rs = akv.RedisServer(akv.new_workdir("resp_tls_redis"), extra_args=[
            "--tls-port", str(akv.free_port()), "--tls-cert-file", self.cert("a.pem"),
            "--tls-key-file", self.cert("a.key"), "--tls-ca-cert-file", self.cert("ca.pem")])
        rs.start()
        self.addCleanup(rs.stop)
        ref = rs.client()
        self.addCleanup(ref.close)
        steps = [
            ("CONFIG", "GET", "tls-cert-file"),
            ("CONFIG", "GET", "tls-auth-clients"),
            ("CONFIG", "SET", "tls-auth-clients", "sometimes"),
            ("CONFIG", "SET", "tls-auth-clients", "OPTIONAL"),
            ("CONFIG", "GET", "tls-auth-clients"),
            ("CONFIG", "SET", "tls-auth-clients", "yes"),
            ("CONFIG", "SET", "tls-prefer-server-ciphers", "maybe"),
            ("CONFIG", "SET", "tls-session-cache-size", "-1"),
            ("CONFIG", "SET", "tls-session-cache-timeout", "abc"),
            ("CONFIG", "SET", "tls-session-cache-size", "1000"),
            ("CONFIG", "GET", "tls-session-cache-size"),
            ("CONFIG", "SET", "tls-cert-file", os.path.join(self.work, "missing.pem")),
            ("CONFIG", "SET", "tls-ciphersuites", "NOT_A_SUITE"),
            ("CONFIG", "SET", "tls-key-file", self.cert("b.key")),
            ("CONFIG", "GET", "tls-key-file"),
            ("CONFIG", "SET", "tls-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256"),
            ("CONFIG", "GET", "tls-ciphers"),
            ("CONFIG", "SET", "tls-ciphers", ""),
        ]
        for step in steps:
            want, got = ref.call(*step).raw, a.call(*step).raw
            self.assertEqual(got, want, "%s: redis-server %r, activekv %r"
                             % (akv.fmt_cmd(step), want, got))


if __name__ == "__main__":
    unittest.main()
