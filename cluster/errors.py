"""Errors of deployment: a job configuration that is wrong, a cluster that cannot be reached."""

from __future__ import annotations

__all__ = ["ClusterConfigError", "ClusterError"]


class ClusterConfigError(ValueError):
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
        self.field, self.value, self.allowed = field, value, allowed
        text = repr(value)
        super().__init__(f"{field} = {text if len(text) <= 80 else text[:77] + '...'}: allowed: {allowed}")


class ClusterError(RuntimeError):
    """The Dask cluster asked for cannot be reached or started."""
