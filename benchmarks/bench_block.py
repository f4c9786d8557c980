"""Block propagation: one Chebyshev step on four realizations' vectors at once, against four single steps.

The four XXZ realizations (independent fields, so their own diagonal,
scale and Chebyshev order) share the hopping pattern; the block step loads
each index once for four vectors, stored interleaved (dim, 4). Per vector,
it performs the same floating-point operations in the same order as the
single-vector step (``kernels.numerics.chebyshev._clenshaw_uniform``), so its results
are checked to be identical bit for bit. A vector with a shorter expansion
starts later in the recurrence (zero coefficients before it are exact).

Prints CPU time per step of the four single steps and of the block step, and
the ratio (the speed-up per realization a block of four would give), with
the load average: on a shared machine, other processes' memory traffic
changes the ratio.

Usage: python benchmarks/bench_block.py [--L 12 14 16 18] [--repeats 5]
"""

from __future__ import annotations

from _common import one_thread

one_thread()

import argparse  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from kernels.front import xxz_trajectory as xxz  # noqa: E402
from kernels.numerics.chebyshev import ChebyshevPropagator, chebyshev_apply  # noqa: E402


@njit(nogil=True, cache=True)
def clenshaw4(psi, d, indptr, indices, amp, coeffs, K, b1, b2):
    """Four vectors (columns of psi (n, 4)), each with its own diagonal d[:, j], amplitude amp[j] and
    coefficients coeffs[j, :K[j] + 1] (zero-padded to the longest): per vector, the same operations in
    the same order as _clenshaw_uniform alone."""
    n = psi.shape[0]
    Kmax = K.max()
    for a in range(n):
        for j in range(4):
            b1[a, j] = coeffs[j, Kmax] * psi[a, j] if K[j] == Kmax else 0j
            b2[a, j] = 0j
    for k in range(Kmax - 1, -1, -1):
        for j in range(4):
            if K[j] == k + 1 and K[j] < Kmax:  # vector j starts this pass
                for a in range(n):
                    b1[a, j] = coeffs[j, k + 1] * psi[a, j]
                    b2[a, j] = 0j
        alpha = 2.0 if k > 0 else 1.0
        c0 = coeffs[0, k]; c1 = coeffs[1, k]; c2 = coeffs[2, k]; c3 = coeffs[3, k]
        for a in range(n):
            p = indptr[a]
            e = indptr[a + 1]
            s00 = 0j; s01 = 0j; s02 = 0j; s03 = 0j
            s10 = 0j; s11 = 0j; s12 = 0j; s13 = 0j
            while p + 1 < e:
                i0 = indices[p]; i1 = indices[p + 1]
                s00 += b1[i0, 0]; s01 += b1[i0, 1]; s02 += b1[i0, 2]; s03 += b1[i0, 3]
                s10 += b1[i1, 0]; s11 += b1[i1, 1]; s12 += b1[i1, 2]; s13 += b1[i1, 3]
                p += 2
            if p < e:
                i0 = indices[p]
                s00 += b1[i0, 0]; s01 += b1[i0, 1]; s02 += b1[i0, 2]; s03 += b1[i0, 3]
            b2[a, 0] = c0 * psi[a, 0] + alpha * (d[a, 0] * b1[a, 0] + amp[0] * (s00 + s10)) - b2[a, 0]
            b2[a, 1] = c1 * psi[a, 1] + alpha * (d[a, 1] * b1[a, 1] + amp[1] * (s01 + s11)) - b2[a, 1]
            b2[a, 2] = c2 * psi[a, 2] + alpha * (d[a, 2] * b1[a, 2] + amp[2] * (s02 + s12)) - b2[a, 2]
            b2[a, 3] = c3 * psi[a, 3] + alpha * (d[a, 3] * b1[a, 3] + amp[3] * (s03 + s13)) - b2[a, 3]
        b1, b2 = b2, b1
    for a in range(n):
        for j in range(4):
            psi[a, j] = b1[a, j]


def measure(L: int, repeats: int) -> tuple[float, float, bool]:
    p = xxz.Params(L=L, W=8.0, times=(1.0,))
    rng = np.random.default_rng(L)
    args = [ChebyshevPropagator(xxz.hamiltonian(p, rng.uniform(-p.W, p.W, L)), tol=p.tol).args(p.tau) for _ in range(4)]
    n = xxz.sector(L).dim
    psi0 = rng.normal(size=(n, 4)) + 1j * rng.normal(size=(n, 4))
    psi0 /= np.linalg.norm(psi0, axis=0)
    K = np.array([a[4].size - 1 for a in args])
    coeffs = np.zeros((4, K.max() + 1), complex)
    for j in range(4):
        coeffs[j, : K[j] + 1] = args[j][4]
    D = np.ascontiguousarray(np.stack([a[0] for a in args], axis=1))
    amp = np.array([a[3][0] for a in args])
    indptr, indices = args[0][1][0], args[0][2]
    singles = [np.ascontiguousarray(psi0[:, j]) for j in range(4)]
    block = np.ascontiguousarray(psi0)
    b1, b2 = np.empty_like(block), np.empty_like(block)
    for j in range(4):
        chebyshev_apply(singles[j], *args[j])
    clenshaw4(block, D, indptr, indices, amp, coeffs, K, b1, b2)
    same = all(np.array_equal(block[:, j], singles[j]) for j in range(4))
    best_s = best_b = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        for j in range(4):
            chebyshev_apply(singles[j], *args[j])
        best_s = min(best_s, time.process_time() - t0)
        t0 = time.process_time()
        clenshaw4(block, D, indptr, indices, amp, coeffs, K, b1, b2)
        best_b = min(best_b, time.process_time() - t0)
    return best_s, best_b, same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--L", type=int, nargs="+", default=[12, 14, 16, 18])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, one thread, load average {os.getloadavg()[0]:.2f}; "
          f"one tau = 0.05 Chebyshev step, CPU time, best of {args.repeats}")  # fmt: skip
    print(f"{'L':>3} {'4 single steps ms':>18} {'block of 4 ms':>14} {'per-vector speed-up':>20} {'bit-identical':>14}")
    for L in args.L:
        s, b, same = measure(L, args.repeats)
        print(f"{L:>3} {s * 1e3:>18.2f} {b * 1e3:>14.2f} {s / b:>19.2f}x {'yes' if same else 'NO':>14}")


if __name__ == "__main__":
    main()
