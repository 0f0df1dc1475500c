#!/usr/bin/env python3
"""Writes the hand-made binary seeds of the fuzz targets (docs/fuzzing.md).

sync_message_fuzz, snapshot_merge_fuzz: the messages are written in protobuf text format below
and encoded with `protoc --encode` against proto/activekv/v1/*.proto, then framed as the targets
read them (a tag or mode byte, and a 2-byte little-endian length before each payload).
resp_parser_fuzz, aof_reader_fuzz: an options / mode byte, then RESP text or an AOF image
(docs/aof-format.md; CRC32C computed here). Run from anywhere:

    tests/fuzz/make_seeds.py            # writes tests/fuzz/corpus/<target>/seed-*

The seeds of topology_fuzz and acl_rules_fuzz are plain text files in their corpus directories.
"""
import os
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def encode(message, text):
    """The binary form of `text` (protobuf text format) as activekv.v1.`message`."""
    return subprocess.run(
        ["protoc", "-I", os.path.join(ROOT, "proto"), "--encode=activekv.v1." + message,
         "activekv/v1/sync.proto"],
        input=text.encode(), stdout=subprocess.PIPE, check=True).stdout


def framed(payload):
    return struct.pack("<H", len(payload)) + payload


def write(target, name, data, prefix="seed-"):
    path = os.path.join(CORPUS, target, prefix + name)
    with open(path, "wb") as f:
        f.write(data)


# ---- Ops of peer b (and c), as its commands make them: one of each kind. ----
B_OPS = """
ops { origin: "b" seq: 1 hlc: 65536000 key: "k1" set { value: "v1" expiry { kind: PERSIST } } }
ops { origin: "b" seq: 2 hlc: 65536001 key: "k2" add { delta: 5 } }
ops { origin: "b" seq: 3 hlc: 65536002 key: "k2" add { float_delta: "1.5" } }
ops { origin: "b" seq: 4 hlc: 65536003 key: "k1" expire { expiry { kind: DEADLINE deadline_ms: 2000000 } } }
ops { origin: "b" seq: 5 hlc: 65536004 key: "h" hset { fields { name: "f" value: "v" } } }
ops { origin: "b" seq: 6 hlc: 65536005 key: "h" hincr { field: "n" delta: 3 } }
ops { origin: "b" seq: 7 hlc: 65536006 key: "s" sadd { members { name: "m1" } members { name: "m2" } } }
ops { origin: "b" seq: 8 hlc: 65536007 key: "s" context { region: "a" seq: 1 } srem { members { name: "m1" } } }
ops { origin: "b" seq: 9 hlc: 65536008 key: "z" zadd { members { name: "x" score: 1.5 } } }
ops { origin: "b" seq: 10 hlc: 65536009 key: "z" zincr { member: "x" delta: 2 } }
ops { origin: "b" seq: 11 hlc: 65536010 key: "l" linsert { digit: 100 values: "e1" values: "e2" } }
ops { origin: "b" seq: 12 hlc: 65536011 key: "l" lset { element { own { digit: 100 region: "b" seq: 11 idx: 1 } } value: "E2" } }
ops { origin: "b" seq: 13 hlc: 65536012 key: "l" lrem { elements { own { digit: 100 region: "b" seq: 11 idx: 0 } } } }
ops { origin: "b" seq: 14 hlc: 65536013 key: "x" xadd { entries { id { ms: 5 seq: 0 } fields: "f" fields: "v" } meta { last_id { ms: 5 } entries_added: 1 } } }
ops { origin: "b" seq: 15 hlc: 65536014 key: "x" xgroup { group: "g" create: true set_last: true last_id { ms: 0 } entries_read: -1 } }
ops { origin: "b" seq: 16 hlc: 65536015 key: "x" xdel { entries { id { ms: 5 } region: "b" seq: 14 idx: 0 } meta { last_id { ms: 5 } entries_added: 1 max_deleted_id { ms: 5 } } } }
ops { origin: "b" seq: 17 hlc: 65536016 key: "k1" db: 3 unit_continues: true del {} }
ops { origin: "b" seq: 18 hlc: 65536017 key: "k9" db: 3 set { value: "renamed" } }
ops { origin: "b" seq: 19 hlc: 65536018 function { name: "lib" code: "#!lua name=lib\\nreturn 1" } }
ops { origin: "b" seq: 20 hlc: 65536019 swapdb { mapping: [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] } }
ops { origin: "b" seq: 21 hlc: 65536020 context { region: "a" seq: 2 } context { region: "c" seq: 1 } flush { one_db: true } db: 1 }
ops { origin: "b" seq: 22 hlc: 65536021 context { region: "c" seq: 1 } flush {} }
"""
C_OPS = """
ops { origin: "c" seq: 1 hlc: 65536500 key: "k1" set { value: "c1" } }
ops { origin: "c" seq: 2 hlc: 65536501 key: "k1" context { region: "b" seq: 1 } del {} }
"""
SNAPSHOT = """
first: true
last: true
version { region: "b" seq: 3 }
version { region: "c" seq: 1 }
flush_frontier { region: "c" seq: 4 }
regions: "a"
regions: "b"
regions: "c"
db_mapping: [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
db_mapping_hlc: 65536002
db_mapping_region: "b"
functions { name: "lib" code: "#!lua name=lib" hlc: 65536001 region: "c" }
keys { key: "k1" writes { region: "b" seq: 1 hlc: 65536000 value: "v1" } expiries { region: "b" seq: 2 hlc: 65536001 deadline_ms: 2000000 } }
keys { key: "n" writes { region: "b" seq: 3 hlc: 65536002 value: "10" folds: 1 } increments { region: "c" seq: 1 hlc: 65536003 delta: 2 } }
keys { key: "h" db: 2 hash { fields { name: "f" writes { tag { region: 1 seq: 3 idx: 0 hlc: 65536002 } value: "v" } } } }
keys { key: "s" set { members { name: "m" tags { region: 2 seq: 1 hlc: 65536003 } } tombstones { name: "gone" frontier { region: 1 seq: 9 } } } }
keys { key: "z" zset { members { name: "x" writes { tag { region: 1 seq: 2 hlc: 65536001 } score: 2.5 } increments { tag { region: 2 seq: 1 } delta: 1 } } } }
keys { key: "l" list { elements { own { digit: 7 region: 1 seq: 2 idx: 0 } value: "e" hlc: 65536001 writer: 1 } pending { own { digit: 8 region: 2 seq: 5 } removed: true } } }
keys { key: "x" stream { entries { ms: 1 seq: 0 instances { tag { region: 1 seq: 3 hlc: 65536002 } fields: "f" fields: "v" } } meta { tag { region: 1 seq: 3 hlc: 65536002 } last_ms: 1 entries_added: 1 creates: true } groups { name: "g" created { region: 1 seq: 3 idx: 1 } views { tag { region: 1 seq: 3 } last_ms: 1 entries_read: 1 } consumers { name: "alice" tags { region: 1 seq: 3 idx: 2 } seen_ms: 5 } pending { ms: 1 seq: 0 tag { region: 1 seq: 3 idx: 3 } consumer: "alice" delivery_ms: 5 count: 1 } } } }
keys { key: "gone" value_frontier { region: "c" seq: 3 } }
"""

