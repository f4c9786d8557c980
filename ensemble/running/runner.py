"""A run, as a table of contents: plan -> submit -> stream into the store -> tables and fits."""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass

import pandas as pd

from ensemble.running.cost import estimates
from ensemble.running.scheduling import schedule
from ensemble.spec.settings import to_dict
from ensemble.errors import Cancelled, RealizationError
from ensemble.running.executors import SerialExecutor
from ensemble.running.ledger import Tally
from ensemble.store.results import summarize
from ensemble.running.tasks import plan, run_task

__all__ = ["RunResult", "Watchdog", "run"]

#: The progress bar of both kinds of run (a fixed N, or precision goals).
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


@dataclass
class RunResult:
    """What a run produced and what it cost."""

    tables: dict[str, pd.DataFrame]
    realizations_run: int
    tasks_run: int
    seconds: float
    realizations_skipped: int = 0
    #: With precision goals: what run.json records of them (goal; per point realizations, status, error).
    precision: dict | None = None
    #: With [refine]: what run.json records of the refinement (values added and why, rounds, outcome).
    refine: dict | None = None
    #: Nothing was computed and the tables on disk were already those of this spec (a no-op resume): they were
    #: neither rewritten nor their figures redrawn.
    tables_unchanged: bool = False

    @property
    def rate(self) -> float:
        return self.realizations_run / self.seconds if self.seconds > 0 else float("nan")


#: Seconds between progress lines where stderr is not a terminal (a batch job's log, a pipe).
LOG_INTERVAL = 30.0


def progress_bar(shown: bool, **options):
    """A tqdm bar: the notebook widget where someone watches a notebook (ipywidgets installed), else text on stderr:
    redrawn in place on a terminal, one line every :data:`LOG_INTERVAL` seconds elsewhere (a batch job's log, a
    notebook executed by nbclient, nbconvert or papermill, whose output would otherwise keep every redraw).
    Without ipywidgets, ``tqdm.auto`` warns (TqdmWarning, with the package's file path) into the notebook's
    output, which a rendered page would keep; the text bar says the same."""
    import importlib.util

    watched = _notebook() and _watched()
    if shown and watched and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm

        return tqdm(**options)
    from tqdm.std import tqdm

    fp = options.get("file") or sys.stderr
    if shown and not watched and not _isatty(fp):
        options.update(file=_Lines(fp), mininterval=LOG_INTERVAL, ascii=True)
    return tqdm(**options)


def _notebook() -> bool:
    """In a Jupyter kernel (where tqdm's widget can show)."""
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _watched() -> bool:
    """A notebook someone is watching, not one executed by a program: nbclient (and nbconvert, papermill and
    myst-nb, built on it) sends every cell with ``allow_stdin`` false, a notebook front end with it true (the
    one signal that differs; jupyter/nbconvert#913). Unknown: watched."""
    shell = sys.modules["IPython"].get_ipython()
    try:
        parent = shell.kernel.get_parent()
    except Exception:  # an older kernel: the shell's own record of the request
        parent = getattr(shell, "parent_header", None) or {}
    content = parent.get("content") if isinstance(parent, dict) else None
    return not isinstance(content, dict) or content.get("allow_stdin", True) is not False


def _isatty(fp) -> bool:
    try:
        return bool(fp.isatty())
    except (AttributeError, ValueError):
        return False


class _Lines:
    """A file for tqdm that turns each redraw into a line of its own (no carriage returns in a log)."""

    def __init__(self, fp):
        self.fp = fp

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:
            self.fp.write(line + "\n")

    def flush(self) -> None:
        self.fp.flush()


def run(exp, store, executor=None, progress: bool = False, cancel=None) -> RunResult:
    """Compute every block of ``exp`` missing from ``store``, then build the tables.

    Parameters
    ----------
    exp : Experiment
    store : MemoryStore or DirectoryStore
        Blocks it already holds are skipped (this is how ``--resume`` works).
    executor : Executor, optional
        Default: serial, in this process (:mod:`cluster` has the Dask executor).
    progress : bool
        Show a progress bar with rate and ETA (a notebook's widget in Jupyter, else text on stderr).
    cancel : threading.Event, optional
        Once set, the run stops after the task in hand (a Dask executor stops waiting at once) and raises
        :class:`~ensemble.errors.Cancelled`; every finished block is in the store already.
    """
    executor = executor or SerialExecutor()
    executor.cancelled = cancel
    try:
        if exp.precision is not None:
            return _run_to_goal(exp, store, executor, progress, cancel)
        if exp.refine is not None:
            return _run_refining(exp, store, executor, progress, cancel)
        return _run_fixed(exp, store, executor, progress, cancel)
    finally:
        executor.cancelled = None


