"""The front door from Python: executors by name (this layer joins the engine and :mod:`cluster`)."""

from __future__ import annotations

from .errors import UsageError
from .executors import SerialExecutor

__all__ = ["EXECUTORS", "make_executor"]

EXECUTORS = ("local", "serial", "dask", "slurm", "pbs")


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None, jobs=None):
    """An executor by name: "serial", "local" (a local Dask cluster), "dask" (``scheduler`` address),
    or "slurm"/"pbs" (batch jobs described by ``jobs``, a cluster.JobConfig)."""
    if kind in ("slurm", "pbs"):
        from dask.utils import parse_bytes
        from distributed import Client

        from cluster import DaskExecutor, job_cluster

        cluster = job_cluster(jobs)
        # adaptive clusters may start with no workers: size the window for the most there can be
        most = jobs.max_jobs * jobs.cores
        per_worker = parse_bytes(jobs.memory) // jobs.cores
        return DaskExecutor(Client(cluster), window=4 * most, owns=cluster, max_workers=most, worker_memory=per_worker)
    if scheduler is not None or kind == "dask":
        from cluster import ClusterError, DaskExecutor, connect

        if scheduler is None:
            raise UsageError("--scheduler", None, "a scheduler address for the dask executor, e.g. tcp://HOST:8786")
        try:
            return DaskExecutor(connect(scheduler))
        except (OSError, TimeoutError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    if kind == "serial":
        return SerialExecutor()
    if kind == "local":
        from distributed import Client

        from cluster import DaskExecutor, local_cluster

        cluster = local_cluster(workers)
        return DaskExecutor(Client(cluster), owns=cluster)
    raise UsageError("executor", kind, f"one of {', '.join(EXECUTORS)}")
