"""Executors: run tasks and stream ``(task, result)`` pairs back as they finish.

The engine needs only this protocol (:class:`Executor`); it ships the serial
executor, which runs every task in this process. The Dask executor (a local
cluster, an existing scheduler, SLURM/PBS jobs) lives in :mod:`cluster`.

The result of a run never depends on the executor: results are merged in
block order by the store, not in completion order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import numpy as np

from kernels._interface import load

__all__ = ["Executor", "SerialExecutor", "default_workers", "warmup"]


class Executor(Protocol):
    """What the runner needs from an executor.

    Attributes
    ----------
    name : str
        For messages ("serial", "local Dask cluster", ...).
    workers : int
        Workers (or the most an adaptive cluster can grow to).
    threads : int
        BLAS threads each task may use (optional attribute; 1 if absent).
    memory_per_worker : int or None
        Bytes a realization may use on a worker (None: unknown).
    dashboard : str or None
        Address of a dashboard, if any.
    """

    name: str
    workers: int

    @property
    def memory_per_worker(self) -> int | None: ...

    @property
    def dashboard(self) -> str | None: ...

    def warm(self, module: str) -> None:
        """Compile (or load) the kernel's code wherever tasks will run, before the first task."""

    def map(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[object, object]]:
        """Yield ``(task, fn(task))`` for every task, in completion order."""

    def close(self) -> None: ...

    def __enter__(self): ...

    def __exit__(self, *exc): ...


def default_workers(threads: int = 1) -> int:
    """Workers of a local cluster when none are asked for: one per ``threads`` cores (at least one)."""
    return max(1, (os.cpu_count() or 1) // threads)


def warmup(module: str, check_cache: bool = False) -> str:
    """Compile (or load from the Numba cache) every jitted path of a kernel module.

    Runs one tiny realization. With ``check_cache`` (the driver, before any
    worker starts), first drops cached machine code that predates an edit of
    the kernel sources (see :mod:`kernels._cache`). Returns the module path.
    """
    if check_cache:
        from kernels._cache import ensure_fresh

        ensure_fresh()
    kernel = load(module)
    kernel.run(kernel.warmup_params(), np.random.default_rng(0))
    return module


class SerialExecutor:
    """Run every task in this process, in plan order."""

    name = "serial"
    workers = 1
    dashboard = None

    def __init__(self, threads: int = 1):
        self.threads = threads

    @property
    def memory_per_worker(self) -> int:
        import psutil

        return int(psutil.virtual_memory().available)

    def warm(self, module: str) -> None:
        warmup(module, check_cache=True)

    def map(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[object, object]]:
        for task in tasks:
            yield task, fn(task)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
