"""CPU time to a given standard error: the exact noise average (anderson_exact) against trajectories
(anderson_trajectory, kicks and jumps) at L = 100, the paper's Fig. 4(a) setting.

Both give the same disorder-and-noise average; trajectories add the noise's variance, the exact average
costs more per realization. The figure of merit is CPU seconds x variance per realization, i.e. the CPU
time to reach one fixed standard error, for I_r(t) and h(t) at late times (jackknife errors through the
engine, one thread, process time).

    python benchmarks/bench_exact_average.py [--W 8] [--stop 1000] [--n-exact 60] [--n-traj 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ensemble import MemoryStore, execute, parse_spec  # noqa: E402

SPEC = """
kernel = "{kernel}"
seed = 11
realizations = {n}
batch_size = {n}
block_size = 1
[params]
L = 100
W = {W}
{extra}
[times]
start = 0.5
stop = {stop}
num = 34
[fit]
min_start = 10.0
"""


def measure(kernel, n, W, stop, extra=""):
    exp = parse_spec(SPEC.format(kernel=kernel, n=n, W=W, stop=stop, extra=extra))
    execute(parse_spec(SPEC.format(kernel=kernel, n=2, W=W, stop=10.0, extra=extra)), MemoryStore())  # compile
    t0 = time.process_time()
    tables = execute(exp, MemoryStore()).tables
    cpu = (time.process_time() - t0) / n
    s = tables["summary"]
    out = {}
    for obs in ("Ir", "h"):
        rows = s[s.observable == obs].sort_values("t")
        late = rows[rows.t >= stop / 10]
        out[obs] = (late["mean"].to_numpy(), late["sem"].to_numpy() * np.sqrt(n))  # per-realization spread
    return cpu, out, late.t.to_numpy()


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--W", type=float, default=8.0)
    ap.add_argument("--stop", type=float, default=1000.0)
    ap.add_argument("--n-exact", type=int, default=60)
    ap.add_argument("--n-traj", type=int, default=300)
    args = ap.parse_args(argv)
    with threadpool_limits(limits=1):
        runs = {
            "exact average": measure("anderson_exact", args.n_exact, args.W, args.stop),
            "trajectories, kicks": measure("anderson_trajectory", args.n_traj, args.W, args.stop),
            "trajectories, jumps": measure("anderson_trajectory", args.n_traj, args.W, args.stop, 'unraveling = "jumps"'),
        }
    t = runs["exact average"][2]
    print(f"L = 100, W = {args.W:g}, t <= {args.stop:g}; late times t >= {args.stop / 10:g} ({t.size} sample times)\n")
    print(f"{'method':<22}{'CPU s/real':>11}{'spread Ir':>12}{'spread h':>11}{'CPU to equal sem, Ir':>22}{'h':>8}")
    ref_cpu, ref = runs["exact average"][0], runs["exact average"][1]
    for name, (cpu, out, _) in runs.items():
        cost = {o: cpu * np.median(out[o][1] ** 2) for o in out}
        ref_cost = {o: ref_cpu * np.median(ref[o][1] ** 2) for o in ref}
        print(f"{name:<22}{cpu:>11.4f}{np.median(out['Ir'][1]):>12.3g}{np.median(out['h'][1]):>11.3g}"
              f"{cost['Ir'] / ref_cost['Ir']:>21.1f}x{cost['h'] / ref_cost['h']:>7.1f}x")  # fmt: skip
    print("\n(spread: sem x sqrt(N), the error one realization carries; the last columns are CPU seconds x spread^2"
          " relative to the exact average: how much more CPU a method needs for the same standard error)")
    diff = {o: (runs["trajectories, kicks"][1][o][0] - ref[o][0]) /
            np.hypot(runs["trajectories, kicks"][1][o][1] / np.sqrt(args.n_traj), ref[o][1] / np.sqrt(args.n_exact))
            for o in ("Ir", "h")}  # fmt: skip
    print(f"kicks - exact in units of the combined error at the late times: Ir {np.round(diff['Ir'], 1)}, h {np.round(diff['h'], 1)}")


if __name__ == "__main__":
    main()
