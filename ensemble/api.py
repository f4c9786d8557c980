"""The front door from Python: run a spec into a run directory, on any executor (this layer joins the engine
and :mod:`cluster`; the command line goes through the same functions).

    >>> import ensemble
    >>> r = ensemble.run("examples/fig4a_anderson.toml", out="runs/fig4a")      # a local Dask cluster
    >>> r = ensemble.run(spec, out="runs/x", client=client)                     # an existing distributed.Client
    >>> r = ensemble.run(spec, out="runs/x", executor="serial")                 # this process
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:  # pandas is imported when a table is made (ensemble validate needs none)
    import pandas as pd

from ensemble.present.figures import refresh_plots
from ensemble.errors import EnsembleError, UsageError
from ensemble.running.executors import DEFAULT_MAX_REALIZATION_HOURS, Executor, ExecutorRequest, backend, default_kind
from ensemble.store.layout import Layout
from ensemble.store.runs import axis_columns, load_run, manifest, read_tables
from ensemble.spec.experiment import Experiment

__all__ = [
    "DEFAULT_MAX_REALIZATION_HOURS",
    "Run",
    "open_run",
    "as_experiment",
    "make_executor",
    "planned_memory_per_worker",
    "request_for",
    "run",
    "submit",
    "validate",
    "Plan",
    "run_into",
    "extend",
    "grown_experiment",
    "grown_spec",
    "refit",
    "time_limit",
]


def request_for(kind: str | None = None, workers: int | None = None, scheduler: str | None = None, jobs=None,
                threads: int = 1, client=None, options: dict | None = None) -> ExecutorRequest:  # fmt: skip
    """The executor request of a name and its options, resolved by its backend (``options``: the command line's job
    options; ``jobs``: a job configuration made already). A ``client`` or a ``scheduler`` means an existing Dask cluster."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError("workers", workers, "a positive integer (worker processes), or None for one per core")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UsageError("threads", threads, "a positive integer (BLAS threads per worker)")
    if client is not None or (scheduler is not None and kind in (None, "local", "processes", "dask")):
        kind = "dask"
    kind = kind or default_kind()
    request = ExecutorRequest(kind=kind, workers=workers, threads=threads, scheduler=scheduler, client=client, jobs=jobs)
    b = backend(kind)
    return request if jobs is not None else b.configure(request, options or {})


def planned_memory_per_worker(request: ExecutorRequest) -> int | None:
    """Bytes a realization may use on a worker of the executor ``request`` would start (None: known only after connecting)."""
    return backend(request.kind).planned_memory_per_worker(request)


def time_limit(request: ExecutorRequest | None = None, hours: float | None = None) -> float:
    """Seconds one realization may take: ``hours`` if given, else the backend's limit (a batch job's walltime), else 48 hours."""
    if hours is not None:
        return 3600.0 * hours
    limit = backend(request.kind).time_limit(request) if request is not None else None
    return float(limit) if limit is not None else 3600.0 * DEFAULT_MAX_REALIZATION_HOURS


def make_executor(kind: str | None = None, workers: int | None = None, scheduler: str | None = None, jobs=None,
                  threads: int = 1, client=None) -> Executor:  # fmt: skip
    """An executor by name: "serial", "processes" (workers forked from this process; the default where it can
    fork), "local" (a local Dask cluster), "dask" (``scheduler`` address or ``client``),
    or "slurm"/"pbs" (batch jobs described by ``jobs``, a job configuration, whose ``threads`` counts), or any
    backend a plugin registers. ``threads``: BLAS threads per realization; a local cluster then starts
    cores // threads workers."""
    from ensemble.running.executors import start

    request = request_for(kind, workers, scheduler, jobs, threads, client)
    backend(request.kind).preflight(request)
    return start(request)


def as_experiment(spec, name: str = "experiment"):
    """An Experiment from an Experiment, a spec file path, or spec text (TOML; ``name`` unless it sets one)."""
    from ensemble.spec.experiment import Experiment, load_spec, parse_spec

    if isinstance(spec, Experiment):
        return spec
    if isinstance(spec, Mapping):  # a dict or a parsed TOML document: recorded as TOML text all the same
        return parse_spec(spec_text(spec), name=name)
    if isinstance(spec, str) and "\n" in spec and "kernel" in spec:
        return parse_spec(spec, name=name)
    if isinstance(spec, str | Path):
        return load_spec(spec)
    raise UsageError("spec", spec, "an Experiment, a dict, the path of a spec file, or spec text (TOML)")


def spec_text(spec: Mapping) -> str:
    """A spec given as a dict (or a parsed TOML document) as TOML text, which the run records."""
    import tomlkit

    try:
        return tomlkit.dumps(spec)
    except (TypeError, ValueError) as e:
        raise UsageError("spec", spec, f"a dict of TOML values (strings, numbers, booleans, lists, tables): {e}") from None


