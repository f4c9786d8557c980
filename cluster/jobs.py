"""HPC batch systems through dask-jobqueue: what every backend shares.

Each batch system is one short module (:mod:`cluster.slurm`,
:mod:`cluster.pbs`) defining a :class:`BatchSystem` whose class attributes hold
what differs (the dask-jobqueue cluster class, the command that checks the
controller answers). A :class:`JobConfig` is read from
``cluster/jobqueue.yaml`` (documented defaults), optionally a user's YAML
file, and command-line overrides, and validated before anything is
submitted. :func:`job_cluster` turns it into that backend's cluster, which

* runs ``cores // threads`` worker processes per job, each with ``threads``
  BLAS threads (default one single-threaded worker per core),
* exports ``NUMBA_NUM_THREADS`` and the BLAS thread variables to match, and a
  node-local ``NUMBA_CACHE_DIR`` (no cache races on shared filesystems),
* gives workers a lifetime shorter than the walltime, so they retire and
  their tasks move elsewhere before the batch system kills the job,
* scales adaptively between ``min_jobs`` and ``max_jobs``.

:func:`job_script` renders the batch script as text, without submitting.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ensemble.errors import did_you_mean

from cluster.errors import ClusterConfigError, ClusterError
from cluster.local import QUIET_SCHEDULER, worker_env

__all__ = ["BATCH_SYSTEMS", "DEFAULTS", "BatchSystem", "JobBackend", "JobConfig", "check_controller", "job_cluster", "job_script",
           "load_job_config"]  # fmt: skip

DEFAULTS = Path(__file__).with_name("jobqueue.yaml")


class BatchSystem:
    """A batch system: subclasses set the class attributes (see cluster/slurm.py, cluster/pbs.py).

    Attributes
    ----------
    name : str
        As in ``--cluster NAME`` and the sections of jobqueue.yaml.
    cluster_class : str
        The dask-jobqueue class that submits the jobs.
    probe : tuple of str
        A command that succeeds only when the batch system's controller answers.
    """

    name: str = ""
    cluster_class: str = ""
    probe: tuple[str, ...] = ()

    def book_cores(self, cfg: JobConfig) -> dict:
        """Extra cluster arguments booking ``cfg.cores`` cores for ``cfg.processes`` one-task workers."""
        return {}

    def cluster_type(self):
        import dask_jobqueue

        return getattr(dask_jobqueue, self.cluster_class)


#: name -> batch system; filled by the batch systems' modules
BATCH_SYSTEMS: dict[str, BatchSystem] = {}


def _systems() -> dict[str, BatchSystem]:
    """Every batch system, registered (each registers itself when its module is imported)."""
    import cluster.pbs  # noqa: F401
    import cluster.slurm  # noqa: F401

    return BATCH_SYSTEMS


def register(system: type[BatchSystem]) -> type[BatchSystem]:
    BATCH_SYSTEMS[system.name] = system()
    return system


@dataclass(frozen=True)
class JobConfig:
    """Resources of the batch jobs that host the workers (see cluster/jobqueue.yaml)."""

    kind: str
    cores: int = 4
    threads: int = 1
    memory: str = "8GiB"
    walltime: str = "02:00:00"
    queue: str | None = None
    account: str | None = None
    job_prologue: tuple[str, ...] = ()
    worker_lifetime: str | None = None
    lifetime_stagger: str = "4m"
    min_jobs: int = 0
    max_jobs: int = 10
    interface: str | None = None
    local_directory: str | None = None
    numba_cache_dir: str | None = None
    log_directory: str | None = None
    extra_directives: tuple[str, ...] = field(default=())

    @property
    def processes(self) -> int:
        """Worker processes per job: cores // threads."""
        return self.cores // self.threads

    @property
    def walltime_seconds(self) -> int:
        return parse_walltime(self.walltime)

    @property
    def lifetime(self) -> str:
        """Worker lifetime: as given, else walltime minus 10 minutes (or 80% of a short walltime)."""
        if self.worker_lifetime:
            return self.worker_lifetime
        w = self.walltime_seconds
        return f"{max(60, w - 600 if w > 1800 else int(0.8 * w)) // 60}m"


