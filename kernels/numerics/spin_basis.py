r"""Spin-1/2 chains in a fixed-magnetization sector: basis, ranks, operators (Numba).

States are bit strings: bit ``j - 1`` set means site ``j`` is up
(``S^z_j = +1/2``). A sector with ``n_up`` up spins on ``L`` sites holds
``C(L, n_up)`` states, enumerated in increasing numeric order (Gosper's hack);
the index of a state is its combinatorial rank

.. math::

    \mathrm{rank}(b) = \sum_{i=1}^{n_\uparrow} \binom{p_i}{i}, \qquad p_1 < p_2 < \dots \text{ the set bits},

computed from a table of binomials, so no dictionary is needed anywhere.

Couplings are given as bonds ``(i, j)`` (0-based sites): a bond contributes
``J_xy/2 (S^+_i S^-_j + h.c.)``, an off-diagonal element between states that
differ by swapping the two spins, and ``J_z S^z_i S^z_j`` on the diagonal.
Off-diagonal parts are returned as CSR patterns (indices only, one amplitude
per bond class); diagonals as arrays, so a kernel adds its random fields per
realization without rebuilding the hops.
"""

from __future__ import annotations

import numpy as np
from kernels.jit import jit

__all__ = [
    "binomial_table",
    "chain_bonds",
    "exchange_pattern",
    "ising_diagonal",
    "neel_state",
    "rank",
    "sector_states",
    "site_spins",
]


@jit
def binomial_table(L):
    """C[n, k] for 0 <= n, k <= L, int64."""
    C = np.zeros((L + 1, L + 1), dtype=np.int64)
    for n in range(L + 1):
        C[n, 0] = 1
        for k in range(1, n + 1):
            C[n, k] = C[n - 1, k - 1] + C[n - 1, k]
    return C


@jit
def sector_states(L, n_up):
    """All L-bit strings with n_up set bits, in increasing order (their rank order)."""
    C = binomial_table(L)
    dim = C[L, n_up]
    out = np.empty(dim, dtype=np.int64)
    if n_up == 0:
        out[0] = 0
        return out
    s = (np.int64(1) << n_up) - 1
    for i in range(dim):
        out[i] = s
        c = s & -s  # Gosper's hack: next integer with the same popcount
        r = s + c
        s = (((r ^ s) >> 2) // c) | r
    return out


@jit
def rank(state, C):
    """Combinatorial rank of a bit string within its sector (C from binomial_table)."""
    r = 0
    i = 0
    p = 0
    while state:
        if state & 1:
            i += 1
            r += C[p, i]
        state >>= 1
        p += 1
    return r


@jit
def site_spins(states, L):
    """S^z of every site in every state, shape (dim, L), values +-1/2."""
    out = np.empty((states.size, L))
    for a in range(states.size):
        for j in range(L):
            out[a, j] = 0.5 if (states[a] >> j) & 1 else -0.5
    return out


def chain_bonds(L: int) -> np.ndarray:
    """Nearest-neighbour bonds of an open chain, shape (L - 1, 2), 0-based."""
    i = np.arange(L - 1, dtype=np.int64)
    return np.stack([i, i + 1], axis=1)


@jit
def exchange_pattern(states, L, bonds):
    """Pattern of sum_b (S^+_i S^-_j + h.c.) over the given bonds, as CSR without values.

    Parameters
    ----------
    states : ndarray[int64], shape (dim,)
        The sector, from :func:`sector_states`.
    bonds : ndarray[int64], shape (nb, 2)
        0-based site pairs. For J (S^x S^x + S^y S^y) on these bonds the
        amplitude of every entry is J / 2.

    Returns
    -------
    indptr : ndarray[int64], shape (dim + 1,)
    indices : ndarray[uint32]
        Row a lists the states reached from state a by one swap, in bond order.
    """
    C = binomial_table(L)
    dim = states.size
    indptr = np.zeros(dim + 1, dtype=np.int64)
    for a in range(dim):
        n = 0
        for b in range(bonds.shape[0]):
            if ((states[a] >> bonds[b, 0]) ^ (states[a] >> bonds[b, 1])) & 1:
                n += 1
        indptr[a + 1] = indptr[a] + n
    indices = np.empty(indptr[dim], dtype=np.uint32)
    for a in range(dim):
        k = indptr[a]
        for b in range(bonds.shape[0]):
            i, j = bonds[b, 0], bonds[b, 1]
            if ((states[a] >> i) ^ (states[a] >> j)) & 1:
                flipped = states[a] ^ ((np.int64(1) << i) | (np.int64(1) << j))
                indices[k] = rank(flipped, C)
                k += 1
    return indptr, indices


@jit
def ising_diagonal(spins, bonds, couplings):
    """Diagonal sum_b J_b S^z_i S^z_j, shape (dim,), from site_spins."""
    out = np.zeros(spins.shape[0])
    for a in range(spins.shape[0]):
        s = 0.0
        for b in range(bonds.shape[0]):
            s += couplings[b] * spins[a, bonds[b, 0]] * spins[a, bonds[b, 1]]
        out[a] = s
    return out


def neel_state(L: int, first_up: bool = True) -> int:
    """Bit string of the Neel state (site 1 up when first_up)."""
    start = 0 if first_up else 1
    return int(sum(1 << j for j in range(start, L, 2)))
