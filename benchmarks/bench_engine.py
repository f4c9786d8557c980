"""Engine throughput: the serial loop vs a 2-worker local Dask cluster, same experiment.

The kernel is the Anderson trajectory with the run length calibrated so one
realization costs about 10 ms. The cluster's start-up and the one-off
loading of the Numba cache on the workers are timed separately. Tasks are sized to run for about half a
second (Dask costs ~3 ms per task on a 2-core machine). Both runs go
through ``ensemble.run`` into an in-memory store, and their tables are
checked to be bit-identical.

Usage: python benchmarks/bench_engine.py [--realizations 1000] [--target-ms 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from ensemble import MemoryStore, make_executor, parse_spec, execute
from ensemble.running.tasks import plan
from kernels.front import anderson_trajectory as k

SPEC = """
name = "bench"
kernel = "anderson_trajectory"
seed = 1
realizations = {realizations}
batch_size = {batch}
block_size = {block}
[params]
L = 40
[sweep]
W = [3.0, 8.0]
[times]
start = 0.5
stop = {stop}
num = 12
"""


def calibrate(target_ms: float) -> float:
    """Final time t such that one L = 40 realization costs about target_ms."""
    k.realize(k.warmup_params(), k.sample(k.warmup_params(), np.random.default_rng(0)))
    stop = 100.0
    for _ in range(3):
        p = k.Params(L=40, W=3.0, times=tuple(np.round(np.geomspace(0.5, stop, 12) / 0.05) * 0.05))
        d = k.sample(p, np.random.default_rng(0))
        t0 = time.perf_counter()
        for _ in range(20):
            k.realize(p, d)
        per = (time.perf_counter() - t0) / 20
        stop = round(stop * target_ms / (per * 1e3) / 0.05) * 0.05
    return stop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--realizations", type=int, default=1000, help="per point (2 points)")
    ap.add_argument("--target-ms", type=float, default=10.0)
    args = ap.parse_args()
    stop = calibrate(args.target_ms)
    batch = max(1, int(500 / args.target_ms))
    exp = parse_spec(SPEC.format(realizations=args.realizations, batch=batch, block=batch // 5 or 1, stop=stop))
    n = exp.total_realizations
    tasks = list(plan(exp))
    print(f"# {platform.machine()}, {os.cpu_count()} cores; {n} realizations, t_max = {stop:g}, {len(tasks)} tasks of {len(tasks[0].indices)}")

    serial = execute(exp, MemoryStore())
    print(f"serial loop:      {serial.seconds:7.2f} s  {serial.rate:7.1f} realizations/s  ({1e3 / serial.rate:.1f} ms each)")

    t0 = time.perf_counter()
    with make_executor("local", workers=2) as ex:
        startup = time.perf_counter() - t0
        t0 = time.perf_counter()
        ex.warm("kernels.front.anderson_trajectory")
        warm = time.perf_counter() - t0
        dask = execute(exp, MemoryStore(), ex)
    print(f"2 Dask workers:   {dask.seconds:7.2f} s  {dask.rate:7.1f} realizations/s")
    print(f"  (not counted: cluster start {startup:.1f} s, Numba warm-up on the workers {warm:.2f} s)")
    print(f"speedup: {serial.seconds / dask.seconds:.2f}x  (with the warm-up counted: {serial.seconds / (dask.seconds + warm):.2f}x)")
    same = all(
        np.array_equal(serial.tables[t][c].to_numpy(dtype=float).view(np.uint64), dask.tables[t][c].to_numpy(dtype=float).view(np.uint64))
        for t in ("summary", "fits")
        for c in serial.tables[t].columns
        if serial.tables[t][c].dtype.kind == "f"
    )  # bit patterns, so that NaN cells (fit kinds without that column) compare equal
    print(f"tables identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
