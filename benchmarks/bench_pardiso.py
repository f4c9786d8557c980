"""Shift-invert for xxz_bubble: the kernel's SuperLU (METIS order) against Intel PARDISO, 1 and 2 threads.

The same realization (L spins + a bubble of n_GOE = 4, W = 2, seed 1) is
diagonalized near the spectral centre (k = 50 pairs, as the kernel asks
ARPACK for) by

* superlu: the kernel's path (``kernels.bubble.xxz_bubble._shift_invert``: METIS
  nested-dissection order, SuperLU in symmetric mode, ARPACK);
* pardiso: PARDISO through pypardiso (MKL; real symmetric indefinite,
  mtype -2, upper triangle, its own METIS order), the same ARPACK call.

Each row runs in a fresh process (so MKL's thread count and the peak
resident memory are its own) and reports the factorization time, the
ARPACK time with the solves, CPU time, peak memory, and the largest
eigenvalue difference to the SuperLU row of the same size. Not a
dependency of the project: ``pip install pypardiso`` (pulls MKL, x86-64 only).

Usage: python benchmarks/bench_pardiso.py [--L 12 14 16] [--threads 1 2]
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

K = 50


def one(L: int, solver: str) -> dict:
    import numpy as np
    import scipy.sparse as sp
    from scipy.sparse.linalg import LinearOperator, eigsh

    from kernels.bubble import xxz_bubble as kb

    p = kb.Params(L=L, W=2.0, n_goe=4, method="shift_invert")
    H = kb.hamiltonian(p, kb.sample(p, np.random.default_rng(1)))
    dim = H.shape[0]
    w0, c0 = time.perf_counter(), time.process_time()
    if solver == "superlu":
        E, _, _ = kb._shift_invert(H, K)
        factor = float("nan")
    else:
        import pypardiso

        centre = kb._spectral_centre(H)
        A = sp.triu(H - centre * sp.identity(dim, format="csr"), format="csr")
        A.sort_indices()
        ps = pypardiso.PyPardisoSolver(mtype=-2)
        f0 = time.perf_counter()
        ps.factorize(A)
        factor = time.perf_counter() - f0
        b = np.empty((dim, 1))

        def solve(x):
            b[:, 0] = x
            return ps.solve(A, b)[:, 0]

        op = LinearOperator((dim, dim), matvec=solve, dtype=np.float64)
        E = eigsh(H, k=K + kb.SPARE, sigma=centre, which="LM", OPinv=op, v0=kb._start_vector(dim), tol=0,
                  return_eigenvectors=False)  # fmt: skip
        E = np.sort(E[np.argsort(np.abs(E - centre))[:K]])
        ps.free_memory(everything=True)
    return {"dim": dim, "wall": time.perf_counter() - w0, "cpu": time.process_time() - c0, "factor": factor,
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, "E": [float(e) for e in np.sort(E)]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, nargs="+", default=[12, 14, 16])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1])))
        return
    print(f"# {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; n_GOE = 4, "
          f"k = {K} pairs nearest the centre; a fresh process per row")  # fmt: skip
    print(f"{'L':>3} {'dim':>7} {'solver':>8} {'thr':>4} {'total s':>8} {'factor s':>9} {'CPU s':>8} {'peak GB':>8} "
          f"{'max |dE| vs superlu':>20}")  # fmt: skip
    for L in args.L:
        ref = None
        for solver in ("superlu", "pardiso"):
            for t in args.threads if solver == "pardiso" else [1]:
                env = {**os.environ, **{v: str(t) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
                out = subprocess.run([sys.executable, __file__, "--one", str(L), solver], capture_output=True, text=True, env=env)
                if out.returncode != 0:
                    print(f"{L:>3} {'':>7} {solver:>8} {t:>4}  failed: {out.stderr.strip().splitlines()[-1]}")
                    continue
                r = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("{")))
                ref = ref or r["E"]
                dE = max(abs(a - b) for a, b in zip(ref, r["E"]))
                print(f"{L:>3} {r['dim']:>7} {solver:>8} {t:>4} {r['wall']:>8.1f} {r['factor']:>9.1f} {r['cpu']:>8.1f} "
                      f"{r['peak_gb']:>8.2f} {dE:>20.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
