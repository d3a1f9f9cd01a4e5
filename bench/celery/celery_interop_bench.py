#!/usr/bin/python3
"""Celery interoperability benchmark: the same Python Celery client, the same Redis, three
workers in one run: a runq worker (celery+redis:// store) and Celery 5.2 workers with the
prefork and the threads pool.

  drain:   N `tasks.add` messages sent by the Python client (send_task), then the worker is
           started; tasks/s = results / (date_done of the last result - of the first), the
           results collected from the result channels (every result is PUBLISHed), so
           start-up is excluded.
  latency: the worker idle and consuming; `tasks.echo(sent_at)` sent at RATE/s for SECONDS;
           latency = the client's clock when the result is published - sent_at (pickup + run +
           result write), p50/p99.

Usage: celery_interop_bench.py PORT RUNQ_APP [N RATE SECONDS]; one JSON line per result."""
import json
import os
import subprocess
import sys
import threading
import time

import redis

PORT = int(sys.argv[1])
RUNQ_APP = sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
RATE = int(sys.argv[4]) if len(sys.argv) > 4 else 200
SECONDS = int(sys.argv[5]) if len(sys.argv) > 5 else 10
os.environ["BENCH_REDIS_PORT"] = str(PORT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_tasks import app  # noqa: E402

STORE = f"celery+redis://127.0.0.1:{PORT}/0?backend=redis://127.0.0.1:{PORT}/1"
WORKERS = {
    "runq": [RUNQ_APP, "worker", "--store", STORE, "-c", "2"],
    "celery-prefork": [sys.executable, "-m", "celery", "-A", "bench_tasks", "worker", "--pool",
                       "prefork", "-c", "2", "-l", "WARNING", "--without-gossip",
                       "--without-mingle", "--without-heartbeat"],
    "celery-threads": [sys.executable, "-m", "celery", "-A", "bench_tasks", "worker", "--pool",
                       "threads", "-c", "8", "-l", "WARNING", "--without-gossip",
                       "--without-mingle", "--without-heartbeat"],
}


class Results:
    """Completions as the result backend publishes them: (client time, decoded meta)."""

    def __init__(self):
        self.seen = []
        self.ps = redis.Redis(host="127.0.0.1", port=PORT).pubsub()
        self.ps.psubscribe("celery-task-meta-*")
        while self.ps.get_message(timeout=1.0) is None:
            pass  # the psubscribe confirmation: subscribed before anything is sent
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            m = self.ps.get_message(timeout=0.2)
            if m and m["type"] == "pmessage":
                self.seen.append((time.time(), m["data"]))

    def wait(self, n, timeout):
        end = time.time() + timeout
        while len(self.seen) < n and time.time() < end:
            time.sleep(0.01)
        return len(self.seen) >= n

    def close(self):
        self.stop = True
        self.thread.join()
        self.ps.close()


def start(name):
    cwd = os.path.dirname(os.path.abspath(__file__))
    return subprocess.Popen(WORKERS[name], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(p):
    # CPU time the worker used (its children included), from /proc, before it goes.
    try:
        fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        stop.cpu_s = sum(int(x) for x in fields[11:15]) / tick
    except OSError:
        stop.cpu_s = None
    p.kill()
    p.wait()


def loadavg():
    return os.getloadavg()[0]


def drain(name):
    r = redis.Redis(host="127.0.0.1", port=PORT)
    r.flushall()
    t = time.time()
    for i in range(N):
        app.send_task("tasks.add", [i, i])
    send_s = time.time() - t
    results = Results()
    p = start(name)
    try:
        ok = results.wait(N, 900)
    finally:
        stop(p)
        results.close()
    # The span of the results' date_done (the worker's clock); the client-side receipt times
    # would also measure how fast this Python subscriber keeps up.
    import datetime
    times = [datetime.datetime.fromisoformat(json.loads(d)["date_done"]).timestamp()
             for _, d in results.seen]
    secs = max(times) - min(times) if len(times) > 1 else float("nan")
    seen = [at for at, _ in results.seen]
    client_secs = max(seen) - min(seen) if len(seen) > 1 else float("nan")
    print(json.dumps({"system": name, "workload": "drain", "tasks": N, "complete": ok,
                      "results": len(times), "seconds": round(secs, 3),
                      "tasks_per_s": round((len(times) - 1) / secs, 1) if secs else None,
                      "seen_by_client_s": round(client_secs, 3),
                      "client_send_s": round(send_s, 2), "worker_cpu_s": stop.cpu_s,
                      "load1": loadavg()}), flush=True)


def latency(name):
    r = redis.Redis(host="127.0.0.1", port=PORT)
    r.flushall()
    results = Results()
    p = start(name)
    try:
        app.send_task("tasks.echo", [0]).get(timeout=120)  # consuming
        results.seen.clear()
        n = RATE * SECONDS
        t0 = time.time()
        for i in range(n):
            due = t0 + i / RATE
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            app.send_task("tasks.echo", [time.time()])
        results.wait(n, 120)
    finally:
        stop(p)
        results.close()
    lat = sorted((at - json.loads(data)["result"]) * 1000 for at, data in results.seen
                 if isinstance(json.loads(data)["result"], float))
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))], 2) if lat else None
    print(json.dumps({"system": name, "workload": "latency", "rate": RATE, "seconds": SECONDS,
                      "tasks": len(lat), "p50_ms": pick(0.50), "p99_ms": pick(0.99),
                      "max_ms": round(lat[-1], 2) if lat else None, "load1": loadavg()}),
          flush=True)


if __name__ == "__main__":
    # BENCH_SYSTEMS=runq,celery-prefork runs only those; BENCH_WORKLOADS=drain only that.
    systems = os.environ.get("BENCH_SYSTEMS", ",".join(WORKERS)).split(",")
    workloads = os.environ.get("BENCH_WORKLOADS", "drain,latency").split(",")
    for workload in ("drain", "latency"):
        if workload in workloads:
            for system in systems:
                globals()[workload](system)
