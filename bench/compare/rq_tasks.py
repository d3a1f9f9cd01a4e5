"""Job functions for the RQ side of the comparison (imported by the RQ workers)."""
import os

import redis

from peer_common import mono_us

_lat = None


def noop():
    return None


def stamp(enqueued_us):
    latency = mono_us() - enqueued_us
    global _lat
    if _lat is None:
        _lat = redis.Redis(host="127.0.0.1", port=int(os.environ["BENCH_REDIS_PORT"]))
    _lat.rpush("bench:lat", latency)
