#!/usr/bin/python3
"""Prints run-compare's table from its JSON lines: one row per system, runq's ratio to each
peer in brackets (throughput: runq ÷ peer; latency: peer ÷ runq; > 1 means runq is better)."""
import json
import sys

COLUMNS = [("w1", "W1 enqueue/s", "tasks_per_s", True),
           ("w1-batch", "W1 batch/s", "tasks_per_s", True),
           ("w2", "W2 drain/s", "tasks_per_s", True),
           ("w3", "W3 p50 ms", "p50_ms", False),
           ("w3", "W3 p99 ms", "p99_ms", False)]


def load(path):
    runs = {}
    for line in open(path):
        rec = json.loads(line)
        runs.setdefault(rec["system"], {})[rec["workload"]] = rec.get("run") or {"error": True}
    return runs


def cell(runs, system, workload, key, higher_better):
    run = runs.get(system, {}).get(workload)
    if run is None:
        return "-"
    if "error" in run or key not in run:
        return "failed"
    v = run[key]
    text = f"{v:,.0f}" if higher_better else f"{v:.3f}"
    if run.get("results") is False:
        text = "*" + text  # this peer keeps no results
    ours = runs.get("runq", {}).get(workload, {}).get(key)
    if system != "runq" and ours and v:
        ratio = ours / v if higher_better else v / ours
        text += f" ({ratio:.1f}×)"
    return text


def main():
    runs = load(sys.argv[1])
    systems = [s for s in runs if s != "redis-benchmark"]
    rows = [["system"] + [c[1] for c in COLUMNS]]
    for s in systems:
        rows.append([s] + [cell(runs, s, *c[0:1], c[2], c[3]) for c in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print("  ".join([r[0].ljust(widths[0])] + [v.rjust(widths[i]) for i, v in enumerate(r) if i > 0]))
        if n == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    print("(in brackets: runq's advantage over that peer, runq ÷ peer for rates, peer ÷ runq for latencies;")
    print(" * = that peer keeps no results, so its W2 does less work than runq's)")
    no_results = runs.get("runq", {}).get("w2-ignore-result", {}).get("tasks_per_s")
    if no_results:
        line = f"runq W2 with ignore_result: {no_results:,.0f}/s"
        sk = runs.get("sidekiq", {}).get("w2", {}).get("tasks_per_s")
        if sk:
            line += f" ({no_results / sk:.1f}× Sidekiq's W2, which keeps no results either)"
        print(line)
    tuned = runs.get("runq", {}).get("w2-tuned", {}).get("tasks_per_s")
    if tuned:
        default = runs.get("runq", {}).get("w2", {}).get("tasks_per_s")
        line = f"runq W2 tuned (fixed --prefetch): {tuned:,.0f}/s"
        if default:
            line += f"; the table's W2 uses the default options ({default / tuned:.2f}× tuned)"
        print(line)
    ceiling = runs.get("redis-benchmark", {})
    if ceiling:
        print("redis-benchmark ceiling (requests/s): " +
              ", ".join(f"{k} {v['tasks_per_s']:,}" for k, v in ceiling.items()))
        w2 = runs.get("runq", {}).get("w2", {}).get("tasks_per_s")
        lpush = ceiling.get("LPUSH -P 1", {}).get("tasks_per_s")
        if w2 and lpush:
            print(f"runq's W2 drain is {w2 / lpush:.2f}× one un-pipelined LPUSH per task")


if __name__ == "__main__":
    main()
