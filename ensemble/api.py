"""The front door from Python: run a spec into a run directory, on any executor (this layer joins the engine
and :mod:`cluster`; the command line goes through the same functions).

    >>> import ensemble
    >>> r = ensemble.run("examples/fig4a_anderson.toml", out="runs/fig4a")      # a local Dask cluster
    >>> r = ensemble.run(spec, out="runs/x", client=client)                     # an existing distributed.Client
    >>> r = ensemble.run(spec, out="runs/x", executor="serial")                 # this process
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd

from .errors import UsageError
from .executors import SerialExecutor, default_workers
from .runs import axis_columns, load_run, manifest, read_tables
from .spec import Experiment

__all__ = [
    "DEFAULT_MAX_REALIZATION_HOURS",
    "EXECUTORS",
    "Run",
    "open_run",
    "as_experiment",
    "make_executor",
    "planned_memory_per_worker",
    "run",
    "run_into",
    "extend",
    "grown_spec",
    "time_limit",
]

EXECUTORS = ("local", "serial", "dask", "slurm", "pbs")
#: Longest estimated realization run without being asked (--max-realization-hours), outside batch jobs.
DEFAULT_MAX_REALIZATION_HOURS = 48.0


def planned_memory_per_worker(kind: str, workers: int | None = None, jobs=None, threads: int = 1) -> int | None:
    """Bytes a realization may use on a worker of the executor ``kind`` would start (None: known only after connecting)."""
    import psutil

    if kind in ("slurm", "pbs"):
        from dask.utils import parse_bytes

        return parse_bytes(jobs.memory) // jobs.processes
    if kind == "local":  # LocalCluster's default limit: the machine's memory shared by the workers
        return int(psutil.virtual_memory().total // (workers or default_workers(threads)))
    if kind == "serial":
        return int(psutil.virtual_memory().available)
    return None


def time_limit(jobs=None, hours: float | None = None) -> float:
    """Seconds one realization may take: ``hours`` if given, else a batch job's walltime, else 48 hours."""
    if hours is not None:
        return 3600.0 * hours
    if jobs is not None:
        return float(jobs.walltime_seconds)
    return 3600.0 * DEFAULT_MAX_REALIZATION_HOURS


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None, jobs=None,
                  threads: int = 1):  # fmt: skip
    """An executor by name: "serial", "local" (a local Dask cluster), "dask" (``scheduler`` address),
    or "slurm"/"pbs" (batch jobs described by ``jobs``, a cluster.JobConfig, whose ``threads`` counts).

    ``threads``: BLAS threads per realization; a local cluster then starts cores // threads workers.
    """
    if kind in ("slurm", "pbs"):
        from dask.utils import parse_bytes
        from distributed import Client

        from cluster import DaskExecutor, check_controller, job_cluster

        check_controller(jobs)
        cluster = job_cluster(jobs)
        # adaptive clusters may start with no workers: size the window for the most there can be
        most = jobs.max_jobs * jobs.processes
        per_worker = parse_bytes(jobs.memory) // jobs.processes
        return DaskExecutor(Client(cluster), window=4 * most, owns=cluster, max_workers=most, worker_memory=per_worker)
    if scheduler is not None or kind == "dask":
        from cluster import DaskExecutor, connect

        if scheduler is None:
            raise UsageError("--scheduler", None, "a scheduler address for the dask executor, e.g. tcp://HOST:8786")
        return DaskExecutor(connect(scheduler), threads=threads)
    if kind == "serial":
        return SerialExecutor(threads)
    if kind == "local":
        from distributed import Client

        from cluster import DaskExecutor, local_cluster

        cluster = local_cluster(workers, threads=threads)
        return DaskExecutor(Client(cluster), owns=cluster)
    raise UsageError("executor", kind, f"one of {', '.join(EXECUTORS)}")


