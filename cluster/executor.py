"""The Dask executor: tasks submitted to a Dask client, a bounded window in flight, results streamed back.

It implements the engine's executor protocol (:class:`ensemble.running.executors.Executor`),
on any client: a local cluster of processes, an existing scheduler, or
SLURM/PBS jobs. The result of a run never depends on it: results are merged
in block order by the store, not in completion order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator

from distributed import Client, WorkerPlugin, as_completed
from distributed.client import FutureCancelledError
from distributed.comm.core import CommClosedError

from ensemble.errors import ExecutorLost
from ensemble.running.executors import Executor, warmup

#: What a lost scheduler raises in the driver: a closed connection, a future cancelled because the connection
#: was lost, a socket error or a timeout.
LOST = (CommClosedError, FutureCancelledError, OSError, TimeoutError)

__all__ = ["DaskExecutor", "WarmKernel"]

_END = object()


class WarmKernel(WorkerPlugin):
    """Load a kernel's compiled code on every worker, including workers that join later.

    ``setup`` runs on each worker when the plugin is registered and on every
    worker that starts afterwards (adaptive HPC jobs), before it is given
    batches: no worker compiles inside a batch, and workers on one node load
    the cache the first of them wrote.
    """

    def __init__(self, module: str):
        self.module = module
        self.name = f"ensemble-warm-{module}"

    def setup(self, worker):
        warmup(self.module)


class DaskExecutor(Executor):
    """Run tasks on a Dask cluster through ``client``.

    Parameters
    ----------
    client : distributed.Client
    name : str
        For messages ("local Dask cluster", "SLURM jobs (0-4 x 8 cores)").
    threads : int
        BLAS threads each task may use (what the workers were started with).
    window : int, optional
        Futures in flight at once (default: 4 per worker thread). The driver
        never holds more, whatever the number of tasks.
    max_workers : int, optional
        Workers an adaptive cluster can grow to (default: those connected now).
    owns : object, optional
        A cluster to close with the executor (for clusters it started).
    worker_memory : int, optional
        Bytes per worker, when the workers do not report a limit (jobs not yet started).
    close_client : bool
        Close the client with the executor (False for a client the caller made and keeps using).
    """

    def __init__(
        self, client: Client, name: str, threads: int = 1, window: int | None = None, owns=None,
        max_workers: int | None = None, worker_memory: int | None = None, close_client: bool = True,
    ):  # fmt: skip
        super().__init__(name, max_workers or max(1, sum(client.nthreads().values())), threads)
        self.client = client
        self._close_client = close_client
        self._worker_memory = worker_memory
        self.window = window or 4 * self.workers
        self._owns = owns
        self._token = uuid.uuid4().hex[:8]

    @property
    def memory_per_worker(self) -> int | None:
        """Smallest memory limit of a worker (bytes), or None if the workers set none."""
        if self._worker_memory:
            return self._worker_memory
        limits = [w.get("memory_limit") for w in self.client.scheduler_info()["workers"].values()]
        limits = [m for m in limits if m]
        return min(limits) if limits else None

    @property
    def dashboard(self) -> str | None:
        """Address of the Dask dashboard, if the scheduler serves one."""
        try:
            return self.client.dashboard_link
        except Exception:  # no bokeh on the scheduler, or no HTTP server
            return None

    def warm(self, module: str) -> None:
        """Compile once here (filling the on-disk cache), then load it on every worker, present and future."""
        warmup(module, check_cache=True)
        try:
            self.client.register_plugin(WarmKernel(module))
        except LOST as e:
            raise self._lost(e) from None

    def map(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[object, object]]:
        """Keep up to ``window`` tasks in flight, drawing more after each result; a ``None`` drawn from ``tasks``
        means "nothing to submit until a result comes back" (a live plan, e.g. precision goals)."""
        it = iter(tasks)
        pending: dict[str, tuple[object, object]] = {}
        ac = as_completed()
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
                    fut = self.client.submit(fn, task, key=f"{task.kernel}-{task.name}-{self._token}")
                    pending[fut.key] = (task, fut)
                    ac.add(fut)

        fill()
        try:
            while pending:
                if self.cancelled is not None:  # a cancellable run: wait for a result, or the cancel
                    while not ac.has_ready():
                        if self.cancelled.wait(0.05):
                            return
                try:
                    fut = next(ac)
                    task, _ = pending.pop(fut.key)
                    result = fut.result()  # re-raises a task's error here, with its traceback
                except LOST as e:
                    if self.cancelled is not None and self.cancelled.is_set():
                        return
                    raise self._lost(e) from None
                fut.release()
                yield task, result
                fill()
        finally:
            if pending:
                self.client.cancel([f for _, f in pending.values()])

    def _lost(self, e: BaseException) -> ExecutorLost:
        """The scheduler (or the connection to it) is gone mid-run: one line, and what is kept."""
        why = " ".join(str(e).split()).split(". ")[-1 if isinstance(e, FutureCancelledError) else 0][:160]
        return ExecutorLost(f"lost the {self.name} mid-run ({type(e).__name__}: {why or 'no message'}); every finished "
                            "block is kept: start the cluster again and run with --resume")  # fmt: skip

    def close(self) -> None:
        try:
            self._close()
        except LOST:  # closing a client whose scheduler is gone: nothing left to close
            pass

    def _close(self) -> None:
        if self._close_client:
            self.client.close()
        if self._owns is not None:
            self._owns.close()
