"""Deployment: executor backends registered with the engine through the entry-point group ``mbl_ensemble.executors``
(``pyproject.toml``): a local Dask cluster of processes (``local``), an existing scheduler (``dask``), SLURM and
PBS jobs (``slurm``, ``pbs``). The engine finds them by name and never imports this package; it depends on the
engine's executor protocol and errors only."""

from cluster import pbs, slurm  # noqa: F401  (register the batch systems)
from cluster.errors import ClusterConfigError, ClusterError
from cluster.executor import DaskExecutor, WarmKernel
from cluster.jobs import BATCH_SYSTEMS, JobBackend, JobConfig, check_controller, job_cluster, job_script, load_job_config
from cluster.local import WORKER_ENV, LocalBackend, local_cluster
from cluster.scheduler import SchedulerBackend, connect

__all__ = [
    "BATCH_SYSTEMS",
    "WORKER_ENV",
    "ClusterConfigError",
    "ClusterError",
    "DaskExecutor",
    "JobBackend",
    "JobConfig",
    "LocalBackend",
    "SchedulerBackend",
    "WarmKernel",
    "check_controller",
    "connect",
    "job_cluster",
    "job_script",
    "load_job_config",
    "local_cluster",
]
