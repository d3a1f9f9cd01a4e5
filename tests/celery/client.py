"""Python Celery client for the interoperability tests (tests/celery/celery_interop_test.cpp).

Usage: client.py PORT SCENARIO [ARG...]. Talks to redis-server on 127.0.0.1:PORT (broker db 0,
results db 1) with real Celery, as a web app would, and exits 0 when every check of SCENARIO
holds; otherwise prints "FAIL: ..." and exits 1. Each get() has a timeout, so a lost task
fails the scenario instead of hanging it.
"""
import datetime
import sys
import time

from celery import Celery
from celery.exceptions import NotRegistered, TaskRevokedError

PORT = sys.argv[1]
SCENARIO = sys.argv[2]
ARGS = sys.argv[3:]
TIMEOUT = 60  # generous: the test machine may be busy

app = Celery("tasks", broker=f"redis://127.0.0.1:{PORT}/0",
             backend=f"redis://127.0.0.1:{PORT}/1")
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                enable_utc=True, broker_connection_retry=False)


@app.task(name="tasks.add")
def add(a, b):
    return a + b


@app.task(name="tasks.mul")
def mul(a, b):
    return a * b


@app.task(name="tasks.fail")
def fail(message):
    raise ValueError(message)


@app.task(name="tasks.flaky")
def flaky(n):
    return n


@app.task(name="tasks.echo")
def echo(v):
    return v


@app.task(name="tasks.sleep")
def sleep(ms):
    return ms


def check(cond, what):
    if not cond:
        print("FAIL:", what, flush=True)
        sys.exit(1)
    print("ok:", what, flush=True)


def expect_raises(result, exc_name, message):
    try:
        value = result.get(timeout=TIMEOUT)
    except Exception as e:  # noqa: BLE001 - the type is what we check
        check(type(e).__name__ == exc_name, f"{exc_name} raised (got {type(e).__name__}: {e!r})")
        check(message is None or (e.args and e.args[0] == message),
              f"message {message!r} kept (got {e.args!r})")
        return e
    check(False, f"{exc_name} raised (got value {value!r})")


def basic():
    check(add.delay(2, 3).get(timeout=TIMEOUT) == 5, "add.delay(2, 3) == 5")
    check(app.send_task("tasks.add", [7, 8]).get(timeout=TIMEOUT) == 15, "send_task add == 15")
    check(add.delay(1, b=4).get(timeout=TIMEOUT) == 5, "kwargs bind: add(1, b=4) == 5")
    check(mul.apply_async(kwargs={"a": 6, "b": 7}).get(timeout=TIMEOUT) == 42,
          "kwargs only: mul(a=6, b=7) == 42")
    check(echo.delay({"k": [1, "x", None]}).get(timeout=TIMEOUT) == {"k": [1, "x", None]},
          "echo keeps JSON")
    r = add.delay(20, 22)
    r.get(timeout=TIMEOUT)
    check(r.state == "SUCCESS", "state SUCCESS")


def failures():
    e = expect_raises(fail.delay("kaboom"), "std::runtime_error", "kaboom")
    check(fail.AsyncResult(fail.delay("x").id).state in ("PENDING", "FAILURE"), "state readable")
    expect_raises(app.send_task("tasks.nope", [1]), "NotRegistered", "tasks.nope")
    check(isinstance(e, Exception), "exception instance")
    try:
        app.send_task("tasks.nope", []).get(timeout=TIMEOUT)
    except NotRegistered:
        check(True, "NotRegistered is celery.exceptions.NotRegistered")
    expect_raises(app.send_task("tasks.add", ["a"]), "TypeError", None)


def result_of():
    """client.py PORT result_of TASK_ID EXPECTED_JSON: AsyncResult(id).get() == expected."""
    import json
    value = app.AsyncResult(ARGS[0]).get(timeout=TIMEOUT)
    check(value == json.loads(ARGS[1]), f"result of {ARGS[0]} == {ARGS[1]} (got {value!r})")


def semantics():
    t0 = time.time()
    r = add.apply_async((1, 1), countdown=2)
    check(r.get(timeout=TIMEOUT) == 2, "countdown task ran")
    check(time.time() - t0 >= 1.9, "countdown respected (%.2fs)" % (time.time() - t0))
    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    expired = add.apply_async((1, 2), expires=past)  # already expired
    try:
        expired.get(timeout=TIMEOUT)
        check(False, "expired task raised")
    except TaskRevokedError:
        check(expired.state == "REVOKED", "expired -> REVOKED / TaskRevokedError")
    check(flaky.delay(2).get(timeout=TIMEOUT) == 3, "flaky retried twice, third attempt wins")
    expect_raises(flaky.delay(10), "std::runtime_error", "attempt 4")
    ign = add.apply_async((5, 5), ignore_result=True)
    check(add.delay(0, 0).get(timeout=TIMEOUT) == 0, "task after ignore_result ran")
    check(app.backend.get(f"celery-task-meta-{ign.id}") is None, "ignore_result stores nothing")
    # Priorities: 9 runs after 0 on Redis. Occupy the worker, then queue both.
    blockers = [sleep.delay(300) for _ in range(4)]
    late = echo.apply_async(("p9",), priority=9)
    early = echo.apply_async(("p0",), priority=0)
    late.get(timeout=TIMEOUT)
    early.get(timeout=TIMEOUT)
    for b in blockers:
        b.get(timeout=TIMEOUT)
    done_late = app.backend.get_task_meta(late.id)["date_done"]
    done_early = app.backend.get_task_meta(early.id)["date_done"]
    check(done_early <= done_late, f"priority 0 before 9 ({done_early} <= {done_late})")
    # Time limit from the message headers (soft limit cancels the sleep early).
    t0 = time.time()
    got = sleep.apply_async((20000,), soft_time_limit=0.5, time_limit=30).get(timeout=TIMEOUT)
    check(time.time() - t0 < 10, "soft time limit from headers stopped the task (%.1fs)"
          % (time.time() - t0))
    check(got == 20000, "soft-limited task returned")


