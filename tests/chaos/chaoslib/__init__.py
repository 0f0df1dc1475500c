"""activekv chaos harness (tests/chaos): real region processes, seeded faults, exact accounting.

See docs/chaos.md.
"""