SELF_INCONSISTENT = """
first: true last: true version { region: "b" seq: 3 } regions: "a" regions: "b" regions: "c"
keys { key: "x" stream {
  meta { tag { region: 1 seq: 3 } last_ms: 1 entries_added: 1 creates: true }
  groups { name: "g" created { region: 1 seq: 3 idx: 1 }
           views { tag { region: 1 seq: 3 } last_ms: 1 entries_read: 1 }
           views_removed { region: 1 seq: 3 } } } }
"""


def sync_seeds():
    def rec(tag, payload):
        return bytes([tag]) + framed(payload)

    first_b = encode("PullResponse", 'sender_origin: "b" sender_applied { region: "b" seq: 22 } '
                     'heartbeat { unix_ms: 1 }')
    first_c = encode("PullResponse", 'sender_origin: "c" heartbeat { unix_ms: 1 }')
    batch_b = encode("OpBatch", B_OPS)
    batch_c = encode("OpBatch", C_OPS)
    resp_ops = encode("PullResponse", 'ops: "%s" sender_synced { region: "b" seq: 2 } '
                      'messages { messages { channel: "ch" message: "m" } }'
                      % "".join("\\x%02x" % b for b in batch_c))
    hello = encode("PullRequest", 'database: "db" region: "b" applied { region: "a" seq: 1 } '
                   'hold: true')
    ack = encode("PullRequest", 'applied { region: "a" seq: 3 } applied { region: "c" seq: 2 } '
                 'synced { region: "a" seq: 2 } direct { origins: "c" origins: "b" }')
    stranger = encode("PullRequest", 'database: "other" region: "b"')
    # control 0: first responses, b's batch, acks, c's batch inside a response, a peer pulling.
    write("sync_message_fuzz", "ops",
          bytes([0]) + rec(0, first_b) + rec(1, first_c) + rec(2, batch_b) + bytes([6]) +
          rec(1, resp_ops) + rec(4, hello) + rec(4, ack) + bytes([5 | 3 << 4, 10]) +
          rec(4 | 8, stranger) + bytes([5 | 2 << 4, 30]) + bytes([6]))
    # A snapshot in two chunks from c, then one in a single chunk from b.
    snap = encode("Snapshot", SNAPSHOT)
    part1 = encode("Snapshot", 'first: true version { region: "c" seq: 2 } '
                   'keys { key: "p" writes { region: "c" seq: 1 hlc: 1 value: "1" } }')
    part2 = encode("Snapshot", 'last: true keys { key: "q" writes { region: "c" seq: 2 hlc: 2 '
                   'value: "2" } }')
    write("sync_message_fuzz", "snapshot",
          bytes([2]) + rec(1, first_c) + rec(3 | 8, part1) + rec(3 | 8, part2) +
          rec(0, first_b) + rec(3, snap) + bytes([6]))
    # A joining region (control 1) whose peers hold ops of its dead incarnations.
    held = encode("PullResponse", 'sender_origin: "b" sender_applied { region: "a" seq: 4 } '
                  'sender_applied { region: "a~2" seq: 1 } heartbeat { unix_ms: 2 }')
    write("sync_message_fuzz", "join",
          bytes([1]) + rec(0, held) + rec(1, first_c) + bytes([6]) + rec(2, batch_b))
    # A resync: a short log (control 4 | 8) and a peer that has nothing.
    hello_empty = encode("PullRequest", 'database: "db" region: "c"')
    write("sync_message_fuzz", "resync",
          bytes([4 | 8]) + rec(4, hello_empty) + bytes([5 | 3 << 4, 10]) + rec(4, ack))
    # Finding 7 (docs/fuzzing.md, fixed): a joining region whose peer holds ops of the largest
    # incarnation picks incarnation 0 (max + 1 wraps) although a peer holds ops of "a".
    wraps = encode("PullResponse", 'sender_origin: "b" sender_applied { region: "a" seq: 5 } '
                   'sender_applied { region: "a~18446744073709551615" seq: 1 }')
    write("sync_message_fuzz", "issue7-incarnation-overflow",
          bytes([1]) + rec(0, wraps) + rec(1, first_c), prefix="regress-")
    # Finding 8 (docs/fuzzing.md, fixed): a stream group whose view its own views_removed covers;
    # adopted as it is, normalised by a join: merged twice, the state shows something else.
    write("sync_message_fuzz", "issue8-stream-view-removed-by-itself",
          bytes([0]) + rec(3, encode("Snapshot", SELF_INCONSISTENT)), prefix="regress-")
    # A batch that cuts a unit, and an op out of order.
    cut = encode("OpBatch", 'ops { origin: "b" seq: 1 key: "k" unit_continues: true del {} }')
    gap = encode("OpBatch", 'ops { origin: "b" seq: 7 key: "k" set { value: "v" } }')
    write("sync_message_fuzz", "refused", bytes([0]) + rec(2, cut) + rec(2, gap))


