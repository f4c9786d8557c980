r"""Rules that keep spectral observables independent of rounding.

Eigenvalues come out of LAPACK or ARPACK with errors of order
``eps * ||H||``. Wherever a kernel *chooses* levels by comparing numbers
(the n levels nearest a target energy, the bin of a histogram), two values
that are equal in exact arithmetic (a spectrum symmetric about its centre,
a degenerate level, a value on a bin edge) would otherwise be told apart by
that rounding, and two correct codes would disagree. The rules here treat
values within a tolerance ``tol`` (default :func:`tie_tolerance`, ``1e-9``
times the spectral scale: far above rounding, far below any level spacing
these kernels resolve) as equal, and then act on them together:

* :func:`nearest_levels`: the ``k`` levels nearest a target *plus every
  level tied with the k-th* (distance within ``tol`` of the k-th distance),
  so tied levels are included together, never one of them by chance;
* :func:`eigenspaces`: groups of levels within ``tol`` of their neighbour,
  so that sums over eigenstates can be taken over eigenspaces
  (basis-independent);
* :func:`require_nondegenerate`: refuses, with a clear message, a quantity
  that would depend on the basis chosen inside a degenerate eigenspace;
* :func:`histogram`: ``numpy.histogram``'s bins, except that a value within
  ``tol`` of an inner edge is shared equally by the two bins, and a value
  within ``tol`` of an outer edge counts in the end bin.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "TIE_RTOL",
    "DegenerateSpectrumError",
    "eigenspaces",
    "histogram",
    "nearest_levels",
    "require_nondegenerate",
    "tie_tolerance",
    "tridiagonal_eigh",
]

#: Relative tolerance below which two levels (or a value and a bin edge) count as equal.
TIE_RTOL = 1e-9


class DegenerateSpectrumError(ValueError):
    """A quantity asked for would depend on the basis inside a degenerate eigenspace."""


def tie_tolerance(E: np.ndarray) -> float:
    """``TIE_RTOL`` times the spectral scale max(1, max |E|)."""
    E = np.asarray(E, dtype=float)
    return TIE_RTOL * max(1.0, float(np.max(np.abs(E)))) if E.size else TIE_RTOL


def nearest_levels(E: np.ndarray, target: float, k: int, tol: float) -> np.ndarray:
    """Indices (ascending) of the ``k`` levels nearest ``target``, plus all levels tied with the k-th.

    Parameters
    ----------
    E : ndarray[float64], shape (n,)
    target : float
    k : int
        At least 1; all levels when ``k >= n``.
    tol : float
        Distances within ``tol`` of the k-th distance count as tied with it.

    Returns
    -------
    ndarray[int64]
        ``k`` indices, or more where levels tie at the boundary.
    """
    d = np.abs(np.asarray(E, dtype=float) - target)
    if k >= d.size:
        return np.arange(d.size)
    edge = np.partition(d, k - 1)[k - 1]
    return np.flatnonzero(d <= edge + tol)


def eigenspaces(E_sorted: np.ndarray, tol: float) -> np.ndarray:
    """Start index of every group of ascending levels whose neighbours are within ``tol`` (for ``np.add.reduceat``)."""
    E_sorted = np.asarray(E_sorted, dtype=float)
    return np.flatnonzero(np.concatenate([[True], np.diff(E_sorted) > tol]))


def require_nondegenerate(E_sorted: np.ndarray, tol: float, what: str) -> None:
    """Raise DegenerateSpectrumError if two of the ascending levels ``E_sorted`` are within ``tol``.

    ``what`` names the basis-dependent quantity, for the message.
    """
    E_sorted = np.asarray(E_sorted, dtype=float)
    gaps = np.diff(E_sorted)
    bad = np.flatnonzero(gaps <= tol)
    if bad.size:
        i = int(bad[0])
        raise DegenerateSpectrumError(
            f"levels {E_sorted[i]:.12g} and {E_sorted[i + 1]:.12g} are degenerate (gap {gaps[i]:.1e} <= {tol:.1e}): "
            f"{what} would depend on the basis chosen inside the degenerate eigenspace; break the symmetry "
            "behind it (e.g. disorder > 0, a nonzero field width)"
        )


def histogram(x: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None, tol: float = 0.0) -> np.ndarray:
    """Weighted counts in the bins ``[edges[j], edges[j+1])`` (the last bin closed), stable under rounding.

    A value within ``tol`` of an inner edge counts half in each of the two
    bins it separates; one within ``tol`` of the first or last edge counts in
    the end bin; values further outside the range are not counted.

    Returns
    -------
    ndarray[float64], shape (len(edges) - 1,)
    """
    x = np.asarray(x, dtype=float).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    edges = np.asarray(edges, dtype=float)
    nb = edges.size - 1
    hi = np.clip(np.searchsorted(edges, x), 0, nb)  # edges[hi - 1] < x <= edges[hi]
    lo = np.maximum(hi - 1, 0)
    nearest = np.where(np.abs(x - edges[lo]) < np.abs(edges[hi] - x), lo, hi)
    on_edge = np.abs(x - edges[nearest]) <= tol
    inner = on_edge & (nearest > 0) & (nearest < nb)
    ends = on_edge & ~inner
    inside = ~on_edge & (x >= edges[0]) & (x <= edges[-1])
    b = np.minimum(np.searchsorted(edges, x[inside], side="right") - 1, nb - 1)
    out = np.zeros(nb)
    out += np.bincount(b, weights=w[inside], minlength=nb)[:nb]
    half = 0.5 * w[inner]
    out += np.bincount(nearest[inner] - 1, weights=half, minlength=nb)[:nb]
    out += np.bincount(nearest[inner], weights=half, minlength=nb)[:nb]
    out += np.bincount(np.minimum(nearest[ends], nb - 1), weights=w[ends], minlength=nb)[:nb]
    return out


def tridiagonal_eigh(d: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and eigenvectors of the real symmetric tridiagonal matrix (d, e).

    The LAPACK routine ``scipy.linalg.eigh_tridiagonal`` uses for a full
    spectrum (``dstevd``), called directly: the same numbers bit for bit,
    without the wrapper's ~10 us of argument checks (which matter for cheap
    realizations). ``d`` and ``e`` must be finite float64 arrays of lengths n
    and n - 1 (the kernels' draws are).
    """
    d, e = np.asarray(d, dtype=float), np.asarray(e, dtype=float)
    if d.size == 1:
        return d.copy(), np.ones((1, 1))
    from scipy.linalg.lapack import dstevd  # imported on first use: loading a kernel needs no SciPy

    w, v, info = dstevd(d, e, compute_v=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dstevd failed to converge (info = {info})")
    return w, v
