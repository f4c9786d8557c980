"""Deployment: Dask clients for a laptop (local processes), an existing scheduler, or SLURM/PBS jobs."""

from .hpc import KINDS, JobConfig, job_cluster, job_script, load_job_config
from .local import WORKER_ENV, connect, local_cluster

__all__ = ["KINDS", "WORKER_ENV", "JobConfig", "connect", "job_cluster", "job_script", "load_job_config", "local_cluster"]
