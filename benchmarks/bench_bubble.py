"""xxz_bubble: time per realization (k = 50 central eigenpairs) vs dimension, full vs shift-invert, one thread.

"full" is dense LAPACK (all eigenvalues for the centre, then the k vectors by
index); "shift-invert" is ARPACK on a SuperLU factorization of H - centre in a
METIS nested-dissection order. "SI colamd" is the same with SuperLU's default
COLAMD order (what scipy does out of the box), for comparison. The residual
column is the largest ||H psi - E psi||; "agree" the largest eigenvalue
difference between the two paths where both ran. Each row also gives the fill
of the LU factors (entries of L + U) and the peak resident memory of the
process so far.

Usage: python benchmarks/bench_bubble.py [--max-L 16] [--max-full-L 14] [--n-goe 4] [--colamd-max-L 14]
"""

from __future__ import annotations

from _common import one_thread

one_thread()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.sparse.linalg import LinearOperator, eigsh, splu  # noqa: E402

from kernels.bubble import xxz_bubble as kb  # noqa: E402


def shift_invert_colamd(H, k):
    """What scipy gives out of the box: eigsh(sigma=...) factorizes with SuperLU's COLAMD order."""
    c = kb._spectral_centre(H)
    lu = splu((H - c * sp.identity(H.shape[0])).tocsc())
    op = LinearOperator(H.shape, matvec=lu.solve, dtype=float)
    E, V = eigsh(H, k=k, sigma=c, which="LM", OPinv=op, v0=kb._start_vector(H.shape[0]), tol=0)
    return np.sort(E), lu.L.nnz + lu.U.nnz


def fill_nd(H):
    c = kb._spectral_centre(H)
    perm = kb.nested_dissection(H)
    Hp = H[perm][:, perm]
    lu = splu((Hp - c * sp.identity(H.shape[0])).tocsc(), permc_spec="NATURAL", diag_pivot_thresh=0.01,
              options={"SymmetricMode": True})  # fmt: skip
    return lu.L.nnz + lu.U.nnz


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-L", type=int, default=6)
    ap.add_argument("--max-L", type=int, default=16)
    ap.add_argument("--max-full-L", type=int, default=14)
    ap.add_argument("--colamd-max-L", type=int, default=14)
    ap.add_argument("--n-goe", type=int, default=4)
    ap.add_argument("--W", type=float, default=5.0)
    args = ap.parse_args()
    print(f"# {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, one thread; n_goe = {args.n_goe}, W = {args.W}, k = 50")
    print(f"{'L':>3} {'dim':>7} {'full s':>8} {'SI s':>8} {'full/SI':>8} {'SI colamd s':>12} {'colamd/SI':>10} "
          f"{'fill ND':>10} {'fill colamd':>12} {'residual':>9} {'agree':>8} {'peak GB':>8}")  # fmt: skip
    for L in range(args.min_L, args.max_L + 1, 2):
        p = kb.Params(L=L, n_goe=args.n_goe, W=args.W)
        d = kb.sample(p, np.random.default_rng(L))
        H = kb.hamiltonian(p, d)
        k = min(50, p.dim // 3)
        t_si, (Es, Vs, _) = timed(lambda: kb.central_eigenpairs(H, k, "shift_invert"))
        res = np.linalg.norm(H @ Vs - Vs * Es, axis=0).max()
        t_full, agree = float("nan"), float("nan")
        if L <= args.max_full_L:
            t_full, (Ef, _, _) = timed(lambda: kb.central_eigenpairs(H, k, "full"))
            agree = np.abs(Ef - Es).max()
        t_col, fill_col = float("nan"), float("nan")
        if L <= args.colamd_max_L:
            t_col, (Ec, fill_col) = timed(lambda: shift_invert_colamd(H, k))
        fnd = fill_nd(H)
        print(f"{L:3d} {p.dim:7d} {t_full:8.3f} {t_si:8.3f} {t_full / t_si:8.2f} {t_col:12.3f} {t_col / t_si:10.2f} "
              f"{fnd:10.3g} {fill_col:12.3g} {res:9.1e} {agree:8.1e} {rss_gb():8.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
