r"""Polynomially filtered exact diagonalization (POLFED): eigenpairs nearest a target, memory ~ dim x k.

Sierant, Lewenstein and Zakrzewski, PRL 125, 156601 (2020). With the spectrum
of H scaled into [-1, 1] (:math:`\tilde H = (H - b)/a`) and a target
:math:`\tilde\sigma`, the filter

.. math::

    g_K(x) = \sum_{n=0}^{K} (2 - \delta_{n0})\, T_n(\tilde\sigma)\, T_n(x)

(the Chebyshev expansion of :math:`\delta(x - \tilde\sigma)` truncated at order
K, a Dirichlet-like kernel whose main lobe has half-width ~ pi / K around
:math:`\tilde\sigma`) maps the levels nearest the target onto the largest
eigenvalues of :math:`g_K(\tilde H)`, well separated from the rest of the
spectrum. A block Lanczos iteration with full reorthogonalization on
:math:`g_K(\tilde H)` finds them; its basis (dim x m, m ~ a few k) is the only
large memory. The eigenpairs of H are then the Rayleigh-Ritz pairs of H itself
in the converged subspace, each with its residual ||H psi - E psi|| checked.

The order K follows from the density of states at the target (a stochastic
Chebyshev estimate, Jackson kernel): the main lobe is made wide enough to hold
about ``LOBE_LEVELS`` times the wanted number of levels. Every step is
deterministic (fixed start vectors), so a realization gives the same bits on
every run with the same BLAS threads.

The filter is applied to a block of vectors per pass over the matrix
(:func:`filter_block`, compiled), one load of each non-zero for the whole block.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from kernels.jit import jit
from scipy.linalg import eigh, qr

__all__ = [
    "PolfedResult",
    "blas_threads",
    "complete_radius",
    "dos_at",
    "filter_block",
    "filter_coefficients",
    "filter_order",
    "filter_value",
    "min_dim",
    "polfed",
]

#: Levels the main lobe of g_K (|x - sigma| < pi / (K + 1)) is meant to hold, per wanted level
LOBE_LEVELS = 4.0
#: Block size of the Lanczos iteration (vectors filtered per pass over the matrix)
BLOCK = 16
#: Lanczos basis allocated per wanted pair (measured need at k = 50: 7.7-8.3; grown by doubling beyond)
EXPECTED_BASIS = 9
#: Smallest relative gap between kept and dropped Ritz values of the filter (see _cut)
GAP = 1e-6
#: Fixed seed of the start block and of the density-of-states probes
SEED = 20_201_008


@dataclass(frozen=True)
class PolfedResult:
    """Eigenpairs of H in the converged filtered subspace (all of them, ascending), and the run's figures."""

    E: np.ndarray
    V: np.ndarray
    residuals: np.ndarray
    order: int
    matvecs: int
    basis: int
    radius: float


@jit
def _cheb_step(indptr, indices, data, alpha, beta, two, cur, prev, acc, c, r0, r1):
    """Rows r0..r1-1 of prev <- two * (alpha H + beta) cur - prev (the next T_n block), acc += c * prev.

    Each row is computed the same way whatever the row range, so splitting the rows among threads
    gives the same bits; the ranges only read ``cur`` and write their own rows of ``prev`` and ``acc``.
    """
    b = cur.shape[1]
    tmp = np.empty(b)
    for i in range(r0, r1):
        for q in range(b):
            tmp[q] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            v = data[p]
            for q in range(b):
                tmp[q] += v * cur[j, q]
        for q in range(b):
            y = two * (alpha * tmp[q] + beta * cur[i, q]) - prev[i, q]
            prev[i, q] = y
            acc[i, q] += c * y


