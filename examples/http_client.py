#!/usr/bin/env python3
"""Enqueue a runq task over HTTP and wait for its result, with the standard library only.

The path for a Flask or Django app that is not using Celery: `runq serve` on the same
machine (or behind your reverse proxy), and these few lines in the web app.

    python3 examples/http_client.py --url http://127.0.0.1:8910 add 2 3
    RUNQ_API_TOKEN=... python3 examples/http_client.py --queue math add 2 3

Exit status: 0 when the task succeeded (its result is printed as JSON), 1 when it failed or
did not finish within --timeout, 2 on a request error.
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request


class RunqClient:
    """A minimal client of the runq HTTP API (docs/http-api.md)."""

    def __init__(self, url="http://127.0.0.1:8910", token=None, timeout=35.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            # Every error body is {"error": {"code": ..., "message": ...}}.
            try:
                err = json.loads(e.read().decode("utf-8"))["error"]
            except (ValueError, KeyError):
                err = {"code": "http_%d" % e.code, "message": e.reason}
            raise RuntimeError("%s %s: %d %s: %s" % (method, path, e.code, err["code"],
                                                     err["message"])) from None

    def enqueue(self, name, args=(), **options):
        """Enqueues task `name` with a list of arguments; returns its id. Options: queue,
        priority, countdown (seconds), eta (ISO 8601), expires (seconds), id."""
        body = dict(options, name=name, args=list(args))
        return self._call("POST", "/api/v1/tasks", body)["id"]

    def get(self, task_id, wait=0):
        """The task as a dict (state, result, errors...). With `wait` (seconds, up to 30),
        returns as soon as the task is final or when the time runs out."""
        path = "/api/v1/tasks/" + urllib.request.quote(task_id, safe="")
        if wait:
            path += "?wait=%gs" % wait
        return self._call("GET", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("RUNQ_URL", "http://127.0.0.1:8910"))
    parser.add_argument("--queue")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")
    parser.add_argument("task")
    parser.add_argument("args", nargs="*", help="arguments, each parsed as JSON")
    opts = parser.parse_args()

    def parse(a):
        try:
            return json.loads(a)
        except ValueError:
            return a  # a bare word is a string

    client = RunqClient(opts.url, os.environ.get("RUNQ_API_TOKEN"))
    extra = {"queue": opts.queue} if opts.queue else {}
    try:
        task_id = client.enqueue(opts.task, [parse(a) for a in opts.args], **extra)
        task = client.get(task_id, wait=min(opts.timeout, 30))
    except (RuntimeError, OSError) as e:
        print("http_client: %s" % e, file=sys.stderr)
        return 2
    if task["state"] == "success":
        print(json.dumps(task["result"]))
        return 0
    print("task %s is %s: %s" % (task_id, task["state"], task.get("error") or "not finished"),
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
