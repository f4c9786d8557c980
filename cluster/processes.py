"""Worker processes forked from the driver once the kernel is loaded: the cheapest start on one machine.

A local Dask cluster starts each worker as a fresh interpreter (``spawn``): every worker imports Dask, the engine
and the kernel and loads the kernel's machine code from the Numba cache, about 2.5 CPU-seconds each, and the
driver runs a scheduler. Here the driver loads the kernel first (it does anyway, to fill the cache) and then
forks its workers, as a ``multiprocessing.Pool`` script does: they start with everything loaded, in
milliseconds. It is the default executor of a run on one machine where the platform can fork. A worker that
dies mid-run (killed, out of memory) is replaced and its tasks run again, as Dask would move them elsewhere; a
task in flight at three deaths stops the run in one line (``--resume`` recomputes only the lost blocks). What
it does not have: a dashboard, a per-worker memory limit (a worker over the machine's memory is killed by the
system and replaced as above), and platforms that cannot fork (Windows; macOS only where ``fork`` is safe for
the libraries), where the local Dask cluster is the default instead.
``benchmarks/bench_whole_run.py`` measures both against a Pool.

The result never depends on the executor: the store merges blocks in block order, not in completion order.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ensemble.errors import ExecutorLost
from cluster.local import LocalBackend
from ensemble.running.executors import Executor, ExecutorRequest, warmup

__all__ = ["BACKEND", "ProcessBackend", "ProcessExecutor"]

_END = object()

#: Worker deaths a task may be in flight for before the run stops (Dask's ``distributed.scheduler.allowed-failures``).
ALLOWED_FAILURES = 3


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
        #: How many times the workers were forked again after one died.
        self.restarts = 0

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
        means "nothing to submit until a result comes back" (a live plan, e.g. precision goals).

        A worker that dies (killed, out of memory) breaks the pool: the results that came back before are kept,
        the workers are forked again and the tasks that were in flight submitted again, as Dask moves a dead
        worker's tasks elsewhere. A task in flight at :data:`ALLOWED_FAILURES` deaths stops the run
        (:class:`ExecutorLost`, one line; finished blocks are kept). Results are the tasks' own, whichever
        process ran them, so the tables do not change."""
        if self._pool is None:
            self._start()
        it = iter(tasks)
        pending: dict = {}
        deaths: dict[int, int] = {}  # id(task) -> worker deaths while it was in flight
        exhausted = False

        def fill() -> bool:
            """Submit up to the window; False if the pool broke meanwhile."""
            nonlocal exhausted
            while not exhausted and len(pending) < self.window:
                task = next(it, _END)
                if task is _END:
                    exhausted = True
                elif task is None:
                    return True
                else:
                    try:
                        pending[self._pool.submit(fn, task)] = task
                    except BrokenProcessPool:
                        pending[_broken()] = task
                        return False
            return True

        fill()
        try:
            while pending:
                done, _ = wait(pending, timeout=0.05 if self.cancelled is not None else None, return_when=FIRST_COMPLETED)
                if self.cancelled is not None and self.cancelled.is_set():
                    return
                broken = False
                for fut in done:
                    if isinstance(fut.exception(), BrokenProcessPool):
                        broken = True
                        continue
                    task = pending.pop(fut)
                    yield task, fut.result()  # re-raises a task's own error here
                if broken or not fill():
                    yield from self._recover(fn, pending, deaths)
                    fill()
        finally:
            for fut in pending:
                fut.cancel()

    def _recover(self, fn: Callable, pending: dict, deaths: dict) -> Iterator[tuple[object, object]]:
        """After a worker died: yield what finished, fork the workers again, resubmit the rest into ``pending``."""
        pool, self._pool = self._pool, None
        _stop(pool)
        again = []
        for fut, task in list(pending.items()):
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                yield task, fut.result()
            else:
                deaths[id(task)] = deaths.get(id(task), 0) + 1
                if deaths[id(task)] >= ALLOWED_FAILURES:
                    pending.clear()
                    raise self._lost(task)
                again.append(task)
        pending.clear()
        self.restarts += 1
        self._start()
        for task in again:
            pending[self._pool.submit(fn, task)] = task

    def _lost(self, task) -> ExecutorLost:
        name = getattr(task, "name", None)
        which = f" (block {name})" if name else ""
        return ExecutorLost(f"a worker process of the {self.name} died {ALLOWED_FAILURES} times with the same "
                            f"block in flight{which}: killed, or out of memory? Every finished block is kept: run "
                            "again with --resume")  # fmt: skip

    def close(self) -> None:
        """Stop the workers now (a task still running is abandoned: its block is recomputed by --resume)."""
        pool, self._pool = self._pool, None
        _stop(pool)


def _stop(pool: ProcessPoolExecutor | None) -> None:
    """Terminate a pool's workers (a plain shutdown waits for running tasks) and reap them."""
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())  # (private)
    for p in processes:
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
    for p in processes:
        p.join(timeout=5)


def _broken() -> Future:
    """A future that failed as a broken pool's do (a submit refused by a pool whose worker just died)."""
    fut = Future()
    fut.set_exception(BrokenProcessPool("a worker process died"))
    return fut


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
