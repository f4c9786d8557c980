"""Engine overhead on cheap realizations: the engine against a plain loop and a multiprocessing.Pool.

The kernel is the Anderson trajectory at L = 4 for one step (tens of
microseconds per realization), so everything but the physics is measured:
seeding, the per-realization checks and the streaming reduction.

* plain loop: for each realization, its generator (the same SeedSequence the
  engine uses), ``sample`` + ``realize``, and running sums of every observable
  (what a script would do, no checks, no blocks);
* serial engine: :func:`ensemble.running.tasks.run_task` over the same realizations
  (per-block moments, finiteness checks);
* Pool: ``multiprocessing.Pool(2)`` mapping the plain loop (or ``run_task``)
  over the tasks' batches;
* Dask: ``run_task`` through a 2-worker local cluster's executor (start-up
  and warm-up not counted), and the whole engine, ``ensemble.execute`` into
  an in-memory store (with the tables and fits at the end).

Each row gives wall and CPU time per realization (CPU: this process and
every live descendant, so the Pool's and Dask's workers are counted; Dask's
scheduler threads run in this process). The load average is
printed first: wall times on a shared machine can be several times the CPU.

Usage: python benchmarks/bench_overhead.py [--realizations 200000] [--batch 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import time

import numpy as np
from _common import cpu_with_children

SPEC = """
name = "overhead"
kernel = "anderson_trajectory"
seed = 7
realizations = {n}
batch_size = {batch}
block_size = {block}
[params]
L = 4
W = 3.0
[times]
values = [0.05]
"""


def plain_batch(args) -> tuple[int, float]:
    """The plain loop over one batch: generator, draw, evolve, running sums."""
    from ensemble.spec.seeding import realization_rng
    from kernels.front import anderson_trajectory as k

    params, seed, key, indices = args
    sums: dict[str, np.ndarray] = {}
    for r in indices:
        obs = k.realize(params, k.sample(params, realization_rng(seed, key, r)))
        for name, v in obs.items():
            if name in sums:
                sums[name] += v
            else:
                sums[name] = np.array(v, dtype=float)
    return len(indices), float(sum(v.sum() for v in sums.values()))


def timed(fn) -> tuple[float, float]:
    """(wall, CPU of this process and its live descendants) of one call."""
    c0, w0 = cpu_with_children(), time.perf_counter()
    fn()
    return time.perf_counter() - w0, cpu_with_children() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realizations", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from ensemble import MemoryStore, execute, make_executor, parse_spec
    from ensemble.running.tasks import plan, run_task
    from kernels.front import anderson_trajectory as k

    n = args.realizations
    exp = parse_spec(SPEC.format(n=n, batch=args.batch, block=max(1, args.batch // 5)))
    tasks = list(plan(exp))
    batches = [(t.params, t.seed, t.key, t.indices) for t in tasks]
    k.realize(k.warmup_params(), k.sample(k.warmup_params(), np.random.default_rng(0)))
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{n} realizations of anderson_trajectory L = 4, one step; {len(tasks)} tasks of {args.batch}")  # fmt: skip

    rows: dict[str, list[tuple[float, float]]] = {}

    def record(name, fn):
        rows.setdefault(name, []).append(timed(fn))

    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool, make_executor("local", workers=2) as ex:
        pool.map(plain_batch, batches[:2])  # imports and Numba cache loaded in both children
        ex.warm("kernels.front.anderson_trajectory")
        for _ in range(args.repeats):
            record("plain loop", lambda: [plain_batch(b) for b in batches])
            record("serial engine", lambda: [run_task(t) for t in tasks])
            record("Pool(2), plain loop", lambda: pool.map(plain_batch, batches, chunksize=1))
            record("Pool(2), run_task", lambda: pool.map(run_task, tasks, chunksize=1))
            record("Dask, run_task", lambda: list(ex.map(run_task, tasks)))
            record("Dask, execute+tables", lambda: execute(exp, MemoryStore(), ex))
    print(f"{'path':<22} {'wall us/real':>13} {'(range)':>17} {'CPU us/real':>12}  (CPU: all processes, idle ones too)")
    best = {}
    for name, vals in rows.items():
        w = np.array([v[0] for v in vals]) / n * 1e6
        c = np.array([v[1] for v in vals]) / n * 1e6
        best[name] = w.min()
        print(f"{name:<22} {w.min():>13.1f} {f'({w.min():.1f}-{w.max():.1f})':>17} {c.min():>12.1f}")
    print(f"best of {args.repeats}: serial engine / plain loop {best['serial engine'] / best['plain loop']:.2f}x; "
          f"Dask / Pool (both run_task) {best['Dask, run_task'] / best['Pool(2), run_task']:.2f}x; "
          f"whole engine on Dask / Pool of plain loops {best['Dask, execute+tables'] / best['Pool(2), plain loop']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
