r"""Chebyshev propagation for real sparse Hamiltonians ``H = diag(d) + sum_c amp_c A_c``.

Each ``A_c`` is a 0/1 pattern (CSR with unsigned 32-bit column indices and no
values) shared by all entries of one amplitude class: an XXZ chain has one
class (``J/2`` on every bond), a junction or ladder two. Keeping amplitudes
per class rather than per entry saves a load and a multiply per non-zero,
and unsigned indices spare Numba's negative-index checks (the gain is
measured in benchmarks/bench_xxz.py and quoted in the README).

.. math::

    e^{-i\,dt\,H}\psi = e^{-i\,dt\,c} \sum_{k=0}^{K} a_k\, T_k(\tilde H)\,\psi, \quad
    \tilde H = (H - c)/R, \quad a_0 = J_0(dt R), \quad a_k = 2(-i)^k J_k(dt R),

with ``[c - R, c + R]`` containing the spectrum: Gershgorin discs, intersected
with Weyl's bound when the off-diagonal part's spectrum is known (rigorous).
Truncating after ``K`` terms errs by at most ``2 sum_{k>K} |J_k(dt R)|`` in
norm; ``K`` is the smallest order for which this bound is below the
tolerance. The series is summed by Clenshaw's recurrence, one fused pass over
the state per term (matrix-vector product, recurrence and accumulation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from kernels.jit import jit

__all__ = [
    "propagation_terms",
    "MAX_ARGUMENT",
    "ChebyshevPropagator",
    "SparseHamiltonian",
    "bessel_j_sequence",
    "chebyshev_apply",
    "chebyshev_coefficients",
    "matvec",
]

#: Largest dt * R per Chebyshev step; longer intervals are split into equal steps.
MAX_ARGUMENT = 200.0


@dataclass(frozen=True)
class SparseHamiltonian:
    """A real symmetric matrix ``diag(d) + sum_c amps[c] * pattern_c``.

    Attributes
    ----------
    diag : ndarray[float64], shape (dim,)
    indptr : ndarray[int64], shape (C, dim + 1)
        Row pointers of class c into the shared ``indices``.
    indices : ndarray[uint32], shape (nnz,)
    amps : ndarray[float64], shape (C,)
    offdiag_range : (float, float) or None
        Lowest and highest eigenvalue of the off-diagonal part, when known
        (e.g. in closed form); tightens the spectral interval by Weyl's inequality.
    """

    diag: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    amps: np.ndarray
    offdiag_range: tuple[float, float] | None = None

    @classmethod
    def from_patterns(cls, diag, patterns, amps, offdiag_range=None) -> SparseHamiltonian:
        """From a list of (indptr, indices) patterns (each a CSR over the same rows) and amplitudes."""
        offsets = np.cumsum([0] + [p[1].size for p in patterns])
        indptr = np.stack([p[0] + off for p, off in zip(patterns, offsets[:-1])]).astype(np.int64)
        indices = np.concatenate([p[1] for p in patterns]).astype(np.uint32)
        return cls(np.asarray(diag, dtype=float), indptr, indices, np.asarray(amps, dtype=float), offdiag_range)

    @property
    def dim(self) -> int:
        return self.diag.size

    def gershgorin(self) -> tuple[float, float]:
        """Interval [emin, emax] containing every eigenvalue (Gershgorin discs)."""
        radius = sum(abs(a) * np.diff(ip) for a, ip in zip(self.amps, self.indptr))
        return float(np.min(self.diag - radius)), float(np.max(self.diag + radius))

    def spectral_bounds(self) -> tuple[float, float]:
        """Gershgorin's interval, intersected with Weyl's [min d + lo, max d + hi] when offdiag_range is known."""
        lo, hi = self.gershgorin()
        if self.offdiag_range is not None:
            olo, ohi = self.offdiag_range
            lo, hi = max(lo, float(self.diag.min()) + olo), min(hi, float(self.diag.max()) + ohi)
        return lo, hi

    def to_csr(self) -> sp.csr_matrix:
        """The same matrix as a scipy CSR matrix (references, benchmarks)."""
        m = sp.diags(self.diag).tocsr()
        for a, ip in zip(self.amps, self.indptr):
            start, stop = ip[0], ip[-1]
            m = m + sp.csr_matrix((np.full(stop - start, a), self.indices[start:stop].astype(np.int64), ip - start), shape=(self.dim, self.dim))
        return m.tocsr()


def chebyshev_coefficients(dt: float, center: float, half_width: float, tol: float) -> np.ndarray:
    """a_k (times the phase exp(-i dt c)) up to the order where the tail bound is below tol."""
    x = dt * half_width
    kmax = int(x + 12.0 * max(x, 1.0) ** (1 / 3) + 60)
    j = bessel_j_sequence(x, kmax)
    tail = 2.0 * np.cumsum(np.abs(j[::-1]))[::-1]  # tail[k] = 2 sum_{m >= k} |J_m|
    ok = np.flatnonzero(tail < tol)
    K = max(1, int(ok[0]) - 1) if ok.size else kmax
    a = 2.0 * j[: K + 1] * (-1j) ** np.arange(K + 1)
    a[0] = j[0]
    return a * np.exp(-1j * dt * center)


def propagation_terms(half_width: float, duration: float, steps: float, tol: float) -> float:
    """Matrix-vector products to evolve for ``duration`` in ``steps`` equal steps (for the kernels' cost models).

    Steps longer than MAX_ARGUMENT / half_width are split, as the propagator does.
    """
    if steps <= 0 or duration <= 0:
        return 0.0
    chunks = max(float(steps), math.ceil(duration * half_width / MAX_ARGUMENT))
    return chunks * (len(chebyshev_coefficients(duration / chunks, 0.0, half_width, tol)) - 1)


@jit
def bessel_j_sequence(x, n):
    """J_0(x), ..., J_n(x) for x >= 0 by Miller's backward recurrence.

    ``J_{k-1} = (2k / x) J_k - J_{k+1}`` from an order well above ``max(n, x)``,
    normalized by ``J_0 + 2 sum_k J_2k = 1``: the whole sequence in O(n)
    operations instead of one special-function call per order (the jump
    unraveling needs a fresh sequence per distinct step); tested against
    scipy's jv to 1e-14.
    """
    out = np.zeros(n + 1)
    if x == 0.0:
        out[0] = 1.0
        return out
    top = max(n, int(x)) + 1
    m = 2 * ((top + 20 + int(math.sqrt(60.0 * top))) // 2)
    big = 1e250
    bjp = 0.0
    bj = 1.0
    norm = 0.0
    for k in range(m, 0, -1):
        bjm = (2.0 * k / x) * bj - bjp
        bjp = bj
        bj = bjm
        if abs(bj) > big:  # rescale everything accumulated so far
            bj /= big
            bjp /= big
            norm /= big
            for i in range(k - 1, n + 1):
                out[i] /= big
        if k - 1 <= n:
            out[k - 1] = bj
        if (k - 1) % 2 == 0 and k - 1 > 0:
            norm += 2.0 * bj
    norm += bj
    for i in range(n + 1):
        out[i] /= norm
    return out


class ChebyshevPropagator:
    """exp(-i dt H) for one Hamiltonian, at any dt, to a given norm error per step.

    Parameters
    ----------
    H : SparseHamiltonian
    tol : float
        Bound on the norm error of each application of exp(-i dt H).
    """

    def __init__(self, H: SparseHamiltonian, tol: float = 1e-12):
        lo, hi = H.spectral_bounds()
        self.center = 0.5 * (hi + lo)
        self.half_width = max(0.5 * (hi - lo), 1e-12)
        self.tol = tol
        self.H = H
        self.dscaled = (H.diag - self.center) / self.half_width
        self.amps = H.amps / self.half_width
        #: scratch vectors of chebyshev_apply, shape (2, dim)
        self.work = np.empty((2, H.dim), dtype=np.complex128)
        self._coeffs: dict[float, np.ndarray] = {}

    def coefficients(self, dt: float) -> np.ndarray:
        if dt not in self._coeffs:
            self._coeffs[dt] = chebyshev_coefficients(dt, self.center, self.half_width, self.tol)
        return self._coeffs[dt]

    def order(self, dt: float) -> int:
        """Matrix-vector products per application at this dt."""
        return self.coefficients(dt).size - 1

    def args(self, dt: float) -> tuple:
        """Arguments of :func:`chebyshev_apply` after ``psi``, for calls from jitted loops."""
        return self.dscaled, self.H.indptr, self.H.indices, self.amps, self.coefficients(dt), self.work

    def step(self, psi: np.ndarray, dt: float) -> None:
        """psi <- exp(-i dt H) psi, in place (dt R <= MAX_ARGUMENT)."""
        chebyshev_apply(psi, *self.args(dt))

    def evolve(self, psi: np.ndarray, t: float) -> None:
        """psi <- exp(-i t H) psi, in place, in equal steps with dt R <= MAX_ARGUMENT."""
        if t <= 0:
            return
        n = max(1, math.ceil(t * self.half_width / MAX_ARGUMENT))
        for _ in range(n):
            self.step(psi, t / n)


@jit
def matvec(x, d, indptr, indices, amps, y):
    """y = H x for H = diag(d) + sum_c amps[c] pattern_c (no scaling)."""
    for a in range(x.size):
        t = d[a] * x[a]
        for c in range(amps.size):
            s = 0j
            for p in range(indptr[c, a], indptr[c, a + 1]):
                s += x[indices[p]]
            t += amps[c] * s
        y[a] = t


@jit
def chebyshev_apply(psi, d, indptr, indices, amps, coeffs, w):
    """psi <- sum_k coeffs[k] T_k(H~) psi for H~ = diag(d) + sum_c amps[c] pattern_c.

    Clenshaw's recurrence ``b_k = a_k psi + 2 H~ b_{k+1} - b_{k+2}``, result
    ``a_0 psi + H~ b_1 - b_2``: K matrix-vector products, two scratch vectors
    (``w[0]``, ``w[1]``), and each pass streams one vector less than the
    forward recurrence. One amplitude class (a uniform hopping) takes a loop
    with a scalar amplitude instead of the loop over classes.
    """
    if amps.size == 1:
        _clenshaw_uniform(psi, d, indptr[0], indices, amps[0], coeffs, w[0], w[1])
    else:
        _clenshaw_classes(psi, d, indptr, indices, amps, coeffs, w[0], w[1])


# The two loops below are written out in full, with two accumulators per row:
# Numba does not inline a row helper here, and one accumulator makes each row
# a chain of dependent additions.


@jit
def _clenshaw_uniform(psi, d, indptr, indices, amp, coeffs, b1, b2):
    n = psi.size
    K = coeffs.size - 1
    for a in range(n):
        b1[a] = coeffs[K] * psi[a]
        b2[a] = 0j
    for k in range(K - 1, -1, -1):
        ck = coeffs[k]
        alpha = 2.0 if k > 0 else 1.0  # the k = 0 pass leaves a_0 psi + H~ b_1 - b_2: the result
        for a in range(n):
            s0 = 0j
            s1 = 0j
            p = indptr[a]
            e = indptr[a + 1]
            while p + 1 < e:
                s0 += b1[indices[p]]
                s1 += b1[indices[p + 1]]
                p += 2
            if p < e:
                s0 += b1[indices[p]]
            hb = d[a] * b1[a] + amp * (s0 + s1)
            b2[a] = ck * psi[a] + alpha * hb - b2[a]
        b1, b2 = b2, b1
    for a in range(n):
        psi[a] = b1[a]


@jit
def _clenshaw_classes(psi, d, indptr, indices, amps, coeffs, b1, b2):
    n = psi.size
    K = coeffs.size - 1
    C = amps.size
    for a in range(n):
        b1[a] = coeffs[K] * psi[a]
        b2[a] = 0j
    for k in range(K - 1, -1, -1):
        ck = coeffs[k]
        alpha = 2.0 if k > 0 else 1.0  # the k = 0 pass leaves a_0 psi + H~ b_1 - b_2: the result
        for a in range(n):
            hb = d[a] * b1[a]
            for c in range(C):
                s0 = 0j
                s1 = 0j
                p = indptr[c, a]
                e = indptr[c, a + 1]
                while p + 1 < e:
                    s0 += b1[indices[p]]
                    s1 += b1[indices[p + 1]]
                    p += 2
                if p < e:
                    s0 += b1[indices[p]]
                hb += amps[c] * (s0 + s1)
            b2[a] = ck * psi[a] + alpha * hb - b2[a]
        b1, b2 = b2, b1
    for a in range(n):
        psi[a] = b1[a]