def parse_walltime(text: str) -> int:
    """Seconds of a walltime ``[D-]HH:MM:SS`` (or ``MM:SS``)."""
    m = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)", str(text).strip())
    if not m:
        raise ClusterConfigError("walltime", text, 'HH:MM:SS or D-HH:MM:SS, e.g. walltime: "02:00:00"')
    d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def load_job_config(kind: str, path: str | Path | None = None, overrides: dict | None = None) -> JobConfig:
    """Defaults, then the user's YAML file, then command-line overrides; validated."""
    if kind not in _systems():
        raise ClusterConfigError("--cluster", kind, f"one of {', '.join(BATCH_SYSTEMS)}")
    values = _section(DEFAULTS, kind)
    if path is not None:
        values.update(_section(Path(path), kind))
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _validate(kind, values)


def _section(path: Path, kind: str) -> dict:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ClusterConfigError("--cluster-config", str(path), f"a readable YAML file ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get(kind, {}), dict):
        raise ClusterConfigError(f"{path}:{kind}", doc.get(kind) if isinstance(doc, dict) else doc, f"a mapping under '{kind}:'")
    return dict(doc.get(kind) or {})


def _validate(kind: str, values: dict) -> JobConfig:
    names = [f.name for f in dataclasses.fields(JobConfig) if f.name != "kind"]
    for k in values:
        if k not in names:
            raise ClusterConfigError(f"{kind}.{k}", values[k], f"{did_you_mean(k, names)}known keys: {', '.join(names)}")
    values.setdefault("threads", 1)
    for k in ("cores", "threads", "min_jobs", "max_jobs"):
        v = values.get(k)
        least = 1 if k in ("cores", "threads") else 0
        if isinstance(v, bool) or not isinstance(v, int) or v < least:
            raise ClusterConfigError(f"{kind}.{k}", v, f"an integer >= {least}")
    if values["cores"] % values["threads"]:
        raise ClusterConfigError(f"{kind}.threads", values["threads"], f"a divisor of cores = {values['cores']} "
                                 "(each job runs cores / threads workers of threads BLAS threads)")  # fmt: skip
    if values["max_jobs"] < max(1, values["min_jobs"]):
        raise ClusterConfigError(f"{kind}.max_jobs", values["max_jobs"], f"an integer >= max(1, min_jobs = {values['min_jobs']})")
    parse_walltime(values["walltime"])
    try:
        from dask.utils import parse_bytes

        if parse_bytes(values["memory"]) < values["cores"] * 2**26:
            raise ValueError
    except (ValueError, TypeError):
        raise ClusterConfigError(f"{kind}.memory", values["memory"], "a size per job such as 8GiB or 16000MB, at least 64 MiB "
                                 "per core (--memory 16GiB)") from None  # fmt: skip
    for k in ("job_prologue", "extra_directives"):
        v = values.get(k) or []
        if isinstance(v, str) or not all(isinstance(x, str) for x in v):
            raise ClusterConfigError(f"{kind}.{k}", v, "a list of strings")
        values[k] = tuple(v)
    return JobConfig(kind=kind, **values)


def _job_kwargs(cfg: JobConfig) -> dict:
    prologue = [f"export {k}={v}" for k, v in worker_env(cfg.threads).items()]
    if cfg.numba_cache_dir:
        prologue += [f'export NUMBA_CACHE_DIR="{cfg.numba_cache_dir}"', 'mkdir -p "$NUMBA_CACHE_DIR"']
    prologue += list(cfg.job_prologue)
    return dict(
        # dask-jobqueue gives each worker cores / processes Dask threads (task slots): one task at a time
        # per worker, whose BLAS uses cfg.threads threads; the job still books all cfg.cores (book_cores)
        cores=cfg.processes,
        processes=cfg.processes,
        **(BATCH_SYSTEMS[cfg.kind].book_cores(cfg) if cfg.threads > 1 else {}),
        memory=cfg.memory,
        walltime=cfg.walltime,
        queue=cfg.queue,
        account=cfg.account,
        interface=cfg.interface,
        local_directory=cfg.local_directory or "${TMPDIR:-/tmp}",
        log_directory=cfg.log_directory,
        job_script_prologue=prologue,
        job_extra_directives=list(cfg.extra_directives),
        worker_extra_args=["--lifetime", cfg.lifetime, "--lifetime-stagger", cfg.lifetime_stagger],
        python=sys.executable,
        scheduler_options={"dashboard_address": ":0", **({"interface": cfg.interface} if cfg.interface else {})},
    )


def check_controller(cfg: JobConfig, timeout: float = 15.0) -> None:
    """Raise ClusterError unless the batch system's controller answers within ``timeout`` seconds.

    Without this, dask-jobqueue keeps resubmitting to an unreachable controller
    and the run hangs with repeated errors.
    """
    backend = BATCH_SYSTEMS[cfg.kind]
    cmd = " ".join(backend.probe)
    try:
        res = subprocess.run(list(backend.probe), capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ClusterError(f"{backend.probe[0]} is not installed here: --cluster {cfg.kind} needs the {cfg.kind.upper()} "
                           "commands (run on a login node of the cluster)") from None  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ClusterError(f"the {cfg.kind.upper()} controller did not answer within {timeout:g} s ({cmd}); is it up?") from None
    if res.returncode != 0:
        why = " ".join((res.stderr or res.stdout).split())[:200]
        raise ClusterError(f"the {cfg.kind.upper()} controller does not answer ({cmd}: {why})")


def _new_cluster(cfg: JobConfig):
    """The dask-jobqueue cluster object; its scheduler (started here, in the driver) without work stealing,
    as the local cluster's (QUIET_SCHEDULER)."""
    import dask

    with dask.config.set(QUIET_SCHEDULER):
        return BATCH_SYSTEMS[cfg.kind].cluster_type()(**_job_kwargs(cfg))


def job_cluster(cfg: JobConfig):
    """A started dask-jobqueue cluster scaling adaptively between min_jobs and max_jobs."""
    cluster = _new_cluster(cfg)
    cluster.adapt(minimum_jobs=cfg.min_jobs, maximum_jobs=cfg.max_jobs)
    return cluster


def job_script(cfg: JobConfig) -> str:
    """The batch script the cluster would submit (its scheduler starts and stops here)."""
    cluster = _new_cluster(cfg)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


#: The job options a command line may set (``--cores`` ... ``--job-prologue``), and the YAML file's option.
JOB_OPTIONS = ("cores", "memory", "walltime", "queue", "account", "min_jobs", "max_jobs", "job_prologue")


class JobBackend:
    """Workers in the jobs of a batch system (an executor backend, :class:`ensemble.running.executors.Backend`)."""

    def __init__(self, name: str):
        self.name = name

    def configure(self, request, options: dict):
        """The request with its job configuration: cluster/jobqueue.yaml, then ``options["cluster_config"]``
        (a YAML file), then the other options; its threads are the jobs' threads."""
        import dataclasses

        overrides = {k: options.get(k) for k in (*JOB_OPTIONS, "threads")}  # the command line over the YAML files
        cfg = load_job_config(self.name, options.get("cluster_config"), overrides)
        return dataclasses.replace(request, jobs=cfg, threads=cfg.threads)

    def _config(self, request) -> JobConfig:
        return request.jobs if request.jobs is not None else load_job_config(self.name)

    def planned_workers(self, request) -> int:
        cfg = self._config(request)
        return cfg.max_jobs * cfg.processes

    def planned_memory_per_worker(self, request) -> int:
        from dask.utils import parse_bytes

        cfg = self._config(request)
        return parse_bytes(cfg.memory) // cfg.processes

    def time_limit(self, request) -> float:
        return float(self._config(request).walltime_seconds)

    def preflight(self, request) -> None:
        check_controller(self._config(request))

    def make(self, request):
        from distributed import Client

        from cluster.executor import DaskExecutor

        cfg = self._config(request)
        cluster = job_cluster(cfg)
        most = cfg.max_jobs * cfg.processes  # adaptive clusters may start with no workers: the window is for the most
        return DaskExecutor(Client(cluster), name=f"{cfg.kind.upper()} jobs ({cfg.min_jobs}-{cfg.max_jobs} x {cfg.cores} cores)",
                            threads=cfg.threads, window=4 * most, owns=cluster, max_workers=most,
                            worker_memory=self.planned_memory_per_worker(request))  # fmt: skip

    def job_script(self, request) -> str:
        """The batch script the jobs would run, and their adaptive range (nothing is submitted)."""
        cfg = self._config(request)
        return job_script(cfg) + f"# adaptive: {cfg.min_jobs}..{cfg.max_jobs} jobs; worker lifetime {cfg.lifetime} (walltime {cfg.walltime})\n"
