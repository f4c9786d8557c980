"""Deployment: Dask clients for a laptop (local processes) or an existing scheduler."""

from .local import WORKER_ENV, connect, local_cluster

__all__ = ["WORKER_ENV", "connect", "local_cluster"]