def _stopped(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("the run was cancelled; every finished block is kept (resume it to go on)")


def _run_fixed(exp, store, executor, progress: bool, cancel) -> RunResult:
    with _costs_recorded(store) as tally:
        count, tasks, skipped, seconds = compute_missing(exp, store, executor, progress, cancel, tally)
    return RunResult(summarize(exp, store), count, tasks, seconds, realizations_skipped=skipped)


def _run_refining(exp, store, executor, progress: bool, cancel) -> RunResult:
    """A run with [refine]: rounds of blocks (:mod:`ensemble.running.refine`), then the refined sweep's tables."""
    from ensemble.running.refine import run_refining

    with _costs_recorded(store) as tally:
        final, doc, (count, tasks, skipped, seconds) = run_refining(
            exp, store, lambda e: compute_missing(e, store, executor, progress, cancel, tally))
    if store.path is not None:
        from ensemble.store.lifecycle import record_refine

        record_refine(store.path, doc)
    return RunResult(summarize(final, store), count, tasks, seconds, realizations_skipped=skipped, refine=doc)


def compute_missing(exp, store, executor, progress: bool, cancel, tally) -> tuple[int, int, int, float]:
    """Compute every block of ``exp`` the store does not hold, into the store; (realizations computed, tasks,
    realizations skipped, seconds). ``tally`` collects the tasks' timings."""
    done = store.done_blocks(exp)
    skipped = sum(len(pt.block_range(b)) for pt in exp.points for b in done.get(pt.key, ()) if b < pt.n_blocks)
    todo = exp.total_realizations - skipped
    start, count, tasks = time.perf_counter(), 0, 0
    weight = _cost_weights(exp)
    blocks = schedule(exp, executor.workers, [weight[pt.key] for pt in exp.points]).blocks_per_task
    n_tasks, work = 0, 0.0
    for t in plan(exp, done, executor.threads, blocks):  # counted, not kept: the executor streams a fresh plan
        n_tasks, work = n_tasks + 1, work + weight[t.key] * len(t.indices)
    if todo:
        _warm(executor, exp)
    # The bar counts work (realizations weighted by their estimated CPU seconds), so that
    # the ETA holds when points differ in cost by orders of magnitude.
    record = _ProgressRecord(store, executor, exp, todo, work, n_tasks)
    longest = max((weight[pt.key] * blocks[pt.key] * pt.block_size for pt in exp.points), default=0.0)
    with progress_bar(progress, total=work, desc=exp.name, disable=not progress or not todo, file=sys.stderr, smoothing=0.1,
              bar_format=BAR_FORMAT) as bar, Watchdog(longest, exp) as watchdog:  # fmt: skip
        for task, moments in executor.map(run_task, plan(exp, done, executor.threads, blocks)):
            watchdog.fed()
            store.put(task, moments)
            n = len(task.indices)
            tally.add(task, n, getattr(moments, "timing", None))
            count, tasks = count + n, tasks + 1
            rate = count / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{count}/{todo} real, {rate:.3g} real/s, batches {tasks}/{n_tasks}", refresh=False)
            bar.update(weight[task.key] * n)
            record.update(count, tasks, weight[task.key] * n)
            _stopped(cancel)
    _stopped(cancel)
    record.update(count, tasks, 0.0, final=True)
    return count, tasks, skipped, time.perf_counter() - start


def _run_to_goal(exp, store, executor, progress: bool, cancel) -> RunResult:
    """A run with a precision goal: blocks in index order to each point's checks (:mod:`ensemble.running.precision`)."""
    from ensemble.spec.goals import with_realizations
    from ensemble.running.precision import Tracker

    weight = _cost_weights(exp)
    start_exp = with_realizations(exp, {pt.key: -(-pt.realizations // pt.block_size) * pt.block_size for pt in exp.points})
    blocks = schedule(start_exp, executor.workers, [weight[pt.key] for pt in exp.points]).blocks_per_task
    probe = Tracker(exp, store, {}, blocks)
    done = store.done_blocks(probe.full)
    skipped = sum(len(v) * probe.bs[k] for k, v in done.items())
    tracker = Tracker(exp, store, done, blocks)
    tracker.settle_all()  # a resume replays every decision the finished blocks allow, running nothing
    start, count, tasks = time.perf_counter(), 0, 0
    if tracker.active():
        _warm(executor, exp)
    record = _ProgressRecord(store, executor, exp, 0, tracker.eta_work(weight), 0, tracker=tracker, weight=weight)
    longest = max((weight[pt.key] * blocks[pt.key] * pt.block_size for pt in exp.points), default=0.0)
    with _costs_recorded(store) as tally, progress_bar(progress, total=max(tracker.eta_work(weight), 1e-9), desc=exp.name,
              disable=not progress or not tracker.active(), file=sys.stderr, smoothing=0.1,
              bar_format=BAR_FORMAT) as bar, Watchdog(longest, exp) as watchdog:  # fmt: skip
        for task, moments in executor.map(run_task, tracker.live(executor.threads)):
            watchdog.fed()
            store.put(task, moments)
            checked = tracker.evaluations
            tracker.completed(task)
            n = len(task.indices)
            tally.add(task, n, getattr(moments, "timing", None))
            count, tasks = count + n, tasks + 1
            running = sum(1 for g in tracker.groups if g.status == "running")
            bar.total = bar.n + weight[task.key] * n + tracker.eta_work(weight)
            bar.set_postfix_str(f"{count} real, {running}/{len(tracker.groups)} still short of the goal", refresh=False)
            bar.update(weight[task.key] * n)
            record.update(count, tasks, weight[task.key] * n, force=tracker.evaluations > checked)  # a new error: say it
            _stopped(cancel)
    _stopped(cancel)
    record.update(count, tasks, 0.0, final=True)
    seconds = time.perf_counter() - start
    doc = tracker.record()
    if store.path is not None:
        from ensemble.store.lifecycle import record_precision

        record_precision(store.path, doc)
    return RunResult(summarize(tracker.final(), store), count, tasks, seconds, realizations_skipped=skipped, precision=doc)


class Watchdog:
    """Says once, on stderr, when no task has finished for far longer than the longest task should take: a kernel
    may be stuck (the engine cannot stop a task that never returns: Dask cannot interrupt a running task, and a
    worker restarted would run the same realization, with the same seed, again). The line names the points in
    flight and what to do: replay a realization alone, or Ctrl-C (finished blocks are kept).

    ``expected``: the longest task's estimated seconds; the alarm is ``FACTOR`` times that, at least ``FLOOR``."""

    FACTOR, FLOOR = 20.0, 600.0

    def __init__(self, expected: float, exp, note=None):
        import threading

        self.limit = max(self.FLOOR, self.FACTOR * expected)
        self.exp, self.note = exp, note or (lambda text: print(text, file=sys.stderr))
        self.last = time.monotonic()
        self.said = False
        self.checks = 0  # looks taken (for tests: counted, not timed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ensemble-watchdog", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()

    def fed(self) -> None:
        """A task finished."""
        self.last, self.said = time.monotonic(), False

    def _watch(self) -> None:
        while not self._stop.wait(min(60.0, self.limit / 10)):
            self.checks += 1
            quiet = time.monotonic() - self.last
            if quiet > self.limit and not self.said:
                self.said = True
                self.note(f"ensemble: warning: no task has finished for {quiet / 60:.0f} min (the longest should take "
                          f"~{self.limit / self.FACTOR:.3g} s): a realization of {self.exp.kernel.name} may be stuck. "
                          "ensemble status DIR shows what is done; ensemble replay DIR --point P --realization R runs "
                          "one alone; Ctrl-C stops the run and keeps every finished block")  # fmt: skip


class _ProgressRecord:
    """``progress.json`` in a run directory, rewritten every few seconds: what ``ensemble status`` reads."""

    EVERY = 5.0

    def __init__(self, store, executor, exp, todo: int, work: float, n_tasks: int, tracker=None, weight=None):
        self.path = store.path
        self.tracker, self.weight = tracker, weight
        self.fields = {"executor": executor.name, "workers": executor.workers,
                       "threads": executor.threads, "todo": todo, "work_total": work,
                       "tasks_total": n_tasks, "started": _now(),
                       "fit": to_dict(exp.fit) if exp.fit is not None else None}  # fmt: skip
        self.t0 = self.last = time.perf_counter()
        self.work_done = 0.0
        if self.path is not None:
            self.update(0, 0, 0.0, final=False, force=True)

    def update(self, count: int, tasks: int, work: float, final: bool = False, force: bool = False) -> None:
        self.work_done += work
        now = time.perf_counter()
        if self.path is None or not (force or final or now - self.last >= self.EVERY):
            return
        self.last = now
        elapsed = max(now - self.t0, 1e-9)
        from ensemble.running.status import write_progress

        extra = {}
        if self.tracker is not None:  # precision goals: the work still needed comes from the errors, per point
            extra = {"work_total": self.work_done + self.tracker.eta_work(self.weight), "precision": self.tracker.record()}
        write_progress(self.path, **{**self.fields, **extra}, done=count, tasks_done=tasks, rate=count / elapsed,
                       work_done=self.work_done, work_rate=self.work_done / elapsed, finished=final)  # fmt: skip


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def _costs_recorded(store):
    """A :class:`Tally` for the session's tasks, recorded into run.json and this machine's ledger
    (:mod:`ensemble.running.ledger`) when the session ends: done, cancelled, interrupted or failed. A failure to
    record never hides the session's own error."""
    tally = Tally()
    try:
        yield tally
    except BaseException:
        try:
            _record_costs(tally, store)
        except Exception:
            pass
        raise
    _record_costs(tally, store)


def _record_costs(tally: Tally, store) -> None:
    path = getattr(store, "path", None)
    costs = tally.record(path)
    if costs and path is not None:
        from ensemble.store.lifecycle import record_costs

        record_costs(path, costs)


def _warm(executor, exp) -> None:
    """Compile the kernel everywhere first; a kernel that fails even on its warm-up point is reported in one line."""
    try:
        executor.warm(exp.kernel.path)
    except Exception as e:
        raise RealizationError(
            f"kernel {exp.kernel.name} failed on its own warm-up point ({exp.kernel.path}.warmup_params()): "
            f"{type(e).__name__}: {' '.join(str(e).split())}; nothing was run"
        ) from e


def _cost_weights(exp) -> dict[int, float]:
    """CPU seconds per realization of every point (the kernel's cost model, or measured: :mod:`ensemble.running.cost`)."""
    return {pt.key: e.seconds for pt, e in zip(exp.points, estimates(exp))}
