#!/usr/bin/python3
"""ACLs and authentication against redis-server 7.0 (docs/security.md).

Several connections a side run the same steps on a reference redis-server and on the target; the
replies must be byte-identical, except where Redis's own output depends on its hash table's order
(the single-command rules at the end of an ACL LIST / GETUSER line: compared as sets) or on time
(ACL LOG's age-seconds and client-info). Then the topology's acl_file and requirepass_file with
redis-py, and a script's commands checked against its caller's permissions.

  /usr/bin/python3 test_acl.py [-k pattern]
"""

import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
import akv  # noqa: E402

# (connection, command); connection 0 stays the default user.
STEPS = [
    (0, ["ACL", "SETUSER", "alice", "on", ">p1", "~foo*", "%R~bar*", "&ch*", "-@all", "+@hash",
         "-hset", "+client|list", "+select|0", "+get", "+set", "+publish", "+subscribe",
         "+psubscribe"]),
    (0, ["ACL", "GETUSER", "alice"]), (0, ["ACL", "USERS"]), (0, ["ACL", "LIST"]),
    (0, ["ACL", "SETUSER", "bob", "+@all", "-@dangerous", "allkeys", "(~x* +get)",
         "(%W~y* +set)"]),
    (0, ["ACL", "GETUSER", "bob"]), (0, ["ACL", "LIST"]),
    (0, ["ACL", "SETUSER", "c", ">x", "<y"]), (0, ["ACL", "SETUSER", "c", "+nosuch"]),
    (0, ["ACL", "SETUSER", "c", "~*", "~a"]), (0, ["ACL", "SETUSER", "c", "&*", "&a"]),
    (0, ["ACL", "SETUSER", "c", "#abc"]), (0, ["ACL", "SETUSER", "c", "+get|x|y"]),
    (0, ["ACL", "SETUSER", "c", "+client|list|x"]), (0, ["ACL", "SETUSER", "c", "blah"]),
    (0, ["ACL", "SETUSER", "c", "(+get"]), (0, ["ACL", "SETUSER", "c", "%X~a"]),
    (0, ["ACL", "SETUSER", "c", "%~a"]),
    (0, ["ACL", "SETUSER", "sp ace"]), (0, ["ACL", "GETUSER", "c"]),
    (0, ["ACL", "SETUSER", "d", "-@all", "+@read", "-@string"]),
    (0, ["ACL", "SETUSER", "e", "+@all", "-get", "-set", "+get"]),
    (0, ["ACL", "SETUSER", "f", "reset", "nopass", "on", "-@all", "+client", "-client|kill"]),
    (0, ["ACL", "CAT"]), (0, ["ACL", "CAT", "dangerous"]), (0, ["ACL", "CAT", "nosuch"]),
    (0, ["ACL", "CAT", "hyperloglog"]),
    (0, ["ACL", "DRYRUN", "alice", "get", "foo"]), (0, ["ACL", "DRYRUN", "alice", "get", "bar"]),
    (0, ["ACL", "DRYRUN", "alice", "set", "bar", "1"]),
    (0, ["ACL", "DRYRUN", "alice", "set", "foo1", "1"]),
    (0, ["ACL", "DRYRUN", "alice", "publish", "ch1", "x"]),
    (0, ["ACL", "DRYRUN", "alice", "publish", "zz", "x"]),
    (0, ["ACL", "DRYRUN", "alice", "hset", "foo", "a", "b"]),
    (0, ["ACL", "DRYRUN", "nobody", "get", "x"]), (0, ["ACL", "DRYRUN", "alice", "nocmd", "x"]),
    (0, ["ACL", "DRYRUN", "alice", "get"]), (0, ["ACL", "DRYRUN", "bob", "get", "x1"]),
    (0, ["ACL", "DRYRUN", "bob", "set", "y1", "v"]), (0, ["ACL", "DRYRUN", "bob", "flushall"]),
    (0, ["ACL", "WHOAMI"]), (0, ["ACL", "WHOAMI", "x"]), (0, ["ACL", "NOSUCH"]),
    (0, ["ACL", "GENPASS", "0"]), (0, ["ACL", "GENPASS", "x"]), (0, ["ACL", "LOAD"]),
    (0, ["ACL", "SAVE"]), (0, ["ACL", "DELUSER", "default"]),
    (0, ["AUTH", "x"]), (0, ["AUTH", "a", "b", "c"]),
    (1, ["AUTH", "alice", "wrong"]), (1, ["AUTH", "nobody", "p1"]), (1, ["AUTH", "alice", "p1"]),
    (1, ["ACL", "WHOAMI"]), (1, ["SET", "foo1", "v"]), (1, ["GET", "foo1"]), (1, ["GET", "bar"]),
    (1, ["SET", "bar", "v"]), (1, ["GET", "zzz"]), (1, ["HGET", "foo", "f"]),
    (1, ["HSET", "foo", "f", "v"]), (1, ["SELECT", "0"]), (1, ["SELECT", "1"]),
    (1, ["PUBLISH", "ch1", "m"]), (1, ["PUBLISH", "other", "m"]),
    (1, ["MULTI"]), (1, ["GET", "foo1"]), (1, ["SET", "bar", "x"]), (1, ["EXEC"]),
    (1, ["EVAL", "return 1", "0"]),
    (1, ["MULTI"]), (1, ["GET", "foo1"]), (1, ["SET", "foo2", "v"]),
    (0, ["ACL", "SETUSER", "alice", "-set", "%R~foo*"]), (1, ["EXEC"]),
    (0, ["ACL", "SETUSER", "alice", "+set"]),
    (0, ["ACL", "LOG", "3"]),
    (0, ["CONFIG", "SET", "requirepass", "sekret"]), (0, ["CONFIG", "GET", "requirepass"]),
    (2, ["GET", "k"]), (2, ["PING"]), (2, ["AUTH", "bad"]), (2, ["AUTH", "sekret"]),
    (2, ["GET", "k"]), (2, ["ACL", "WHOAMI"]),
    (5, ["HELLO", "3"]), (5, ["HELLO", "2", "SETNAME", "x"]), (5, ["CLIENT", "GETNAME"]),
    # Before AUTH, Redis's tight request limits (then it closes the connection).
    (6, ["MSET"] + ["a"] * 10), (7, ["SET", "k", "x" * 16385]), (8, ["SET", "k", "x" * 16384]),
    (3, ["HELLO", "2", "AUTH", "alice", "nope"]), (3, ["GET", "foo1"]),
    (3, ["HELLO", "2", "AUTH", "alice", "p1"]), (3, ["ACL", "WHOAMI"]),
    # CLIENT KILL's filters; "@closed": the connection was closed by the server.
    (0, ["CLIENT", "KILL", "USER", "nobody"]), (0, ["CLIENT", "KILL", "TYPE", "bogus"]),
    (0, ["CLIENT", "KILL", "TYPE", "master"]), (0, ["CLIENT", "KILL", "TYPE", "pubsub"]),
    (0, ["CLIENT", "KILL", "ID", "0"]), (0, ["CLIENT", "KILL", "ID", "x"]),
    (0, ["CLIENT", "KILL", "1.2.3.4:5"]), (0, ["CLIENT", "KILL", "USER", "alice", "SKIPME"]),
    (0, ["CLIENT", "KILL", "SKIPME", "maybe", "ID", "5"]), (0, ["CLIENT", "KILL", "BOGUS", "x"]),
    (0, ["CLIENT", "KILL"]), (0, ["CLIENT", "KILL", "USER", "alice", "ADDR", "1.2.3.4:5"]),
    (0, ["CLIENT", "KILL", "USER", "alice", "SKIPME", "yes"]), (1, ["@closed"]), (3, ["@closed"]),
    (0, ["ACL", "SETUSER", "alice", "off"]), (4, ["AUTH", "alice", "p1"]),
    (0, ["ACL", "DELUSER", "alice", "nobody"]), (0, ["ACL", "USERS"]),
    (0, ["CONFIG", "SET", "requirepass", ""]), (0, ["ACL", "LIST"]),
]

