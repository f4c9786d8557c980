"""The kernel protocol: what a module must define to be run by the engine, and the defaults of the optional hooks.

A kernel is one module (``kernels/<NAME>.py`` for the built-in ones, any
importable module for a user's own, named in a spec as
``kernel = "module:package.module"``). Required:

``Params``
    A frozen dataclass of the parameters that validates itself in
    ``__post_init__``, raising :class:`kernels._params.ParameterError` naming
    the field, the value and what is allowed. A field ``times`` (tuple of
    float) makes the kernel time-resolved: the spec's ``[times]`` fills it.
``sample(params, rng) -> draws``
    Every random input of one realization, from the ``numpy.random.Generator``
    the engine hands in.
``realize(params, draws) -> dict[str, ndarray]``
    The deterministic physics of one realization.
``schema(params) -> dict[str, dict[str, ndarray]]``
    Observable name -> {axis name: coordinates}, in array axis order.
``warmup_params() -> Params``
    A tiny point that runs every compiled path (for warming the Numba cache).

Optional (defaults in :data:`OPTIONAL`):

``NAME`` (str)
    The kernel's name; built-in kernels must set it to their module's name.
    Default: the last component of the module path.
``ANALYSIS`` (str)
    The analysis family in ``ensemble.models`` that derives quantities and
    fits from the averages ("front", "ipr", ...); default "means" (tables of
    means and errors only).
``SUMMARY`` (str)
    One line for listings; default: the first line of the module docstring.
``OBSERVABLES`` (dict)
    Output name -> what it is, for ``ensemble kernels NAME``; default: none.
``DEFAULT_TIMES`` (dict)
    ``{"start", "stop", "num"}`` of the log grid used when a spec has no ``[times]``.
``TIME_STEP`` (str)
    The parameter whose multiples the sample times must be (e.g. "tau"): a
    spec's log grid is snapped to it.
``cost(params) -> float``
    Relative work of one realization (weights the progress bar); default 1.
``memory_bytes(params) -> int``
    Peak memory of one realization, for the check before scheduling; default: not declared.
``memory_options(params) -> dict``
    Other settings of the same point (a spec change, e.g. ``'method = "polfed"'``) -> their peak memory,
    offered when a realization does not fit a worker; default: none.
``SEED_OMIT_AT`` (dict, on ``Params``)
    Fields added after runs existed, left out of seeding keys at these values.

:func:`load` resolves a module into a :class:`KernelModule`, the typed object
the engine holds: every hook present, with the defaults filled in, checked once.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["OPTIONAL", "REQUIRED", "Kernel", "KernelInterfaceError", "KernelModule", "load"]

REQUIRED = ("Params", "sample", "realize", "schema", "warmup_params")


def _unit_cost(params) -> float:
    return 1.0


def _undeclared_memory(params) -> None:
    return None


def _no_options(params) -> dict:
    return {}


#: Optional hooks and their defaults (SUMMARY defaults to the docstring's first line).
OPTIONAL = {
    "NAME": None,
    "ANALYSIS": "means",
    "SUMMARY": None,
    "OBSERVABLES": {},
    "DEFAULT_TIMES": None,
    "TIME_STEP": None,
    "cost": _unit_cost,
    "memory_bytes": _undeclared_memory,
    "memory_options": _no_options,
}


@runtime_checkable
class Kernel(Protocol):
    """Static form of the protocol (see the module docstring)."""

    NAME: str
    Params: type

    def sample(self, params: Any, rng: np.random.Generator) -> Any: ...

    def realize(self, params: Any, draws: Any) -> dict[str, np.ndarray]: ...

    def schema(self, params: Any) -> dict[str, dict[str, np.ndarray]]: ...

    def warmup_params(self) -> Any: ...


class KernelInterfaceError(TypeError):
    """A module does not follow the kernel protocol; the message names what is missing."""


@dataclass(frozen=True, eq=False)
class KernelModule:
    """A kernel module resolved once: every hook callable, optional ones defaulted.

    Pickles by import path, so it can travel to workers.
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

    @property
    def param_names(self) -> list[str]:
        """Parameter fields in declaration order (``times`` included if the kernel has it)."""
        return [f.name for f in dataclasses.fields(self.Params)]

    @property
    def has_times(self) -> bool:
        return "times" in self.param_names

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


def load(path: str) -> KernelModule:
    """Import ``path`` and resolve it into a :class:`KernelModule`.

    Raises
    ------
    KernelInterfaceError
        When a required name is missing or not of the right kind.
    Exception
        Whatever importing the module raises (the caller reports it).
    """
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
    for hook in ("cost", "memory_bytes", "memory_options"):
        if not callable(hooks[hook]):
            raise KernelInterfaceError(f"{path}.{hook} must be callable")
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
    )
