#!/usr/bin/python3
"""Real clients against the server under test: redis-cli (piped sessions in raw, --no-raw and RESP3
modes, one-shot commands, --pipe, --scan, --bigkeys, -x, -r) and redis-benchmark; plus inline
commands over a raw socket. Expected outputs were recorded from redis-server 7.0.15.

  /usr/bin/python3 test_redis_cli.py [--target redis|activekv]
"""

import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import akv  # noqa: E402

# (command line, --no-raw output). The raw output (stdout not a tty) is checked separately below.
SESSION = [
    ("PING", "PONG"),
    ("SET k v", "OK"),
    ("GET k", '"v"'),
    ("GET nope", "(nil)"),
    ("INCR c", "(integer) 1"),
    ("INCRBY c 10", "(integer) 11"),
    ("MGET k nope c", '1) "v"\n2) (nil)\n3) "11"'),
    ('SET k2 "hello world"', "OK"),
    ("GET k2", '"hello world"'),
    ("SET k3 'single quoted'", "OK"),
    ("GET k3", '"single quoted"'),
    ("DEL k nope", "(integer) 1"),
    ("EXISTS k k2", "(integer) 1"),
    ("APPEND s abc", "(integer) 3"),
    ("STRLEN s", "(integer) 3"),
    ("EXPIRE s 100", "(integer) 1"),
    ("EXPIRE s 200 NX", "(integer) 0"),
    ("PERSIST s", "(integer) 1"),
    ("TTL s", "(integer) -1"),
    ("INCRBYFLOAT f 1.5", '"1.5"'),
    ("INCRBYFLOAT f 0.25", '"1.75"'),
    ("KEYS nope*", "(empty array)"),
    ("TYPE c", "string"),
    ("TYPE nope", "none"),
    ("SET n 1 XX NX", "(error) ERR syntax error"),
    ("INCR k2", "(error) ERR value is not an integer or out of range"),
    ('ECHO "a b"', '"a b"'),
    ("GETRANGE k2 0 4", '"hello"'),
    ("SETRANGE k2 6 there", "(integer) 11"),
    ("GET k2", '"hello there"'),
    ("RENAME nope x", "(error) ERR no such key"),
    ("DBSIZE", "(integer) 5"),
    ("FOOBAR 1", "(error) ERR unknown command 'FOOBAR', with args beginning with: '1' "),
    ("PING", "PONG"),
]

RAW_OUTPUT = (
    "PONG\nOK\nv\n\n1\n11\nv\n\n11\nOK\nhello world\nOK\nsingle quoted\n1\n1\n3\n3\n1\n0\n1\n"
    "-1\n1.5\n1.75\n\nstring\nnone\nERR syntax error\n\nERR value is not an integer or out of "
    "range\n\na b\nhello\n11\nhello there\nERR no such key\n\n5\nERR unknown command 'FOOBAR', "
    "with args beginning with: '1' \n\nPONG\n")


