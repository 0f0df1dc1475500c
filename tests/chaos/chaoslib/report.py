"""The summary every scenario ends with (format: docs/chaos.md)."""

import sys


class Summary:
    def __init__(self, scenario):
        self.scenario = scenario
        self.rows = []
        self.failures = []
        self.skipped = None  # the reason, when the scenario could not run here

    def add(self, label, text):
        self.rows.append((label, text))

    def fail(self, msg):
        self.failures.append(msg)

    def text(self):
        width = max([len(label) for label, _ in self.rows] + [22])
        out = ["", "=" * 30 + " chaos summary: %s " % self.scenario + "=" * 30]
        for label, text in self.rows:
            lines = str(text).splitlines() or [""]
            out.append("%-*s : %s" % (width, label, lines[0]))
            out.extend(" " * (width + 3) + line for line in lines[1:])
        if self.skipped and not self.failures:
            out.append("%-*s : SKIPPED (%s)" % (width, "result", self.skipped))
        elif self.failures:
            out.append("%-*s : FAIL (%d)" % (width, "result", len(self.failures)))
            out.extend(" " * (width + 3) + "- " + f.splitlines()[0][:400] for f in self.failures)
        else:
            out.append("%-*s : PASS" % (width, "result"))
        return "\n".join(out)

    def print(self):
        print(self.text(), flush=True)
        sys.stderr.flush()


def fmt_s(x):
    return "-" if x is None else "%.3f s" % x


def gap_text(clients):
    """Max failover gap overall and by fault kind."""
    fos = [f for c in clients for f in c.failovers]
    if not fos:
        return "no failover happened", None
    worst = max(fos, key=lambda f: f.gap)
    by_kind = {}
    for f in fos:
        k = f.kind
        by_kind.setdefault(k, []).append(f.gap)
    parts = ["%s %d x max %.3f s" % (k, len(v), max(v)) for k, v in sorted(by_kind.items())]
    return ("%.3f s (client c%d %s->%s during %s); %d failovers: %s" %
            (worst.gap, worst.client, worst.src, worst.dst, worst.kind, len(fos),
             ", ".join(parts)), worst.gap)
