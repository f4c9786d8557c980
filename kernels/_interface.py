"""The kernel protocol: every hook the engine reads off a kernel module, with its default and its meaning.

A kernel is one module: a built-in one in ``kernels/``, a plugin's registered in the entry-point group
``mbl_ensemble.kernels`` (name -> module), or any importable module named in a spec as
``kernel = "module:package.module"``. :func:`load` resolves it into a :class:`KernelModule`, the typed
object the engine holds; no other module of the engine reads a hook off a kernel module.

Required
--------
``Params``
    A frozen dataclass of the parameters that validates itself in ``__post_init__``, raising
    :class:`kernels._params.ParameterError` naming the field, the value and what is allowed. Every field is
    documented, in the class docstring's numpydoc ``Parameters`` section or in the field's
    ``metadata={"doc": ...}`` (``ensemble kernels NAME`` prints it; a conformance test fails on an
    undocumented field of any registered kernel). A field ``times`` (tuple of float) makes the kernel
    time-resolved: the spec's ``[times]`` fills it.
``sample(params, rng) -> draws``
    Every random input of one realization, from the ``numpy.random.Generator`` the engine hands in.
``realize(params, draws) -> dict[str, ndarray]``
    The deterministic physics of one realization.
``schema(params) -> dict[str, dict[str, ndarray]]``
    Observable name -> {axis name: coordinates}, in array axis order.
``warmup_params() -> Params``
    A tiny point that runs every compiled path (for warming the Numba cache).

Optional (defaults in :data:`OPTIONAL`)
---------------------------------------
``NAME`` (str)
    The kernel's name; built-in kernels set it to their module's name. Default: the module path's last part.
``ANALYSIS`` (str)
    The analysis model that derives quantities and fits from the averages: a model registered in the
    entry-point group ``mbl_ensemble.models`` ("front", "ipr", ...) or ``"module:package.module"`` (a module
    defining ``MODEL``). Default ``"means"``: tables, a report of final values, a figure of every observable.
``SUMMARY`` (str)
    One line for listings; default: the first line of the module docstring.
``OBSERVABLES`` (dict)
    Output name -> what it is, for ``ensemble kernels NAME`` and reports; default: none.
``UNITS`` (dict)
    Output name -> its unit or scale (e.g. ``"1/J"``); used in axis labels and datasets. Default: none.
``LABELS`` (dict)
    Output name -> its symbol in matplotlib mathtext (e.g. ``"$I_r$"``), for figures. Default: the name.
``DEFAULT_TIMES`` (dict)
    ``{"start", "stop", "num"}`` of the log grid used when a spec has no ``[times]``.
``TIME_STEP`` (str)
    The parameter whose multiples the sample times must be (e.g. "tau"): a spec's log grid is snapped to it.
``cost(params) -> float``
    CPU seconds of one realization on the reference machine (calibrated: ``benchmarks/bench_cost.py``). It
    weights the progress bar, sizes tasks and is checked against time limits. Without it the engine
    *measures* a few realizations of the spec's points instead (``validate`` says which it used).
``memory_bytes(params) -> int``
    Peak memory of one realization in bytes, for the check before scheduling; default: not declared.
``resolution(params) -> list[str]``
    What a point's settings do to its physics at its size, one line each (e.g. an ``n_eig`` that is a large
    fraction of a small sector's spectrum, so levels far from the spectral centre enter the averages): said
    by ``validate`` and ``run`` before anything runs, and every fits row of such a point (and every row
    across points that uses it) is marked "at resolution limit". Default: nothing to say.
``memory_options(params) -> dict``
    Other settings of the same point (a spec change, e.g. ``'method = "polfed"'``) -> their peak memory,
    offered when a realization does not fit a worker; default: none.
``DISTRIBUTIONS`` (dict)
    Output name -> (lo, hi): the default range of its histogram when a spec's ``[distributions]`` asks for
    one without a range; default: none.
``HISTOGRAMS`` (dict)
    Output name -> the axis along which that output is already a density (the kernel histograms within a
    realization, e.g. ``{"r_hist": "ratio"}``): its quantiles are derived like a spec's distributions.

On ``Params`` (optional)
------------------------
``SEED_OMIT_AT`` (dict, class attribute)
    Fields added after runs existed -> the value at which they are left out of seeding keys and results
    hashes (e.g. ``{"unraveling": "kicks"}``), so earlier runs keep their keys.
``PAIRED`` (tuple of field names, class attribute)
    Fields whose values share random input: points that differ only in these draw the same realization
    seeds (e.g. ``("profile",)``: a disorder profile is compared pairwise with the uniform chain).
``FINGERPRINT_OMIT_AT`` (dict, class attribute)
    The same for partials' fingerprints (e.g. ``{"profile": ""}``): fields left out of a fingerprint at
    these values, so partials of earlier runs are still accepted by a resume or an extension.
``fingerprint_extra(self) -> dict``
    What the values resolve to where that can change without the values changing (e.g. the eigensolver an
    ``"auto"`` picked): added to each partial's fingerprint, so partials computed otherwise are refused.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["OPTIONAL", "PARAMS_OPTIONAL", "REQUIRED", "Kernel", "KernelInterfaceError", "KernelModule", "load",
           "parameter_docs"]  # fmt: skip

REQUIRED = ("Params", "sample", "realize", "schema", "warmup_params")


def _unit_cost(params) -> float:
    return 1.0


def _undeclared_memory(params) -> None:
    return None


def _no_options(params) -> dict:
    return {}


def _no_limits(params) -> list:
    return []


#: Optional module hooks and their defaults (SUMMARY defaults to the docstring's first line; ``cost``'s default
#: is a placeholder the engine replaces by a measurement, see ``KernelModule.declares_cost``).
OPTIONAL = {
    "NAME": None,
    "ANALYSIS": "means",
    "SUMMARY": None,
    "OBSERVABLES": {},
    "UNITS": {},
    "LABELS": {},
    "DEFAULT_TIMES": None,
    "TIME_STEP": None,
    "cost": _unit_cost,
    "memory_bytes": _undeclared_memory,
    "memory_options": _no_options,
    "resolution": _no_limits,
    "DISTRIBUTIONS": {},
    "HISTOGRAMS": {},
}
#: Optional hooks on ``Params`` and their defaults.
PARAMS_OPTIONAL = {"SEED_OMIT_AT": {}, "FINGERPRINT_OMIT_AT": {}, "PAIRED": (), "fingerprint_extra": None}


@runtime_checkable
class Kernel(Protocol):
    """Static form of the required part of the protocol (see the module docstring)."""

    Params: type

    def sample(self, params: Any, rng: np.random.Generator) -> Any: ...

    def realize(self, params: Any, draws: Any) -> dict[str, np.ndarray]: ...

    def schema(self, params: Any) -> dict[str, dict[str, np.ndarray]]: ...

    def warmup_params(self) -> Any: ...


class KernelInterfaceError(TypeError):
    """A module does not follow the kernel protocol; the message names what is missing."""


@dataclass(frozen=True, eq=False)
class KernelModule:
    """A kernel module resolved once: every hook present, optional ones defaulted. Pickles by import path.

    The engine reads hooks from here only (not off the module).
    """

    path: str
    module: ModuleType
    name: str
    analysis: str
    summary: str
    observables: dict
    default_times: dict | None
    time_step: str | None
    Params: type
    sample: Callable
    realize: Callable
    schema: Callable
    warmup_params: Callable
    cost: Callable
    memory_bytes: Callable
    memory_options: Callable = _no_options
    resolution: Callable = _no_limits
    units: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    distributions: dict = field(default_factory=dict)
    histograms: dict = field(default_factory=dict)
    #: Whether ``cost`` is the kernel's own model (else the engine measures realizations).
    declares_cost: bool = False
    #: Whether the module declares its ``NAME`` (then that is its identity, however a spec names it).
    declares_name: bool = False

    @property
    def param_names(self) -> list[str]:
        """Parameter fields in declaration order (``times`` included if the kernel has it)."""
        return [f.name for f in dataclasses.fields(self.Params)]

    @property
    def has_times(self) -> bool:
        return "times" in self.param_names

    @property
    def seed_omit_at(self) -> dict:
        """``Params.SEED_OMIT_AT``: fields left out of seeding keys at these values."""
        return dict(getattr(self.Params, "SEED_OMIT_AT", PARAMS_OPTIONAL["SEED_OMIT_AT"]))

    @property
    def paired(self) -> frozenset:
        """``Params.PAIRED``: fields left out of the realization seeds' key (:func:`ensemble.spec.seeding.draw_key`)."""
        return frozenset(getattr(self.Params, "PAIRED", PARAMS_OPTIONAL["PAIRED"]))

    @property
    def fingerprint_omit_at(self) -> dict:
        """``Params.FINGERPRINT_OMIT_AT``: fields left out of partials' fingerprints at these values."""
        return dict(getattr(self.Params, "FINGERPRINT_OMIT_AT", PARAMS_OPTIONAL["FINGERPRINT_OMIT_AT"]))

    def fingerprint_extra(self, params) -> dict:
        """``params.fingerprint_extra()`` (what the values resolve to), or {}."""
        extra = getattr(params, "fingerprint_extra", None)
        return dict(extra()) if callable(extra) else {}

    def run(self, params, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw and evolve one realization."""
        return self.realize(params, self.sample(params, rng))

    def __reduce__(self):
        return _restore, (self.path, self.name)

    def __repr__(self) -> str:
        return f"KernelModule({self.name!r} from {self.path})"


def _restore(path: str, name: str) -> KernelModule:
    kernel = load(path)
    return kernel if kernel.name == name else dataclasses.replace(kernel, name=name)


#: Kernel modules that moved into their family's package (0.3): a spec or a run's record naming the old path
#: (``kernel = "module:kernels.xxz_trajectory"``) still finds the kernel. Kept for a release.
MOVED = {
    "kernels.anderson_exact": "kernels.front.anderson_exact",
    "kernels.anderson_trajectory": "kernels.front.anderson_trajectory",
    "kernels.xxz_exact": "kernels.front.xxz_exact",
    "kernels.xxz_trajectory": "kernels.front.xxz_trajectory",
    "kernels.xxz_bubble": "kernels.bubble.xxz_bubble",
    "kernels.rmt_bath": "kernels.ipr.rmt_bath",
    "kernels.coupled_chains": "kernels.quench.coupled_chains",
    "kernels.boson_impurity": "kernels.impurity.boson_impurity",
    "kernels.boson_tebd": "kernels.impurity.boson_tebd",
}


def current_path(path: str) -> str:
    """The module path of a kernel today, for a path an earlier version used (:data:`MOVED`)."""
    return MOVED.get(path, path)


def load(path: str) -> KernelModule:
    """Import ``path`` (or the module it moved to, :data:`MOVED`) and resolve it into a :class:`KernelModule`.

    Raises
    ------
    KernelInterfaceError
        When a required name is missing or a hook is not of the right kind.
    Exception
        Whatever importing the module raises (the caller reports it).
    """
    path = current_path(path)
    mod = importlib.import_module(path)
    missing = [a for a in REQUIRED if not hasattr(mod, a)]
    if missing:
        raise KernelInterfaceError(f"module {path} lacks {', '.join(missing)} (a kernel defines {', '.join(REQUIRED)})")
    if not (isinstance(mod.Params, type) and dataclasses.is_dataclass(mod.Params)):
        raise KernelInterfaceError(f"{path}.Params must be a dataclass")
    for hook in ("sample", "realize", "schema", "warmup_params"):
        if not callable(getattr(mod, hook)):
            raise KernelInterfaceError(f"{path}.{hook} must be callable")
    hooks = {k: getattr(mod, k, default) for k, default in OPTIONAL.items()}
    for hook in ("cost", "memory_bytes", "memory_options", "resolution"):
        if not callable(hooks[hook]):
            raise KernelInterfaceError(f"{path}.{hook} must be callable")
    for hook in ("OBSERVABLES", "UNITS", "LABELS", "DISTRIBUTIONS", "HISTOGRAMS"):
        if not isinstance(hooks[hook], dict):
            raise KernelInterfaceError(f"{path}.{hook} must be a dict")
    for attr in ("SEED_OMIT_AT", "FINGERPRINT_OMIT_AT"):
        if not isinstance(getattr(mod.Params, attr, {}), dict):
            raise KernelInterfaceError(f"{path}.Params.{attr} must be a dict")
    paired = getattr(mod.Params, "PAIRED", ())
    names = {f.name for f in dataclasses.fields(mod.Params)}
    if not isinstance(paired, tuple | list | frozenset | set) or not set(paired) <= names:
        raise KernelInterfaceError(f"{path}.Params.PAIRED must be a tuple of its field names, got {paired!r}")
    summary = hooks["SUMMARY"] or ((mod.__doc__ or "").strip().splitlines() or [path])[0]
    return KernelModule(
        path=path,
        module=mod,
        name=str(hooks["NAME"] or path.rpartition(".")[2]),
        analysis=str(hooks["ANALYSIS"]),
        summary=summary,
        observables=dict(hooks["OBSERVABLES"]),
        default_times=hooks["DEFAULT_TIMES"],
        time_step=hooks["TIME_STEP"],
        Params=mod.Params,
        sample=mod.sample,
        realize=mod.realize,
        schema=mod.schema,
        warmup_params=mod.warmup_params,
        cost=hooks["cost"],
        memory_bytes=hooks["memory_bytes"],
        memory_options=hooks["memory_options"],
        resolution=hooks["resolution"],
        units=dict(hooks["UNITS"]),
        labels=dict(hooks["LABELS"]),
        distributions=dict(hooks["DISTRIBUTIONS"]),
        histograms=dict(hooks["HISTOGRAMS"]),
        declares_cost=hasattr(mod, "cost"),
        declares_name=bool(hooks["NAME"]),
    )


_ENTRY = re.compile(r"^(\s*)([A-Za-z_][\w]*(?:\s*,\s*[A-Za-z_][\w]*)*)\s*:\s*(.*)$")


def parameter_docs(cls: type) -> dict[str, tuple[str, str]]:
    """Field name -> (type, description) of a Params class: a field's ``metadata["doc"]`` (and ``metadata["type"]``),
    else its numpydoc entry in the docstring of the class or a base (an entry naming one field wins over one
    that documents several together); "" where there is none."""
    out: dict[str, tuple[str, str, int]] = {}
    for klass in cls.__mro__:
        doc = inspect.cleandoc(klass.__dict__.get("__doc__") or "")
        lines = doc.splitlines()
        i = 0
        while i < len(lines):
            m = _ENTRY.match(lines[i])
            if not m:
                i += 1
                continue
            indent, names, typ = len(m.group(1)), [n.strip() for n in m.group(2).split(",")], m.group(3).strip()
            body = []
            i += 1
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                body.append(lines[i].strip())
                i += 1
            text = " ".join(b for b in body if b)
            for n in names:
                if n not in out or out[n][2] > len(names):
                    out[n] = (typ, text, len(names))
    docs = {k: (t, d) for k, (t, d, _) in out.items()}
    for f in dataclasses.fields(cls):
        if f.metadata.get("doc"):
            default_type = type(f.default).__name__ if f.default is not dataclasses.MISSING else ""
            docs[f.name] = (str(f.metadata.get("type", docs.get(f.name, (default_type, ""))[0])), str(f.metadata["doc"]))
    return docs
