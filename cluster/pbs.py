"""PBS: workers in qsub jobs through dask-jobqueue's PBSCluster."""

from __future__ import annotations

from cluster.jobs import BatchSystem, JobBackend, register

__all__ = ["BACKEND", "Pbs"]


@register
class Pbs(BatchSystem):
    name = "pbs"
    cluster_class = "PBSCluster"
    probe = ("qstat", "-B")

    def book_cores(self, cfg):
        from dask.utils import parse_bytes
        from dask_jobqueue.pbs import pbs_format_bytes_ceil

        return {"resource_spec": f"select=1:ncpus={cfg.cores}:mem={pbs_format_bytes_ceil(parse_bytes(cfg.memory))}"}


BACKEND = JobBackend("pbs")
