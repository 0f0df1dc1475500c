#!/usr/bin/python3
"""The backup object store (backup/s3_store.cc) against a real S3-compatible server.

@20minutes/s3rver (tests/integration/s3server.py) checks every SigV4 signature with the secret it
was started with; our store is driven through build/bin/activekv-objstore (credentials from the
AWS_* environment variables set here, never from argv); Debian's awscli (/usr/bin/aws, credentials
from the environment too) is the independent client that reads what we wrote and writes what we
read.

Covered: small put / get / list / delete; a 24 MiB stream uploaded as a multipart upload of 5 MiB
parts (byte-for-byte, with a peak memory that does not grow with the object); a listing longer
than one page (max-keys 4: continuation tokens); ValidateLocation; a shared-credentials file; and
each failure with its error: wrong secret, unknown key id, missing bucket, endpoint down, and the
server killed in the middle of a multipart upload (error returned, and no object once the server
is back on the same directory), and a source failing in the middle of one (aborted, no object).

Run: /usr/bin/python3 tests/integration/test_s3_store.py   (AKV_SEED=N replays the data)
"""

import json
import os
import random
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import akv  # noqa: E402
from s3server import S3Server  # noqa: E402

KEY_ID = "AKIDACTIVEKVTEST"
# ':' '/' '+' on purpose: CURLOPT_USERPWD would split at the ':'; '/' and '+' must survive signing.
SECRET = "s3cr:et/Plus+Slash-" + "k" * 12
BUCKET = "backups"
MIB = 1 << 20
PART = 5 * MIB
SEED = akv.seed_from_env()


def tool():
    return akv.require_executable(os.path.join(akv.bin_dir(), "activekv-objstore"),
                                  "activekv-objstore (cmake --build build --target "
                                  "activekv-objstore)")


def aws():
    return akv.require_executable("/usr/bin/aws", "awscli (Debian package awscli; make deps)")


def random_file(path, size, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MIB)
            f.write(rng.randbytes(n))
            left -= n
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