def control():
    """inspect ping/active and control revoke against the runq worker; `celery events --dump`."""
    import subprocess
    deadline = time.time() + TIMEOUT
    pong = {}
    while not any(k.startswith("runq-") for k in pong) and time.time() < deadline:
        pong = app.control.inspect(timeout=1.0).ping() or {}
    node = next((k for k in pong if k.startswith("runq-")), None)
    check(node is not None and pong[node] == {"ok": "pong"}, f"inspect ping answered by {node}")
    running = sleep.delay(3000)
    active = []
    while not active and time.time() < deadline:
        active = (app.control.inspect(timeout=1.0, destination=[node]).active() or {}).get(node, [])
    check([t["id"] for t in active] == [running.id], "inspect active lists the running task")
    later = add.apply_async((1, 2), countdown=3)
    app.control.revoke(later.id)
    try:
        later.get(timeout=TIMEOUT)
        check(False, "revoked task raised")
    except TaskRevokedError:
        check(later.state == "REVOKED", "control revoke -> REVOKED, never ran")
    check(running.get(timeout=TIMEOUT) == 3000, "the running task finished")
    dump = subprocess.Popen([sys.executable, "-m", "celery", "-b",
                             f"redis://127.0.0.1:{PORT}/0", "events", "--dump"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    deadline = time.time() + TIMEOUT
    try:
        import select
        while time.time() < deadline:
            ready, _, _ = select.select([dump.stdout], [], [], 1.0)
            if not ready:
                continue
            line = dump.stdout.readline()
            seen.append(line)
            if node in line and "heartbeat" in line:
                break
    finally:
        dump.kill()
        dump.wait()
    check(any(node in l and "heartbeat" in l for l in seen),
          "celery events --dump shows the runq worker's heartbeat")


@app.task(name="tasks.xsum")
def xsum(values):
    return sum(values)


def canvas():
    from celery import chain, chord, group
    r = chain(add.s(1, 2), mul.s(10), add.s(5))()
    check(r.get(timeout=TIMEOUT) == 35, "chain add(1,2) | mul(10) | add(5) == 35")
    check(r.parent.get(timeout=TIMEOUT) == 30 and r.parent.parent.get(timeout=TIMEOUT) == 3,
          "chain parents readable")
    g = group(add.s(1, 1), add.s(2, 2), add.s(3, 3))()
    check(g.get(timeout=TIMEOUT) == [2, 4, 6], "group results in order")
    metas = [app.backend.get_task_meta(c.id) for c in g.results]
    check(all(m.get("group_id") == g.id for m in metas), "group_id in each member's result")
    c = chord([add.s(1, 1), add.s(2, 2), mul.s(3, 3)], xsum.s())()
    check(c.get(timeout=TIMEOUT) == 2 + 4 + 9, "chord of 3 -> xsum == 15")
    bad = chord([add.s(1, 1), fail.s("in the header")], xsum.s())()
    # (bad.get() raises the failed member's error first, as Celery does for a parent.)
    expect_raises(app.AsyncResult(bad.id), "ChordError", None)
    linked = add.apply_async((2, 2), link=mul.s(5))
    check(linked.get(timeout=TIMEOUT) == 4, "linked parent ran")
    child_id = None
    deadline = time.time() + TIMEOUT
    while child_id is None and time.time() < deadline:
        children = app.backend.get_task_meta(linked.id).get("children") or []
        child_id = children[0][0][0] if children else None
    check(child_id is not None, "link callback recorded as child")
    check(app.AsyncResult(child_id).get(timeout=TIMEOUT) == 20, "link callback mul(4, 5) == 20")
    err_id = "errback-" + str(time.time())
    failing = fail.apply_async(("boom",), link_error=echo.si("handled").set(task_id=err_id))
    try:
        failing.get(timeout=TIMEOUT)
    except Exception:  # noqa: BLE001
        pass
    check(app.AsyncResult(err_id).get(timeout=TIMEOUT) == "handled", "link_error callback ran")


@app.task(name="tasks.retry_once")
def retry_once(x):
    return x


def states():
    """STARTED (with track_started=1 on the worker's URL) and RETRY are visible while they last."""
    def wait_state(r, state):
        deadline = time.time() + TIMEOUT
        while r.state != state and time.time() < deadline:
            time.sleep(0.02)
        return r.state
    running = sleep.delay(1500)
    check(wait_state(running, "STARTED") == "STARTED", "STARTED while running")
    check(running.get(timeout=TIMEOUT) == 1500 and running.state == "SUCCESS", "then SUCCESS")
    retrying = retry_once.delay(7)
    check(wait_state(retrying, "RETRY") == "RETRY", "RETRY between attempts")
    check(retrying.get(timeout=TIMEOUT) == 7, "the retry succeeded")


SCENARIOS = {"states": states, "canvas": canvas, "control": control, "basic": basic, "failures": failures, "result_of": result_of,
             "semantics": semantics}

if __name__ == "__main__":
    SCENARIOS[SCENARIO]()
    print("PASS", SCENARIO, flush=True)
