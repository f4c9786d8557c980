r"""Anderson insulator + one clean boson by TEBD on matrix product states (paper 001, large chains).

.. math::

    H = t_d \sum_{i=1}^{L-1} (d^\dagger_i d_{i+1} + h.c.) + \sum_i \epsilon_i n_{d,i}
        + t_c \sum_{i=1}^{L-1} (c^\dagger_i c_{i+1} + h.c.) + U \sum_i n_{c,i} n_{d,i}

(Eq. 1): hard-core d-bosons in fields epsilon_i uniform in [-W, W] and one clean hard-core c-boson, open chain
of L sites. The model, initial state and outputs of :mod:`kernels.impurity.boson_impurity`, evolved
with TeNPy's TEBD: each site is a hard-core d-boson times a hard-core c-boson
(dimension 4, both numbers conserved as charges), Suzuki-Trotter of ``order``
with step ``dt``, truncation to ``chi_max`` Schmidt values and discarding those
below ``svd_min``. Sample times must be multiples of ``dt``.

Per realization and sample time also: ``trunc_err`` (the accumulated
truncation error, TeNPy's eps: the discarded weight summed over all
truncations so far) and ``chi`` (the largest bond dimension reached). The
Trotter error is separate: O(dt^order) per unit time, checked against the
exact kernel in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels._profile import draw_fields
from kernels._params import ParameterError, check_choice, check_int, check_nonnegative, check_positive, check_times
from kernels.impurity.boson_impurity import OBSERVABLES as _IMPURITY_OBSERVABLES
from kernels.impurity.boson_impurity import Draws, ModelParams
from kernels.impurity.boson_impurity import schema as model_schema

__all__ = ["ANALYSIS", "SUMMARY", "DEFAULT_TIMES", "NAME", "Draws", "Params", "cost", "realize", "sample", "schema", "warmup_params"]

NAME = "boson_tebd"
SUMMARY = "the boson_impurity model by TEBD on MPS (TeNPy) for large chains, with truncation error; paper 001"
#: What each output is: boson_impurity's, and the MPS's controls.
#: Default ranges of the per-realization distributions a spec may ask for ([distributions]).
DISTRIBUTIONS = {"n_c": (0.0, 1.0), "n_d": (0.0, 1.0)}
OBSERVABLES = {
    **_IMPURITY_OBSERVABLES,
    "trunc_err": "accumulated truncation error (discarded weight) up to this time",
    "chi": "largest bond dimension reached",
}
ANALYSIS = "impurity"
DEFAULT_TIMES = {"start": 1.0, "stop": 200.0, "num": 20}
#: Sample times must be multiples of this parameter (a spec's log grid is snapped to it).
TIME_STEP = "dt"
ORDERS = (1, 2, 4)


@dataclass(frozen=True)
class Params(ModelParams):
    """Parameters (as boson_impurity) plus the TEBD controls.

    Parameters
    ----------
    L, W, U, t_d, t_c, d_bits, c_start, c_site, profile :
        As in :class:`kernels.impurity.boson_impurity.Params`.
    chi_max : int
        Largest bond dimension (the paper: up to 3000).
    svd_min : float
        Schmidt values below this are discarded.
    dt : float
        Trotter step; sample times must be multiples of it.
    order : int
        Suzuki-Trotter order (1, 2 or 4).
    entropy : bool
        Record S(t, cut) (cheap for an MPS: the bond singular values).
    """

    L: int = 30
    chi_max: int = 256
    svd_min: float = 1e-10
    dt: float = 0.05
    order: int = 4
    entropy: bool = True
    times: tuple = ()

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "chi_max", check_int("chi_max", self.chi_max, 1))
        object.__setattr__(self, "svd_min", check_nonnegative("svd_min", self.svd_min))
        object.__setattr__(self, "dt", check_positive("dt", self.dt))
        check_choice("order", self.order, ORDERS)
        if not isinstance(self.entropy, bool):
            raise ParameterError("entropy", self.entropy, "true or false")
        object.__setattr__(self, "times", check_times(self.times, self.dt))


def sample(p: Params, rng: np.random.Generator) -> Draws:
    """The same draws as boson_impurity: the on-site energies."""
    return Draws(eps=draw_fields(rng, p.W, p.L, p.profile, first=0))


def warmup_params() -> Params:
    return Params(L=4, chi_max=8, dt=0.1, times=(0.1,))


def cost(p: Params) -> float:
    """Estimated CPU seconds of one realization (calibrated by benchmarks/bench_cost.py): per Trotter step and
    bond, TeNPy's fixed overhead plus the SVD at the largest bond dimension the state could reach (an upper
    estimate: chi grows with the entanglement)."""
    chi = min(p.chi_max, 4 ** (p.L // 2))
    sweeps = {1: 1.0, 2: 2.0, 4: 10.0}[p.order]
    return (max(p.times) / p.dt) * p.L * sweeps * (1.5e-3 + 3e-10 * (4 * chi) ** 3 / 8) + 0.5


def memory_bytes(p: Params) -> int:
    chi = min(p.chi_max, 4 ** (p.L // 2))
    return int(16 * 4 * chi * chi * p.L * 4 + 300 * 2**20)


def schema(p: Params) -> dict[str, dict[str, np.ndarray]]:
    """boson_impurity's outputs, and per sample time the truncation error and the bond dimension."""
    t = np.asarray(p.times)
    return {**model_schema(p), "trunc_err": {"t": t}, "chi": {"t": t}}