def as_experiment(spec, name: str = "experiment"):
    """An Experiment from an Experiment, a spec file path, or spec text (TOML; ``name`` unless it sets one)."""
    from .spec import Experiment, load_spec, parse_spec

    if isinstance(spec, Experiment):
        return spec
    if isinstance(spec, str) and "\n" in spec and "kernel" in spec:
        return parse_spec(spec, name=name)
    if isinstance(spec, str | Path):
        return load_spec(spec)
    raise UsageError("spec", spec, "an Experiment, the path of a spec file, or spec text (TOML)")


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def run_into(exp, out, *, kind: str = "local", executor=None, client=None, workers: int | None = None,
             scheduler: str | None = None, jobs=None, resume: bool = False, progress: bool = False,
             max_realization_hours: float | None = None, drop_points: bool = False, threads: int = 1,
             note=_stderr):  # fmt: skip
    """Run ``exp`` into the directory ``out``: every check first, then the run, then the tables.

    The executor is ``executor`` (an object of the executor protocol), or a
    Dask executor on ``client`` (left open), or one made by name (``kind``,
    with ``workers``, ``scheduler``, ``jobs`` and ``threads``). Checks before anything starts
    or is written: memory and time per realization, the output directory, the
    batch controller. A directory this call made is removed again if the run
    fails before finishing a block. Returns ``(RunResult, DirectoryStore)``.
    """
    from .limits import check_size
    from .rundir import is_run
    from .runner import check_limits
    from .runner import run as execute
    from .store import adopt_layout, check_run_dir, open_run_dir, preflight

    out = Path(out)
    if resume and is_run(out):
        exp = adopt_layout(out, exp)  # a growing run keeps its block layout
        check_size(exp)  # again, with the run's block sizes
    limit = time_limit(jobs, max_realization_hours)
    planned = executor.memory_per_worker if executor is not None else (None if client is not None else
                                                                        planned_memory_per_worker(kind, workers, jobs, threads))  # fmt: skip
    check_limits(exp, planned, limit)
    state = check_run_dir(out, exp, resume, drop_points)
    preflight(out, exp)
    if jobs is not None:
        from cluster import check_controller

        check_controller(jobs)
    created = not out.exists()
    store = open_run_dir(out, exp, resume, drop_points)
    if store.previous_holder:
        note(f"{out}: the previous holder, {store.previous_holder}, ended without releasing the run (killed?); "
             "its finished blocks are kept and the run goes on")  # fmt: skip
    if state == "replace":
        note(f"{out} held a run that finished no block; starting over")
    elif state == "grow":
        note(f"{out}: the run grows to this spec; every finished block is kept (history in run.json)")
    try:
        with _executor(kind, executor, client, workers, scheduler, jobs, threads) as ex:
            check_limits(exp, ex.memory_per_worker, limit)
            note(f"{exp.name}: {len(exp.points)} point(s), {exp.total_realizations} realizations of {exp.kernel.name} "
                 f"({_per_point(exp)}); executor: {ex.name}, {'up to ' if jobs else ''}{ex.workers} worker(s)"
                 + (f" of {ex.threads} BLAS threads" if getattr(ex, "threads", 1) > 1 else ""))  # fmt: skip
            if ex.dashboard:
                note(f"dashboard: {ex.dashboard}")
            result = execute(exp, store, ex, progress=progress)
    except BaseException:
        _discard_if_empty(out, created or state == "replace")
        raise
    finally:
        store.close()
    return result, store


class _Borrowed:
    """An executor the caller owns: used, not closed."""

    def __init__(self, ex):
        self.ex = ex

    def __enter__(self):
        return self.ex

    def __exit__(self, *exc):
        pass


def _executor(kind, executor, client, workers, scheduler, jobs, threads=1):
    if executor is not None:
        return _Borrowed(executor)
    if client is not None:
        from cluster import DaskExecutor

        return DaskExecutor(client, close_client=False, threads=threads)
    return make_executor(kind, workers, scheduler, jobs, threads)


def _per_point(exp) -> str:
    counts = sorted({(p.realizations, p.n_blocks, p.block_size) for p in exp.points})
    return "; ".join(f"{n} per point in {g} blocks of {b}" for n, g, b in counts)


def _discard_if_empty(out: Path, ours: bool) -> None:
    """Remove a run directory this call made if the run failed before it finished a block."""
    if ours and out.is_dir() and not any((out / "partials").rglob("*.npz")):
        shutil.rmtree(out, ignore_errors=True)


def refresh_plots(run_dir: Path, note=print) -> None:
    """Tables were rewritten: figures drawn from the old ones are redrawn (or removed, if that fails)."""
    plots = Path(run_dir) / "plots"
    old = sorted(plots.glob("*.png")) if plots.is_dir() else []
    if not old:
        return
    for p in old:
        p.unlink()
    from .runs import write_figures

    try:
        paths = write_figures(run_dir)
    except Exception as e:  # a figure that cannot be drawn must not hide the tables
        note(f"the figures in {plots} were drawn from the old tables and are removed; redrawing failed: {e}")
        return
    note(f"redrew {len(paths)} figure(s) in {plots} from the new tables")


