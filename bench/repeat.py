#!/usr/bin/env python3
"""Runs trail_bench N times with --json and prints, per (peer, workload,
threads), the median and the range of the figures over the runs, so one
noisy run on a shared 2-core machine does not decide the verdict.

  bench/repeat.py [-n 5] [--bin build/release/bench/trail_bench] [-- trail_bench args]
"""
import argparse
import json
import statistics
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--bin", default="build/release/bench/trail_bench")
    ap.add_argument("rest", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    extra = [x for x in a.rest if x != "--"]
    runs = []
    for i in range(a.n):
        out = subprocess.run([a.bin, "--json", *extra], check=False, capture_output=True, text=True)
        try:
            runs.append(json.loads(out.stdout))
        except json.JSONDecodeError:
            sys.exit(f"run {i + 1}: no JSON (exit {out.returncode}): {out.stderr[-500:]}")
        print(f"run {i + 1}/{a.n} done", file=sys.stderr)
    rows = {}
    for run in runs:
        for r in run["results"]:
            rows.setdefault((r["peer"], r["kind"], r["threads"]), []).append(r)

    def stat(vals):
        return f"{statistics.median(vals):>10.1f} [{min(vals):.1f}..{max(vals):.1f}]"

    print(f"{a.n} runs; median [min..max]")
    for (peer, kind, thr), rs in rows.items():
        if kind == "latency":
            cols = " ".join(f"{k}={stat([r['ns'][k] for r in rs])}" for k in ("p50", "p99", "p99.9"))
        else:
            cols = f"lines/s={stat([r['lines_per_s'] for r in rs])}"
            if all(r.get("cpu_s") for r in rs):
                cols += f" lines/CPU-s={stat([r['entries'] / r['cpu_s'] for r in rs])}"
            if kind == "throughput":
                cols += f" dropped(max)={max(r['dropped'] for r in rs)}"
                cols += f" missing(max)={max(r['entries'] - r['lines_in_file'] for r in rs)}"
        print(f"{peer:22} {kind:10} {thr} {cols}")


if __name__ == "__main__":
    main()
