"""Tasks sized by the engine against a hand-picked batch size: a one-point spec on the local cluster.

The spec is issue 24's: anderson_trajectory at L = 60, W = 4, 400 realizations to t = 10^3, one point, no
batch_size. Three ways to cut it into tasks, each timed as a whole run on a 2-worker local cluster (start-up
excluded, warm workers), best of ``--repeats``:

* ``automatic``: no batch_size (tasks sized from the cost model: at least 4 per worker);
* ``batch_size = 50``: a good explicit choice (8 tasks for 2 workers);
* ``batch_size = 400``: the whole point in one task (what a spec without batch_size did before).

Printed: wall and CPU (this process and the workers) per run and the ratio to the explicit choice; the target is
automatic <= 1.2x. The tables of all three are checked to be bit-identical.

Usage: python benchmarks/bench_batching.py [--repeats 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import cpu_with_children, one_thread

one_thread()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SPEC = """
name = "one_point"
kernel = "anderson_trajectory"
seed = 3
realizations = 400
{batch}
[params]
L = 60
W = 4.0
[times]
start = 1.0
stop = 1000.0
num = 16
"""


def main() -> None:
    from ensemble import MemoryStore, execute, make_executor, parse_spec
    from ensemble.running.scheduling import schedule
    from tests.helpers import assert_tables_identical

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cases = {"automatic": "", "batch_size = 50": "batch_size = 50", "batch_size = 400": "batch_size = 400"}
    with make_executor("local", workers=args.workers) as ex:
        execute(parse_spec(SPEC.format(batch="realizations = 8\nbatch_size = 1").replace("realizations = 400\n", "")),
                MemoryStore(), ex)  # fmt: skip  (warm the workers)
        rows, tables = {}, {}
        for name, batch in cases.items():
            exp = parse_spec(SPEC.format(batch=batch))
            best = (float("inf"), 0.0, 0)
            for _ in range(args.repeats):
                t0, c0 = time.perf_counter(), cpu_with_children()
                result = execute(exp, MemoryStore(), ex)
                wall, cpu = time.perf_counter() - t0, cpu_with_children() - c0
                best = min(best, (wall, cpu, result.tasks_run))
            rows[name], tables[name] = best, result.tables
            if name == "automatic":
                print(f"automatic schedule: {schedule(exp, ex.workers).tasks} tasks on {ex.workers} workers")
    ref = rows["batch_size = 50"][0]
    print(f"{'tasks':<18}{'tasks':>6}{'wall s':>9}{'CPU s':>9}{'wall / explicit':>17}")
    for name, (wall, cpu, tasks) in rows.items():
        print(f"{name:<18}{tasks:>6}{wall:>9.2f}{cpu:>9.2f}{wall / ref:>17.2f}")
    for name in cases:
        assert_tables_identical(tables[name], tables["automatic"])
    print("tables: bit-identical across the three")


if __name__ == "__main__":
    main()
