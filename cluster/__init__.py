"""Deployment: executor backends registered with the engine through the entry-point group ``mbl_ensemble.executors``
(``pyproject.toml``): a local Dask cluster of processes (``local``), an existing scheduler (``dask``), SLURM and
PBS jobs (``slurm``, ``pbs``). The engine finds them by name and never imports this package; it depends on the
engine's executor protocol and errors only."""

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

#: Where each name lives: the package imports nothing until a name is used, so that the engine's planning
#: (``ensemble validate``) reads a backend's limits without importing Dask.
_WHERE = {
    "BATCH_SYSTEMS": "cluster.jobs", "JobBackend": "cluster.jobs", "JobConfig": "cluster.jobs",
    "check_controller": "cluster.jobs", "job_cluster": "cluster.jobs", "job_script": "cluster.jobs",
    "load_job_config": "cluster.jobs", "ClusterConfigError": "cluster.errors", "ClusterError": "cluster.errors",
    "DaskExecutor": "cluster.executor", "WarmKernel": "cluster.executor", "WORKER_ENV": "cluster.local",
    "LocalBackend": "cluster.local", "local_cluster": "cluster.local", "SchedulerBackend": "cluster.scheduler",
    "connect": "cluster.scheduler",
}  # fmt: skip


def __getattr__(name: str):
    if name in _WHERE:
        from importlib import import_module

        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cluster' has no attribute {name!r}")
