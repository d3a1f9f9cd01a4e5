"""A Celery app run by a real `celery worker` in the interoperability tests (runq producer ->
Python worker, and the mixed fleet). Broker and backend: redis on 127.0.0.1:$CELERY_PORT,
dbs 0 and 1. The visibility timeout is $CELERY_VISIBILITY (seconds, default 3600)."""
import os
import time

from celery import Celery

PORT = os.environ["CELERY_PORT"]
app = Celery("pytasks", broker=f"redis://127.0.0.1:{PORT}/0",
             backend=f"redis://127.0.0.1:{PORT}/1")
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                enable_utc=True, worker_prefetch_multiplier=1, task_acks_late=True,
                broker_transport_options={
                    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY", "3600"))})


@app.task(name="tasks.mul")
def mul(a, b):
    return a * b


@app.task(name="tasks.add")
def add(a, b):
    return a + b


@app.task(name="tasks.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="tasks.sleep")
def sleep(ms):
    time.sleep(ms / 1000.0)
    return ms


@app.task(name="tasks.record")
def record(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")
    return line
