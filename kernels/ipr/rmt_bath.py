r"""A bath coupled to LIOMs: eigenstate IPRs of local operators (paper 004, Secs. II-V, App. A).

.. math::

    H = H_B \otimes 1 + \sum_{i=1}^{n} \left(h_i \tau^z_i + g_i\, \sigma^x_c \tau^x_i\right),
    \qquad g_i = g_1 \alpha^{i-1},\quad h_i = 1 + U[-h_w, h_w]

(Eqs. 15, 23), with ``sigma^x_c`` on the bath's coupling spin (site ``l_b``). Pauli operators throughout
(sigma, tau and s with eigenvalues +-1); the LIOMs' fields h_i and the local bath's h'_i are uniform.
Baths ``H_B``:

* ``"goe"``: a GOE matrix on 2^l_b states, ``(A + A^T)/2`` with ``A_ij ~ N(0, 1)``,
  scaled so that its semicircle spans ``bandwidth`` (mean level spacing
  ``bandwidth / 2^l_b``: the paper's 6-spin bath has 4.2 and 0.066; its 9-spin
  one 0.018 x 512 = 9.2). Sites are the bits of the state index ("virtual spins").
* ``"local"``: Eq. (24), ``sum_i (h'_i s^z_i + J s^x_i) + J' sum_i s^x_i s^x_{i+1}``,
  ``h'_i = 1 + U[-hb_w, hb_w]``, an open chain of ``l_b`` spins; with ``l_b = 1`` the single-spin "bath" of Fig. 3.
* ``"none"``: no bath (uncoupled LIOMs; Poisson level statistics).

A bath plus already coupled LIOMs (B' of Sec. V B) is this Hamiltonian with
``n`` LIOMs where the last one, the *probe*, couples with ``g_probe``.

One realization: full diagonalization (LAPACK), the ``n_states`` eigenstates
closest to the infinite-temperature energy Tr H / dim (maximal entropy; levels
tied with the last of them are included, see :mod:`kernels.numerics.spectral`), and
for each operator O the IPR(O) = (sum_E' ||P_E' O psi||^4)^(-1) over the
eigenspaces E' (= sum_psi' |<psi'|O|psi>|^4 for a simple spectrum) and
D(O) = log IPR(O) (Sec. IV): O = ``OB`` (a bath spin that is not the coupling
spin, ``ob_site``), ``x0`` (the coupling spin) and ``x1..xn`` (the LIOMs). The
matrix elements come from one product ``V^T (O psi)``: O(dim^2) per operator
after the O(dim^3) diagonalization. With a probe (n >= 1), also the coupling
G = g_probe rho sqrt(M) of Sec. V B and the probe's hybridization function
(weights of the coupled eigenstate on uncoupled eigenstates vs energy, App. A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigh

from kernels._params import ParameterError, check_choice, check_int, check_nonnegative, check_positive, check_real
from kernels.numerics.levels import gap_ratios
from kernels.numerics.spectral import eigenspaces, histogram, nearest_levels, require_nondegenerate, tie_tolerance

__all__ = [
    "SUMMARY",
    "ANALYSIS",
    "BATHS",
    "DEFAULT_TIMES",
    "NAME",
    "Draws",
    "Params",
    "bath_hamiltonian",
    "cost",
    "gap_ratio",
    "gap_ratios",
    "hamiltonian",
    "memory_bytes",
    "operators",
    "realize",
    "sample",
    "schema",
    "warmup_params",
]

NAME = "rmt_bath"
SUMMARY = "GOE or local bath coupled to LIOMs: eigenstate IPRs D(O), G, hybridization; paper 004"
#: Outputs that are histograms made within a realization: output -> its bin axis (the engine adds quantiles).
HISTOGRAMS = {"r_hist": "ratio"}
#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
DISTRIBUTIONS = {"D": (0.0, 10.0), "r": (0.0, 1.0)}
#: What each output is.
OBSERVABLES = {
    "D": "D(O) = log IPR(O) over the chosen eigenstates, for O = OB (a bath spin), x0 (the coupling spin), x1.. (LIOMs)",
    "r": "mean gap ratio of the central half of the spectrum of H (GOE 0.5307, Poisson 0.3863)",
    "r_hist": "density P(r) of the gap ratios of the central half of the spectrum on [0, 1]",
    "r_bath": "mean gap ratio of the bath alone",
    "G": "coupling G = g rho sqrt(M) of the probe LIOM to B' (Sec. V B)",
    "rho": "density of states of B' at the probe's reference energy",
    "hyb": "hybridization density k(omega) of the probe: weights on uncoupled eigenstates per unit energy (App. A)",
}
DEFAULT_TIMES = None  # no sample times
ANALYSIS = "ipr"
BATHS = ("goe", "local", "none")
#: dim = 2^(l_b + n) above this is refused outright (2^20: 8 TB per matrix)
MAX_SPINS = 20


@dataclass(frozen=True)
class Params:
    """Parameters of one bath + LIOMs realization (defaults: the paper's Sec. V A).

    Parameters
    ----------
    bath : str
        "goe", "local" or "none".
    l_b : int
        Bath spins, >= 1, with l_b + n_lioms <= 20 (ignored for "none").
    bandwidth : float
        GOE semicircle width (mean level spacing bandwidth / 2^l_b).
    spacing : float
        If > 0, the GOE's mean level spacing instead: bandwidth = spacing * 2^l_b.
    n_lioms : int
        LIOMs coupled to the bath, >= 0 (named so that it does not clash with the tables' ``n``).
    g1 : float
        Coupling of the first LIOM, >= 0; g_i = g1 alpha^(i-1).
    alpha : float
        Decay of the couplings along the LIOMs, > 0 (paper: 3/4).
    h_width : float
        LIOM fields h_i = 1 + U[-h_width, h_width], >= 0.
    g_probe : float
        If >= 0, the coupling of the last LIOM (the probe) instead of g1 alpha^(n-1).
    J : float
        Local bath of Eq. (24): transverse field J s^x, >= 0.
    Jp : float
        Local bath of Eq. (24): J' s^x s^x between neighbours, >= 0.
    hb_width : float
        Local bath of Eq. (24): fields 1 + U[-hb_width, hb_width], >= 0.
    ob_site : int
        Bath site of O_B (1-based); 0: site 4 for baths of >= 5 spins, else site 1.
    n_states : int
        Eigenstates closest to maximal entropy that are averaged over, >= 1 (levels tied with the last are added).
    window : float
        Energy window of the M-average and the density of states for G, > 0.
    hyb_range : float
        The hybridization function is histogrammed on [-hyb_range, hyb_range], > 0.
    hyb_bins : int
        Its bins: even, >= 2.
    """

    bath: str = "goe"
    l_b: int = 6
    bandwidth: float = 4.2
    spacing: float = 0.0
    n_lioms: int = 1
    g1: float = 0.2
    alpha: float = 0.75
    h_width: float = 0.5
    g_probe: float = -1.0
    J: float = 0.5
    Jp: float = 1.0
    hb_width: float = 0.3
    ob_site: int = 0
    n_states: int = 1
    window: float = 1.0
    hyb_range: float = 2.0
    hyb_bins: int = 40

    def __post_init__(self):
        check_choice("bath", self.bath, BATHS)
        l_b = 0 if self.bath == "none" else check_int("l_b", self.l_b, 1)
        n = check_int("n_lioms", self.n_lioms, 0)
        if l_b + n > MAX_SPINS or l_b + n == 0:
            raise ParameterError("n_lioms", self.n_lioms, f"1 <= l_b + n_lioms <= {MAX_SPINS} (dimension 2^(l_b + n_lioms))")
        object.__setattr__(self, "l_b", l_b)
        object.__setattr__(self, "n_lioms", n)
        for f in ("bandwidth", "window", "hyb_range"):
            object.__setattr__(self, f, check_positive(f, getattr(self, f)))
        spacing = check_nonnegative("spacing", self.spacing)
        object.__setattr__(self, "spacing", spacing)
        if spacing > 0:
            object.__setattr__(self, "bandwidth", spacing * 2**l_b)
        for f in ("g1", "h_width", "J", "Jp", "hb_width"):
            object.__setattr__(self, f, check_nonnegative(f, getattr(self, f)))
        object.__setattr__(self, "alpha", check_positive("alpha", self.alpha))
        object.__setattr__(self, "g_probe", check_real("g_probe", self.g_probe))
        ob = check_int("ob_site", self.ob_site, 0)
        if self.bath != "none" and ob > l_b:
            raise ParameterError("ob_site", ob, f"a bath site 1..{l_b} (or 0 for the default)")
        object.__setattr__(self, "ob_site", ob or (4 if l_b >= 5 else 1))
        object.__setattr__(self, "n_states", check_int("n_states", self.n_states, 1))
        bins = check_int("hyb_bins", self.hyb_bins, 2)
        if bins % 2:
            raise ParameterError("hyb_bins", bins, "an even number (bins pair up as +-omega), e.g. hyb_bins = 40")
        object.__setattr__(self, "hyb_bins", bins)

    @property
    def dim(self) -> int:
        return 2 ** (self.l_b + self.n_lioms)

    def operators(self) -> list[tuple[str, int]]:
        """The probed operators, (label, site) (:func:`operators`): what the analysis reads the IPRs of."""
        return operators(self)

    def schema(self) -> dict[str, dict[str, np.ndarray]]:
        """The outputs of one realization (:func:`schema`)."""
        return schema(self)

    def couplings(self) -> np.ndarray:
        """g_i, i = 1..n, with the probe's g_probe if set."""
        g = self.g1 * self.alpha ** np.arange(self.n_lioms)
        if self.n_lioms and self.g_probe >= 0:
            g[-1] = self.g_probe
        return g


@dataclass(frozen=True)
class Draws:
    """Random input of one realization.

    Attributes
    ----------
    bath : ndarray[float64]
        GOE: the matrix A, shape (2^l_b, 2^l_b); local: the fields h'_i, shape (l_b,); none: empty.
    h : ndarray[float64], shape (n,)
        LIOM fields.
    """

    bath: np.ndarray
    h: np.ndarray


def sample(p: Params, rng: np.random.Generator) -> Draws:
    """The bath's randomness first, then the LIOM fields."""
    if p.bath == "goe":
        bath = rng.normal(size=(2**p.l_b, 2**p.l_b))
    elif p.bath == "local":
        bath = 1.0 + rng.uniform(-p.hb_width, p.hb_width, size=p.l_b)
    else:
        bath = np.empty(0)
    return Draws(bath=bath, h=1.0 + rng.uniform(-p.h_width, p.h_width, size=p.n_lioms))


def warmup_params() -> Params:
    return Params(bath="goe", l_b=3, n_lioms=2)


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization: LAPACK eigh of H (dim^3) and, with a probe, of B' (dim/2)^3,
    plus the IPRs (dim^2 per operator and state); calibrated by benchmarks/bench_cost.py."""
    d = float(p.dim)
    probe = (d / 2) ** 3 if p.n_lioms and p.bath != "none" else 0.0
    return 2.2e-10 * (d**3 + probe) + 2e-9 * d * d * (p.n_lioms + 2) * p.n_states + 2e-3


def memory_bytes(p: Params) -> int:
    """Peak memory of one realization: H, its eigenvectors, the probe's bath B' (float64)."""
    d = p.dim
    return int(8 * (2.2 * d * d + (0.55 * d * d if p.n_lioms else 0)) + 64 * 2**20)


def operators(p: Params) -> list[tuple[str, int]]:
    """(label, bit mask of the flipped spin) of O_B, x0 (coupling spin) and x1..xn, in the full index."""
    ops = []
    if p.bath != "none":
        ops += [("OB", 1 << (p.n_lioms + p.ob_site - 1)), ("x0", 1 << (p.n_lioms + p.l_b - 1))]
    return ops + [(f"x{i}", 1 << (i - 1)) for i in range(1, p.n_lioms + 1)]


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    e = _ratio_edges()
    out = {"D": {"op": np.array([label for label, _ in operators(p)])}}
    if p.dim >= MIN_DIM_RATIOS:  # the central half of a smaller spectrum has fewer than three levels: no gap ratio
        out.update(r={}, r_hist={"ratio": 0.5 * (e[1:] + e[:-1])})
    if p.bath != "none" and p.l_b >= 3:
        out["r_bath"] = {}
    if p.n_lioms and p.bath != "none":  # a probe LIOM and a bath it couples to
        edges = np.linspace(-p.hyb_range, p.hyb_range, p.hyb_bins + 1)
        out.update(G={}, rho={}, hyb={"omega": 0.5 * (edges[1:] + edges[:-1])})
    return out


def bath_hamiltonian(p: Params, bath: np.ndarray) -> np.ndarray:
    """H_B: scaled GOE, Eq. (24), or the 1x1 zero for no bath."""
    if p.bath == "goe":
        N = bath.shape[0]
        return (bath + bath.T) * (0.5 * (p.bandwidth / 2) / math.sqrt(2 * N))  # semicircle radius sqrt(2N) -> bandwidth/2
    if p.bath == "local":
        L = p.l_b
        idx = np.arange(2**L)
        bits = (idx[:, None] >> np.arange(L)) & 1  # bit j - 1 is site j
        H = np.diag((1 - 2 * bits) @ bath)  # sum_i h'_i s^z_i
        for j in range(L):
            H[idx, idx ^ (1 << j)] += p.J
        for j in range(L - 1):
            H[idx, idx ^ (3 << j)] += p.Jp
        return H
    return np.zeros((1, 1))


def hamiltonian(p: Params, d: Draws) -> np.ndarray:
    """Dense H of Eq. (15) in the index b * 2^n + m (bath state b, LIOM bits m; bit i - 1 = LIOM i)."""
    n = p.n_lioms
    H = np.kron(bath_hamiltonian(p, d.bath), np.eye(2**n))
    idx = np.arange(p.dim)
    spins = 1 - 2 * ((idx[:, None] >> np.arange(n)) & 1)  # tau^z_i = +1 for bit 0
    H[idx, idx] += spins @ d.h
    c = 1 << (n + p.l_b - 1) if p.bath != "none" else 0
    for i, g in enumerate(p.couplings()):
        if c:  # with no bath there is nothing to couple to
            H[idx, idx ^ (c | (1 << i))] += g
    return H


def gap_ratio(E: np.ndarray) -> float:
    """Mean gap ratio over the central half of the sorted spectrum."""
    return float(np.mean(gap_ratios(E, "central half")))


#: Bins of the gap-ratio histogram on [0, 1]
RATIO_BINS = 40


#: Smallest dimension whose central half (levels n//4 .. n - n//4) holds three levels, one gap ratio.
MIN_DIM_RATIOS = 8


def _ratio_edges() -> np.ndarray:
    return np.linspace(0.0, 1.0, RATIO_BINS + 1)


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """IPRs D(O) of the chosen eigenstates, gap ratios, and (with LIOMs) G, rho and the hybridization.

    The chosen eigenstates are the ``n_states`` nearest Tr H / dim plus any
    tied with the last of them (:func:`kernels.numerics.spectral.nearest_levels`), and
    the IPR sums the weights of O psi per eigenspace, so neither depends on
    rounding or on a basis inside a degenerate level; a chosen state that is
    itself degenerate is refused (its IPR would depend on that basis).
    """
    H = hamiltonian(p, d)
    target = float(np.trace(H)) / p.dim  # infinite temperature: maximal entropy
    E, V = eigh(H, overwrite_a=True, check_finite=False)
    del H
    tol = tie_tolerance(E)
    states = nearest_levels(E, target, p.n_states, tol)
    _require_simple(E, states, tol, "D(O) of the chosen eigenstate")
    spaces = eigenspaces(E, tol)
    idx = np.arange(p.dim)
    ops = operators(p)
    D = np.zeros(len(ops))
    for s in states:
        phi = np.stack([V[idx ^ mask, s] for _, mask in ops], axis=1)  # (O psi)[a] = psi[a ^ mask]
        c = V.T @ phi
        w = np.add.reduceat(c * c, spaces, axis=0)  # weight of O psi in each eigenspace
        D += np.log(1.0 / np.sum(w * w, axis=0))
    out = {"D": D / states.size}
    if "r" in schema(p):
        ratios = gap_ratios(E, "central half")
        out["r"] = np.array(np.mean(ratios) if ratios.size else np.nan)  # NaN: every gap of the half degenerate
        out["r_hist"] = histogram(ratios, _ratio_edges(), tol=tol) / (max(ratios.size, 1) * np.diff(_ratio_edges()))
    if "r_bath" in schema(p):
        out["r_bath"] = np.array(gap_ratio(np.linalg.eigvalsh(bath_hamiltonian(p, d.bath))))
    if "G" in schema(p):
        out.update(_probe(p, d, E[states], V[:, states], tol))
    return out


def _require_simple(E: np.ndarray, chosen: np.ndarray, tol: float, what: str) -> None:
    """Refuse chosen levels of the ascending spectrum E that are degenerate with a neighbour."""
    for i in chosen:
        require_nondegenerate(E[max(i - 1, 0) : i + 2], tol, what)


def _probe(p: Params, d: Draws, E_psi: np.ndarray, psi: np.ndarray, tol: float) -> dict[str, np.ndarray]:
    """G (Sec. V B) and the hybridization histogram (App. A) of the last LIOM.

    The reference state |b, s> of G is the product state of B' and the probe
    nearest maximal entropy; where several tie (a symmetric spectrum), G and
    rho are averaged over them.
    """
    rest = Params(**{**p.__dict__, "n_lioms": p.n_lioms - 1, "g_probe": -1.0})
    rest_draws = Draws(bath=d.bath, h=d.h[:-1])
    HB = hamiltonian(rest, rest_draws)  # B' = bath + the other LIOMs, with their couplings g_1..g_{n-1}
    target = float(np.trace(HB)) / HB.shape[0]
    Eb, U = eigh(HB, overwrite_a=True, check_finite=False)
    del HB
    hn, gn = d.h[-1], p.couplings()[-1]
    # (b, s) with E(b, s) = E_b + h_n s closest to maximal entropy, s = +-1
    refs = nearest_levels(np.concatenate([Eb + hn, Eb - hn]), target, 1, tol)
    mask = 1 << (rest.n_lioms + p.l_b - 1)
    G = rho = 0.0
    for k in refs:
        b, s = k % Eb.size, (1.0 if k < Eb.size else -1.0)
        _require_simple(Eb, [b], tol, "G (the matrix elements of the probe's reference state)")
        row = U[np.arange(Eb.size) ^ mask, b] @ U  # <b| sigma^x_c |b'> for all b'
        sel = np.abs(Eb - Eb[b] - 2 * hn * s) <= p.window  # b' with s' = -s and |E(b', s') - E(b, s)| <= window
        M = float(np.mean(row[sel] ** 2)) if sel.any() else 0.0
        rho_b = np.count_nonzero(np.abs(Eb - Eb[b]) <= p.window) / (2 * p.window)
        G += gn * rho_b * math.sqrt(M) / refs.size
        rho += rho_b / refs.size
    # hybridization: weights of psi on |b', s'> (probe = LIOM n, bit n - 1), against E(b', s') - E_psi
    edges = np.linspace(-p.hyb_range, p.hyb_range, p.hyb_bins + 1)
    hist = np.zeros(p.hyb_bins)
    shape = (2**p.l_b, 2, 2 ** (p.n_lioms - 1))  # (bath, probe bit, other LIOMs)
    for e, v in zip(E_psi, psi.T):
        v = v.reshape(shape)
        for bit, sp in ((0, 1.0), (1, -1.0)):
            w = (U.T @ v[:, bit, :].ravel()) ** 2
            hist += histogram(Eb + hn * sp - e, edges, weights=w, tol=tol)
    hist /= E_psi.size * np.diff(edges)
    return {"G": np.array(G), "rho": np.array(rho), "hyb": hist}
