"""The Celery side of the comparison: one app on the benchmark's redis-server, tuned for
throughput the way its documentation suggests (see run-compare's notes)."""
import os

import redis
from celery import Celery

from peer_common import URL, PORT, mono_us

app = Celery("celery_tasks", broker=URL, backend=URL)
app.conf.update(
    task_default_queue="bench",
    worker_prefetch_multiplier=int(os.environ.get("CELERY_PREFETCH", "64")),
    task_acks_late=False,             # ack on receipt: one round trip less per task
    worker_disable_rate_limits=True,
    result_expires=3600,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_send_task_events=False,
    task_send_sent_event=False,
)

_lat = None


@app.task(name="noop")
def noop():
    return None


@app.task(name="stamp", ignore_result=True)
def stamp(enqueued_us):
    latency = mono_us() - enqueued_us
    global _lat
    if _lat is None:
        _lat = redis.Redis(host="127.0.0.1", port=PORT)
    _lat.rpush("bench:lat", latency)
