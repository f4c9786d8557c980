"""Errors of deployment: a job configuration that is wrong, a cluster that cannot be reached. Both belong to the
engine's error family (:mod:`ensemble.errors`), so the command line reports them without knowing this package."""

from __future__ import annotations

from ensemble.errors import ExecutorError, UsageError

__all__ = ["ClusterConfigError", "ClusterError"]


class ClusterConfigError(UsageError):
    """Bad job resources (a YAML file or a command-line option), found before anything is submitted.

    Parameters
    ----------
    field : str
        The key or option (``"slurm.cores"``, ``"--memory"``).
    value : object
    allowed : str
        What is allowed, ideally with an example.
    """

    def __init__(self, field: str, value: object, allowed: str):
        super().__init__(field, value, allowed)
        self.field = field


class ClusterError(ExecutorError):
    """The Dask cluster asked for cannot be reached or started."""
