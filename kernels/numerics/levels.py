r"""Level statistics shared by every kernel: gap ratios, their random-matrix and Poisson references, unfolding.

The gap ratio of consecutive levels (Oganesyan and Huse, PRB 75, 155111 (2007); Atas et al., PRL 110,
084101 (2013)),

.. math::

    r_n = \frac{\min(s_n, s_{n+1})}{\max(s_n, s_{n+1})}, \qquad s_n = E_{n+1} - E_n,

needs no unfolding. Two named variants: :func:`gap_ratios` over ``"all"`` the levels given (a window of
eigenpairs at the spectral centre, xxz_bubble) or the ``"central half"`` of a full spectrum (rmt_bath),
whose edges, with a different density of states, would bias the mean. Exact degeneracies (0/0) are left out.

References: :data:`R_GOE` (large-matrix GOE mean, Atas et al.), :data:`R_GOE_SURMISE` (3 x 3 surmise),
:data:`R_POISSON` (uncorrelated levels), :func:`gap_ratio_density` (the surmise and Poisson densities of r
on [0, 1]). :func:`unfold` maps levels onto unit mean spacing by a smooth fit of the staircase, for spacing
distributions.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "R_GOE",
    "R_GOE_SURMISE",
    "R_POISSON",
    "VARIANTS",
    "gap_ratio_density",
    "gap_ratios",
    "mean_gap_ratio",
    "spacing_density",
    "unfold",
]

#: Mean gap ratio of large GOE matrices (Atas, Bogomolny, Giraud, Roux, PRL 110, 084101 (2013)).
R_GOE = 0.5307
#: Mean gap ratio of the 3 x 3 GOE surmise, 4 - 2 sqrt(3) (1% above the large-matrix value).
R_GOE_SURMISE = 4.0 - 2.0 * math.sqrt(3.0)
#: Mean gap ratio of uncorrelated (Poisson) levels, 2 ln 2 - 1.
R_POISSON = 2.0 * math.log(2.0) - 1.0
#: The named variants of :func:`gap_ratios`: which levels enter.
VARIANTS = ("all", "central half")


def gap_ratios(E: np.ndarray, variant: str = "all") -> np.ndarray:
    """r_n of consecutive sorted levels of ``E`` (exact degeneracies, 0/0, left out).

    Parameters
    ----------
    E : ndarray[float64], shape (n,)
        Levels, in any order.
    variant : {"all", "central half"}
        "all": every level given; "central half": the levels from n // 4 to n - n // 4 of the sorted
        spectrum (a full spectrum whose edges have another density of states).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    E = np.sort(np.asarray(E, dtype=float))
    if variant == "central half":
        E = E[E.size // 4 : E.size - E.size // 4]
    s = np.diff(E)
    lo, hi = np.minimum(s[1:], s[:-1]), np.maximum(s[1:], s[:-1])
    ok = hi > 0
    return lo[ok] / hi[ok]


def mean_gap_ratio(E: np.ndarray, variant: str = "all") -> float:
    """Mean of :func:`gap_ratios` (NaN with fewer than three levels)."""
    r = gap_ratios(E, variant)
    return float(r.mean()) if r.size else math.nan


def gap_ratio_density(r: np.ndarray, kind: str) -> np.ndarray:
    """P(r) on [0, 1] of r = min(s_n, s_n+1) / max(s_n, s_n+1): the GOE surmise or Poisson levels.

    Atas, Bogomolny, Giraud and Roux, PRL 110, 084101 (2013): for the ratio s_n+1/s_n,
    P_GOE(x) = (27/8)(x + x^2)/(1 + x + x^2)^(5/2) and P_Poisson(x) = 1/(1 + x)^2; folding x and 1/x
    onto [0, 1] doubles them. (The surmise's mean, 0.536, is 1% above the large-matrix 0.5307.)
    """
    r = np.asarray(r, dtype=float)
    if kind == "GOE":
        return 2 * (27 / 8) * (r + r * r) / (1 + r + r * r) ** 2.5
    if kind == "Poisson":
        return 2 / (1 + r) ** 2
    raise ValueError(f"kind must be GOE or Poisson, got {kind!r}")


def spacing_density(s: np.ndarray, kind: str) -> np.ndarray:
    """P(s) of unfolded spacings (unit mean): the GOE Wigner surmise (pi s / 2) exp(-pi s^2 / 4), or exp(-s)."""
    s = np.asarray(s, dtype=float)
    if kind == "GOE":
        return 0.5 * math.pi * s * np.exp(-0.25 * math.pi * s * s)
    if kind == "Poisson":
        return np.exp(-s)
    raise ValueError(f"kind must be GOE or Poisson, got {kind!r}")


def unfold(E: np.ndarray, degree: int = 7) -> np.ndarray:
    """Levels mapped onto unit mean spacing: the sorted levels through a polynomial fit of degree ``degree``
    to their staircase N(E) (counted from 0). Spacings of the result have mean 1 away from the edges.

    Parameters
    ----------
    E : ndarray[float64], shape (n,)
    degree : int
        Degree of the smooth staircase; low enough not to follow the fluctuations (n >> degree).
    """
    E = np.sort(np.asarray(E, dtype=float))
    if E.size < degree + 2:
        raise ValueError(f"unfolding a degree-{degree} staircase needs at least {degree + 2} levels, got {E.size}")
    scale = E[-1] - E[0] or 1.0
    x = (E - E[0]) / scale  # on [0, 1]: a well-conditioned fit
    fit = np.polynomial.Polynomial.fit(x, np.arange(E.size, dtype=float), degree)
    return fit(x)