def snapshot_seeds():
    snap = encode("Snapshot", SNAPSHOT)
    part1 = encode("Snapshot", 'first: true version { region: "b" seq: 2 } '
                   'namespace_flush_frontiers { db: 1 frontier { region: "c" seq: 5 } } '
                   'keys { key: "p" writes { region: "b" seq: 1 hlc: 1 value: "1" } }')
    part2 = encode("Snapshot", 'last: true regions: "b" keys { key: "q" db: 1 '
                   'set { members { name: "m" tags { region: 0 seq: 2 } } } }')
    write("snapshot_merge_fuzz", "raw-one-chunk", bytes([0]) + framed(snap))
    write("snapshot_merge_fuzz", "raw-two-chunks", bytes([2]) + framed(part1) + framed(part2))
    dup = encode("Snapshot", 'first: true last: true keys { key: "k" } keys { key: "k" '
                 'writes { region: "b" seq: 1 value: "v" } }')
    # Finding 1 (docs/fuzzing.md, fixed): accepted by the adopt path, refused by the join path.
    write("snapshot_merge_fuzz", "issue1-duplicate-key-after-empty-state", bytes([0]) + framed(dup),
          prefix="regress-")
    write("snapshot_merge_fuzz", "issue8-stream-view-removed-by-itself",
          bytes([0]) + framed(encode("Snapshot", SELF_INCONSISTENT)), prefix="regress-")

    # Built mode: programs over regions a, b, c. A step byte: step % 8 in 0..3 makes an op on
    # region (step >> 4) % 3 (then a kind byte, an argument byte and one more), 4 delivers
    # (then a mask byte), 5 acks, 6 and 7 merge another region's snapshot (then a chunk-size
    # byte, a byte saying between which chunks ops are made and whether a damaged copy is tried).
    def op(region, kind, arg, extra=7):
        return bytes([region << 4, kind, arg, extra])

    every_kind = b"".join(op(k % 3, k, (37 * k) % 256) for k in range(26))
    merges = bytes([6 | (0 << 4), 1, 0b10, 7 | (1 << 4), 0, 0b1, 3, 1, 9])
    write("snapshot_merge_fuzz", "built-every-kind",
          bytes([1]) + every_kind + bytes([4 | (1 << 4), 0xff, 5 | (2 << 4)]) + merges)
    counters = b"".join(op(r, 2, 0, 5) + op(r, 12, r, 9) + op(r, 17, r, 3) for r in range(3))
    write("snapshot_merge_fuzz", "built-counters",
          bytes([1]) + counters + bytes([4, 0xff, 4 | 16, 0xff, 4 | 32, 0xff]) +
          bytes([5, 5 | 16, 5 | 32, 5 | 64, 5 | 128]) + op(0, 2, 0, 1) + op(1, 2, 0, 1) +
          bytes([6, 0, 0, 6 | 16, 2, 0xfe]))
    lists = (op(0, 18, 0, 1) + op(1, 18, 1, 0) + op(0, 19, 4, 1) + op(2, 22, 5) + op(2, 25, 0) +
             bytes([4 | 32, 0xff]) + op(1, 20, 0, 0) + op(0, 21, 1, 1) + op(2, 23, 0, 0) +
             op(0, 8, 0) + op(1, 6, 0) + op(2, 7, 0x80))
    write("snapshot_merge_fuzz", "built-lists-streams-flush",
          bytes([1]) + lists + bytes([7, 3, 0xff, 7 | 16, 0, 0x01, 0, 2, 12, 1, 0x55]))