def _model(p: Params, eps: np.ndarray):
    from tenpy.models.model import CouplingMPOModel, NearestNeighborModel
    from tenpy.networks.site import BosonSite, GroupedSite

    class TwoSpecies(CouplingMPOModel, NearestNeighborModel):
        def init_sites(self, options):
            d = BosonSite(Nmax=1, conserve="N")
            c = BosonSite(Nmax=1, conserve="N")
            return GroupedSite([d, c], labels=["d", "c"], charges="independent")  # state index n_d + 2 n_c

        def init_terms(self, options):
            self.add_onsite(eps, 0, "Nd")
            self.add_onsite(p.U, 0, "Nd Nc")
            self.add_coupling(p.t_d, 0, "Bdd", 0, "Bd", 1, plus_hc=True)
            self.add_coupling(p.t_c, 0, "Bdc", 0, "Bc", 1, plus_hc=True)

    return TwoSpecies({"L": p.L, "bc_MPS": "finite", "lattice": "Chain"})


def realize(p: Params, d: Draws) -> dict[str, np.ndarray]:
    """TEBD from the product state; the observables of boson_impurity plus truncation error and bond dimension."""
    from tenpy.algorithms import tebd
    from tenpy.networks.mps import MPS

    model = _model(p, d.eps)
    state = [int(p.d_bits[i]) + (2 if i == p.c_site else 0) for i in range(p.L)]
    psi = MPS.from_product_state(model.lat.mps_sites(), state, bc="finite", dtype=complex,
                                 unit_cell_width=model.lat.mps_unit_cell_width)  # fmt: skip
    options = {"dt": p.dt, "order": p.order, "N_steps": 1, "trunc_params": {"chi_max": p.chi_max, "svd_min": p.svd_min}}
    eng = tebd.TEBDEngine(psi, model, options)
    nt = len(p.times)
    out = {k: np.empty((nt,) + tuple(len(c) for c in axes.values())[1:]) for k, axes in schema(p).items()}
    steps_done = 0
    for j, t in enumerate(p.times):
        steps = int(round(t / p.dt))
        if steps > steps_done:
            eng.options["N_steps"] = steps - steps_done
            eng.run()
            steps_done = steps
        n_c = np.real(psi.expectation_value("Nc"))
        n_d = np.real(psi.expectation_value("Nd"))
        out["n_c"][j], out["n_d"][j] = n_c, n_d
        out["nd_nd"][j] = np.real(psi.correlation_function("Nd", "Nd")) - np.outer(n_d, n_d)
        out["particles"][j] = (n_d.sum(), n_c.sum())
        out["trunc_err"][j] = eng.trunc_err.eps
        out["chi"][j] = max(psi.chi)
        if p.entropy:
            out["S"][j] = psi.entanglement_entropy()
    out["trunc_err"] = out["trunc_err"].reshape(nt)
    out["chi"] = out["chi"].reshape(nt).astype(float)
    if not np.all(np.isfinite(out["n_c"])):
        raise RuntimeError(f"TEBD produced non-finite densities (chi_max {p.chi_max}, dt {p.dt})")
    return out