def run(spec, out=None, *, client=None, executor=None, workers: int | None = None, scheduler: str | None = None,
        resume: bool = False, progress: bool = False, max_realization_hours: float | None = None,
        drop_points: bool = False, threads: int = 1):  # fmt: skip
    """Run a spec into a run directory and return it as a :class:`ensemble.runs.Run`.

    Parameters
    ----------
    spec : Experiment, path or str
        The experiment, a spec file, or spec text.
    out : path, optional
        The run directory (default ``runs/<spec name>``).
    client : distributed.Client, optional
        Run on this Dask client (the Dask convention; it is left open).
    executor : str or executor, optional
        "local" (default: a local Dask cluster of one single-threaded worker per core),
        "serial" (this process), or an executor object (see :mod:`ensemble.executors`).
    workers : int, optional
        Workers of the local cluster.
    scheduler : str, optional
        The address (or scheduler file) of a running Dask scheduler.
    resume : bool
        Continue the run already in ``out``, or grow it: a spec with more realizations or more points
        reuses every finished block (the result is bit-identical to a fresh run of the grown spec with
        the same block sizes).
    drop_points : bool
        With ``resume``: points of the run that the spec leaves out are allowed (their partials stay, unused).
    progress : bool
        A progress bar on stderr.
    threads : int
        BLAS threads per realization (per worker); a local cluster then starts cores // threads workers.
        For big dense realizations (rmt_bath at 2^13-2^14, TEBD at large chi). LAPACK results may differ
        in the last bits between thread counts: resume a run with the count it started with.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UsageError("threads", threads, "a positive integer (BLAS threads per worker)")
    exp = as_experiment(spec, name=Path(out).name if out is not None else "experiment")
    out = Path(out) if out is not None else Path("runs") / exp.name
    if client is not None and (executor is not None or scheduler is not None):
        raise UsageError("client", client, "either client, executor or scheduler, not more than one")
    if client is not None and getattr(client, "status", "running") != "running":
        raise UsageError("client", f"a distributed.Client that is {client.status}", "an open client (this one is closed: "
                         "make a new one, or leave client out for a local cluster)")  # fmt: skip
    kind = executor if isinstance(executor, str) else ("dask" if scheduler else "local")
    if isinstance(executor, str) and executor not in ("local", "serial", "dask"):
        raise UsageError("executor", executor, 'one of "local", "serial", "dask", or an executor object')
    obj = None if isinstance(executor, str) or executor is None else executor
    run_into(exp, out, kind=kind, executor=obj, client=client, workers=workers, scheduler=scheduler, resume=resume,
             progress=progress, max_realization_hours=max_realization_hours, drop_points=drop_points,
             threads=threads)  # fmt: skip
    refresh_plots(out, note=_stderr)
    return Run(out)


def grown_spec(run_dir, realizations: int | None = None, more: int | None = None) -> str:
    """The run's spec text with ``realizations`` set to N, or ``more`` added to every point's count.

    The ``realizations = ...`` line is rewritten in place (comments kept); a
    spec whose line cannot be found is written anew.
    """
    import re

    from .spec import tomllib

    text = (Path(run_dir) / "spec.toml").read_text()
    doc = tomllib.loads(text)
    old = doc.get("realizations")
    if (realizations is None) == (more is None):
        raise UsageError("--realizations/--more", (realizations, more), "exactly one of them")
    if realizations is not None:
        value = int(realizations)
    elif isinstance(old, dict):
        value = {**old, "values": [int(n) + more for n in old["values"]]}
    else:
        value = int(old) + more
    line = "realizations = " + (f"{{ by = {_toml(value['by'])}, values = {value['values']} }}" if isinstance(value, dict) else str(value))
    new, count = re.subn(r"(?m)^realizations\s*=.*$", line, text, count=1)
    if count == 1 and tomllib.loads(new).get("realizations") == value:
        return new
    import tomli_w

    doc["realizations"] = value
    return "# rewritten by ensemble extend (the original is in history/)\n" + tomli_w.dumps(doc)


def _toml(v) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v)


def extend(run_dir, realizations: int | None = None, more: int | None = None, **options):
    """Grow the run in ``run_dir`` (a Run or a directory) to ``realizations`` per point (or ``more``) and run the new blocks.

    Every finished block is reused; the tables equal those of a fresh run of
    the grown spec with the run's block sizes, bit for bit. ``options`` are
    those of :func:`run` (executor, client, workers, ...). Returns the Run.
    """
    from .runs import load_run
    from .spec import parse_spec

    run_dir = getattr(run_dir, "path", run_dir)  # a Run or its directory
    exp = parse_spec(grown_spec(run_dir, realizations, more), name=load_run(run_dir).name)
    return run(exp, out=run_dir, resume=True, **options)


def open_run(path: str | Path) -> Run:
    """The run in directory ``path`` (finished or not), for reading from Python."""
    return Run(path)


class Run:
    """A run directory: its spec, points, provenance, tables, figures and progress.

    Tables are read when first asked for and cached; :meth:`reload` forgets them
    (after a refit or a resume in another process).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._doc = manifest(self.path)
        self.spec: Experiment = load_run(self.path)
        self._tables: dict[str, pd.DataFrame] | None = None

    def __repr__(self) -> str:
        s = self.spec
        return (f"Run({str(self.path)!r}: {s.kernel.name}, {s.model.name} analysis, {len(s.points)} point(s), "
                f"{s.total_realizations} realizations)")  # fmt: skip

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def points(self) -> pd.DataFrame:
        """One row per point: index, seeding key, swept values, realizations, blocks and block size."""
        rows = [{"point": p.index, "key": f"{p.key:016x}", **p.swept, "realizations": p.realizations,
                 "blocks": p.n_blocks, "block_size": p.block_size} for p in self.spec.points]  # fmt: skip
        return pd.DataFrame(rows)

    @property
    def provenance(self) -> dict:
        """Where the run came from: versions, git revision, host, command, creation time, and the tables' record."""
        keys = ("environment", "created", "command", "history")
        out = {k: self._doc.get(k) for k in keys if k in self._doc}
        manifest = self.path / "tables" / "manifest.json"
        if manifest.exists():
            out["tables"] = json.loads(manifest.read_text())
        return out

    # -- tables ------------------------------------------------------------------
    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        if self._tables is None:
            self._tables = read_tables(self.path)
        return self._tables

    @property
    def summary(self) -> pd.DataFrame:
        return self.tables["summary"]

    @property
    def fits(self) -> pd.DataFrame:
        return self.tables.get("fits", pd.DataFrame())

    def reload(self) -> Run:
        """Forget cached tables (and re-read the spec and record), e.g. after ``ensemble fit`` elsewhere."""
        self.__init__(self.path)
        return self

    def query(self, sql: str, writable: bool = False) -> pd.DataFrame:
        """SQL (DuckDB) on this run's tables, one view per table; read-only unless ``writable``."""
        from .query import query

        return query(self.path, sql, writable=writable)

    def to_xarray(self, observable: str):
        """The observable as an ``xarray.Dataset`` of ``mean``, ``sem`` and ``n`` over the swept parameters and
        its own axes (t, site, ...); the fixed parameters go to ``attrs``.

        Zipped parameters become separate dimensions; combinations the sweep did not run are NaN.
        """
        s = self.summary
        rows = s[s["observable"] == observable]
        if rows.empty:
            known = sorted(set(s["observable"]))
            raise UsageError("observable", observable, f"an observable of the run in {self.path}: {', '.join(known)}")
        axes = [c for c in axis_columns(s) if rows[c].notna().any()]
        dims = self.spec.swept_names + axes
        data = rows[dims + ["mean", "sem", "n"]]
        ds = data.set_index(dims).to_xarray() if dims else data.iloc[0].to_frame().T.reset_index(drop=True).to_xarray()
        fixed = {k: v for k, v in rows.iloc[0].items() if k in self.spec.params_names and k not in dims}
        ds.attrs.update(observable=observable, run=self.name, estimator=str(rows["estimator"].iloc[0]),
                        **{k: v.item() if hasattr(v, "item") else v for k, v in fixed.items()})  # fmt: skip
        return ds

    def figures(self) -> dict:
        """The model's figures of this run, as matplotlib Figures by name (nothing is written)."""
        return self.spec.model.figures(self.spec, self.tables)

    def extend(self, realizations: int | None = None, more: int | None = None, **options) -> Run:
        """More realizations (to ``realizations`` per point, or ``more`` per point), reusing every block; see
        :func:`ensemble.api.extend` (``options``: executor, client, workers, ...)."""
        return extend(self.path, realizations=realizations, more=more, **options)

    def status(self):
        """Progress (done/total per point, rate, ETA) and provisional tables from the blocks finished so far."""
        from .status import status

        return status(self.path)
