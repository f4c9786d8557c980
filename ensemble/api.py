"""The front door from Python: executors by name (this layer joins the engine and :mod:`cluster`)."""

from __future__ import annotations

from .errors import UsageError
from .executors import SerialExecutor

__all__ = ["DEFAULT_MAX_REALIZATION_HOURS", "EXECUTORS", "make_executor", "planned_memory_per_worker", "time_limit"]

EXECUTORS = ("local", "serial", "dask", "slurm", "pbs")
#: Longest estimated realization run without being asked (--max-realization-hours), outside batch jobs.
DEFAULT_MAX_REALIZATION_HOURS = 48.0


def planned_memory_per_worker(kind: str, workers: int | None = None, jobs=None) -> int | None:
    """Bytes a realization may use on a worker of the executor ``kind`` would start (None: known only after connecting)."""
    import os

    import psutil

    if kind in ("slurm", "pbs"):
        from dask.utils import parse_bytes

        return parse_bytes(jobs.memory) // jobs.cores
    if kind == "local":  # LocalCluster's default limit: the machine's memory shared by the workers
        return int(psutil.virtual_memory().total // (workers or os.cpu_count() or 1))
    if kind == "serial":
        return int(psutil.virtual_memory().available)
    return None


def time_limit(jobs=None, hours: float | None = None) -> float:
    """Seconds one realization may take: ``hours`` if given, else a batch job's walltime, else 48 hours."""
    if hours is not None:
        return 3600.0 * hours
    if jobs is not None:
        return float(jobs.walltime_seconds)
    return 3600.0 * DEFAULT_MAX_REALIZATION_HOURS


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None, jobs=None):
    """An executor by name: "serial", "local" (a local Dask cluster), "dask" (``scheduler`` address),
    or "slurm"/"pbs" (batch jobs described by ``jobs``, a cluster.JobConfig)."""
    if kind in ("slurm", "pbs"):
        from dask.utils import parse_bytes
        from distributed import Client

        from cluster import DaskExecutor, check_controller, job_cluster

        check_controller(jobs)
        cluster = job_cluster(jobs)
        # adaptive clusters may start with no workers: size the window for the most there can be
        most = jobs.max_jobs * jobs.cores
        per_worker = parse_bytes(jobs.memory) // jobs.cores
        return DaskExecutor(Client(cluster), window=4 * most, owns=cluster, max_workers=most, worker_memory=per_worker)
    if scheduler is not None or kind == "dask":
        from cluster import DaskExecutor, connect

        if scheduler is None:
            raise UsageError("--scheduler", None, "a scheduler address for the dask executor, e.g. tcp://HOST:8786")
        return DaskExecutor(connect(scheduler))
    if kind == "serial":
        return SerialExecutor()
    if kind == "local":
        from distributed import Client

        from cluster import DaskExecutor, local_cluster

        cluster = local_cluster(workers)
        return DaskExecutor(Client(cluster), owns=cluster)
    raise UsageError("executor", kind, f"one of {', '.join(EXECUTORS)}")