# Reply parts Redis orders by its hash table (ACL LIST lines, GETUSER "commands"): the rule
# tokens after the categories are compared as sets.
_RULES = re.compile(rb"((?:[+-]@all)(?: [+-]@[a-z]+)*)((?: [+-][a-z_|0-9-]+)*)")


def normalize(raw):
    def sort_rules(m):
        singles = sorted(m.group(2).split(b" ")) if m.group(2) else []
        return m.group(1) + b" {" + b" ".join(singles) + b"}"
    raw = _RULES.sub(sort_rules, raw)
    raw = re.sub(rb"age-seconds\r\n(\$[0-9]+\r\n|[,:])[0-9.e+-]+\r\n", b"age-seconds\r\n*\r\n",
                 raw)
    raw = re.sub(rb"\$2\r\nid\r\n:[0-9]+\r\n", b"$2\r\nid\r\n:*\r\n", raw)  # HELLO's client id
    raw = re.sub(rb"\$[0-9]+\r\nid=[^\r]*\r\n", b"<client-info>\r\n", raw)
    return raw


class AclTest(akv.ServerTestCase):

    def setUp(self):
        self.ref = akv.RedisServer(akv.new_workdir("ref")).start()
        self.addCleanup(self.ref.kill9)
        self.tgt = akv.make_target(akv.new_workdir("target")).start()
        self.addCleanup(self.tgt.kill9)

    def test_acl_commands_and_auth_answer_as_redis(self):
        problems = []
        conns = {}
        for i, (who, args) in enumerate(STEPS):
            raw = []
            for side, server in (("ref", self.ref), ("tgt", self.tgt)):
                if (side, who) not in conns:
                    conns[(side, who)] = server.client(2)
                    self.addCleanup(conns[(side, who)].close)
                if args == ["@closed"]:
                    try:
                        closed = conns[(side, who)].read_until_closed(5) == b""
                    except OSError:  # socket.timeout: still open
                        closed = False
                    raw.append(b"closed" if closed else b"open")
                    continue
                raw.append(conns[(side, who)].call(*args).raw)
            if args[:2] in (["ACL", "GENPASS"],) and raw[0].startswith(b"$"):
                continue
            if args[:2] == ["ACL", "CAT"] and len(args) == 3:  # Redis: hash table order
                raw = [b"\r\n".join(sorted(r.split(b"\r\n"))) for r in raw]
            if normalize(raw[0]) != normalize(raw[1]):
                problems.append("step %d (connection %d) %s:\n  redis  %r\n  target %r" %
                                (i, who, " ".join(args)[:120], raw[0][:2000], raw[1][:2000]))
        if problems:
            self.fail("\n".join(problems))

    def test_losing_a_channel_or_the_user_closes_the_connection(self):
        # As Redis: a subscriber whose user may no longer use its channel is disconnected, and so
        # is a client whose user is deleted; the others stay.
        for server in (self.ref, self.tgt):
            with server.client() as admin, server.client() as sub, server.client() as other:
                admin.call("ACL", "SETUSER", "p", "on", ">pw", "~*", "+@all", "resetchannels",
                           "&news")
                admin.call("ACL", "SETUSER", "q", "on", ">pw", "~*", "+@all")
                self.assertEqual(sub.call("AUTH", "p", "pw").raw, b"+OK\r\n")
                self.assertEqual(other.call("AUTH", "q", "pw").raw, b"+OK\r\n")
                sub.call("SUBSCRIBE", "news")
                admin.call("ACL", "SETUSER", "p", "&sports")  # a channel more: nothing happens
                self.assertEqual(admin.call("PUBLISH", "news", "m").raw, b":1\r\n")
                admin.call("ACL", "SETUSER", "p", "resetchannels", "&sports")
                sub.read_until_closed()
                self.assertEqual(admin.call("PUBLISH", "news", "m").raw, b":0\r\n")
                self.assertEqual(other.call("PING").raw, b"+PONG\r\n")
                self.assertEqual(admin.call("ACL", "DELUSER", "q").raw, b":1\r\n")
                other.read_until_closed()
                self.assertEqual(admin.call("PING").raw, b"+PONG\r\n", server.kind)

    def test_genpass_lengths(self):
        with self.tgt.client() as c:
            self.assertEqual(len(c.call("ACL", "GENPASS").value), 64)
            self.assertEqual(len(c.call("ACL", "GENPASS", "5").value), 2)
            self.assertTrue(re.fullmatch(rb"[0-9a-f]{1024}", c.call("ACL", "GENPASS", "4096").value))

    def test_a_script_runs_with_its_callers_permissions(self):
        with self.tgt.client() as admin, self.tgt.client() as c:
            admin.call("ACL", "SETUSER", "s", "on", ">pw", "~a*", "+eval", "+get", "+set")
            self.assertEqual(c.call("AUTH", "s", "pw").raw, b"+OK\r\n")
            self.assertEqual(c.call("EVAL", "return redis.call('SET', 'a1', 'v')", "0").raw,
                             b"+OK\r\n")
            r = c.call("EVAL", "return redis.call('SET', 'b1', 'v')", "0")
            self.assertIn(b"can't access at least one of the keys", r.raw)
            r = c.call("EVAL", "return redis.call('DEL', 'a1')", "0")
            self.assertIn(b"can't run this command or subcommand", r.raw)
            self.assertEqual(admin.call("EXISTS", "b1").raw, b":0\r\n")
            log = admin.call("ACL", "LOG", "1").raw
            self.assertIn(b"lua", log)