@dataclass(frozen=True)
class Plan:
    """What :func:`validate` found: the points, their cost and the tasks they make on the executor asked for."""

    experiment: Any
    rows: tuple
    cpu_hours: float
    tasks: int
    task_seconds: tuple[float, float]
    wall_seconds: float
    executor: str
    workers: int
    #: per point, the cost estimate (seconds and memory per realization, and where they come from)
    estimates: tuple = ()
    #: how the points are cut into tasks (:func:`ensemble.running.scheduling.schedule`)
    schedule: Any = None
    #: the memory each worker of the executor is planned to have (None: not known before it starts)
    memory_per_worker: int | None = None
    #: with a precision goal: per point, the realizations it likely needs (a pilot; ensemble.running.pilot)
    goal: tuple = ()
    #: point key -> what earlier runs of the same kernel and parameter values measured on this machine (the cost
    #: ledger, ensemble.running.ledger.recorded): CPU seconds and peak memory per realization
    recorded: dict = field(default_factory=dict)

    @property
    def recorded_cpu_hours(self) -> float | None:
        """CPU-hours at the costs recorded on this machine (points without a record as estimated); None: no record."""
        if not self.recorded:
            return None
        e = self.experiment
        return sum(pt.realizations * (self.recorded[pt.key].seconds if pt.key in self.recorded else c.seconds)
                   for pt, c in zip(e.points, self.estimates)) / 3600  # fmt: skip

    @property
    def goal_cpu_hours(self) -> float | None:
        """CPU-hours the precision goal likely takes (None: no goal, or not estimated at every point)."""
        if not self.goal or any(g.seconds is None for g in self.goal):
            return None
        return sum(g.seconds for g in self.goal) / 3600

    def __repr__(self) -> str:
        e = self.experiment
        lo, hi = self.task_seconds
        warnings = "".join(f"; warning: {line}" for line in e.notes)
        if self.goal_cpu_hours is not None:
            warnings = f"; with the goal ~{self.goal_cpu_hours:.3g} CPU-hours (pilot)" + warnings
        if self.recorded_cpu_hours is not None:
            warnings = (f"; ~{self.recorded_cpu_hours:.3g} CPU-hours at the costs recorded on this machine "
                        f"({len(self.recorded)} of {len(e.points)} point(s))") + warnings
        return (f"<Plan {e.name}: kernel {e.kernel.name}, {len(e.points)} point(s), {e.total_realizations} realizations, "
                f"~{self.cpu_hours:.3g} CPU-hours; {self.tasks} tasks of {lo:.3g}-{hi:.3g} s, "
                f"~{self.wall_seconds:.3g} s on {self.workers} {self.executor} worker(s){warnings}>")  # fmt: skip

    @property
    def points(self) -> pd.DataFrame:
        """Per point: parameters, realizations, blocks, estimated seconds and memory per realization."""
        import pandas as pd

        return pd.DataFrame(list(self.rows))

    @property
    def warnings(self) -> tuple[str, ...]:
        """What limits the physics of some points at their size (the kernel's ``resolution``), one line each."""
        return self.experiment.notes

    def _repr_html_(self) -> str:
        import html

        from ensemble.present.html import frame_rows, table

        pts = self.points
        return f"<p>{html.escape(repr(self)[1:-1])}</p>" + table(list(pts.columns), frame_rows(pts), caption="points")


def validate(spec, *, executor: str | None = None, workers: int | None = None, threads: int = 1,
             max_realization_hours: float | None = None) -> Plan:  # fmt: skip
    """Check a spec (a dict, TOML text, a file or an Experiment) and say what it would run, before anything runs.

    Raises :class:`~ensemble.errors.SpecError` naming the field, the value and what is allowed. Returns a
    :class:`Plan`: per point its parameters, realizations, blocks and estimated seconds per realization (the
    kernel's cost model, or measured here), and the tasks and parallel wall time on ``executor``.
    """
    exp = as_experiment(spec)
    return plan_for(exp, request_for(executor, workers, None, None, threads, None), max_realization_hours)


def plan_for(exp, request: ExecutorRequest, max_realization_hours: float | None = None, check: bool = True) -> Plan:
    """The :class:`Plan` of ``exp`` on the executor ``request`` describes, every limit checked (memory and time
    per realization against the workers; ``check=False``: a plan only, for workers that are not this
    executor's): the one place that decides whether a spec can run there."""
    from ensemble.running.cost import estimates
    from ensemble.running.scheduling import schedule

    n_workers = backend(request.kind).planned_workers(request)
    memory = planned_memory_per_worker(request)
    cost = estimates(exp)
    sched = schedule(exp, n_workers, [c.seconds for c in cost])
    from ensemble.running.ledger import recorded

    history = recorded(exp)
    rows = [{"point": pt.index, "label": pt.label or "(no sweep)", "realizations": pt.realizations, "blocks": pt.n_blocks,
             "block_size": pt.block_size, "seconds_per_realization": c.seconds, "cost": c.source,
             "memory_MiB": None if c.memory is None else c.memory / 2**20,
             "recorded_seconds_per_realization": history[pt.key].seconds if pt.key in history else None,
             "recorded_peak_MiB": history[pt.key].peak_bytes / 2**20 if pt.key in history else None}
            for pt, c in zip(exp.points, cost)]  # fmt: skip
    lengths = sorted(sched.task_seconds.values())
    total = sum(c.seconds * pt.realizations for pt, c in zip(exp.points, cost)) / 3600
    from ensemble.running.pilot import goal_estimates

    goal = tuple(goal_estimates(exp, [c.seconds for c in cost])) if exp.precision is not None else ()
    plan = Plan(exp, tuple(rows), total, sched.tasks, (lengths[0], lengths[-1]), sched.wall_seconds, request.kind,
                n_workers, tuple(cost), sched, memory, goal, history)  # fmt: skip
    if check:
        check_plan(plan, request, max_realization_hours)
    return plan


