"""Kernels the engine can run, and the analysis that goes with each.

A kernel module (``kernels/<name>.py``) provides ``Params`` (frozen, self-validating
dataclass), ``sample(params, rng)``, ``realize(params, draws)``, ``schema(params)``,
``warmup_params()`` and ``DEFAULT_TIMES``. The registry adds what the engine needs
around it: which analysis derives quantities and fits from its averages.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from .analysis.bubble import BubbleAnalysis
from .analysis.front import FitConfig, FrontAnalysis
from .analysis.impurity import ImpurityAnalysis
from .analysis.ipr import IprAnalysis
from .analysis.quench import QuenchAnalysis
from .errors import SpecError, did_you_mean

__all__ = ["KERNELS", "KERNEL_INTERFACE", "KernelEntry", "get_kernel", "run_realization", "warmup"]


@dataclass(frozen=True)
class KernelEntry:
    """A registered kernel.

    Attributes
    ----------
    name : str
        Name used in specs.
    module : str
        Import path of the kernel module.
    summary : str
        One line for ``ensemble kernels``.
    analysis : type or None
        Analysis class: ``analysis.for_params(params, FitConfig)`` with
        ``estimators``, ``derived_axes``, ``fit_rows`` and ``cross_point_rows``;
        None for means only.
    """

    name: str
    module: str
    summary: str
    analysis: type | None = FrontAnalysis

    def load(self) -> ModuleType:
        return importlib.import_module(self.module)

    def param_names(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self.load().Params)]

    def make_analysis(self, params, config: FitConfig):
        return None if self.analysis is None else self.analysis.for_params(params, config)


KERNELS: dict[str, KernelEntry] = {
    e.name: e
    for e in [
        KernelEntry(
            name="anderson_trajectory",
            module="kernels.anderson_trajectory",
            summary="noisy trajectory of the Anderson (XX) chain as a Gaussian state; paper 003, Delta = 0",
        ),
        KernelEntry(
            name="xxz_trajectory",
            module="kernels.xxz_trajectory",
            summary="noisy trajectory of the XXZ chain in the Neel S^z sector (Chebyshev propagator); paper 003",
        ),
        KernelEntry(
            name="rmt_bath",
            module="kernels.rmt_bath",
            summary="GOE or local bath coupled to LIOMs: eigenstate IPRs D(O), G, hybridization; paper 004",
            analysis=IprAnalysis,
        ),
        KernelEntry(
            name="xxz_bubble",
            module="kernels.xxz_bubble",
            summary="XXZ ring closed through a GOE bubble: central eigenstates, gap ratio, purities, C(r); paper 002",
            analysis=BubbleAnalysis,
        ),
        KernelEntry(
            name="coupled_chains",
            module="kernels.coupled_chains",
            summary="localized chain + environment chain (junction or ladder): quench, M(t), fidelities; paper 000",
            analysis=QuenchAnalysis,
        ),
        KernelEntry(
            name="boson_impurity",
            module="kernels.boson_impurity",
            summary="hard-core d-bosons (Anderson) + one clean c-boson: exact dynamics, densities, correlations, entropies; paper 001",
            analysis=ImpurityAnalysis,
        ),
        KernelEntry(
            name="boson_tebd",
            module="kernels.boson_tebd",
            summary="the boson_impurity model by TEBD on MPS (TeNPy) for large chains, with truncation error; paper 001",
            analysis=ImpurityAnalysis,
        ),
        KernelEntry(
            name="xxz_exact",
            module="kernels.xxz_exact",
            summary="exact noise average (density-matrix channel and gamma^2/2 Lindblad) for L <= 10; paper 003",
        ),
    ]
}


#: What a kernel module must define (see the module docstring).
KERNEL_INTERFACE = ("Params", "sample", "realize", "schema", "warmup_params", "DEFAULT_TIMES")
USER_PREFIX = "module:"
ANALYSES = {"front": FrontAnalysis, "ipr": IprAnalysis, "bubble": BubbleAnalysis, "quench": QuenchAnalysis, "impurity": ImpurityAnalysis}


def get_kernel(name: object) -> KernelEntry:
    """The registry entry for ``name``, or a SpecError listing the kernels.

    ``"module:package.model"`` names a user's own kernel module that follows
    the interface; its optional ``ANALYSIS = "front"`` selects the front
    analysis (otherwise the tables hold means only).
    """
    if isinstance(name, str) and name in KERNELS:
        return KERNELS[name]
    if isinstance(name, str) and name.startswith(USER_PREFIX):
        return _user_kernel(name)
    known = ", ".join(sorted(KERNELS))
    raise SpecError("kernel", name, f"{did_you_mean(name, KERNELS)}one of {known}, or \"module:your.kernel.module\"")


def _user_kernel(name: str) -> KernelEntry:
    path = name[len(USER_PREFIX) :]
    try:
        mod = importlib.import_module(path)
    except ImportError as e:
        raise SpecError("kernel", name, f"an importable module ({e})") from None
    missing = [a for a in KERNEL_INTERFACE if not hasattr(mod, a)]
    if missing:
        raise SpecError("kernel", name, f"a module defining {', '.join(KERNEL_INTERFACE)} (missing: {', '.join(missing)})")
    analysis = getattr(mod, "ANALYSIS", None)
    if analysis is not None and analysis not in ANALYSES:
        raise SpecError("kernel", name, f"ANALYSIS one of {', '.join(ANALYSES)} or absent (got {analysis!r})")
    summary = (mod.__doc__ or path).strip().splitlines()[0]
    return KernelEntry(name=name, module=path, summary=summary, analysis=ANALYSES.get(analysis))


def run_realization(module: ModuleType, params, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw and evolve one realization."""
    return module.realize(params, module.sample(params, rng))


def warmup(module: str, check_cache: bool = False) -> str:
    """Compile (or load from the Numba cache) every jitted path of a kernel module.

    Runs one tiny realization. With ``check_cache`` (the driver, before any
    worker starts), first drops cached machine code that predates an edit of
    the kernel sources (see :mod:`kernels._cache`). Returns the module path.
    """
    if check_cache:
        from kernels._cache import ensure_fresh

        ensure_fresh()
    mod = importlib.import_module(module)
    run_realization(mod, mod.warmup_params(), np.random.default_rng(0))
    return module
