"""Distributed Monte-Carlo ensembles of disordered, noisy spin chains.

Typical use::

    from ensemble import load_spec, run, open_run_dir, make_executor
    exp = load_spec("examples/fig4a_anderson.toml")
    store = open_run_dir("runs/fig4a", exp, resume=True)
    with make_executor("local") as ex:
        result = run(exp, store, ex, progress=True)
    result.tables["fits"]

``make_executor`` (front layer, :mod:`ensemble.api`) is loaded on first use,
so that importing the engine does not import Dask's distributed scheduler.
"""

from .errors import RealizationError, RunDirectoryError, SpecError, UsageError
from .runner import RunResult, run
from .spec import Experiment, Point, load_spec, parse_spec
from .store import DirectoryStore, MemoryStore, open_run_dir

__all__ = [
    "DirectoryStore",
    "Experiment",
    "MemoryStore",
    "Point",
    "RealizationError",
    "RunDirectoryError",
    "RunResult",
    "SpecError",
    "UsageError",
    "load_spec",
    "make_executor",
    "open_run_dir",
    "parse_spec",
    "run",
]

_FRONT = {"make_executor": "api"}


def __getattr__(name: str):
    if name in _FRONT:
        from importlib import import_module

        return getattr(import_module(f".{_FRONT[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
