"""Worker processes forked from the driver once the kernel is loaded: the cheapest start on one machine.

A local Dask cluster starts each worker as a fresh interpreter (``spawn``): every worker imports Dask, the engine
and the kernel and loads the kernel's machine code from the Numba cache, about 2.5 CPU-seconds each, and the
driver runs a scheduler. Here the driver loads the kernel first (it does anyway, to fill the cache) and then
forks its workers, as a ``multiprocessing.Pool`` script does: they start with everything loaded, in
milliseconds. What this executor does not do: a worker killed mid-run stops the run (one line; ``--resume``
recomputes only the lost blocks) where Dask would move its task elsewhere; there is no dashboard; it runs on
platforms that can fork (Linux; not Windows, and on macOS only where ``fork`` is safe for the libraries).
``benchmarks/bench_whole_run.py`` measures both against a Pool.

The result never depends on the executor: the store merges blocks in block order, not in completion order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ensemble.errors import ExecutorLost
from cluster.local import LocalBackend
from ensemble.running.executors import Executor, ExecutorRequest, warmup

__all__ = ["BACKEND", "ProcessBackend", "ProcessExecutor"]

_END = object()


def _child_start() -> None:
    """In each forked worker: Ctrl-C is the driver's to handle (the terminal sends it to the whole group), and
    SIGTERM/SIGHUP end the worker (the command line's handlers were inherited with the fork)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def _ready(_=None) -> int:
    return os.getpid()


class ProcessExecutor(Executor):
    """``workers`` processes forked from this one after :meth:`warm`, ``window`` tasks in flight."""

    def __init__(self, workers: int, threads: int = 1, window: int | None = None):
        super().__init__("local processes (forked)", workers, threads)
        self.window = window or 4 * self.workers
        self._pool: ProcessPoolExecutor | None = None

    @property
    def memory_per_worker(self) -> int:
        import psutil

        return int(psutil.virtual_memory().total // self.workers)

    def warm(self, module: str) -> None:
        """Load the kernel here (compiling it into the cache if needed), then fork the workers, which inherit it."""
        warmup(module, check_cache=True)
        if self._pool is None:
            self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("fork")
        with warnings.catch_warnings():  # Python >= 3.12 warns of fork with threads (BLAS's idle pool is safe)
            warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork.*")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_child_start)
            pids = set(self._pool.map(_ready, range(self.workers)))  # every worker is forked now, before any thread
        self.pids = sorted(pids)

    def map(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[object, object]]:
        """Keep up to ``window`` tasks in flight, drawing more after each result; a ``None`` drawn from ``tasks``
        means "nothing to submit until a result comes back" (a live plan, e.g. precision goals)."""
        if self._pool is None:
            self._start()
        it = iter(tasks)
        pending: dict = {}
        exhausted = False

        def fill() -> None:
            nonlocal exhausted
            while not exhausted and len(pending) < self.window:
                task = next(it, _END)
                if task is _END:
                    exhausted = True
                elif task is None:
                    return
                else:
                    pending[self._submit(fn, task)] = task

        fill()
        try:
            while pending:
                done, _ = wait(pending, timeout=0.05 if self.cancelled is not None else None, return_when=FIRST_COMPLETED)
                if self.cancelled is not None and self.cancelled.is_set():
                    return
                for fut in done:
                    task = pending.pop(fut)
                    try:
                        result = fut.result()  # re-raises a task's error here
                    except BrokenProcessPool as e:
                        raise self._lost(e) from None
                    yield task, result
                fill()
        finally:
            for fut in pending:
                fut.cancel()

    def _submit(self, fn, task):
        try:
            return self._pool.submit(fn, task)
        except BrokenProcessPool as e:
            raise self._lost(e) from None

    def _lost(self, e: BaseException) -> ExecutorLost:
        return ExecutorLost(f"a worker process of the {self.name} died mid-run ({type(e).__name__}; killed, or out "
                            "of memory?); every finished block is kept: run again with --resume")  # fmt: skip

    def close(self) -> None:
        """Stop the workers now (a task still running is abandoned: its block is recomputed by --resume)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())  # (private; a plain shutdown waits for tasks)
        for p in processes:
            if p.is_alive():
                p.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        for p in processes:
            p.join(timeout=5)


class ProcessBackend(LocalBackend):
    """Worker processes forked from the driver (``--executor processes``): planned like the local cluster (one
    worker per ``threads`` cores, the machine's memory shared among them, no time limit, no job options)."""

    name = "processes"

    def preflight(self, request: ExecutorRequest) -> None:
        from ensemble.errors import UsageError

        if "fork" not in multiprocessing.get_all_start_methods():
            raise UsageError("executor", "processes", "local or serial (this platform cannot fork processes)")

    def make(self, request: ExecutorRequest) -> ProcessExecutor:
        return ProcessExecutor(self.planned_workers(request), threads=request.threads)


BACKEND = ProcessBackend()
