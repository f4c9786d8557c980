"""Executors: run tasks and stream ``(task, result)`` pairs back as they finish, and the registry that finds them.

The engine needs only :class:`Executor` (one typed base class). It ships :class:`SerialExecutor`, which runs
every task in this process; the others (a local Dask cluster, an existing scheduler, SLURM/PBS jobs) are
*backends* found through the entry-point group ``mbl_ensemble.executors`` (name -> an object following
:class:`Backend`), which :mod:`cluster` fills from ``pyproject.toml``. The engine never imports them by name.

The result of a run never depends on the executor: results are merged in block order by the store, not in
completion order.
"""

from __future__ import annotations

import abc
import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kernels._interface import load

from ensemble.errors import UsageError
from ensemble.plugins import registered

__all__ = [
    "DEFAULT_MAX_REALIZATION_HOURS",
    "GROUP",
    "Backend",
    "Executor",
    "ExecutorRequest",
    "SerialExecutor",
    "backend",
    "backend_names",
    "default_kind",
    "default_workers",
    "make_executor",
    "start",
    "warmup",
]

#: The entry-point group of executor backends.
GROUP = "mbl_ensemble.executors"
#: Longest estimated realization run without being asked (--max-realization-hours), outside batch jobs.
DEFAULT_MAX_REALIZATION_HOURS = 48.0


