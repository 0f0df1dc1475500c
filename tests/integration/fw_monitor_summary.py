#!/usr/bin/python3
"""The distinct commands in `redis-cli MONITOR` logs (test_frameworks.py with AKV_FW_MONITOR=DIR
and --target redis), and optionally which of them an activekv-server lacks.

  /usr/bin/python3 fw_monitor_summary.py DIR/test_bull.monitor [...]
  /usr/bin/python3 fw_monitor_summary.py --check-activekv DIR/*.monitor   (AKV_BIN_DIR)
  /usr/bin/python3 fw_monitor_summary.py --check-activekv --lua DIR/*.lua  (script sources)

Per file: each distinct command (with its subcommand for container commands), how often it was
sent by a client and from inside a Lua script (MONITOR's `[0 lua]`), and the first occurrence
with long arguments shortened. With --check-activekv one activekv region is started (akv.py) and
the first occurrence of each command is sent to it on a fresh connection (blocking timeouts
shortened): `unknown command` / `unknown subcommand` = missing; any other reply = the command
exists (an error such as NOSCRIPT or WRONGTYPE is shown). With --lua the files are Lua scripts:
the command names in redis.call / redis.pcall / rcall("NAME" are listed and each is sent with no
arguments (missing = `unknown command`).
Left out: the end marker of test_frameworks.py's Monitor (ECHO), `CLIENT LIST TYPE normal` and
`INFO clients` (the tests' own polls for blocked clients; none of the frameworks sends these).
"""

import os
import re
import sys

sys.dont_write_bytecode = True
import akv  # noqa: E402

CONTAINERS = {"CLIENT", "CONFIG", "SCRIPT", "XINFO", "XGROUP", "OBJECT", "PUBSUB", "COMMAND",
              "FUNCTION", "MEMORY", "CLUSTER", "ACL", "MODULE", "LATENCY", "SLOWLOG"}
LINE = re.compile(r'^(\d+\.\d+) \[(\d+) ([^\]]+)\] (.*)$')
TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"')
MARKER = "akv-fw-monitor-end"


def unescape(s):
    out = bytearray()
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b"}.get(
                n, n.encode())
            i += 2
            continue
        out += ch.encode()
        i += 1
    return bytes(out)


def parse(path):
    """Yields (source, args) per MONITOR line: source 'lua' or 'client'."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            args = [unescape(t) for t in TOKEN.findall(m.group(4))]
            if not args or (args[0].upper() == b"ECHO" and MARKER.encode() in args[-1]):
                continue
            if [a.upper() for a in args] in ([b"INFO", b"CLIENTS"],
                                             [b"CLIENT", b"LIST", b"TYPE", b"NORMAL"]):
                continue  # the tests' own polls for blocked clients; no framework sends these
            yield ("lua" if m.group(3) == "lua" else "client"), args


def name_of(args):
    name = args[0].decode(errors="replace").upper()
    if name in CONTAINERS and len(args) > 1:
        name += " " + args[1].decode(errors="replace").upper()
    return name


def short(args, width=40, count=12):
    parts = []
    for a in args[:count]:
        s = a.decode(errors="replace")
        if len(s) > width:
            s = s[:width] + "..."
        parts.append(s if s and " " not in s else repr(s))
    if len(args) > count:
        parts.append("... (%d args)" % len(args))
    return " ".join(parts)


def summarize(path):
    """{name: [client_count, lua_count, first_args]} in order of first appearance."""
    out = {}
    for source, args in parse(path):
        entry = out.setdefault(name_of(args), [0, 0, args])
        entry[0 if source == "client" else 1] += 1
    return out


def for_check(args):
    """A copy of the command that cannot block for long."""
    args = list(args)
    name = args[0].upper()
    if name in (b"BLPOP", b"BRPOP", b"BZPOPMIN", b"BZPOPMAX", b"BRPOPLPUSH", b"BLMOVE",
                b"BLMPOP", b"BZMPOP"):
        if name in (b"BLMPOP", b"BZMPOP"):
            args[1] = b"0.01"
        else:
            args[-1] = b"0.01"
    if name in (b"XREAD", b"XREADGROUP"):
        for i, a in enumerate(args):
            if a.upper() == b"BLOCK" and i + 1 < len(args):
                args[i + 1] = b"1"
    return args


def check(port, args):
    """'missing: <error>' or 'ok' or 'exists (<error>)'."""
    with akv.RespClient(port, timeout=10) as c:
        r = c.call(*for_check(args))
    if isinstance(r.value, akv.Err):
        msg = r.value.message.decode(errors="replace")
        if "unknown command" in msg or "unknown subcommand" in msg:
            return "MISSING: " + msg[:120]
        return "exists (%s)" % msg[:80]
    return "ok"


LUA_CALL = re.compile(r'(?:redis\.p?call|rcall)\(\s*["\']([A-Za-z]+)["\']')


def lua_commands(paths):
    names = {}
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            for n in LUA_CALL.findall(f.read()):
                names.setdefault(n.upper(), set()).add(os.path.basename(p))
    return names


def main():
    argv = sys.argv[1:]
    check_akv = "--check-activekv" in argv
    lua = "--lua" in argv
    paths = [a for a in argv if not a.startswith("--")]
    server = None
    if check_akv:
        server = akv.ActiveKvServer(akv.new_workdir("fw-check")).start()
    try:
        if lua:
            names = lua_commands(paths)
            print("| command | scripts | activekv |" if check_akv else "| command | scripts |")
            print("|---|---|---|" if check_akv else "|---|---|")
            for n in sorted(names):
                files = ", ".join(sorted(names[n])[:4]) + (
                    " (+%d)" % (len(names[n]) - 4) if len(names[n]) > 4 else "")
                row = "| %s | %d: %s |" % (n, len(names[n]), files)
                if check_akv:
                    row += " %s |" % check(server.port, [n.encode()])
                print(row)
            return
        for p in paths:
            print("### %s\n" % os.path.basename(p))
            hdr = "| command | client | lua | first seen |" + (" activekv |" if check_akv else "")
            print(hdr)
            print("|---|---|---|---|" + ("---|" if check_akv else ""))
            for name, (nc, nl, first) in summarize(p).items():
                row = "| %s | %d | %d | `%s` |" % (name, nc, nl, short(first).replace("|", "\\|"))
                if check_akv:
                    row += " %s |" % check(server.port, first)
                print(row)
            print()
    finally:
        akv.kill_all()


if __name__ == "__main__":
    main()
