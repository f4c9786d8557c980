"""One big realization: LAPACK driver and BLAS threads for the dense eigensolver of rmt_bath.

For each dimension, each ``scipy.linalg.eigh`` driver ("evr", scipy's default
and the kernel's before this benchmark; "evd", divide and conquer) and each
thread count, a fresh process (so the BLAS pool is sized at start, as on a
worker) diagonalizes the same GOE-like matrix and reports wall time, CPU time
and its peak resident memory. A last column runs one whole rmt_bath
realization (the kernel as shipped) at that size.

CPU time is process time (all threads); on a shared machine wall time can be
far above it, so the load average is printed first. Eigenvalues of the two
drivers agree to rounding; eigenvectors agree up to sign (and to a basis
inside degenerate eigenspaces, which the kernel never depends on).

Usage: python benchmarks/bench_threads.py [--log2 11 12 13] [--threads 1 2] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time


def one(log2: int, driver: str, repeats: int) -> dict:
    """In this (fresh) process: eigh of a dim = 2**log2 symmetric matrix, best of ``repeats``."""
    import numpy as np
    from scipy.linalg import eigh

    n = 2**log2
    if driver != "kernel":  # (the kernel row holds only what the kernel allocates, for its peak memory)
        rng = np.random.default_rng(log2)
        A = rng.normal(size=(n, n))
        A = (A + A.T) / 2
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        if driver == "kernel":
            from kernels.ipr import rmt_bath as k

            p = k.Params(n_lioms=log2 - 6, l_b=6, n_states=1)
            d = k.sample(p, np.random.default_rng(0))
            w0, c0 = time.perf_counter(), time.process_time()
            k.realize(p, d)
        else:
            H = A.copy()
            w0, c0 = time.perf_counter(), time.process_time()
            eigh(H, overwrite_a=True, check_finite=False, driver=driver)
            del H
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return {"wall": best_wall, "cpu": best_cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--log2", type=int, nargs="+", default=[11, 12])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], args.repeats)))
        return
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"best of {args.repeats}; a fresh process per row")  # fmt: skip
    print(f"{'dim':>6} {'what':>12} {'threads':>7} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}  vs evr, 1 thread (wall)")
    for log2 in args.log2:
        base = None
        for what in ("evr", "evd", "kernel"):
            for t in args.threads:
                env = {**os.environ, **{v: str(t) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
                out = subprocess.run([sys.executable, __file__, "--one", str(log2), what, "--repeats", str(args.repeats)],
                                     capture_output=True, text=True, check=True, env=env)  # fmt: skip
                r = json.loads(out.stdout.strip().splitlines()[-1])
                if what == "evr" and t == 1:
                    base = r["wall"]
                label = "rmt_bath" if what == "kernel" else f"eigh {what}"
                print(f"{2**log2:>6} {label:>12} {t:>7} {r['wall']:>8.2f} {r['cpu']:>8.2f} {r['peak_mb']:>8.0f}  "
                      f"{base / r['wall']:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
