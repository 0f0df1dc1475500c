"""Job functions for the rq case of test_frameworks.py (imported by the `rq worker` subprocess
through `--path`, and by the test that enqueues them by reference)."""

import os


def add(x, y):
    """Returns the sum and where it ran: the worker's Redis port (region B in the test) and pid."""
    from rq import get_current_job
    job = get_current_job()
    kwargs = job.connection.connection_pool.connection_kwargs
    return {"sum": x + y, "port": kwargs.get("port"), "pid": os.getpid()}


def fail(x):
    raise ValueError("boom %s" % x)
