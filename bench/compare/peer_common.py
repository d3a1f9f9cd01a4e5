"""Helpers shared by the Python peer drivers (Celery, RQ): clocks, worker processes, the
steady-rate producer, and the one-line JSON result that run-compare reads.

Every wait is bounded; a driver that runs out of time prints an error and exits non-zero.
"""
import json
import os
import signal
import subprocess
import sys
import time

PORT = int(os.environ.get("BENCH_REDIS_PORT", "0"))
URL = f"redis://127.0.0.1:{PORT}/0"
HERE = os.path.dirname(os.path.abspath(__file__))
# Workers' stderr goes here (run-compare points it into its temp dir).
LOG = os.environ.get("BENCH_WORKER_LOG", "/dev/null")


def mono_us():
    """CLOCK_MONOTONIC in µs: the same clock in every process on the machine."""
    return time.monotonic_ns() // 1000


def emit(**fields):
    print(json.dumps(fields), flush=True)


def fail(msg):
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def spawn(cmd, env=None):
    """Starts a worker in its own process group (so it can be killed with its children)."""
    return subprocess.Popen(cmd, cwd=HERE, start_new_session=True, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(LOG, "a"))


def kill_all(procs):
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(timeout=30)


def produce_at_rate(rate, seconds, send):
    """Calls send(i, enqueue_us) rate times a second for `seconds`. Returns the count."""
    n = int(rate * seconds)
    t0 = time.monotonic()
    for i in range(n):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        send(i, mono_us())
    return n


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            fail(f"timeout after {timeout} s waiting for {what}")
        time.sleep(0.001)


def latency_fields(us_values):
    """p50/p99/p99.9/max in ms of a list of µs latencies (nearest rank)."""
    v = sorted(us_values)
    if not v:
        return {}

    def q(p):
        return v[max(0, min(len(v) - 1, int(-(-p * len(v) // 1)) - 1))] / 1000.0

    return {"count": len(v), "p50_ms": q(0.5), "p99_ms": q(0.99), "p999_ms": q(0.999),
            "max_ms": v[-1] / 1000.0}


def collect_latencies(r, key, n, timeout=60):
    wait_until(lambda: r.llen(key) >= n, timeout, f"{n} latency samples in {key}")
    return [int(x) for x in r.lrange(key, 0, -1)]


class CompletionWatch:
    """Polls a completion counter every ~1 ms and records when the first and the n-th
    completion were seen: the drain time is first → last, as runq-bench measures it."""

    def __init__(self, count):
        self.count = count
        self.first = None
        self.last = None

    def run(self, n, timeout):
        deadline = time.monotonic() + timeout
        base = self.count()
        while True:
            done = self.count() - base
            now = time.monotonic()
            if done > 0 and self.first is None:
                self.first = now
            if done >= n:
                self.last = now
                return self.last - self.first
            if now > deadline:
                fail(f"timeout after {timeout} s: {done} of {n} tasks completed")
            time.sleep(0.001)