def check_plan(plan: Plan, request: ExecutorRequest, max_realization_hours: float | None = None) -> None:
    """SpecError unless every point of ``plan`` fits its workers: memory per realization against a worker's, and
    time per realization (and per task) against the limit (``max_realization_hours``, a job's walltime, or 48 h)."""
    from ensemble.running.admission import check_limits

    check_limits(plan.experiment, plan.memory_per_worker, time_limit(request, max_realization_hours), plan.workers)


def _stderr(text: str) -> None:
    print(text, file=sys.stderr)


def run_into(exp, out, *, request: ExecutorRequest | None = None, executor: Executor | None = None,
             resume: bool = False, progress: bool = False, max_realization_hours: float | None = None,
             drop_points: bool = False, note=_stderr, cancel=None, on_open=None):  # fmt: skip
    """Run ``exp`` into the directory ``out``: every check first, then the run, then the tables.

    The executor is ``executor`` (the caller's, left open), or the one ``request`` describes (started here
    and closed after). Checks before anything starts or is written: memory and time per realization, the
    output directory, the backend's own (a batch controller that answers). A directory this call made is
    removed again if the run fails before finishing a block. Returns ``(RunResult, DirectoryStore)``.
    ``cancel`` (a threading.Event) stops the run (:class:`~ensemble.errors.Cancelled`); ``on_open()`` is
    called once every check has passed and the directory is held (what :func:`submit` waits for).
    """
    from ensemble.store.guard import run_target
    from ensemble.store.lifecycle import adopt_layout, check_run_dir, discard_if_empty, open_run_dir, preflight
    from ensemble.spec.limits import check_size
    from ensemble.store.layout import is_run
    from ensemble.running.admission import check_limits
    from ensemble.running.signals import Held

    request = request or ExecutorRequest()
    out = run_target(out)
    if resume and is_run(out):
        exp = adopt_layout(out, exp)  # a growing run keeps its block layout
        exp = _keep_refit(out, exp, note)  # and a refit's [fit] settings, unless the spec changes its [fit]
        check_size(exp)  # again, with the run's block sizes
    limit = time_limit(request if executor is None else None, max_realization_hours)
    planned = executor.memory_per_worker if executor is not None else planned_memory_per_worker(request)
    workers = executor.workers if executor is not None else backend(request.kind).planned_workers(request)
    check_limits(exp, planned, limit, workers)
    state = check_run_dir(out, exp, resume, drop_points)
    preflight(out, exp)
    if executor is None:
        backend(request.kind).preflight(request)
    created = not out.exists()
    store = None
    held = Held()  # until the store is ours: a signal between its creation and the try would leave it
    try:  # from here on a failure or a signal removes a directory this call made that finished no block
        store = open_run_dir(out, exp, resume, drop_points)
        held.release()  # a signal that came meanwhile is raised here
        return _run_open(out, exp, store, state, executor, request, planned, workers, limit, note, on_open,
                         drop_points, progress, cancel), store  # fmt: skip
    except BaseException:
        got = held.restore()
        if store is not None and (created or state == "replace"):  # (open_run_dir cleans up after itself)
            discard_if_empty(out)
        if got:  # a signal held back while open_run_dir failed: it ends the command, as it would have
            import signal

            signal.raise_signal(got[0])
        raise
    finally:
        if store is not None:
            store.close()



def _run_open(out, exp, store, state, executor, request, planned, workers, limit, note, on_open, drop_points,
              progress, cancel):  # fmt: skip
    """The run, its directory open and locked: the notes, a no-op when every table is current, else the executor."""
    from ensemble.running.admission import check_limits
    from ensemble.running.runner import run as execute
    from ensemble.store.results import tables_current

    if on_open is not None:
        on_open()
    for line in exp.notes:
        note(f"warning: {line}")
    if store.previous_holder:
        note(f"{out}: the previous holder, {store.previous_holder}, ended without releasing the run (killed?); "
             "its finished blocks are kept and the run goes on")  # fmt: skip
    if state == "replace":
        note(f"{out} held a run that finished no block; starting over")
    elif state == "grow":
        note(f"{out}: the run grows to this spec; every finished block is kept (history in run.json)")
    if state != "replace" and not drop_points and tables_current(exp, store):  # a no-op: no cluster, no rewrite
        from ensemble.running.runner import RunResult

        import pandas as pd

        from ensemble.analysis.tables import table_names

        note(f"{exp.name}: every block is done and the tables are current; nothing to compute (no executor started)")
        store.close()
        tables = read_tables(out)  # a table without columns (a model without fits) has no file: as a run gives it
        tables = {name: tables.get(name, pd.DataFrame()) for name in table_names(exp)}
        return RunResult(tables, 0, 0, 0.0, realizations_skipped=exp.total_realizations, tables_unchanged=True)
    from ensemble.running.executors import start

    with _Borrowed(executor) if executor is not None else start(request) as ex:
        if (ex.memory_per_worker, ex.workers) != (planned, workers):  # the executor started is not the planned one
            check_limits(exp, ex.memory_per_worker, limit, ex.workers)
        adaptive = request.jobs is not None and executor is None
        note(f"{exp.name}: {len(exp.points)} point(s), {exp.total_realizations} realizations of {exp.kernel.name} "
             f"({_per_point(exp)}); executor: {ex.name}, {'up to ' if adaptive else ''}{ex.workers} worker(s)"
             + (f" of {ex.threads} BLAS threads" if ex.threads > 1 else ""))  # fmt: skip
        if ex.dashboard:
            note(f"dashboard: {ex.dashboard}")
        return execute(exp, store, ex, progress=progress, cancel=cancel)


