#!/usr/bin/python3
"""RQ driver: `rq_bench.py w1|w1-batch|w2|w3 ...`, one JSON line on stdout.

Workers are SimpleWorker (no fork per job: RQ's fastest class), two processes (one per
core). Completions are counted in RQ's finished-job registry (results kept, result_ttl 500 s)."""
import sys
import time

import redis
from rq import Queue

import rq_tasks
from peer_common import (CompletionWatch, URL, PORT, collect_latencies, emit, fail, kill_all,
                         latency_fields, produce_at_rate, spawn)

PROCS = 2


def queue():
    return Queue("bench", connection=redis.Redis(host="127.0.0.1", port=PORT))


def workers(n=PROCS):
    return [spawn([sys.executable, "-m", "rq.cli", "worker", "--worker-class", "rq.worker.SimpleWorker",
                   "--url", URL, "--quiet", "bench"]) for _ in range(n)]


def w1(n):
    q = queue()
    t = time.monotonic()
    for _ in range(n):
        q.enqueue(rq_tasks.noop)
    secs = time.monotonic() - t
    emit(system="rq", workload="w1", tasks=n, seconds=secs, tasks_per_s=n / secs)


def enqueue_batches(q, n, batch=1000):
    done = 0
    while done < n:
        k = min(batch, n - done)
        q.enqueue_many([Queue.prepare_data(rq_tasks.noop) for _ in range(k)])
        done += k


def w1_batch(n):
    q = queue()
    t = time.monotonic()
    enqueue_batches(q, n)
    secs = time.monotonic() - t
    emit(system="rq", workload="w1-batch", tasks=n, seconds=secs, tasks_per_s=n / secs)


def w2(n):
    q = queue()
    enqueue_batches(q, n)
    r = redis.Redis(host="127.0.0.1", port=PORT)
    finished = "rq:finished:bench"
    procs = workers()
    try:
        secs = CompletionWatch(lambda: r.zcard(finished)).run(n, timeout=900)
    finally:
        kill_all(procs)
    emit(system="rq", workload="w2", tasks=n, seconds=secs, tasks_per_s=n / secs, procs=PROCS)


def w3(rate, seconds):
    q = queue()
    r = redis.Redis(host="127.0.0.1", port=PORT)
    r.delete("bench:lat")
    procs = workers()
    try:
        job = q.enqueue(rq_tasks.noop)
        deadline = time.monotonic() + 60
        while job.get_status(refresh=True) != "finished":
            if time.monotonic() > deadline:
                fail("RQ workers did not start within 60 s")
            time.sleep(0.01)
        time.sleep(0.5)
        n = produce_at_rate(rate, seconds, lambda i, enq: q.enqueue(rq_tasks.stamp, enq))
        lat = collect_latencies(r, "bench:lat", n)
    finally:
        kill_all(procs)
    emit(system="rq", workload="w3", tasks=n, rate=rate, seconds=seconds, **latency_fields(lat))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "w1":
        w1(int(sys.argv[2]))
    elif cmd == "w1-batch":
        w1_batch(int(sys.argv[2]))
    elif cmd == "w2":
        w2(int(sys.argv[2]))
    elif cmd == "w3":
        w3(float(sys.argv[2]), float(sys.argv[3]))
    else:
        fail("usage: rq_bench.py w1 N | w1-batch N | w2 N | w3 RATE SECONDS")
