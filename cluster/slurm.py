"""SLURM: workers in sbatch jobs through dask-jobqueue's SLURMCluster."""

from __future__ import annotations

from cluster.jobs import BatchSystem, JobBackend, register

__all__ = ["BACKEND", "Slurm"]


@register
class Slurm(BatchSystem):
    name = "slurm"
    cluster_class = "SLURMCluster"
    probe = ("scontrol", "ping")

    def book_cores(self, cfg):
        return {"job_cpu": cfg.cores}  # #SBATCH --cpus-per-task


BACKEND = JobBackend("slurm")
