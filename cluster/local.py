"""Dask on one machine, or on a scheduler that is already running.

Each worker runs one task at a time. By default it is single-threaded (the
kernels are serial Numba and BLAS code, and Dask owns the parallelism); for
kernels whose one realization is a big dense problem (rmt_bath at 2^14,
TEBD at large bond dimension) ``threads`` gives each worker that many BLAS
threads and starts ``cores // threads`` workers, so workers x threads =
cores. The thread counts of Numba and the BLAS libraries are set through the
environment *before* the worker processes start
(``distributed.nanny.pre-spawn-environ``), because Numba and OpenBLAS read
them once, at import; each task then limits BLAS to its run's count
(:func:`ensemble.running.tasks.run_task`).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from ensemble.running.executors import ExecutorRequest, default_workers

if TYPE_CHECKING:  # annotations only: Dask is imported when a cluster starts
    from distributed import LocalCluster

    from cluster.executor import DaskExecutor

from cluster.errors import ClusterConfigError

__all__ = ["BACKEND", "WORKER_ENV", "LocalBackend", "local_cluster", "worker_env"]


#: Dask settings of the workers that keep their event loop off the task thread's back: the
#: statistical profiler (a 10 ms sampling thread holding the GIL) and the 0.5 s system monitor.
#: Measured with cheap realizations (benchmarks/bench_overhead.py): the same task took 25% more
#: thread CPU and 60% more wall time on a default Dask worker than in a multiprocessing.Pool.
QUIET_WORKER = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "5s",
                "distributed.admin.tick.interval": "1s"}  # fmt: skip


#: The scheduler (in the driver, sharing its cores with the workers): no work stealing, whose
#: 100 ms rebalancing pass is useless here, since tasks wait in the scheduler's queue until a
#: worker is free (distributed's default queuing) and the executor keeps a bounded window.
QUIET_SCHEDULER = {"distributed.scheduler.work-stealing": False}


def worker_env(threads: int = 1) -> dict[str, str]:
    """Environment of a worker process whose tasks use ``threads`` BLAS threads (and QUIET_WORKER's settings)."""
    t = str(threads)
    dask_vars = {"DASK_" + k.upper().replace(".", "__").replace("-", "_"): str(v) for k, v in QUIET_WORKER.items()}
    return {"NUMBA_NUM_THREADS": t, "OMP_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MKL_NUM_THREADS": t, **dask_vars}


#: Environment of every single-threaded worker process (the default).
WORKER_ENV = worker_env(1)


def local_cluster(n_workers: int | None = None, dashboard: bool = True, threads: int = 1) -> LocalCluster:
    """A cluster of ``n_workers`` worker processes with ``threads`` BLAS threads each.

    Default: ``cores // threads`` workers (at least one). The dashboard listens
    on a free port (``cluster.dashboard_link``).
    """
    import dask
    from distributed import LocalCluster

    n = n_workers or default_workers(threads)
    env = worker_env(threads)
    _forget_unimportable_main()
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **env}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **QUIET_WORKER, **QUIET_SCHEDULER}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,  # one task at a time per worker; its BLAS threads are ``threads``
            processes=True,
            dashboard_address=":0" if dashboard else None,
            silence_logs=logging.CRITICAL,  # a failed task is reported by the engine, in one line
            env=env,
        )
    return cluster


def _forget_unimportable_main() -> None:
    """Let spawned workers start from a script piped to ``python -`` (``__main__.__file__ == "<stdin>"``).

    multiprocessing's spawn re-runs the parent's main file in every child; a
    main that is not a file (stdin, ``python -c``) makes each worker die with
    FileNotFoundError. Without ``__file__`` the children skip it, as they do for
    an interactive session or a notebook.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is not None and not os.path.isfile(path) and getattr(main, "__spec__", None) is None:
        del main.__file__


def refuse_job_options(kind: str, options: dict) -> None:
    """UsageError for batch-job options given to a backend that starts no jobs (they would be ignored)."""
    given = sorted(k for k, v in options.items() if v not in (None, (), []))
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise ClusterConfigError(flag, options[given[0]], f"only with --cluster slurm or pbs (the {kind} executor starts no jobs)")


class LocalBackend:
    """A Dask cluster of worker processes on this machine (the default executor)."""

    name = "local"

    def configure(self, request: ExecutorRequest, options: dict) -> ExecutorRequest:
        refuse_job_options(self.name, options)
        return request

    def planned_workers(self, request: ExecutorRequest) -> int:
        return request.workers or default_workers(request.threads)

    def planned_memory_per_worker(self, request: ExecutorRequest) -> int:
        import psutil  # LocalCluster's default limit: the machine's memory shared by the workers

        return int(psutil.virtual_memory().total // self.planned_workers(request))

    def time_limit(self, request: ExecutorRequest) -> None:
        return None

    def preflight(self, request: ExecutorRequest) -> None:
        pass

    def make(self, request: ExecutorRequest) -> DaskExecutor:
        from distributed import Client

        from cluster.executor import DaskExecutor

        tracker = _TrackerGuard()  # multiprocessing's resource tracker, if this cluster starts it
        cluster = local_cluster(request.workers, threads=request.threads)
        return DaskExecutor(Client(cluster), name="local Dask cluster", threads=request.threads,
                            owns=_Closing(cluster, tracker.stop))  # fmt: skip


class _TrackerGuard:
    """Stops multiprocessing's resource tracker after the cluster closes, if the cluster started it (a process
    that would otherwise live as long as this one: nothing of a run may outlive it). A tracker that was running
    before (the caller's own multiprocessing) is left alone; one needed later starts again by itself."""

    def __init__(self):
        from multiprocessing import resource_tracker

        self._tracker = resource_tracker._resource_tracker
        self._was_running = self._tracker._pid is not None

    def stop(self) -> None:
        if self._was_running or self._tracker._pid is None or not hasattr(self._tracker, "_stop"):
            return
        try:
            self._tracker._stop()
        except Exception:  # a tracker already gone: nothing to stop
            pass


class _Closing:
    """A cluster whose close also runs ``after`` (once the workers and nannies are gone)."""

    def __init__(self, cluster, after):
        self.cluster, self.after = cluster, after

    def close(self) -> None:
        try:
            self.cluster.close()
        finally:
            self.after()

    def __getattr__(self, name):
        return getattr(self.cluster, name)


BACKEND = LocalBackend()
