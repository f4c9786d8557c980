"""Distributed Monte-Carlo ensembles of disordered, noisy spin chains.

Typical use::

    from ensemble import load_spec, run, open_run_dir, make_executor
    exp = load_spec("examples/fig4a_anderson.toml")
    store = open_run_dir("runs/fig4a", exp, resume=True)
    with make_executor("local") as ex:
        result = run(exp, store, ex, progress=True)
    result.tables["fits"]
"""

from .errors import RealizationError, RunDirectoryError, SpecError
from .runner import RunResult, make_executor, run
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
    "load_spec",
    "make_executor",
    "open_run_dir",
    "parse_spec",
    "run",
]
