"""Independent physics references shared by several test modules (written without the kernels' machinery).

* spin-1/2 operators on a chain by Kronecker products (site 0 = leftmost factor, |up> = (1, 0));
* the exact noise average of the Anderson chain under the protocol of Eq. (4) on the
  correlation matrix (paper 003, Appendix B);
* the statistical comparison of a sample mean with an exact value in units of its standard error.
"""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
from scipy.linalg import expm

__all__ = ["SP", "SZ", "exact_channel", "max_deviation_in_sigma", "neel", "site_op"]

SZ = np.diag([0.5, -0.5])
SP = np.array([[0.0, 1.0], [0.0, 0.0]])  # S^+ with |up> = (1, 0)


def site_op(op, j, L):
    """``op`` on site j (0-based) of an L-site chain."""
    return reduce(np.kron, [op if i == j else np.eye(2) for i in range(L)])


def neel(L):
    """The Neel state with site 0 up, as a complex vector of the 2^L space."""
    up, down = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    return reduce(np.kron, [up if j % 2 == 0 else down for j in range(L)]).astype(complex)


def exact_channel(p, h: np.ndarray, rate: float) -> np.ndarray:
    """Noise-averaged <S^z_j> at the sample times of ``p``, from the correlation matrix G = W W^dag.

    One step: G <- U G U^dag with U = exp(-i tau Q), Q = diag(h) + (J/2)(hops), then the
    kick averaged over eta ~ N(0, tau): G_1j, G_j1 (j != 1) gain a factor exp(-rate tau),
    with rate = gamma^2 / 2 for the protocol of Eq. (4).
    """
    L = len(h)
    Q = np.diag(np.asarray(h, dtype=float)) + np.diag(np.full(L - 1, 0.5 * p.J), 1) + np.diag(np.full(L - 1, 0.5 * p.J), -1)
    U = expm(-1j * p.tau * Q)
    G = np.diag([1.0 if j % 2 == 0 else 0.0 for j in range(L)]).astype(complex)
    damp = np.ones((L, L))
    damp[0, 1:] = damp[1:, 0] = math.exp(-rate * p.tau)
    out, steps = [], list(p.steps)
    for n in range(1, steps[-1] + 1):
        G = damp * (U @ G @ U.conj().T)
        if n in steps:
            out.append(np.diag(G).real - 0.5)
    return np.array(out)


def max_deviation_in_sigma(mean, sem, exact):
    """Largest |mean - exact| / sem over entries with a nonzero error."""
    ok = sem > 1e-12
    return np.max(np.abs(mean - exact)[ok] / sem[ok])
