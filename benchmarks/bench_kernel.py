"""Per-step cost of the Anderson-trajectory kernel vs the literal Eq. (B4), one thread.

The literal method (``kernels.front.anderson_trajectory.realize_literal``) propagates
the L x N orbital matrix on sites with a precomputed ``expm(-i tau Q)``: one
dense complex matrix product per step, O(L^2 N). The kernel works in the
eigenbasis of Q (phases, then a rank-one kick), O(L N) per step.

Both are timed as full realizations at two run lengths (the longer one
about half a second longer, best of several runs each); the difference
divided by the difference in steps is the marginal cost of one step, so
set-up (eigendecomposition, expm, sampling at the sample times) cancels.

Usage: python benchmarks/bench_kernel.py [--sizes 50 100 200 400]
"""

from __future__ import annotations

import os

from _common import best, one_thread

one_thread()

import argparse  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from ensemble.spec.experiment import resolve_times  # noqa: E402
from kernels.front import anderson_trajectory as k  # noqa: E402


def per_step(realize, L: int, repeats: int, seconds: float = 0.5) -> float:
    """Marginal seconds per step of ``realize`` at chain length L.

    Run lengths are chosen from a trial so that the longer run lasts about
    ``seconds`` longer than the shorter one; each length takes the best of
    ``repeats`` runs.
    """
    tau = 0.05

    def run_time(steps: int, reps: int) -> float:
        p = k.Params(L=L, W=5.0, tau=tau, times=(steps * tau,))
        d = k.sample(p, np.random.default_rng(L))
        return best(lambda: realize(p, d), reps)

    base = 100
    trial = (run_time(base + 200, 1) - run_time(base, 1)) / 200
    extra = max(200, int(seconds / max(trial, 1e-9)))
    return (run_time(base + extra, repeats) - run_time(base, repeats)) / extra


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400])
    args = ap.parse_args()
    k.realize(k.warmup_params(), k.sample(k.warmup_params(), np.random.default_rng(0)))  # compile
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread; numpy {np.__version__}")
    print(f"{'L':>5} {'literal us/step':>16} {'kernel us/step':>15} {'speedup':>8}")
    with threadpool_limits(limits=1):
        for L in args.sizes:
            lit = per_step(k.realize_literal, L, repeats=3)
            fast = per_step(k.realize, L, repeats=5)
            print(f"{L:>5} {lit * 1e6:>16.2f} {fast * 1e6:>15.3f} {lit / fast:>7.1f}x")
        p = k.Params(L=100, W=5.0, times=resolve_times({"start": 0.5, "stop": 1000.0, "num": 34}, 0.05))
        d = k.sample(p, np.random.default_rng(1))
        t = best(lambda: k.realize(p, d), 3)
        print(f"one realization at L = 100 to t = {p.times[-1]:g} ({p.steps[-1]} steps, {len(p.times)} sample times): {t * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
