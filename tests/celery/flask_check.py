"""Checks examples/flask_precompute end to end (tests/celery/flask_example_test.cpp starts the
Flask app, the runq worker and Redis). Usage: flask_check.py FLASK_PORT.

1. GET / serves the value the runq worker precomputed (the number of primes below 2,000,000)
   from the table, without computing it: `computed_at` is before the request, and the
   periodic refresh moves it forward.
2. POST /jobs?n=1000 starts slow_sum.delay(1000); GET /jobs/<id> ends SUCCESS with 500500.
Every wait has a deadline; exits 1 with "FAIL: ..." when a check does not hold.
"""
import json
import sys
import time
import urllib.error
import urllib.request

BASE = f"http://127.0.0.1:{sys.argv[1]}"
DEADLINE = time.time() + 120


def call(method, path):
    req = urllib.request.Request(BASE + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")
    except (urllib.error.URLError, ConnectionError):
        return None, {}


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        sys.exit(1)


def poll(fn):
    while time.time() < DEADLINE:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    return None


first = poll(lambda: (lambda s, b: b if s == 200 else None)(*call("GET", "/")))
check(first is not None, "the page serves a precomputed value")
check(first["primes_below_2m"] == 148933, f"value is primes below 2m ({first})")
asked = time.time()
check(first["computed_at"] <= asked, "value was computed before the request, not by it")
later = poll(lambda: (lambda s, b: b if s == 200 and b["computed_at"] > first["computed_at"]
                      else None)(*call("GET", "/")))
check(later is not None, "the periodic task refreshed it (computed_at moved forward)")

status, started = call("POST", "/jobs?n=1000")
check(status == 202 and "id" in started, f"POST /jobs started a job ({status} {started})")
done = poll(lambda: (lambda s, b: b if b.get("state") == "SUCCESS" else None)(
    *call("GET", "/jobs/" + started["id"])))
check(done is not None and done["result"] == 500500, f"the job's result arrived ({done})")
print("PASS flask_precompute", flush=True)
