"""Each kernel's declared cost model against measured CPU time per realization, one thread.

``cost(params)`` of every kernel estimates the CPU seconds of one realization on
the reference machine; the engine refuses points whose estimate exceeds the
time limit and ``ensemble validate`` sums it into CPU-hours. This script runs
realizations at several sizes per kernel (process time, after a warm-up) and
prints measured, estimated and their ratio, so the model's constants can be
checked (and recalibrated) on any machine.

    python benchmarks/bench_cost.py [--quick] [--kernel NAME]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ensemble.spec.experiment import resolve_times  # noqa: E402
from ensemble.models import kernel_plugin
from kernels._interface import load  # noqa: E402

LOG = {"start": 0.5, "stop": 1000.0, "num": 34}


def times(stop, step=None, num=30):
    return resolve_times({"start": 0.5, "stop": stop, "num": num}, step)


#: kernel -> list of parameter dicts (quick subset first)
CASES = {
    "anderson_trajectory": [dict(L=50, times=times(200.0, 0.05)), dict(L=100, times=times(1000.0, 0.05)),
                            dict(L=200, times=times(300.0, 0.05)), dict(L=100, times=times(1000.0, 0.05), unraveling="jumps")],
    "xxz_trajectory": [dict(L=8, W=4.0, times=times(1000.0, 0.05)), dict(L=12, W=4.0, times=times(100.0, 0.05)),
                       dict(L=12, W=4.0, times=times(1000.0, 0.05), unraveling="jumps"),
                       dict(L=14, W=8.0, times=times(100.0, 0.05)), dict(L=16, W=4.0, times=times(500.0, 0.05), unraveling="jumps")],
    "xxz_exact": [dict(L=6, W=3.0, times=times(20.0, 0.05, 12)), dict(L=8, W=3.0, times=times(20.0, 0.05, 12)),
                  dict(L=8, W=3.0, lindblad=False, times=times(20.0, 0.05, 12)), dict(L=10, W=3.0, times=times(5.0, 0.05, 8))],
    "rmt_bath": [dict(l_b=6, n_lioms=2), dict(l_b=6, n_lioms=4), dict(l_b=8, n_lioms=3), dict(l_b=6, n_lioms=0)],
    "xxz_bubble": [dict(L=8, n_goe=4), dict(L=10, n_goe=4), dict(L=12, n_goe=4), dict(L=14, n_goe=0)],
    "coupled_chains": [dict(l=4, times=times(50.0)), dict(l=6, times=times(50.0)), dict(l=7, times=times(50.0)),
                       dict(l=5, diagonal=True, times=times(50.0)), dict(l=6, config="ladder", J_int=5.0, times=times(50.0))],
    "boson_impurity": [dict(L=9, times=times(200.0)), dict(L=12, times=times(200.0)), dict(L=12, U=2.5, entropy=False, times=times(100.0))],
    "boson_tebd": [dict(L=10, chi_max=16, dt=0.05, times=(1.0, 2.0)), dict(L=16, chi_max=32, dt=0.05, times=(2.0, 4.0))],
}


def measure(kernel, params, repeats: int) -> float:
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(repeats):
        draws = kernel.sample(params, rng)
        t0 = time.process_time()
        kernel.realize(params, draws)
        best = min(best, time.process_time() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="two sizes per kernel")
    ap.add_argument("--kernel", action="append", help="only these kernels")
    args = ap.parse_args(argv)
    print(f"{'kernel':<22}{'parameters':<58}{'measured s':>12}{'estimate s':>12}{'ratio':>8}")
    ratios = []
    with threadpool_limits(limits=1):
        for name, cases in CASES.items():
            if args.kernel and name not in args.kernel:
                continue
            kernel = load(kernel_plugin(name).value)
            kernel.run(kernel.warmup_params(), np.random.default_rng(0))  # compile / load the cache
            for kw in cases[: 2 if args.quick else None]:
                p = kernel.Params(**kw)
                t = measure(kernel, p, repeats=3 if kernel.cost(p) < 2 else 1)
                est = kernel.cost(p)
                ratios.append(est / t)
                shown = ", ".join(f"{k}={v}" for k, v in kw.items() if k != "times")
                if getattr(p, "times", None):
                    shown += f", t<={max(p.times):g}"
                print(f"{name:<22}{shown[:57]:<58}{t:>12.3g}{est:>12.3g}{est / t:>8.2f}", flush=True)
    r = np.array(ratios)
    print(f"\nestimate / measured over {r.size} cases: median {np.median(r):.2f}, range {r.min():.2f}..{r.max():.2f}")


if __name__ == "__main__":
    main()