class S3TestCase(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = akv.new_workdir(cls.__name__)
        cls.server = S3Server(cls.workdir, KEY_ID, SECRET, buckets=[BUCKET]).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()

    def run_tool(self, *args, env=None, expect_ok=True):
        env = env if env is not None else self.server.client_env()
        p = subprocess.run([tool()] + list(args), env=env, capture_output=True, timeout=120)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        self.assert_no_secret(out + err)
        what = "activekv-objstore %s -> exit %d\nstdout: %s\nstderr: %s\n%s" % (
            " ".join(args), p.returncode, out[-2000:], err[-2000:], self.server.describe())
        if expect_ok:
            self.assertEqual(p.returncode, 0, what)
        else:
            self.assertEqual(p.returncode, 1, what)
        return out, err

    def run_aws(self, *args):
        p = subprocess.run([aws(), "--endpoint-url", self.server.endpoint] + list(args),
                           env=self.server.client_env(), capture_output=True, timeout=120)
        self.assertEqual(p.returncode, 0, "aws %s failed: %s\n%s" %
                         (" ".join(args), p.stderr.decode(errors="replace"),
                          self.server.describe()))
        return p.stdout.decode()

    def assert_no_secret(self, text):
        self.assertNotIn(SECRET, text, "the secret appeared in output")
        self.assertNotIn("s3cr:et", text, "part of the secret appeared in output")

    def loc(self, prefix=""):
        return "s3://%s/%s" % (BUCKET, prefix) if prefix else "s3://%s" % BUCKET

    def listing(self, prefix_loc, *extra):
        out, _ = self.run_tool(*extra, prefix_loc, "list")
        return [tuple(line.split("\t")) for line in out.splitlines()]


class S3StoreTest(S3TestCase):

    def test_small_put_get_list_delete(self):
        loc = self.loc("small")
        self.run_tool(loc, "put-bytes", "a/b.txt", "hello, backup")
        self.assertEqual(self.listing(loc), [("a/b.txt", "13")])
        got = os.path.join(self.workdir, "small.out")
        self.run_tool(loc, "get", "a/b.txt", got)
        self.assertEqual(read(got), b"hello, backup")
        # The object is where the location says: prefix "small/" in the bucket.
        self.assertIn(("small/a/b.txt", "13"), self.listing(self.loc()))
        self.run_tool(loc, "delete", "a/b.txt")
        self.assertEqual(self.listing(loc), [])
        _, err = self.run_tool(loc, "get", "a/b.txt", got, expect_ok=False)
        self.assertIn("NOT_FOUND", err)
        self.run_tool(loc, "delete", "a/b.txt")  # deleting a missing key succeeds

    def stream_upload(self, key, size, seed):
        path = random_file(os.path.join(self.workdir, key + ".src"), size, seed)
        out, _ = self.run_tool("--part-size", str(PART), self.loc("stream"), "put", key, path)
        stats = json.loads(out)
        self.assertEqual(stats["bytes"], size)
        self.assertEqual(stats["max_chunk"], 64 * 1024, "the source hands out 64 KiB chunks")
        # One progress call per stored part: ceil(size / 5 MiB) parts means multipart was used.
        self.assertEqual(stats["progress_calls"], (size + PART - 1) // PART, stats)
        got = os.path.join(self.workdir, key + ".got")
        out, _ = self.run_tool(self.loc("stream"), "get", key, got)
        self.assertEqual(int(out), size)
        self.assertTrue(read(got) == read(path), "%s differs from what was uploaded" % key)
        return stats, path

    def test_stream_upload_is_multipart_with_bounded_memory(self):
        small, _ = self.stream_upload("obj-12m", 12 * MIB + 12345, SEED)
        big, big_path = self.stream_upload("obj-24m", 24 * MIB + 777, SEED + 1)
        # Memory: one 5 MiB part buffer (plus libcurl's), not the object: the peak RSS growth of
        # the 24 MiB upload stays under half its size and about equal to the 12 MiB upload's.
        self.assertLess(big["peak_rss_growth"], 12 * MIB, big)
        self.assertLess(big["peak_rss_growth"], small["peak_rss_growth"] + 2 * MIB,
                        (small, big))
        self.assertIn(("obj-24m", str(24 * MIB + 777)), self.listing(self.loc("stream")))
        # awscli reads the object our multipart upload wrote.
        via_aws = os.path.join(self.workdir, "obj-24m.aws")
        self.run_aws("s3api", "get-object", "--bucket", BUCKET, "--key", "stream/obj-24m",
                     via_aws)
        self.assertTrue(read(via_aws) == read(big_path), "awscli read different bytes")

    def test_object_written_by_awscli_is_read_by_us(self):
        src = random_file(os.path.join(self.workdir, "aws.src"), 300 * 1024 + 3, SEED + 2)
        self.run_aws("s3api", "put-object", "--bucket", BUCKET, "--key", "fromaws/x/y.bin",
                     "--body", src)
        self.assertEqual(self.listing(self.loc("fromaws")), [("x/y.bin", str(300 * 1024 + 3))])
        got = os.path.join(self.workdir, "aws.got")
        self.run_tool(self.loc("fromaws"), "get", "x/y.bin", got)
        self.assertTrue(read(got) == read(src), "we read different bytes than awscli wrote")

    def test_small_object_written_by_us_is_read_by_awscli(self):
        self.run_tool(self.loc("toaws"), "put-bytes", "note", "written by activekv")
        out = os.path.join(self.workdir, "note.aws")
        self.run_aws("s3api", "get-object", "--bucket", BUCKET, "--key", "toaws/note", out)
        self.assertEqual(read(out), b"written by activekv")

    def test_list_follows_continuation_tokens(self):
        loc = self.loc("paged")
        rng = random.Random(SEED)
        expected = []
        for i in range(23):
            key = "d%d/k%03d" % (i % 3, i)
            value = "v" * rng.randrange(1, 50)
            self.run_tool(loc, "put-bytes", key, value)
            expected.append((key, str(len(value))))
        self.run_tool(self.loc("pagedx"), "put-bytes", "other", "not in paged/")
        expected.sort()
        # max-keys 4: six pages; without following NextContinuationToken only 4 keys come back.
        self.assertEqual(self.listing(loc, "--list-page-size", "4"), expected)
        self.assertEqual(self.listing(loc), expected)
        only_d1 = [e for e in expected if e[0].startswith("d1/")]
        out, _ = self.run_tool("--list-page-size", "2", loc, "list", "d1/")
        self.assertEqual([tuple(l.split("\t")) for l in out.splitlines()], only_d1)

    def test_validate_location(self):
        out, _ = self.run_tool(self.loc("validate"), "validate")
        self.assertIn("ok s3://%s/validate" % BUCKET, out)
        self.assertIn("access_key_id=" + KEY_ID, out)
        self.assertEqual(self.listing(self.loc("validate")), [], "the probe object was left")

    def test_credentials_file(self):
        path = os.path.join(self.workdir, "credentials")
        with open(path, "w") as f:
            f.write("[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n\n"
                    "[profile backup]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    "endpoint_url = %s\nregion = us-east-1\n" %
                    (KEY_ID, SECRET, self.server.endpoint))
        env = self.server.client_env(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                                     AWS_ENDPOINT_URL=None)
        self.run_tool("--credentials-file", path, "--profile", "backup", self.loc("credfile"),
                      "validate", env=env)
        _, err = self.run_tool("--credentials-file", path, "--profile", "prod",
                               self.loc("credfile"), "validate", env=env, expect_ok=False)
        self.assertIn("NOT_FOUND", err)
        self.assertIn("[prod]", err)


class S3StoreErrorsTest(S3TestCase):

    def test_wrong_secret_is_permission_denied_naming_the_key_id(self):
        env = self.server.client_env(AWS_SECRET_ACCESS_KEY="wrong-" + SECRET[::-1])
        for args in (["list"], ["put-bytes", "k", "v"], ["validate"]):
            _, err = self.run_tool(self.loc("auth"), *args, env=env, expect_ok=False)
            self.assertIn("PERMISSION_DENIED", err, args)
            self.assertIn("access key id '%s'" % KEY_ID, err, args)
            self.assertIn("SignatureDoesNotMatch", err, args)
            self.assertNotIn(SECRET[::-1], err)
        _, err = self.run_tool(self.loc("auth"), "validate", env=env, expect_ok=False)
        self.assertIn("write failed", err)

    def test_unknown_key_id_is_permission_denied_naming_it(self):
        env = self.server.client_env(AWS_ACCESS_KEY_ID="AKIDNOBODYKNOWS")
        _, err = self.run_tool(self.loc("auth"), "list", env=env, expect_ok=False)
        self.assertIn("PERMISSION_DENIED", err)
        self.assertIn("'AKIDNOBODYKNOWS'", err)
        self.assertIn("InvalidAccessKeyId", err)

    def test_missing_bucket_is_not_found_naming_the_bucket(self):
        for args in (["list"], ["put-bytes", "k", "v"], ["get", "k", "/dev/null"]):
            _, err = self.run_tool("s3://no-such-bucket/x", *args, expect_ok=False)
            self.assertIn("NOT_FOUND", err, args)
            self.assertIn("bucket 'no-such-bucket' does not exist", err, args)

    def test_endpoint_down_is_unavailable_naming_the_endpoint(self):
        port = akv.free_port()  # nothing listens there
        endpoint = "http://127.0.0.1:%d" % port
        env = self.server.client_env(AWS_ENDPOINT_URL=endpoint)
        for args in (["list"], ["put-bytes", "k", "v"], ["validate"]):
            _, err = self.run_tool(self.loc("down"), *args, env=env, expect_ok=False)
            self.assertIn("UNAVAILABLE", err, args)
            self.assertIn(endpoint, err, args)

    def test_source_failure_mid_multipart_aborts_and_leaves_no_object(self):
        src = random_file(os.path.join(self.workdir, "fail.src"), 16 * MIB, SEED + 4)
        _, err = self.run_tool("--part-size", str(PART), "--fail-after-bytes", str(7 * MIB),
                               self.loc("srcfail"), "put", "big", src, expect_ok=False)
        self.assertIn("DATA_LOSS: injected source failure", err)  # the source's own error
        # The upload was aborted. s3rver 4.0.4 does not implement AbortMultipartUpload and answers
        # 405 MethodNotAllowed, after checking the signature: the request was sent and signed
        # right (a bad one would be SignatureDoesNotMatch). On S3 the abort succeeds silently.
        self.assertIn("AbortMultipartUpload", err)
        self.assertIn("HTTP 405 MethodNotAllowed", err)
        self.assertEqual(self.listing(self.loc("srcfail")), [])

    def test_server_killed_mid_multipart_upload_leaves_no_object(self):
        workdir = akv.new_workdir("killed")
        srv = S3Server(workdir, KEY_ID, SECRET, buckets=[BUCKET]).start()
        self.addCleanup(srv.kill)
        src = random_file(os.path.join(workdir, "src"), 16 * MIB, SEED + 3)
        # The tool's source pauses once it has handed out 10 MiB: part 1 is stored and part 2
        # is being filled, i.e. a multipart upload is open on the server. Kill the server there,
        # then let the upload go on: the next UploadPart must fail and nothing may appear.
        p = subprocess.Popen([tool(), "--part-size", str(PART), "--pause-after-bytes",
                              str(10 * MIB), self.loc("killed"), "put", "big", src],
                             env=srv.client_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = p.stdout.readline().decode()
            if not line.startswith("PAUSED"):
                p.kill()
                self.fail("expected PAUSED, got %r (stderr: %s)" %
                          (line, p.stderr.read().decode(errors="replace")))
            srv.kill()
            p.stdin.write(b"go\n")
            p.stdin.flush()
            out, err = p.communicate(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        err = err.decode(errors="replace")
        self.assert_no_secret(err + out.decode(errors="replace"))
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("UNAVAILABLE", err)
        self.assertIn("UploadPart", err)
        self.assertIn(srv.endpoint, err)
        self.assertIn("AbortMultipartUpload failed too", err)  # the server was gone for it too
        srv.start()  # same directory, same port
        out, _ = self.run_tool(self.loc("killed"), "list", env=srv.client_env())
        self.assertEqual(out, "", "a partial upload became visible after the restart")
        listed = subprocess.run([aws(), "--endpoint-url", srv.endpoint, "s3api",
                                 "list-objects-v2", "--bucket", BUCKET],
                                env=srv.client_env(), capture_output=True, timeout=120)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertNotIn(b"killed/big", listed.stdout)
        # The location still works after the restart.
        self.run_tool(self.loc("killed"), "validate", env=srv.client_env())


if __name__ == "__main__":
    akv.run_tests()
