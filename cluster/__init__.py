"""Deployment: the Dask executor on a local cluster of processes, an existing scheduler, or SLURM/PBS jobs."""

from . import pbs, slurm  # noqa: F401  (register the batch-system backends)
from .errors import ClusterConfigError, ClusterError
from .executor import DaskExecutor, WarmKernel
from .jobs import BACKENDS, JobConfig, check_controller, job_cluster, job_script, load_job_config
from .local import WORKER_ENV, connect, local_cluster

__all__ = [
    "BACKENDS",
    "WORKER_ENV",
    "ClusterConfigError",
    "ClusterError",
    "DaskExecutor",
    "JobConfig",
    "WarmKernel",
    "check_controller",
    "connect",
    "job_cluster",
    "job_script",
    "load_job_config",
    "local_cluster",
]