def _keep_refit(out: Path, exp, note):
    from ensemble.store.runs import keep_refit

    try:
        previous = load_run(out).fit
    except EnsembleError:  # a damaged record: check_run_dir reports it
        return exp
    return keep_refit(out, exp, previous, note)


class _Borrowed:
    """An executor the caller owns: used, not closed."""

    def __init__(self, ex):
        self.ex = ex

    def __enter__(self):
        return self.ex

    def __exit__(self, *exc):
        pass


def _per_point(exp) -> str:
    counts = sorted({(p.realizations, p.n_blocks, p.block_size) for p in exp.points})
    return "; ".join(f"{n} per point in {g} blocks of {b}" for n, g, b in counts)


def run(spec, out=None, *, client=None, executor=None, workers: int | None = None, scheduler: str | None = None,
        resume: bool = False, progress: bool = False, max_realization_hours: float | None = None,
        drop_points: bool = False, threads: int = 1):  # fmt: skip
    """Run a spec into a run directory and return it as a :class:`ensemble.store.runs.Run`.

    Parameters
    ----------
    spec : Experiment, path or str
        The experiment, a spec file, or spec text.
    out : path, optional
        The run directory (default ``runs/<spec name>``).
    client : distributed.Client, optional
        Run on this Dask client (the Dask convention; it is left open).
    executor : str or executor, optional
        "processes" (the default where this platform can fork: one single-threaded worker per core, forked from
        this process once the kernel is loaded), "local" (a local Dask cluster, the default elsewhere),
        "serial" (this process), another registered backend, or an Executor (see :mod:`ensemble.running.executors`).
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
    exp, out, request, obj = _resolve(spec, out, client, executor, workers, scheduler, threads)
    result, _ = run_into(exp, out, request=request, executor=obj, resume=resume, progress=progress,
                         max_realization_hours=max_realization_hours, drop_points=drop_points)  # fmt: skip
    if not result.tables_unchanged:
        refresh_plots(out, note=_stderr)
    return Run(out)


def _resolve(spec, out, client, executor, workers, scheduler, threads):
    """``run``'s arguments checked: the experiment, the directory, and a request or an executor object."""
    exp = as_experiment(spec, name=Path(out).name if out is not None else "experiment")
    out = Path(out) if out is not None else Path("runs") / exp.name
    if client is not None and (executor is not None or scheduler is not None):
        raise UsageError("client", client, "either client, executor or scheduler, not more than one")
    if client is not None and getattr(client, "status", "running") != "running":
        raise UsageError("client", f"a distributed.Client that is {client.status}", "an open client (this one is closed: "
                         "make a new one, or leave client out for a local cluster)")  # fmt: skip
    if executor is not None and not isinstance(executor, str | Executor):
        raise UsageError("executor", executor, "a backend's name (serial, local, dask, ...) or an ensemble.running.executors.Executor")
    kind = executor if isinstance(executor, str) else ("dask" if scheduler else None)
    obj = executor if isinstance(executor, Executor) else None
    request = None if obj is not None else request_for(kind, workers, scheduler, None, threads, client)
    return exp, out, request, obj


def submit(spec, out=None, *, client=None, executor=None, workers: int | None = None, scheduler: str | None = None,
           resume: bool = False, progress: bool | None = None, max_realization_hours: float | None = None,
           drop_points: bool = False, threads: int = 1):  # fmt: skip
    """Start a run and return at once with a :class:`~ensemble.running.submission.Submission` handle.

    The arguments are :func:`run`'s. Every check (the spec, the directory, memory and time limits) is made
    before this returns, and a bad one raises here; the run itself goes on in a background thread of this
    process (on the executor asked for), so a notebook stays free. ``progress`` defaults to a bar in a
    notebook (tqdm's notebook widget) and none elsewhere. The handle has ``status()``, ``wait()``,
    ``cancel()`` (finished blocks kept: ``submit(..., resume=True)`` or ``ensemble run --resume`` goes on)
    and ``result()`` -> :class:`Run`.
    """
    from ensemble.running.submission import Submission, in_notebook

    exp, out, request, obj = _resolve(spec, out, client, executor, workers, scheduler, threads)
    progress = in_notebook() if progress is None else bool(progress)
    sub = Submission(exp, out)

    def work(cancel, on_open):
        result, _ = run_into(exp, out, request=request, executor=obj, resume=resume, progress=progress,
                             max_realization_hours=max_realization_hours, drop_points=drop_points, cancel=cancel,
                             on_open=on_open)  # fmt: skip
        if not result.tables_unchanged:
            refresh_plots(out, note=_stderr)
        return Run(out)

    return sub.start(work)


