#!/usr/bin/python3
"""Celery driver: `celery_bench.py w1|w2|w3 ...`, one JSON line on stdout.

w1 N: N noop.delay() calls. w2 N: N queued, then one prefork worker (concurrency 2) drains
them with the Redis result backend; completions are counted on the backend's result
channels (every stored result is also published). w3 RATE SECONDS: pickup latency."""
import sys
import threading
import time

import redis

from celery_tasks import app, noop, stamp
from peer_common import (CompletionWatch, PORT, collect_latencies, emit, fail, kill_all, latency_fields,
                         produce_at_rate, spawn)

CONCURRENCY = "2"


def worker():
    return spawn([sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "--pool", "prefork",
                  "--concurrency", CONCURRENCY, "--loglevel", "WARNING", "--without-gossip",
                  "--without-mingle", "--without-heartbeat", "-Q", "bench"])


def w1(n):
    t = time.monotonic()
    for _ in range(n):
        noop.delay()
    secs = time.monotonic() - t
    emit(system="celery", workload="w1", tasks=n, seconds=secs, tasks_per_s=n / secs)


class ResultCounter:
    """Counts results as the Redis backend publishes them (celery-task-meta-<id>)."""

    def __init__(self):
        self.n = 0
        self.ps = redis.Redis(host="127.0.0.1", port=PORT).pubsub()
        self.ps.psubscribe("celery-task-meta-*")
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        for m in self.ps.listen():
            if m["type"] == "pmessage":
                self.n += 1


def w2(n):
    t = time.monotonic()
    for _ in range(n):
        noop.apply_async(ignore_result=False)
    enqueue_s = time.monotonic() - t
    counter = ResultCounter()
    time.sleep(0.2)  # subscribed before the worker starts
    p = worker()
    try:
        secs = CompletionWatch(lambda: counter.n).run(n, timeout=600)
    finally:
        kill_all([p])
    emit(system="celery", workload="w2", tasks=n, seconds=secs, tasks_per_s=n / secs,
         enqueue_s=enqueue_s, concurrency=int(CONCURRENCY))


def w3(rate, seconds):
    r = redis.Redis(host="127.0.0.1", port=PORT)
    r.delete("bench:lat")
    p = worker()
    try:
        noop.delay().get(timeout=60)  # the worker is up and consuming
        time.sleep(0.5)
        n = produce_at_rate(rate, seconds, lambda i, enq: stamp.delay(enq))
        lat = collect_latencies(r, "bench:lat", n)
    finally:
        kill_all([p])
    emit(system="celery", workload="w3", tasks=n, rate=rate, seconds=seconds, **latency_fields(lat))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "w1":
        w1(int(sys.argv[2]))
    elif cmd == "w2":
        w2(int(sys.argv[2]))
    elif cmd == "w3":
        w3(float(sys.argv[2]), float(sys.argv[3]))
    else:
        fail("usage: celery_bench.py w1 N | w2 N | w3 RATE SECONDS")