def resp_seeds():
    # Options byte: bit 0 auth required, bit 1 tiny limits, bits 3-7 chunk size - 1.
    multibulk = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n"
    write("resp_parser_fuzz", "multibulk", bytes([0]) + multibulk)
    write("resp_parser_fuzz", "multibulk-in-pieces", bytes([2 << 3]) + multibulk)
    write("resp_parser_fuzz", "inline", bytes([0]) + b"GET \"a b\" 'c'\r\nPING\n")
    write("resp_parser_fuzz", "auth", bytes([1]) + b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n")
    write("resp_parser_fuzz", "limits", bytes([2]) + b"*9\r\n$65\r\n" + b"x" * 65 + b"\r\n")
    write("resp_parser_fuzz", "bad", bytes([0]) + b"*2\r\n$x\r\n*-5\r\n$-1\r\n")


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def aof_record(payload, kind=1):
    rest = struct.pack("<IBI", len(payload), kind, masked(crc32c(payload)))
    return struct.pack("<I", masked(crc32c(rest))) + rest + payload


def aof_seeds():
    header = b"AKVAOF" + struct.pack("<H", 1)
    batch = encode("OpBatch", 'ops { origin: "a" seq: 1 key: "k" set { value: "v" } }')
    image = header + aof_record(batch) + aof_record(b"snapshot chunk", 2) + aof_record(b"")
    # Even first byte: a raw file image.
    write("aof_reader_fuzz", "image", bytes([0]) + image)
    write("aof_reader_fuzz", "image-torn-tail", bytes([0]) + image[:-3])
    write("aof_reader_fuzz", "image-bad-header", bytes([2]) + b"AKVAOF" + struct.pack("<H", 9))
    # Odd: 3 payloads (length, bytes) framed into a valid log, then damage: a bit flip at
    # offset 20 and a cut at offset 40.
    log = bytes([3, 5]) + b"hello" + bytes([0]) + bytes([4]) + b"abcd"
    write("aof_reader_fuzz", "built-valid", bytes([1]) + log + bytes([0]))
    write("aof_reader_fuzz", "built-damaged",
          bytes([1]) + log + bytes([2, 1, 0, 20, 3, 0, 0, 40]))


def main():
    for d in ("sync_message_fuzz", "snapshot_merge_fuzz", "resp_parser_fuzz", "aof_reader_fuzz"):
        os.makedirs(os.path.join(CORPUS, d), exist_ok=True)
    sync_seeds()
    snapshot_seeds()
    resp_seeds()
    aof_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
