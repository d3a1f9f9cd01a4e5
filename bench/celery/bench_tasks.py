"""The Celery app of bench/celery: the same task names the runq worker registers
(tests/celery/celery_app.cpp). Broker/backend: redis on 127.0.0.1:$BENCH_REDIS_PORT, db 0/1."""
import os

from celery import Celery

PORT = os.environ["BENCH_REDIS_PORT"]
app = Celery("bench_tasks", broker=f"redis://127.0.0.1:{PORT}/0",
             backend=f"redis://127.0.0.1:{PORT}/1")
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                worker_hijack_root_logger=False)


@app.task(name="tasks.add")
def add(a, b):
    return a + b


@app.task(name="tasks.echo")
def echo(v):
    return v


@app.task(name="tasks.tsum")
def tsum(values):
    return sum(values)