class RedisCliTest(akv.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.cli = akv.require_executable("redis-cli", "redis-cli (Debian package redis-tools)")
        cls.bench = akv.require_executable("redis-benchmark",
                                           "redis-benchmark (Debian package redis-tools)")
        cls.server = akv.make_target(akv.new_workdir("cli-target"))
        try:
            cls.server.start()
        except BaseException:
            cls.server.kill9()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.kill9()

    def setUp(self):
        with self.server.client() as c:
            self.assertEqual(c.call("FLUSHALL").raw, b"+OK\r\n")

    def run_cli(self, args, stdin="", timeout=60):
        argv = [self.cli, "-h", akv.HOST, "-p", str(self.server.port)] + args
        p = subprocess.run(argv, input=stdin.encode(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        self.last = "$ %s\nrc=%d\nstdout:\n%s\nstderr:\n%s\n(server: %s)" % (
            " ".join(argv), p.returncode, out, err, self.server.describe())
        return p.returncode, out, err

    def session_input(self):
        return "".join(cmd + "\n" for cmd, _ in SESSION)

    def assert_output(self, got, want):
        if got != want:
            got_l, want_l = got.split("\n"), want.split("\n")
            for i, (g, w) in enumerate(zip(got_l, want_l)):
                if g != w:
                    self.fail("first difference at output line %d:\n  want %r\n  got  %r\n%s" %
                              (i + 1, w, g, self.last))
            self.fail("output length differs (%d vs %d lines)\n%s" % (len(got_l), len(want_l),
                                                                      self.last))

    def test_piped_session_raw_output(self):
        rc, out, _ = self.run_cli([], self.session_input())
        self.assertEqual(rc, 0, self.last)
        self.assert_output(out, RAW_OUTPUT)

    def test_piped_session_formatted_output(self):
        rc, out, _ = self.run_cli(["--no-raw"], self.session_input())
        self.assertEqual(rc, 0, self.last)
        self.assert_output(out, "".join(want + "\n" for _, want in SESSION))

    def test_piped_session_resp3(self):
        rc, out, _ = self.run_cli(["-3", "--no-raw"], self.session_input() +
                                  "CONFIG GET appendonly\n")
        self.assertEqual(rc, 0, self.last)
        self.assert_output(out, "".join(want + "\n" for _, want in SESSION) +
                           '1# "appendonly" => "yes"\n')

    def test_one_shot_commands(self):
        cases = [
            (["SET", "k", "v"], "OK\n"),
            (["GET", "k"], "v\n"),
            (["--no-raw", "GET", "k"], '"v"\n'),
            (["GET", "missing"], "\n"),
            (["--no-raw", "GET", "missing"], "(nil)\n"),
            (["INCR", "n"], "1\n"),
            (["--no-raw", "INCR", "n"], "(integer) 2\n"),
            (["MSET", "a", "1", "b", "2"], "OK\n"),
            (["--no-raw", "MGET", "a", "b", "missing"], '1) "1"\n2) "2"\n3) (nil)\n'),
            (["--csv", "MGET", "a", "b", "missing"], '"1","2",NULL\n'),
            (["PING"], "PONG\n"),
            (["ECHO", "hello world"], "hello world\n"),
            (["-r", "3", "INCR", "rr"], "1\n2\n3\n"),
            (["DEL", "a", "b"], "2\n"),
            (["DBSIZE"], "3\n"),
            (["-3", "--no-raw", "GET", "missing"], "(nil)\n"),
            (["SET", "k", "v", "NX", "XX"], "ERR syntax error\n\n"),
            (["--no-raw", "SET", "k", "v", "NX", "XX"], "(error) ERR syntax error\n"),
        ]
        for args, want in cases:
            rc, out, _ = self.run_cli(args)
            self.assertEqual(rc, 0, self.last)
            self.assertEqual(out, want, self.last)

    def test_stdin_argument(self):
        rc, out, _ = self.run_cli(["-x", "SET", "kx"], "from stdin")
        self.assertEqual((rc, out), (0, "OK\n"), self.last)
        rc, out, _ = self.run_cli(["GET", "kx"])
        self.assertEqual(out, "from stdin\n", self.last)

    def test_info_and_hello(self):
        rc, out, _ = self.run_cli(["INFO", "server"])
        self.assertEqual(rc, 0, self.last)
        self.assertIn("redis_version:", out, self.last)
        rc, out, _ = self.run_cli(["-3", "--no-raw", "HELLO", "3"])
        self.assertIn('1# "server" => "redis"', out, self.last)
        self.assertIn('3# "proto" => (integer) 3', out, self.last)

    def test_pipe_mass_insertion(self):
        lines = []
        for i in range(1000):
            lines.append(akv.encode_command(["SET", "mass:%d" % i, "v%d" % i]).decode())
        lines.append(akv.encode_command(["INCR", "mass:counter"]).decode())
        rc, out, _ = self.run_cli(["--pipe"], "".join(lines))
        self.assertEqual(rc, 0, self.last)
        self.assertIn("errors: 0, replies: 1001", out, self.last)
        with self.server.client() as c:
            self.assertEqual(c.call("DBSIZE").value, 1001)
            self.assertEqual(c.call("GET", "mass:999").value, b"v999")

    def test_scan_mode(self):
        with self.server.client() as c:
            c.call("MSET", *[x for i in range(50) for x in ("scan:%d" % i, "v")])
            c.call("SET", "other", "x")
        rc, out, _ = self.run_cli(["--scan", "--pattern", "scan:*"])
        self.assertEqual(rc, 0, self.last)
        self.assertEqual(sorted(out.split()), sorted("scan:%d" % i for i in range(50)), self.last)

    def test_bigkeys(self):
        with self.server.client() as c:
            c.call("SET", "small", "x")
            c.call("SET", "biggest", "x" * 100)
            c.call("INCR", "counter")
        rc, out, _ = self.run_cli(["--bigkeys"])
        self.assertEqual(rc, 0, self.last)
        self.assertIn("Sampled 3 keys in the keyspace!", out, self.last)
        self.assertIn("Biggest string found '\"biggest\"' has 100 bytes", out, self.last)
        self.assertIn("3 strings with 102 bytes", out, self.last)

    def test_inline_commands(self):
        with self.server.client() as c:
            c.send_raw(b"PING\r\n")
            self.assertEqual(c.read_reply().raw, b"+PONG\r\n")
            c.send_raw(b"SET inl \"a b\"\r\nGET inl\r\n")
            self.assertEqual(c.read_reply().raw, b"+OK\r\n")
            self.assertEqual(c.read_reply().raw, b"$3\r\na b\r\n")
            c.send_raw(b"\r\n\r\nPING\n")  # empty lines are ignored; a bare LF ends a line
            self.assertEqual(c.read_reply().raw, b"+PONG\r\n")
            c.send_raw(b"ECHO 'x\\'y' \"tab\\there\"\r\n")
            self.assertEqual(c.read_reply().raw,
                             b"-ERR wrong number of arguments for 'echo' command\r\n")
            c.send_raw(b"ECHO \"\\x41\\n\"\r\n")
            self.assertEqual(c.read_reply().raw, b"$2\r\nA\n\r\n")
            c.send_raw(b"SET k \"unbalanced\r\n")
            self.assertEqual(c.read_reply().raw,
                             b"-ERR Protocol error: unbalanced quotes in request\r\n")
            self.assertEqual(c.read_until_closed(), b"")
        with self.server.client() as c:  # the server still serves others
            c.send_raw(b"PING hello\r\n")
            self.assertEqual(c.read_reply().raw, b"$5\r\nhello\r\n")

    def run_benchmark(self, args, timeout=180):
        argv = [self.bench, "-h", akv.HOST, "-p", str(self.server.port)] + args
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        out = p.stdout.decode(errors="replace")
        return p.returncode, out, "$ %s\nrc=%d\n%s\n(server: %s)" % (
            " ".join(argv), p.returncode, out[-3000:], self.server.describe())

    def test_redis_benchmark_completes(self):
        rc, out, ctx = self.run_benchmark(["-t", "ping,set,get", "-n", "2000", "-q"])
        self.assertEqual(rc, 0, ctx)
        for test in ("PING_INLINE", "PING_MBULK", "SET", "GET"):
            lines = [l for l in out.replace("\r", "\n").splitlines()
                     if l.startswith(test + ": ") and "requests per second" in l]
            self.assertTrue(lines, "no result line for %s\n%s" % (test, ctx))
        self.assertNotIn("WARN", out, ctx)
        self.assertNotIn("ERR", out, ctx)
        with self.server.client() as c:
            self.assertEqual(c.call("EXISTS", "key:__rand_int__").value, 1)

    def test_redis_benchmark_pipelined_with_random_keys(self):
        rc, out, ctx = self.run_benchmark(["-t", "set,get,incr", "-n", "5000", "-P", "16",
                                           "-r", "1000", "-c", "8", "--csv"])
        self.assertEqual(rc, 0, ctx)
        rows = [l.split(",")[0].strip('"') for l in out.splitlines()[1:] if l.startswith('"')]
        self.assertEqual(rows, ["SET", "GET", "INCR"], ctx)
        with self.server.client() as c:
            self.assertGreater(c.call("DBSIZE").value, 100)


if __name__ == "__main__":
    akv.run_tests()
