"""A catalog query over many runs: 100 small run directories queried as one, against the same query on one run.

    python benchmarks/bench_catalog.py [--runs 100]

Each run is a real (small) run of the Anderson kernel; the catalog query joins
the fits of every run with its ``runs`` row. Prints the time to open the
catalog and to run each query (median of 5), and the rows scanned.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import ensemble  # noqa: E402
from ensemble.store.query import connect  # noqa: E402

SPEC = """
kernel = "anderson_trajectory"
seed = {seed}
realizations = 8
[params]
L = 12
[sweep]
W = [2.0, 4.0, 6.0]
[times]
start = 0.5
stop = 40.0
num = 12
[fit]
min_start = 2.0
"""

QUERIES = {
    "front slopes of every run": "SELECT run, W, invA, invA_err FROM fits WHERE fit = 'front'",
    "Ir at one time, every run": "SELECT run, W, mean, sem FROM summary WHERE observable = 'Ir' AND t = 40.0",
    "mean over runs per W": "SELECT W, avg(mean) AS m, count(*) AS runs FROM summary WHERE observable = 'h' AND t = 40.0 GROUP BY W",
    "join with provenance": "SELECT r.seed, f.W, f.invA FROM fits f JOIN runs r USING (run) WHERE f.fit = 'front'",
}


def median_time(con, sql, reps=5):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        n = len(con.sql(sql).df())
        ts.append(time.perf_counter() - t0)
    return sorted(ts)[reps // 2], n


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="catalog-"))
    t0 = time.perf_counter()
    for i in range(args.runs):
        ensemble.run(SPEC.format(seed=i), out=root / f"run{i:03d}", executor="serial")
    print(f"made {args.runs} runs in {time.perf_counter() - t0:.1f} s under {root}")
    rows = sum(len(ensemble.open_run(root / f"run{i:03d}").summary) for i in range(args.runs))
    t0 = time.perf_counter()
    con = connect(root)
    opened = time.perf_counter() - t0
    one = connect(root / "run000")
    print(f"catalog of {args.runs} runs ({rows} summary rows) opened in {1000 * opened:.0f} ms\n")
    print(f"{'query':<30}{'catalog ms':>12}{'rows':>8}{'one run ms':>12}{'ratio':>8}")
    for name, sql in QUERIES.items():
        tc, n = median_time(con, sql)
        if "runs r" in sql:
            print(f"{name:<30}{1000 * tc:>12.1f}{n:>8}{'':>12}{'':>8}")
            continue
        t1, _ = median_time(one, sql.replace("SELECT run, ", "SELECT "))
        print(f"{name:<30}{1000 * tc:>12.1f}{n:>8}{1000 * t1:>12.1f}{tc / t1:>8.1f}")


if __name__ == "__main__":
    main()
