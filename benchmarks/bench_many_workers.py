"""Many workers on a small machine: does the scheduler keep every worker busy, and what does the driver cost?

Two measurements, each on a local cluster of N single-threaded worker processes (default 16; two cores
can host them because their tasks sleep instead of computing):

* **utilization**: the whole engine (``ensemble.execute`` into an in-memory store) on a kernel whose
  realization sleeps ``--delay`` seconds, one realization per task. The ideal wall time is
  tasks x delay / N; utilization = ideal / measured, idle fraction = 1 - utilization. The executor's
  window (futures in flight) is 4 per worker.
* **driver cost per task**: ``DaskExecutor.map`` of a no-op over ``--tasks`` tasks (default 10^5) drawn from
  a generator: wall time, the driver's CPU seconds per completed task (the scheduler runs in the driver's
  process, so its work is included), the most tasks drawn ahead of those completed (bounded by the window:
  futures are streamed, not all held), and the driver's peak RSS growth.

The last lines extrapolate to 1000 workers: with tasks of T seconds, completions arrive at 1000/T per
second, each costing the driver (and its in-process scheduler) the measured CPU.

Usage: python benchmarks/bench_many_workers.py [--workers 16] [--tasks 100000] [--delay 0.02] [--sleep-tasks 1600]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from _common import one_thread

one_thread()
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GATED = """
kernel = "module:tests.ensemble.gated_kernel"
seed = 1
realizations = {n}
batch_size = 1
block_size = 1
[params]
delay = {delay}
[sweep]
a = [1.0, 2.0]
[times]
values = [1.0, 2.0]
"""


class _Item:
    kernel = "item"

    def __init__(self, i):
        self.i = i
        self.name = f"{i:07d}"


def _identity(x):
    return x


def main() -> None:
    import psutil
    from distributed import Client

    from cluster import DaskExecutor, local_cluster
    from ensemble import MemoryStore, execute, parse_spec

    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--delay", type=float, default=0.02)
    ap.add_argument("--sleep-tasks", type=int, default=1600)
    args = ap.parse_args()

    t0 = time.perf_counter()
    cluster = local_cluster(args.workers, dashboard=False)
    with DaskExecutor(Client(cluster), name="bench", owns=cluster) as ex:
        ex.client.wait_for_workers(args.workers)
        print(f"{args.workers} worker processes on {os.cpu_count()} cores, started in {time.perf_counter() - t0:.1f} s; "
              f"window {ex.window} futures")  # fmt: skip

        exp = parse_spec(GATED.format(n=args.sleep_tasks // 2, delay=args.delay))
        execute(parse_spec(GATED.format(n=2 * args.workers, delay=args.delay)), MemoryStore(), ex)  # warm every worker
        t0 = time.perf_counter()
        result = execute(exp, MemoryStore(), ex)
        wall = time.perf_counter() - t0
        ideal = result.tasks_run * args.delay / args.workers
        print(f"utilization: {result.tasks_run} tasks of {args.delay * 1e3:.0f} ms sleep in {wall:.2f} s wall "
              f"(ideal {ideal:.2f} s): utilization {ideal / wall:.2f}, idle fraction {1 - ideal / wall:.2f}")

        drawn = {"n": 0}

        def items():
            for i in range(args.tasks):
                drawn["n"] += 1
                yield _Item(i)

        rss0 = psutil.Process().memory_info().rss
        peak, done, ahead = rss0, 0, 0
        t0, c0 = time.perf_counter(), time.process_time()
        for _task, _result in ex.map(_identity, items()):
            done += 1
            ahead = max(ahead, drawn["n"] - done)
            if done % 5000 == 0:
                peak = max(peak, psutil.Process().memory_info().rss)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = max(peak, psutil.Process().memory_info().rss)
        per_task = cpu / done
        print(f"driver: {done} no-op tasks in {wall:.1f} s wall ({done / wall:.0f} tasks/s), driver CPU "
              f"{per_task * 1e3:.2f} ms per task (its in-process scheduler included); at most {ahead} tasks drawn "
              f"ahead of those done (window {ex.window}); driver RSS grew by {(peak - rss0) / 2**20:.0f} MiB")
        for seconds in (10, 60, 300):
            load = 1000 / seconds * per_task
            print(f"extrapolated to 1000 workers, tasks of {seconds} s: {1000 / seconds:.0f} completions/s, "
                  f"{100 * load:.1f}% of one driver core")


if __name__ == "__main__":
    main()
