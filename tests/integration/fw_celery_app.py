"""The Celery application of test_frameworks.py: one task, a Redis broker and result backend.

The URLs come from the environment, so the same module serves the worker subprocess (region B:
AKV_CELERY_BROKER=AKV_CELERY_BACKEND=redis://127.0.0.1:B/0) and the test process (which builds
its own apps for regions A and C with make_app()).
"""

import os

from celery import Celery


def make_app(broker, backend, queue):
    app = Celery("akv_fw", broker=broker, backend=backend)
    app.conf.update(
        task_default_queue=queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        broker_connection_retry=False,
        broker_connection_retry_on_startup=False,
        broker_connection_max_retries=0,
        worker_hijack_root_logger=False,
        # Celery's Redis transport re-delivers an unacknowledged message after this long; the
        # case's deadline is far below it.
        broker_transport_options={"visibility_timeout": 3600},
    )

    @app.task(name="fw_celery_app.add")
    def add(x, y):
        """The sum and where it ran: the broker URL of the worker (region B in the test)."""
        return {"sum": x + y, "broker": app.conf.broker_url, "pid": os.getpid()}

    @app.task(name="fw_celery_app.fail")
    def fail(x):
        raise ValueError("boom %s" % x)

    return app


app = make_app(os.environ.get("AKV_CELERY_BROKER", "redis://127.0.0.1:6379/0"),
               os.environ.get("AKV_CELERY_BACKEND", "redis://127.0.0.1:6379/0"),
               os.environ.get("AKV_CELERY_QUEUE", "akv-fw"))