def grown_spec(run_dir, realizations: int | None = None, more: int | None = None, sem: float | None = None,
               err: float | None = None, max_realizations: int | None = None) -> str:  # fmt: skip
    """The run's spec text grown: ``realizations`` per point, or ``more`` added to every point's count; or, for a
    run with a precision goal, a tighter goal (``sem`` or ``err``) and/or a higher cap (``max_realizations``).

    The spec the run recorded is edited as a parsed TOML document (tomlkit), so its comments and layout stay.
    """
    import tomlkit

    from ensemble.store.layout import read_record, recorded_spec

    for option, n in (("realizations", realizations), ("more", more), ("max_realizations", max_realizations)):
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise UsageError(option, n, "an integer >= 1")
    for option, x in (("sem", sem), ("err", err)):
        if x is not None and (isinstance(x, bool) or not isinstance(x, int | float) or not 0 < x < math.inf):
            raise UsageError(option, x, "a number > 0")
    counts, goals = [realizations, more], [sem, err]
    if sum(v is not None for v in counts + goals) > 1 or (all(v is None for v in counts + goals) and max_realizations is None):
        raise UsageError("realizations/more/sem/err", (realizations, more, sem, err),
                         "exactly one of them (or max_realizations alone, with a precision goal)")  # fmt: skip
    doc = tomlkit.parse(recorded_spec(run_dir, read_record(run_dir)))
    goal = doc.get("precision")
    if goal is None and (sem, err, max_realizations) != (None, None, None):
        raise UsageError("sem/err/max_realizations", (sem, err, max_realizations), "a run with a [precision] goal")
    if goal is not None:
        for key, value in (("sem", sem), ("err", err)):
            if value is not None:
                if key not in goal:
                    raise UsageError(key, value, f"{'err' if key == 'sem' else 'sem'}: the goal of this run is a "
                                     f"{'fit' if key == 'sem' else 'observable'} error")  # fmt: skip
                goal[key] = float(value)
        if max_realizations is not None:
            goal["max_realizations"] = int(max_realizations)
    old = doc.get("realizations")
    if realizations is not None:
        doc["realizations"] = int(realizations)
    elif more is not None and isinstance(old, dict):
        old["values"] = [int(n) + more for n in old["values"]]
    elif more is not None:
        doc["realizations"] = int(old) + more
    return tomlkit.dumps(doc)


def grown_experiment(run_dir, realizations: int | None = None, more: int | None = None, **goal) -> Experiment:
    """The run's experiment grown (see :func:`grown_spec`): what ``extend`` runs."""
    from ensemble.store.runs import load_run
    from ensemble.spec.experiment import parse_spec

    return parse_spec(grown_spec(run_dir, realizations, more, **goal), name=load_run(run_dir).name)


def extend(run_dir, realizations: int | None = None, more: int | None = None, *, sem: float | None = None,
           err: float | None = None, max_realizations: int | None = None, **options) -> Run:  # fmt: skip
    """Grow the run in ``run_dir`` (a Run or a directory) to ``realizations`` per point (or ``more``) and run the new blocks.

    Every finished block is reused; the tables equal those of a fresh run of
    the grown spec with the run's block sizes, bit for bit. ``options`` are
    those of :func:`run` (executor, client, workers, ...). Returns the Run.
    """
    run_dir = run_dir.path if isinstance(run_dir, Run) else Path(run_dir)
    exp = grown_experiment(run_dir, realizations, more, sem=sem, err=err, max_realizations=max_realizations)
    return run(exp, out=run_dir, resume=True, **options)


def refit(run_dir, window: tuple[float, float] | None = None, min_start: float | None = None,
          settings: dict | None = None, from_spec: bool = False, origin: str = "refit", note=_stderr):  # fmt: skip
    """Recompute the tables and fits of the run in ``run_dir`` from its partials (no kernel runs), with [fit] settings
    replaced: ``window``, ``min_start`` and any other key of the model's [fit] (``settings``). By default the
    settings start from those the tables were last computed with (tables/manifest.json); ``from_spec`` starts
    from the spec's own. Returns ``(experiment, tables, store)``; ``ensemble fit`` is this function."""
    from ensemble.store.lock import RunLock
    from ensemble.store.runs import load_run
    from ensemble.spec.settings import to_dict
    from ensemble.spec.experiment import with_fit
    from ensemble.store.stores import DirectoryStore
    from ensemble.store.results import summarize

    run_dir = run_dir.path if isinstance(run_dir, Run) else Path(run_dir)
    exp = load_run(run_dir)
    with DirectoryStore(run_dir, RunLock(run_dir).acquire()) as store:
        overrides = dict(settings or {})
        if window is not None:
            overrides["window"] = [float(w) for w in window]
        if min_start is not None:
            overrides["min_start"] = min_start
        recorded = (store.record("manifest") or {}).get("fit")
        base = None if from_spec or recorded is None else {k: v for k, v in recorded.items() if v is not None}
        spec_fit = exp.fit
        exp = with_fit(exp, overrides, base)
        if base is not None and exp.fit != spec_fit:
            note(f"fit settings: {to_dict(exp.fit)}, as the tables were last computed (tables/manifest.json); "
                 "from_spec (--from-spec) for the spec's own")  # fmt: skip
        tables = summarize(exp, store, origin=origin)
    return exp, tables, store


