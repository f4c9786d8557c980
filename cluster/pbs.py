"""PBS: workers in qsub jobs through dask-jobqueue's PBSCluster."""

from __future__ import annotations

from .jobs import Backend, register

__all__ = ["Pbs"]


@register
class Pbs(Backend):
    name = "pbs"
    cluster_class = "PBSCluster"
    probe = ("qstat", "-B")