class _Stepper:
    """One Chebyshev step of a block, on ``threads`` threads (row ranges of equal non-zeros, the compiled step
    releasing the GIL), or inline on one."""

    def __init__(self, H: sp.csr_matrix, alpha: float, beta: float, threads: int):
        self.args = (H.indptr, H.indices, H.data, alpha, beta)
        n = H.shape[0]
        threads = max(1, min(int(threads), n // 1024 or 1))
        cuts = np.searchsorted(H.indptr, np.linspace(0, H.nnz, threads + 1)[1:-1])
        self.ranges = list(zip([0, *cuts.tolist()], [*cuts.tolist(), n]))
        self.pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def __call__(self, two, cur, prev, acc, c) -> None:
        if self.pool is None:
            _cheb_step(*self.args, two, cur, prev, acc, c, 0, cur.shape[0])
            return
        jobs = [self.pool.submit(_cheb_step, *self.args, two, cur, prev, acc, c, r0, r1) for r0, r1 in self.ranges]
        for job in jobs:
            job.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def blas_threads() -> int:
    """Threads the BLAS has now (the engine sets them to the task's ``threads``): POLFED's filter uses as many."""
    from threadpoolctl import threadpool_info

    n = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(1, min(n)) if n else 1


def _csr(H: sp.spmatrix) -> sp.csr_matrix:
    H = sp.csr_matrix(H, dtype=np.float64)
    H.sort_indices()
    return H


def filter_coefficients(sigma: float, K: int) -> np.ndarray:
    """c_n = (2 - delta_n0) T_n(sigma), n = 0..K (sigma in [-1, 1])."""
    c = 2.0 * np.cos(np.arange(K + 1) * math.acos(min(1.0, max(-1.0, sigma))))
    c[0] = 1.0
    return c


def filter_block(
    H: sp.csr_matrix, a: float, b: float, coeffs: np.ndarray, X: np.ndarray, threads: int = 1
) -> np.ndarray:
    """sum_n coeffs[n] T_n((H - b) / a) X for a block X (dim x B), one compiled pass over H per order
    (split into row ranges on ``threads`` threads: the same bits on any number)."""
    H = _csr(H)
    step = _Stepper(H, 1.0 / a, -b / a, threads)
    try:
        prev = np.ascontiguousarray(X, dtype=np.float64).copy()  # T_0 X
        acc = coeffs[0] * prev
        if coeffs.size == 1:
            return acc
        cur = np.zeros_like(prev)
        step(1.0, prev, cur, acc, coeffs[1])  # T_1 = H~ T_0, into `cur` as 1 * H~ T_0 - 0
        for n in range(2, coeffs.size):
            step(2.0, cur, prev, acc, coeffs[n])
            cur, prev = prev, cur
        return acc
    finally:
        step.close()


def dos_at(H: sp.csr_matrix, a: float, b: float, x: float, moments: int = 96, probes: int = 4) -> float:
    """Density of states of (H - b)/a at x (normalized to 1 on [-1, 1]): stochastic Chebyshev moments with
    fixed Gaussian probes, Jackson kernel."""
    H = _csr(H)
    dim = H.shape[0]
    R = np.random.default_rng(SEED + 1).standard_normal((dim, probes))
    prev = R.copy()
    cur = np.zeros_like(prev)
    scratch = np.zeros_like(prev)
    step = _Stepper(H, 1.0 / a, -b / a, 1)
    mu = np.empty(moments)
    mu[0] = np.sum(R * R)
    step(1.0, prev, cur, scratch, 0.0)
    mu[1] = np.sum(R * cur)
    for n in range(2, moments):
        step(2.0, cur, prev, scratch, 0.0)
        cur, prev = prev, cur
        mu[n] = np.sum(R * cur)
    mu /= mu[0]
    N = moments
    n = np.arange(N)
    jackson = ((N - n + 1) * np.cos(np.pi * n / (N + 1)) + np.sin(np.pi * n / (N + 1)) / np.tan(np.pi / (N + 1))) / (
        N + 1
    )
    t = np.cos(n * math.acos(x))
    w = np.where(n == 0, 1.0, 2.0)
    return float(np.sum(w * jackson * mu * t) / (np.pi * math.sqrt(1.0 - x * x)))


def filter_order(dim: int, rho: float, k: int, lobe_levels: float = LOBE_LEVELS) -> int:
    """K such that the main lobe |x - sigma| < pi / (K + 1) holds ~ lobe_levels * k levels (dim * rho per unit x)."""
    width = lobe_levels * k / (2.0 * dim * max(rho, 1e-300))
    return int(max(8, min(10 * dim, math.ceil(math.pi / width) - 1)))


def filter_value(coeffs: np.ndarray, x: np.ndarray) -> np.ndarray:
    """g_K(x) = sum_n coeffs[n] T_n(x) for x in [-1, 1]."""
    x = np.clip(np.asarray(x, dtype=float), -1.0, 1.0)
    return np.cos(np.outer(np.arccos(x), np.arange(coeffs.size))) @ coeffs


def complete_radius(coeffs: np.ndarray, sigma: float, threshold: float, a: float) -> float:
    """Energy distance r from the target within which g_K > threshold on both sides (main lobe):
    every level nearer than r is among the levels whose filter value exceeds ``threshold``."""
    K = coeffs.size - 1
    t = np.linspace(0.0, min(2.0, 4.0 * math.pi / (K + 1)), 4001)[1:]
    r = np.inf
    for side in (1.0, -1.0):
        below = np.flatnonzero(filter_value(coeffs, sigma + side * t) <= threshold)
        r = min(r, t[below[0] - 1] if below.size and below[0] > 0 else (0.0 if below.size else t[-1]))
    return float(r * a)


def _cut(theta_desc: np.ndarray, p: int) -> int:
    """How many of the descending Ritz values to keep, at least p: the first cut at or after p across a gap of
    at least GAP of their range, so that no (near-)degenerate eigenspace of the filter is split (a Ritz vector
    inside a split one is a mixture of eigenvectors of H)."""
    gaps = theta_desc[:-1] - theta_desc[1:]
    span = theta_desc[0] - theta_desc[-1]
    ok = np.flatnonzero(gaps[p - 1 :] >= GAP * span)
    return int(p + ok[0]) if ok.size else theta_desc.size


def _grown(A: np.ndarray, cols: int, square: bool = False) -> np.ndarray:
    """A copy of A with ``cols`` columns (and rows, if square), the old entries in place, the new ones zero."""
    out = np.zeros((cols if square else A.shape[0], cols), order="F")
    out[: A.shape[0], : A.shape[1]] = A
    return out


def min_dim(k: int, block: int = BLOCK) -> int:
    """Smallest sector dimension POLFED is run on for k levels (a basis of several times k + block must fit)."""
    return 8 * (k + block)


def polfed(
    H: sp.spmatrix,
    k: int,
    target: float,
    bounds: tuple[float, float],
    *,
    block: int = BLOCK,
    lobe_levels: float = LOBE_LEVELS,
    tol: float = 1e-10,
    max_basis: int | None = None,
    threads: int | None = None,
) -> PolfedResult:
    """The Rayleigh-Ritz eigenpairs of H on the converged top of g_K: at least the k levels nearest ``target``.

    Parameters
    ----------
    H : sparse, real symmetric, dim x dim
    k : int
        Levels wanted; at least ``k + block // 2`` Ritz pairs of the filter are converged, more where that
        would split a (near-)degenerate eigenspace of g_K (the margin shows that no level nearer than the
        k-th is missing: see ``radius``). Selecting the k nearest (ties included) is the caller's, e.g. with
        :func:`kernels.numerics.spectral.nearest_levels`.
    target : float
        Energy the filter is centred on.
    bounds : (float, float)
        An interval containing the spectrum of H (a relative margin of 1e-3 is added).
    tol : float
        Filter residual per pair relative to g_K(target), and H residual ||H psi - E psi|| relative to the
        spectral half-width a, that every returned pair reaches.
    max_basis : int, optional
        Largest Lanczos basis (default: the smaller of dim - block and 24 (k + block)); RuntimeError if the
        pairs have not converged by then.
    threads : int, optional
        Threads of the filter (row ranges; the same bits on any number); default: as many as the BLAS has
        (:func:`blas_threads`: the task's ``threads`` under the engine).

    Returns
    -------
    PolfedResult
        ``E`` ascending with eigenvectors ``V`` (dim x p) and residuals; ``radius``: every level of H with
        |E - target| < radius is among ``E`` (the filter's main lobe above the least converged Ritz value;
        as for any Lanczos method, this takes the converged Ritz values to be the largest eigenvalues of
        g_K: a block of B vectors holds degenerate eigenspaces of g_K up to B, and the start block is a
        fixed generic one).
    """
    H = _csr(H)
    dim = H.shape[0]
    block = max(1, min(block, dim))
    p_want = k + block // 2
    if dim < min_dim(k, block):
        raise ValueError(f"POLFED needs a dimension >= {min_dim(k, block)} for {k} levels (got {dim})")
    threads = blas_threads() if threads is None else threads
    lo, hi = bounds
    b = 0.5 * (lo + hi)
    a = 0.5 * (hi - lo) * (1.0 + 1e-3) + 1e-300
    sigma = (target - b) / a
    rho = dos_at(H, a, b, sigma)
    K = filter_order(dim, rho, k, lobe_levels)
    coeffs = filter_coefficients(sigma, K)
    max_basis = min(dim - block, max_basis or 24 * p_want)
    # the basis, column-major (its column blocks contiguous: no copies for BLAS), allocated for the usual
    # need (EXPECTED_BASIS per wanted pair) and doubled if more is needed; T, the projection of g_K(H~)
    Q = np.empty((dim, min(max_basis, EXPECTED_BASIS * p_want) + block), order="F")
    Q[:, :block], _ = qr(np.random.default_rng(SEED).standard_normal((dim, block)), mode="economic")
    T = np.zeros((Q.shape[1], Q.shape[1]))
    m = 0
    matvecs = 0
    while True:
        cols = slice(m, m + block)
        W = filter_block(H, a, b, coeffs, Q[:, cols], threads)
        matvecs += K * block
        # full reorthogonalization, twice; T is the projection of g_K(H~) on the basis
        basis = Q[:, : m + block]
        h = basis.T @ W
        W -= basis @ h
        h2 = basis.T @ W
        W -= basis @ h2
        h += h2
        T[: m + block, cols] = h
        T[cols, : m + block] = h.T
        m += block
        Qn, B = qr(W, mode="economic")
        if m >= p_want + block:
            theta, S = eigh(T[:m, :m])
            desc = np.argsort(theta)[::-1]
            top = desc[: _cut(theta[desc], p_want)]
            rg = np.linalg.norm(B @ S[m - block : m, top], axis=0)  # ||g_K(H~) y - theta y|| of each Ritz pair
            if np.all(rg <= tol * abs(theta[top[0]])):
                Y = Q[:, :m] @ S[:, top]
                HY = H @ Y
                M = Y.T @ HY
                E, Z = eigh(0.5 * (M + M.T))
                V = Y @ Z
                res = np.linalg.norm(HY @ Z - V * E, axis=0)
                matvecs += top.size
                if np.all(res <= tol * a):
                    radius = complete_radius(coeffs, sigma, float(theta[top[-1]]), a)
                    return PolfedResult(E=E, V=V, residuals=res, order=K, matvecs=matvecs, basis=m, radius=radius)
        if m + block > max_basis:
            raise RuntimeError(
                f"POLFED: {p_want} filtered pairs not converged with a basis of {m} vectors (filter order {K}, dim {dim})"
            )
        if m + block > Q.shape[1]:
            cols = min(max_basis, 2 * Q.shape[1]) + block
            Q, T = _grown(Q, cols), _grown(T, cols, square=True)
        Q[:, m : m + block] = Qn