def _plain_dtypes(df: pd.DataFrame) -> pd.DataFrame:
    """pandas' nullable columns as numpy ones (int64 where nothing is missing, else float64), as xarray and
    netCDF want them."""
    import pandas as pd

    out = df.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.api.extensions.ExtensionDtype) and out[c].dtype.kind in "iufb":
            out[c] = out[c].astype("float64" if out[c].isna().any() or out[c].dtype.kind == "f" else "int64")
    return out


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

    def _repr_html_(self) -> str:
        """Points with their realizations, and the key fits with their status (a notebook's display)."""
        import html

        from ensemble.present.html import frame_rows, table

        s = self.spec
        head = (f"<p><b>Run {html.escape(s.name)}</b> in <code>{html.escape(str(self.path))}</code>: kernel "
                f"{html.escape(s.kernel.name)}, {html.escape(s.model.name)} analysis, {len(s.points)} point(s), "
                f"{s.total_realizations} realizations</p>")  # fmt: skip
        pts = self.points.drop(columns=["key"])
        out = head + table(list(pts.columns), frame_rows(pts), caption="points")
        try:
            fits = self.fits
        except Exception:  # a run without tables yet
            return out
        if not fits.empty:
            keep = [c for c in fits.columns if c in s.swept_names or c in ("fit", "status")]
            values = [c for c in fits.columns if f"{c}_err" in fits.columns][:3]
            cols = keep + [c for v in values for c in (v, f"{v}_err")]
            out += table(cols, frame_rows(fits[cols]), caption="fits")
        return out

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def points(self) -> pd.DataFrame:
        """One row per point: index, seeding key, swept values, realizations, blocks and block size."""
        rows = [{"point": p.index, "key": f"{p.key:016x}", **p.swept, "realizations": p.realizations,
                 "blocks": p.n_blocks, "block_size": p.block_size} for p in self.spec.points]  # fmt: skip
        import pandas as pd

        return pd.DataFrame(rows)

    @property
    def provenance(self) -> dict:
        """Where the run came from: versions, git revision, host, command, creation time, and the tables' record."""
        keys = ("environment", "created", "command", "history", "precision", "refine")
        out = {k: self._doc.get(k) for k in keys if k in self._doc}
        manifest = Layout(self.path).table_record("manifest")
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
    def costs(self) -> pd.DataFrame:
        """What each point cost (realizations, CPU seconds, worker peak memory, machine), from run.json; also the
        ``costs`` view of :meth:`query`. Empty for a run recorded before costs were."""
        from ensemble.store.query import costs_table

        return costs_table([self.path])

    @property
    def fits(self) -> pd.DataFrame:
        import pandas as pd

        return self.tables.get("fits", pd.DataFrame())

    def reload(self) -> Run:
        """Forget cached tables (and re-read the spec and record), e.g. after ``ensemble fit`` elsewhere."""
        self.__init__(self.path)
        return self

    def query(self, sql: str, writable: bool = False) -> pd.DataFrame:
        """SQL (DuckDB) on this run's tables, one view per table; read-only unless ``writable``."""
        from ensemble.store.query import query

        return query(self.path, sql, writable=writable)

    def to_xarray(self, observable: str):
        """The observable as an ``xarray.Dataset`` over the swept parameters and its own axes (t, site, ...),
        following the CF conventions.

        The data variable is named after the observable (``long_name`` from the kernel's description,
        ``units`` where the kernel declares them, ``estimator``), with its standard error ``<name>_sem``
        (``standard_name``-style link: ``ancillary_variables``) and realization count ``<name>_n`` beside it;
        coordinates carry their units too; the fixed parameters, the run and the version go to ``attrs``.
        Zipped parameters become separate dimensions; combinations the sweep did not run are NaN.
        """
        s = self.summary
        rows = s[s["observable"] == observable]
        if rows.empty:
            known = sorted(set(s["observable"]))
            raise UsageError("observable", observable, f"an observable of the run in {self.path}: {', '.join(known)}")
        axes = [c for c in axis_columns(s) if rows[c].notna().any()]
        dims = self.spec.swept_names + axes
        data = _plain_dtypes(rows[dims + ["mean", "sem", "n"]])
        ds = data.set_index(dims).to_xarray() if dims else data.iloc[0].to_frame().T.reset_index(drop=True).to_xarray()
        ds = ds.rename({"mean": observable, "sem": f"{observable}_sem", "n": f"{observable}_n"})
        kernel = self.spec.kernel
        units = kernel.units
        described = {**self.spec.model.observable_docs(), **kernel.observables} if hasattr(self.spec.model, "observable_docs") \
            else dict(kernel.observables)  # fmt: skip
        name = described.get(observable, observable)
        estimator = str(rows["estimator"].iloc[0])
        main = {"long_name": name, "estimator": estimator, "ancillary_variables": f"{observable}_sem {observable}_n"}
        if observable in units:
            main["units"] = units[observable]
        ds[observable].attrs.update(main)
        ds[f"{observable}_sem"].attrs.update(long_name=f"standard error of {observable} ({estimator})",
                                             **({"units": units[observable]} if observable in units else {}))  # fmt: skip
        ds[f"{observable}_n"].attrs.update(long_name=f"realizations averaged in {observable}", units="1")
        for c in dims:
            ds[c].attrs.setdefault("long_name", c)
            if c in units:
                ds[c].attrs["units"] = units[c]
        fixed = {k: v for k, v in rows.iloc[0].items() if k in self.spec.params_names and k not in dims}
        from ensemble.spec.provenance import package_version

        ds.attrs.update(Conventions="CF-1.10", title=f"{observable} of run {self.name}", observable=observable,
                        run=self.name, kernel=kernel.name, estimator=estimator,
                        source=f"mbl-ensemble {package_version()}",
                        **{k: v.item() if hasattr(v, "item") else v for k, v in fixed.items()})  # fmt: skip
        return ds

    def fits_to_xarray(self, fit: str | None = None):
        """A fits table as an ``xarray.Dataset`` over the swept parameters it varies with (one variable per
        numeric column; errors ``*_err`` linked by ``ancillary_variables``; ``status`` kept as strings)."""
        f = self.fits
        if "fit" in f.columns and fit is not None:
            if fit not in set(f["fit"]):
                raise UsageError("fit", fit, f"a fit of the run: {', '.join(sorted(set(f['fit'])))}")
            f = f[f["fit"] == fit]
        elif "fit" in f.columns and f["fit"].nunique() > 1:
            raise UsageError("fit", fit, f"one of the run's fits: {', '.join(sorted(set(f['fit'])))}")
        dims = [c for c in self.spec.swept_names if c in f.columns and f[c].notna().any()]
        f = _plain_dtypes(f.dropna(axis=1, how="all"))
        ds = f.set_index(dims).to_xarray() if dims and not f.duplicated(dims).any() else f.reset_index(drop=True).to_xarray()
        for v in list(ds.data_vars):
            if f"{v}_err" in ds.data_vars:
                ds[v].attrs["ancillary_variables"] = f"{v}_err"
                ds[f"{v}_err"].attrs["long_name"] = f"error of {v}"
        ds.attrs.update(Conventions="CF-1.10", run=self.name, kernel=self.spec.kernel.name)
        return ds

    def to_netcdf(self, path: str | Path, observables: list[str] | None = None, overwrite: bool = False) -> Path:
        """Write observables (default: every one of the run) to one netCDF file, a group-free Dataset per
        observable merged on shared coordinates (needs scipy's netCDF3 writer, or netCDF4/h5netcdf if installed).

        ``path`` must lie outside every run directory and be a new file (``overwrite=True`` replaces one); the
        file appears whole or not at all (:mod:`ensemble.store.guard`)."""
        from ensemble.store.guard import output_file

        return self._write(output_file(path, "to_netcdf path", overwrite, "a netCDF file path"), observables, "netcdf")

    def to_zarr(self, path: str | Path, observables: list[str] | None = None, overwrite: bool = False) -> Path:
        """Write observables to a Zarr store (the optional extra ``zarr``: ``pip install "mbl-ensemble[zarr]"``),
        a new directory outside every run directory (``overwrite=True`` replaces an existing store)."""
        from ensemble.store.guard import new_directory

        try:
            import zarr  # noqa: F401
        except ImportError:
            raise UsageError("to_zarr", str(path), 'the zarr package: pip install "mbl-ensemble[zarr]"') from None
        path = new_directory(path, "to_zarr path", empty=not overwrite)
        return self._write(Path(path), observables, "zarr")

    def _write(self, path: Path, observables, how: str) -> Path:
        import os
        import tempfile

        import xarray as xr

        names = observables or sorted(set(self.summary["observable"]))
        ds = xr.merge([self.to_xarray(o) for o in names], combine_attrs="drop_conflicts", join="outer")
        ds.attrs.pop("observable", None)
        ds.attrs["title"] = f"run {self.name}"
        ds = ds.assign_coords({c: ds[c] for c in ds.coords})
        try:
            if how == "zarr":
                ds.to_zarr(path, mode="w")
                return path
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            os.close(fd)
            try:
                ds.to_netcdf(tmp)
                os.replace(tmp, path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as e:
            raise UsageError(f"to_{how} path", str(path), f"a path that can be written ({e.strerror or e})") from None
        return path

    def figures(self, style: str | None = None, size: str | None = None) -> dict:
        """The model's figures of this run by name, each a ``Captioned(figure, caption)`` (nothing is written;
        matplotlib's Figure methods work on it directly, e.g. ``figs["x"].savefig(...)``).

        ``style``: a matplotlib style name or ``.mplstyle`` file applied over the project's
        (``ensemble/present/style/ensemble.mplstyle``); ``size``: "single" (3.4 in) or "double" (7 in) column, default
        by the figure's layout. The caption states the spec, kernel, parameters, N_r and version.
        """
        from ensemble.present.figstyle import draw
        from ensemble.store.runs import as_tabled

        return draw(self.spec.model, as_tabled(self.path, self.spec), self.tables, style=style, size=size)

    def extend(self, realizations: int | None = None, more: int | None = None, **options) -> Run:
        """More realizations (to ``realizations`` per point, or ``more`` per point), or a tighter precision goal
        (``sem=``/``err=``, ``max_realizations=``), reusing every block; see :func:`ensemble.api.extend`
        (``options``: executor, client, workers, ...)."""
        return extend(self.path, realizations=realizations, more=more, **options)

    def refit(self, window: tuple[float, float] | None = None, min_start: float | None = None, **settings) -> Run:
        """Recompute tables and fits from the partials with other [fit] settings (see :func:`ensemble.api.refit`)."""
        refit(self.path, window=window, min_start=min_start, settings=settings)
        refresh_plots(self.path, note=_stderr)
        return self.reload()

    def status(self):
        """Progress (done/total per point, rate, ETA) and provisional tables from the blocks finished so far."""
        from ensemble.running.status import status

        return status(self.path)


#: Magnitude above which a value's square overflows float64 (its variance cannot be accumulated).
LARGEST_AVERAGED = 1.3e154


@dataclass
class Replay:
    """One realization recomputed outside any run (:func:`replay`): its outputs, checked as a run checks them,
    or what went wrong."""

    experiment: Any
    point: Any
    realization: int
    outputs: dict | None = None
    #: the kernel's own exception, whole (replay is where it is shown)
    traceback: str | None = None
    #: outputs that do not match the kernel's schema (wrong type, shape or key), one line
    output_error: str | None = None
    saved: Path | None = None

    def problems(self) -> dict[str, str]:
        """Per observable, what would stop a run: non-finite values, or values whose squares overflow."""
        import numpy as np

        out = {}
        for name, v in (self.outputs or {}).items():
            if not np.all(np.isfinite(v)):
                out[name] = "NON-FINITE values"
            elif v.size and float(np.max(np.abs(v))) > LARGEST_AVERAGED:
                out[name] = "values too large to average (their squares overflow float64)"
        return out

    @property
    def ok(self) -> bool:
        return self.traceback is None and self.output_error is None and not self.problems()

    def described(self) -> dict[str, tuple]:
        """Per observable: (shape, min, max, problem) as text."""
        import numpy as np

        problems, out = self.problems(), {}
        for name, v in (self.outputs or {}).items():
            shown = v.size and not np.all(np.isnan(v))
            lo, hi = (f"{np.nanmin(v):.6g}", f"{np.nanmax(v):.6g}") if shown else ("nan", "nan")
            out[name] = (v.shape, lo, hi, f", {problems[name]}" if name in problems else "")
        return out


def replay(target, point: int = 0, realization: int = 0, *, save=None, overwrite: bool = False,
           announce=lambda text: None) -> Replay:  # fmt: skip
    """Recompute realization ``realization`` of point ``point`` of a run directory or a spec file, with the seed
    the run gives it, and check its outputs as a run does. ``save``: write the outputs to that .npz file (never
    over an existing file without ``overwrite``, never into a run directory). ``announce`` receives what is
    replayed (kernel, point, parameters, seed) before the kernel runs. UsageError for an index out of range."""
    import traceback

    import numpy as np

    from ensemble.running.tasks import OutputError, check_outputs
    from ensemble.spec.experiment import load_spec
    from ensemble.spec.seeding import realization_rng

    target = Path(target)
    if overwrite and save is None:
        raise UsageError("--overwrite", True, "with --save FILE.npz")
    if save is not None:
        from ensemble.store.guard import output_file

        output_file(save, "--save", overwrite, "a .npz file path")
    exp = load_run(target) if target.is_dir() else load_spec(target)
    if not 0 <= point < len(exp.points):
        raise UsageError("--point", point, f"a point index in 0..{len(exp.points) - 1} (see ensemble validate)")
    pt = exp.points[point]
    limit = max(pt.realizations, exp.precision.max_realizations if exp.precision is not None else 0)
    if not 0 <= realization < limit:
        raise UsageError("--realization", realization, f"an index in 0..{limit - 1}")
    result = Replay(exp, pt, realization)
    announce(f"kernel {exp.kernel.name}, point {pt.index} ({pt.label or 'no sweep'}), realization {realization}")
    announce(f"params: {pt.params}")
    announce(f"seed: SeedSequence({exp.seed}, spawn_key=({pt.key}, {realization}))")
    try:
        raw = exp.kernel.run(pt.params, realization_rng(exp.seed, pt.seed_key, realization))
    except Exception:
        result.traceback = traceback.format_exc()
        return result
    try:
        result.outputs = check_outputs(raw, exp.kernel.schema(pt.params))
    except OutputError as e:
        result.output_error = str(e)
        return result
    if save is not None:
        try:  # the name as given (np.savez would add .npz to a path); "x": never over a file that appeared since
            with open(save, "wb" if overwrite else "xb") as f:
                np.savez(f, **result.outputs)
        except OSError as e:
            raise UsageError("--save", str(save), f"a file that can be written ({e.strerror or e})") from None
        result.saved = Path(save)
    return result