class TopologySecurityTest(unittest.TestCase):

    def start_protected(self, srv, password="s3cret"):
        # Ready = an authenticated PING answers PONG (before AUTH, even a loading server answers
        # NOAUTH: authentication comes first, as in Redis).
        srv.start(wait=False)

        def answers():
            try:
                with srv.client() as c:
                    c.call("AUTH", password)
                    return c.call("PING").raw == b"+PONG\r\n"
            except OSError:
                return False
        akv.wait_for(self, "the password-protected server to load", answers)

    def test_requirepass_file_and_acl_file(self):
        work = akv.new_workdir("topo")
        srv = akv.ActiveKvServer(work)
        with open(os.path.join(work, "pass"), "w") as f:
            f.write("s3cret\n")
        acl_path = os.path.join(work, "users.acl")
        with open(acl_path, "w") as f:
            f.write("user default on #%s ~* &* +@all\nuser ro on >ropw ~* -@all +@read\n" %
                    __import__("hashlib").sha256(b"s3cret").hexdigest())
        with open(srv.topology, "a") as f:
            f.write("acl_file: users.acl\nrequirepass_file: pass\n")
        self.start_protected(srv)
        self.addCleanup(srv.kill9)
        import redis
        r = redis.Redis(port=srv.port)
        with self.assertRaises(redis.exceptions.AuthenticationError):
            r.get("x")
        ro = redis.Redis(port=srv.port, username="ro", password="ropw")
        self.assertIsNone(ro.get("x"))
        with self.assertRaises(redis.exceptions.NoPermissionError):
            ro.set("x", "1")
        admin = redis.Redis(port=srv.port, password="s3cret")
        self.assertTrue(admin.set("x", "1"))
        self.assertEqual(sorted(admin.acl_users()), ["default", "ro"])
        admin.acl_setuser("w", enabled=True, passwords=["+wpw"], keys=["*"],
                          commands=["+set"])
        self.assertEqual(admin.execute_command("ACL", "SAVE"), b"OK")
        with open(acl_path) as f:
            saved = f.read()
        self.assertIn("user w on #", saved)
        self.assertNotIn("wpw", saved)  # passwords are stored hashed
        srv.stop()
        self.start_protected(srv)
        w = redis.Redis(port=srv.port, username="w", password="wpw")
        self.assertTrue(w.set("y", "2"))

        # ACL SAVE writes only what loads back as the same users (docs/security.md, "ACL files").
        admin = redis.Redis(port=srv.port, password="s3cret")
        admin.execute_command("ACL", "SETUSER", "star", "on", "%R~*", "%W~*", "~foo", "+get")
        admin.execute_command("ACL", "SETUSER", "blank", "on", "+select|a b")
        with open(acl_path) as f:
            before = f.read()
        with self.assertRaisesRegex(redis.exceptions.ResponseError,
                                    "^There was an error trying to save the ACLs"):
            admin.execute_command("ACL", "SAVE")
        with open(acl_path) as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(admin.execute_command("ACL", "DELUSER", "blank"), 1)
        self.assertEqual(admin.execute_command("ACL", "SAVE"), b"OK")
        srv.stop()
        self.start_protected(srv)
        admin = redis.Redis(port=srv.port, password="s3cret")
        self.assertIn(b"user star on ~* ~foo resetchannels -@all +get",
                      admin.execute_command("ACL", "LIST"))


if __name__ == "__main__":
    unittest.main()
