"""The Flask side of examples/flask_precompute (README.md there).

GET  /           the slow page: serves the value the runq worker precomputed (fast)
POST /jobs?n=N   starts a background job with .delay(N); returns its id
GET  /jobs/<id>  the job's state and, once done, its result

Environment: REDIS_URL (redis://127.0.0.1:6379), PRECOMPUTE_DB (precompute.db), PORT (5000).
"""
import os
import sqlite3
import time

from celery import Celery
from flask import Flask, jsonify, request

REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
DB = os.environ.get("PRECOMPUTE_DB", "precompute.db")

celery = Celery("site", broker=f"{REDIS}/0", backend=f"{REDIS}/1")
celery.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"])


@celery.task(name="jobs.slow_sum")
def slow_sum(n):
    """Runs on the runq worker (C++); this body is never called here."""
    raise NotImplementedError


app = Flask(__name__)


@app.get("/")
def page():
    started = time.perf_counter()
    try:
        with sqlite3.connect(DB, timeout=5) as db:
            row = db.execute("SELECT value, computed_at FROM precomputed WHERE name = ?",
                             ("primes_below_2m",)).fetchone()
    except sqlite3.OperationalError:
        row = None
    if row is None:
        return jsonify(error="not computed yet; is the runq worker running with --beat?"), 503
    return jsonify(primes_below_2m=row[0], computed_at=row[1],
                   served_in_ms=round((time.perf_counter() - started) * 1000, 3))


@app.post("/jobs")
def start_job():
    n = request.args.get("n", default=1000, type=int)
    return jsonify(id=slow_sum.delay(n).id), 202


@app.get("/jobs/<job_id>")
def job(job_id):
    r = celery.AsyncResult(job_id)
    body = {"id": job_id, "state": r.state}
    if r.successful():
        body["result"] = r.result
    elif r.failed():
        body["error"] = repr(r.result)
    return jsonify(body)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
