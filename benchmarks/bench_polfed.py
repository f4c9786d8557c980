"""Eigenpairs nearest the spectral centre for xxz_bubble: POLFED against shift-invert (SuperLU, PARDISO).

The same realization (L spins + a bubble of n_GOE = 4, W = 2, seed 1, the
50 pairs nearest the centre) goes through the kernel's own paths,
``kernels.bubble.xxz_bubble.central_eigenpairs`` with method

* shift_invert: ARPACK on a METIS-ordered SuperLU of H - centre;
* pardiso: the same on Intel PARDISO's LDL^T (if pypardiso is installed);
* polfed: the Chebyshev filter g_K(H) + block Lanczos + Rayleigh-Ritz of
  :mod:`kernels.numerics.polfed` (no factorization; memory ~ dim x basis).

Each row runs in a fresh process (its peak resident memory is its own) and
reports wall and CPU time of the eigenpair call, the process's peak memory
before the call (interpreter, libraries, H) and during it, POLFED's filter
order K, filtered products of H and basis size, and the largest differences
of eigenvalues and one-site purities to the first row of the same size.

Usage: python benchmarks/bench_polfed.py [--L 12 14 16] [--methods shift_invert pardiso polfed]
       [--lobe 4] [--block 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

K = 50


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def one(L: int, method: str, lobe: float, block: int) -> dict:
    import numpy as np

    from kernels.numerics import polfed as kp
    from kernels.bubble import xxz_bubble as kb

    p = kb.Params(L=L, W=2.0, n_goe=4, n_eig=K, method=method)
    H = kb.hamiltonian(p, kb.sample(p, np.random.default_rng(1)))
    stats = {}
    if method == "polfed":
        kb.POLFED_BLOCK = block

        def recorded(*args, **kw):
            r = kp.polfed(*args, **{**kw, "lobe_levels": lobe})
            stats.update(order=r.order, matvecs=r.matvecs, basis=r.basis)
            return r

        kb.polfed = recorded
    base = _peak_gb()
    w0, c0 = time.perf_counter(), time.process_time()
    E, V, _ = kb.central_eigenpairs(H, K, method)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    gamma = kb.observables(p, E, V)["gamma"]
    res = float(np.max(np.linalg.norm(H @ V - V * E, axis=0)))
    return {"dim": H.shape[0], "nnz": H.nnz, "wall": wall, "cpu": cpu, "base_gb": base, "peak_gb": _peak_gb(),
            "E": E.tolist(), "gamma": gamma.tolist(), "residual": res, **stats}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, nargs="+", default=[12, 14, 16])
    ap.add_argument("--methods", nargs="+", default=["shift_invert", "pardiso", "polfed"])
    ap.add_argument("--lobe", type=float, default=None, help="POLFED levels in the filter's main lobe per wanted level")
    ap.add_argument("--block", type=int, default=None, help="POLFED block size")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], float(args.one[2]), int(args.one[3]))))
        return
    import platform

    import _common  # noqa: F401  (the closing load / CPU line)

    from kernels.numerics import polfed as kp

    lobe = args.lobe or kp.LOBE_LEVELS
    block = args.block or kp.BLOCK
    print(f"# {platform.machine()}, {os.cpu_count()} cores; n_GOE = 4, W = 2, k = {K} pairs nearest the centre; POLFED lobe {lobe:g} levels per wanted level, "
           f"block {block}; {args.threads} BLAS thread(s); a fresh process per row")  # fmt: skip
    print(f"{'L':>3} {'dim':>7} {'method':>12} {'wall s':>8} {'CPU s':>8} {'base GB':>8} {'peak GB':>8} {'K':>6} "
          f"{'products':>9} {'basis':>6} {'|dE|':>9} {'|dgamma|':>9} {'residual':>9}")  # fmt: skip
    env = {**os.environ, **{v: str(args.threads) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                           "NUMBA_NUM_THREADS")}}  # fmt: skip
    for L in args.L:
        ref = None
        for method in args.methods:
            cmd = [sys.executable, __file__, "--one", str(L), method, str(lobe), str(block)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                print(f"{L:>3} {'':>7} {method:>12}  failed: {(out.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
            r = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("{")))
            ref = ref or r
            dE = max(abs(a - b) for a, b in zip(ref["E"], r["E"]))
            dg = max(abs(a - b) for a, b in zip(ref["gamma"], r["gamma"]))
            print(f"{L:>3} {r['dim']:>7} {method:>12} {r['wall']:>8.1f} {r['cpu']:>8.1f} {r['base_gb']:>8.2f} "
                  f"{r['peak_gb']:>8.2f} {r.get('order', ''):>6} {r.get('matvecs', ''):>9} {r.get('basis', ''):>6} "
                  f"{dE:>9.1e} {dg:>9.1e} {r['residual']:>9.1e}", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
