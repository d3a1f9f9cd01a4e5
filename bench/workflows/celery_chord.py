#!/usr/bin/python3
"""The chord of bench/workflows run through Celery 5.2 on the same kind of Redis, for
comparison (docs/benchmarks.md, "Workflows"): a Celery prefork worker (-c 2), then
  plain: a group of N `tasks.add` no-op calls, timed from apply_async to the last result;
  chord: chord(N `tasks.add` members, `tasks.tsum` body), timed from apply_async to the body's
         result (Celery's Redis backend joins chords with a counter key, not chord_unlock).
Usage: celery_chord.py PORT [N]; prints one JSON line per measurement."""
import json
import os
import subprocess
import sys
import time

PORT = int(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
os.environ["BENCH_REDIS_PORT"] = str(PORT)
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "celery"))
from bench_tasks import add, app, tsum  # noqa: E402
from celery import chord, group  # noqa: E402

worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "bench_tasks", "worker", "--pool", "prefork", "-c",
     "2", "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
    cwd=os.path.join(here, "..", "celery"), env=dict(os.environ))
try:
    # Wait (bounded) until the worker answers a ping-like task.
    add.delay(0, 0).get(timeout=120)
    limit = 60 + N / 50  # seconds: bounded even at 50 tasks/s

    start = time.monotonic()
    g = group(add.s(i, i) for i in range(N)).apply_async()
    g.get(timeout=limit, interval=0.05)
    plain = time.monotonic() - start
    print(json.dumps({"peer": "celery-prefork-2", "what": "plain group", "n": N,
                      "seconds": round(plain, 3)}), flush=True)

    start = time.monotonic()
    r = chord((add.s(i, i) for i in range(N)), tsum.s()).apply_async()
    total = r.get(timeout=limit, interval=0.05)
    took = time.monotonic() - start
    assert total == N * (N - 1), total
    print(json.dumps({"peer": "celery-prefork-2", "what": "chord to body", "n": N,
                      "seconds": round(took, 3), "ratio": round(took / plain, 2)}), flush=True)
finally:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