class Executor(abc.ABC):
    """What the runner needs from an executor.

    Parameters
    ----------
    name : str
        For messages ("serial", "local Dask cluster", "SLURM jobs (0-4 x 8 cores)").
    workers : int
        Workers (or the most an adaptive cluster can grow to).
    threads : int
        BLAS threads each task may use.
    """

    #: Set by the runner while it maps: once the event is set, ``map`` may return early (a cancelled run);
    #: an executor that waits on results should poll it rather than block without bound.
    cancelled: Any = None

    def __init__(self, name: str, workers: int, threads: int = 1):
        self.name, self.workers, self.threads = name, int(workers), int(threads)

    @property
    @abc.abstractmethod
    def memory_per_worker(self) -> int | None:
        """Bytes a realization may use on a worker (None: unknown)."""

    @property
    def dashboard(self) -> str | None:
        """Address of a dashboard, if any."""
        return None

    @abc.abstractmethod
    def warm(self, module: str) -> None:
        """Compile (or load) the kernel's code wherever tasks will run, before the first task."""

    @abc.abstractmethod
    def map(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        """Yield ``(task, fn(task))`` for every task, in completion order, drawing tasks as there is room.

        ``tasks`` may yield ``None``: nothing can be submitted until a result comes back (a live plan, whose
        next tasks depend on results). With nothing in flight, a ``None`` ends the map."""

    def close(self) -> None:
        """Release what the executor started (a cluster it owns)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass(frozen=True)
class ExecutorRequest:
    """What was asked for: a backend by name and its options (``jobs``: the backend's own job configuration)."""

    kind: str = dataclasses.field(default_factory=lambda: default_kind())
    workers: int | None = None
    threads: int = 1
    scheduler: str | None = None
    client: Any = None
    jobs: Any = None


@runtime_checkable
class Backend(Protocol):
    """An executor backend (registered under ``mbl_ensemble.executors``)."""

    name: str

    def configure(self, request: ExecutorRequest, options: dict) -> ExecutorRequest:
        """The request with the backend's own options (e.g. job resources from the command line) resolved and
        validated; UsageError naming a bad one."""

    def planned_workers(self, request: ExecutorRequest) -> int:
        """Workers the executor would have (the most, for an adaptive one)."""

    def planned_memory_per_worker(self, request: ExecutorRequest) -> int | None:
        """Bytes a realization may use on one of them (None: known only after connecting)."""

    def time_limit(self, request: ExecutorRequest) -> float | None:
        """Seconds a task may last (a batch job's walltime), or None."""

    def preflight(self, request: ExecutorRequest) -> None:
        """Refuse, before anything is written, what cannot work (a batch controller that does not answer)."""

    def make(self, request: ExecutorRequest) -> Executor:
        """Start (or connect) and return the executor."""


def default_kind() -> str:
    """The executor of a run that names none: ``processes`` (workers forked from the driver once the kernel is
    loaded: the cheapest start) where the platform forks safely (Linux and other POSIX systems but macOS) and
    that backend is registered, else ``local`` (a local Dask cluster)."""
    import multiprocessing
    import sys

    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods() and "processes" in registered(GROUP):
        return "processes"
    return "local"


def default_workers(threads: int = 1) -> int:
    """Workers of a local cluster when none are asked for: one per ``threads`` cores (at least one)."""
    return max(1, (os.cpu_count() or 1) // threads)


def warmup(module: str, check_cache: bool = False) -> str:
    """Compile (or load from the Numba cache) every jitted path of a kernel module.

    Runs one tiny realization. With ``check_cache`` (the driver, before any worker starts), first drops cached
    machine code that predates an edit of the kernel sources (see :mod:`kernels._cache`). Returns the path.
    """
    if check_cache:
        from kernels._cache import ensure_fresh

        ensure_fresh()
    kernel = load(module)
    kernel.run(kernel.warmup_params(), np.random.default_rng(0))
    return module


class SerialExecutor(Executor):
    """Run every task in this process, in plan order."""

    def __init__(self, threads: int = 1):
        super().__init__("serial", 1, threads)

    @property
    def memory_per_worker(self) -> int:
        import psutil

        return int(psutil.virtual_memory().available)

    def warm(self, module: str) -> None:
        warmup(module, check_cache=True)

    def map(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:
        for task in tasks:
            if task is None:  # nothing in flight here: nothing will come back
                return
            yield task, fn(task)


class _Serial:
    """The built-in backend: this process."""

    name = "serial"

    def configure(self, request, options):
        return request

    def planned_workers(self, request):
        return 1

    def planned_memory_per_worker(self, request):
        import psutil

        return int(psutil.virtual_memory().available)

    def time_limit(self, request):
        return None

    def preflight(self, request):
        pass

    def make(self, request):
        return SerialExecutor(request.threads)


_SERIAL = _Serial()


def backend_names() -> list[str]:
    return ["serial", *(n for n in registered(GROUP) if n != "serial")]


def backend(kind: str) -> Backend:
    """The backend registered as ``kind`` (only that one is imported); UsageError naming the ones there are."""
    if kind == "serial":
        return _SERIAL
    plugins = registered(GROUP)
    if kind not in plugins:
        raise UsageError("executor", kind, f"one of {', '.join(backend_names())}")
    return plugins[kind].load()


def make_executor(request: ExecutorRequest | str | None = None, **options) -> Executor:
    """An executor: ``make_executor("serial")``, ``make_executor("local", workers=2)``, a request, or (None) the
    default of :func:`default_kind`."""
    if request is None:
        request = default_kind()
    if isinstance(request, str):
        request = ExecutorRequest(kind=request, **{k: v for k, v in options.items() if k in _FIELDS})
    b = backend(request.kind)
    b.preflight(request)
    return start(request)


def start(request: ExecutorRequest) -> Executor:
    """The executor of ``request``, started by its backend with Ctrl-C, SIGTERM and SIGHUP held back until it is up.

    A cluster interrupted half-way through its start leaves processes and state that cannot be closed (a
    local cluster's nannies, whose close then fails at exit); so a signal during the start is recorded, the
    executor started, closed again, and the signal delivered to its usual handler then (an interrupt, or the
    default action). Outside the main thread signals cannot be handled here and nothing is held back."""
    from ensemble.running.signals import Held

    held = Held()
    try:
        ex = backend(request.kind).make(request)
    finally:
        got = held.restore()
    if got:
        ex.close()
        import signal

        signal.raise_signal(got[0])  # its own handler now: KeyboardInterrupt, the command line's, or the default
    return ex


_FIELDS = {f.name for f in dataclasses.fields(ExecutorRequest)}
