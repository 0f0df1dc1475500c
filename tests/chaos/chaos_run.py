#!/usr/bin/python3
"""activekv chaos suite: real region processes, seeded faults, every acknowledged write accounted.

  /usr/bin/python3 tests/chaos/chaos_run.py SCENARIO [SCENARIO...]

Scenarios (docs/chaos.md):
  faults     appendfsync always, CHAOS_DURATION s (default 40) of kill -9 / SIGSTOP / CRDT.SYNC
             PAUSE / (root) partitions, isolation, WAN links / BGREWRITEAOF (half of them with
             a kill -9 during the rewrite); r2 clock +5 s. Exact accounting.
  everysec   appendfsync everysec, CHAOS_DURATION*0.4 s (min 12) of kill -9, simulated power
             loss, stalls, pauses, rewrites: counts the writes lost and says why.
  powerloss  deterministic everysec power losses: a region regains the acknowledged ops it lost;
             counter folding stays convergent when a region loses an increment it had seen.
  lost       a region killed for good: survivors converge, relaying its ops.
  clock      a region whose clock runs +5 s: LWW bound, and kill -9 + restart of it.
  catchup    partial sync after a short outage vs full resync beyond the replication log.
  recovery   CHAOS_RECOVERY_KEYS keys (default 300000), kill -9, restart: time to serve and to
             catch up (target CHAOS_RECOVERY_TARGET_S, default 2 s), client latency meanwhile.
  disk       (root) one region's data_dir on an 8 MB tmpfs, filled: -MISCONF, reads served,
             recovery without loss.
  all        every scenario above, then one combined summary.

Environment: CHAOS_SEED (printed; replays the schedule and workload), CHAOS_DURATION,
CHAOS_RECOVERY_KEYS, CHAOS_RECOVERY_TARGET_S, CHAOS_KEEP_TMP=1, AKV_BIN_DIR (default build/bin).
Exit status 0 when every check passed, 1 on a failure, 77 when every requested scenario was
skipped (e.g. `disk` without root).
"""

import os
import random
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chaoslib import procs, scenarios  # noqa: E402

SKIPPED = 77  # every requested scenario was skipped (CTest SKIP_RETURN_CODE)
SCENARIOS = ("faults", "everysec", "powerloss", "lost", "clock", "catchup", "recovery", "disk")


def main(argv):
    names = argv[1:] or ["all"]
    if names == ["all"]:
        names = list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS:
            print(__doc__, file=sys.stderr)
            return 2
    s = os.environ.get("CHAOS_SEED")
    seed = int(s) if s else random.SystemRandom().randrange(1, 2**31)
    duration = float(os.environ.get("CHAOS_DURATION", "40"))
    print("CHAOS_SEED=%d CHAOS_DURATION=%g scenarios=%s bin=%s" %
          (seed, duration, ",".join(names), procs.bin_dir()), flush=True)

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    summaries = []
    try:
        for n in names:
            if n == "faults":
                s = scenarios.workload_under_faults(
                    "faults", seed, duration, "always",
                    ["kill", "stall", "pause", "partition", "isolate", "wan", "rewrite"])
            elif n == "everysec":
                s = scenarios.workload_under_faults(
                    "everysec", seed, max(12.0, duration * 0.4), "everysec",
                    ["powerloss", "kill", "powerloss", "stall", "pause", "rewrite"], use_net=False,
                    powerloss=True)
            elif n == "powerloss":
                s = scenarios.powerloss(seed)
            elif n == "lost":
                s = scenarios.region_lost(seed)
            elif n == "clock":
                s = scenarios.clock(seed)
            elif n == "catchup":
                s = scenarios.catchup(seed)
            elif n == "recovery":
                s = scenarios.recovery(seed)
            else:
                s = scenarios.full_disk(seed)
            s.print()
            summaries.append(s)
    finally:
        procs.kill_everything()
    if len(summaries) > 1:
        print("\n" + "=" * 30 + " chaos suite (seed %d) " % seed + "=" * 30)
        for s in summaries:
            print("%-10s %s" % (s.scenario, "FAIL: " + s.failures[0].splitlines()[0][:300]
                                if s.failures else "SKIPPED: " + s.skipped if s.skipped
                                else "PASS"))
    failed = [s.scenario for s in summaries if s.failures]
    if failed:
        print("CHAOS FAILED: %s (replay: CHAOS_SEED=%d CHAOS_DURATION=%g /usr/bin/python3 "
              "tests/chaos/chaos_run.py %s)" % (",".join(failed), seed, duration,
                                                " ".join(failed)), flush=True)
        return 1
    if summaries and all(s.skipped for s in summaries):
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
