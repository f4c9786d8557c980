"""Distributed Monte-Carlo ensembles of disordered, noisy spin chains.

From Python::

    import ensemble
    r = ensemble.run("examples/fig4a_anderson.toml", out="runs/fig4a")   # or client=..., executor="serial"
    s = ensemble.submit("examples/fig4a_anderson.toml", out="runs/fig4a")  # returns at once: s.status(),
    r = s.result()                          # s.wait(), s.cancel() (resumable), s.result() -> Run
    r.fits                                  # pandas DataFrames: summary, fits, ...
    r.to_xarray("h")                        # mean and sem over the swept parameters and t
    r.figures()                             # matplotlib figures
    r = ensemble.open_run("runs/fig4a")     # reopen a run (finished or going); r.status() while it runs
    r.extend(realizations=2400)             # more realizations, every finished block reused
    ensemble.query(["runs/a", "runs/b"], "SELECT run, ... FROM fits")   # many runs as one

The engine underneath: ``load_spec``/``parse_spec`` -> ``Experiment``; ``execute(exp, store, executor)``
into a ``MemoryStore`` or a run directory (``open_run_dir``).

``run`` and ``make_executor`` (front layer, :mod:`ensemble.api`) are loaded on first use, so that
importing the engine does not import Dask's distributed scheduler.
"""

from ._version import __version__
from .describe import kernel_info
from .errors import (Cancelled, EnsembleError, ExecutorError, RealizationError, ResultError, RunDirectoryError, SpecError,
                     UsageError)
from .lifecycle import open_run_dir
from .query import query
from .runner import RunResult
from .runner import run as execute
from .spec import Experiment, Point, load_spec, parse_spec
from .store import DirectoryStore, MemoryStore

__all__ = [
    "__version__",
    "DirectoryStore",
    "EnsembleError",
    "ExecutorError",
    "Experiment",
    "MemoryStore",
    "Point",
    "RealizationError",
    "ResultError",
    "Run",
    "RunDirectoryError",
    "RunResult",
    "SpecError",
    "UsageError",
    "execute",
    "kernel_info",
    "load_spec",
    "make_executor",
    "open_run",
    "open_run_dir",
    "parse_spec",
    "query",
    "extend",
    "run",
    "submit",
    "validate",
    "Plan",
    "Submission",
    "Cancelled",
]

_FRONT = {"make_executor": "api", "run": "api", "submit": "api", "validate": "api", "Plan": "api", "extend": "api", "open_run": "api", "Run": "api",
          "Submission": "submission"}


def __dir__() -> list[str]:
    """The public API, including the names loaded on first use (tab completion in a notebook)."""
    return sorted(set(__all__) | {k for k in globals() if not k.startswith("_")})


def __getattr__(name: str):
    if name in _FRONT:
        from importlib import import_module

        return getattr(import_module(f".{_FRONT[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
