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

Every name but the errors is loaded on first use, so that importing the package (and starting the command line)
costs no NumPy, pandas, Numba, DuckDB, matplotlib or Dask.
"""

from ensemble.errors import (Cancelled, EnsembleError, ExecutorError, RealizationError, ResultError, RunDirectoryError, SpecError,
                     UsageError)
from ensemble.store.query import query  # light (DuckDB is imported when a query runs); bound here, so the submodule cannot shadow it

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
    "replay",
    "Replay",
    "Plan",
    "Submission",
    "Cancelled",
]

#: Everything but the errors is loaded on first use (name -> (module, attribute)), so that ``import ensemble`` and
#: the command line start without NumPy, pandas, Numba, DuckDB, matplotlib or Dask.
_LAZY = {
    "__version__": ("_version", "__version__"),
    "kernel_info": ("present.describe", "kernel_info"),
    "open_run_dir": ("store.lifecycle", "open_run_dir"),
    "RunResult": ("running.runner", "RunResult"),
    "execute": ("running.runner", "run"),
    "Experiment": ("spec.experiment", "Experiment"),
    "Point": ("spec.experiment", "Point"),
    "load_spec": ("spec.experiment", "load_spec"),
    "parse_spec": ("spec.experiment", "parse_spec"),
    "DirectoryStore": ("store.stores", "DirectoryStore"),
    "MemoryStore": ("store.stores", "MemoryStore"),
    **{name: ("api", name) for name in ("make_executor", "run", "submit", "validate", "Plan", "extend", "open_run", "Run", "replay",
                                          "Replay")},
    "Submission": ("running.submission", "Submission"),
}


def __dir__() -> list[str]:
    """The public API, including the names loaded on first use (tab completion in a notebook)."""
    return sorted(set(__all__) | {k for k in globals() if not k.startswith("_")})


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        module, attr = _LAZY[name]
        value = getattr(import_module(f".{module}", __name__), attr)
        globals()[name] = value  # once: later lookups do not come here
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
