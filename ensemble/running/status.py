"""Live results: how far a run is, and provisional tables from the blocks finished so far.

Reads the run directory without writing to it and without its lock (a run may
be going, here or on a cluster): ``progress.json``, which the driver rewrites
every few seconds, and the partials' headers. Provisional tables are computed
by the same code as the final ones from every block that is finished and
intact, carry a ``provisional`` column set to true and their ``n`` (the
realizations in them), and are never written to ``tables/``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ensemble.store.lock import holder_of
from ensemble.store.layout import Layout
from ensemble.store.runs import load_run
from ensemble.store.stores import TablesInMemory

__all__ = ["PointStatus", "Status", "provisional_tables", "read_progress", "status"]

#: progress.json older than this (seconds) while no process holds the lock means the driver is gone.
STALE_SECONDS = 60.0


@dataclass
class PointStatus:
    """One point: realizations done of its target; with a precision goal, its error, the goal and its state
    ("running", "goal": reached, "cap": stopped at max_realizations)."""

    index: int
    label: str
    done: int
    total: int
    error: float | None = None
    goal: float | None = None
    state: str | None = None


@dataclass
class Status:
    """A run's progress, and (``tables``) provisional tables from its finished blocks."""

    path: Path
    running: bool
    points: list[PointStatus]
    rate: float | None  # realizations per second, recently
    eta_seconds: float | None
    updated: str | None
    holder: str | None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: With [refine]: run.json's record of the refinement (values added and why, rounds, outcome); {} for a
    #: refining run not finished (its rounds are replayed by a resume), None without [refine]
    refine: dict | None = None

    @property
    def done(self) -> int:
        return sum(p.done for p in self.points)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.points)

    @property
    def finished(self) -> bool:
        if any(p.state is not None for p in self.points):  # a precision run: every point reached its goal or cap
            return all(p.state in ("goal", "cap") for p in self.points)
        if self.refine == {}:  # a refining run without its record: rounds may be left
            return False
        return self.done >= self.total

    def __str__(self) -> str:
        state = "running" if self.running else ("finished" if self.finished else "not running")
        lines = [f"{self.path}: {state}, {self.done}/{self.total} realizations ({100 * self.done / max(self.total, 1):.1f}%)"]
        if self.holder:
            lines[0] += f", driver: {self.holder}"
        if self.rate:
            eta = f", ETA {_human(self.eta_seconds)}" if self.running and self.eta_seconds is not None else ""
            lines.append(f"rate {self.rate:.3g} realizations/s (at {self.updated}){eta}")
        width = max((len(p.label) for p in self.points), default=0)
        for p in self.points:
            line = f"  point {p.index}: {p.label:<{width}}  {p.done}/{p.total}"
            if p.state is not None:
                err = "not yet measured" if p.error is None else f"error {p.error:.3g}"
                line += f"  {err}, goal {p.goal:g}: " + {"goal": "reached", "cap": "stopped at the cap",
                                                           "interrupted": "interrupted (--resume goes on)"}.get(p.state, "running")
            lines.append(line)
        if self.refine is not None:
            lines += _refine_lines(self.refine)
        return "\n".join(lines)


    def __repr__(self) -> str:
        from ensemble.present.html import head_and_rows

        return head_and_rows(str(self).splitlines())

    def _repr_html_(self) -> str:
        from ensemble.present.html import table

        head = str(self).splitlines()[0]
        rows = [[p.index, p.label, f"{p.done}/{p.total}"] + ([("-" if p.error is None else f"{p.error:.3g}"), f"{p.goal:g}",
                p.state] if p.state is not None else []) for p in self.points]  # fmt: skip
        header = ["point", "parameters", "realizations"] + (["error", "goal", "state"] if any(p.state for p in self.points) else [])
        return table(header, rows, caption=head)


def _refine_lines(doc: dict) -> list[str]:
    """What status says of a refined sweep: the outcome, each value added and why, the last crossings."""
    if not doc:
        return ["refined sweep: not finished (its rounds so far are replayed by --resume, computing nothing twice)"]
    goal = doc.get("goal", {})
    x_c = goal.get("quantity") == "X_c"
    outcome = {"goal": "X_c meets the goal" if x_c else "every crossing meets the goal",
               "budget": "stopped: what is left needs more than the budget (added values or realizations per point)",
               "rounds": "stopped after the last round allowed"}  # fmt: skip
    what = f"X_c ({goal.get('form')} drift) err" if x_c else "err"
    lines = [f"refined sweep ({doc.get('control')}, {what} <= {goal.get('err')}): "
             f"{outcome.get(doc.get('status'), doc.get('status'))}; {len(doc.get('rounds', []))} round(s)"]
    for a in doc.get("added", []):
        lines.append(f"  added in round {a.get('round')}: {a.get('why')}")
    last = (doc.get("rounds") or [{}])[-1].get("crossings", [])
    for c in last:
        x = "none" if c.get("X_cross") is None else f"{c['X_cross']:.4g}"
        e = "" if c.get("X_cross_err") is None else f" +- {c['X_cross_err']:.2g}"
        s = "" if c.get("X_cross_sys") is None else f" (interpolation {c['X_cross_sys']:.2g})"
        lines.append(f"  crossing {c.get('L_a'):g}/{c.get('L_b'):g}: {x}{e}{s}, {c.get('status')}: {c.get('action')}")
    for n in (doc.get("rounds") or [{}])[-1].get("X_c", []):
        value = "none" if n.get("X_c") is None else f"{n['X_c']:.4g} +- {n['X_c_err']:.2g}"
        lines.append(f"  X_c ({n.get('form')}): {value}, {'the goal is met' if n.get('met') else 'short of the goal'}")
    return lines


def _human(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


def _valid_blocks(path: Path, exp) -> dict[int, list[tuple[Path, int, int]]]:
    """Per point key, the partial files whose headers belong to this run: (file, first block, stop block)."""
    from ensemble.store.partials import usable_range

    out: dict[int, list] = {}
    layout = Layout(path)
    for pt in exp.points:
        d = layout.point_dir(pt.key)
        files = []
        for p in sorted(d.glob("*.npz")) if d.is_dir() else []:
            if p.is_symlink():  # set aside by the next resume or fit, never read
                continue
            if (found := usable_range(p, exp, pt)) is not None:
                files.append((p, *found))
        out[pt.key] = files
    return out


def status(path: str | Path, tables: bool = True) -> Status:
    """Progress of the run in ``path`` (going or not) and, with ``tables``, provisional tables."""
    path = Path(path)
    exp = load_run(path)
    holder = holder_of(path)
    prog = read_progress(path)
    rate, updated = prog.get("rate"), prog.get("updated")
    eta = None
    if prog.get("work_rate"):
        eta = max(0.0, prog.get("work_total", 0.0) - prog.get("work_done", 0.0)) / prog["work_rate"]
    goal = None
    if exp.precision is not None:  # the targets are each point's current check (the driver's record, or run.json's)
        from ensemble.spec.goals import with_realizations
        from ensemble.store.layout import read_record

        goal = (prog.get("precision") if holder is not None else None) or read_record(path).get("precision")
        if not goal and isinstance(prog.get("precision"), dict) and "points" in prog["precision"]:
            # an interrupted run: the goal's progress as its driver last wrote it (run.json has it only at the end)
            goal = {**prog["precision"], "points": {k: {**v, "status": v.get("status") if v.get("status") in
                                                         ("goal", "cap") else "interrupted"}
                                                     for k, v in prog["precision"]["points"].items()}}  # fmt: skip
        if goal:
            exp = with_realizations(exp, {int(k, 16): v["realizations"] for k, v in goal["points"].items()})
    exp = _tables_fit(path, exp, prog if holder is not None else {})
    files = _valid_blocks(path, exp)
    points = []
    for pt in exp.points:
        blocks = {b for _, first, stop in files[pt.key] for b in range(first, stop)}
        p = PointStatus(pt.index, pt.label or "(no sweep)", sum(len(pt.block_range(b)) for b in blocks), pt.realizations)
        if exp.precision is not None:
            rec = (goal or {}).get("points", {}).get(f"{pt.key:016x}", {})
            p.goal, p.error, p.state = exp.precision.goal, rec.get("error"), rec.get("status", "running")
        points.append(p)
    st = Status(path, holder is not None, points, rate, eta, updated, holder)
    if exp.refine is not None:
        from ensemble.store.layout import read_record

        st.refine = read_record(path).get("refine") or {}
    if tables and not st.finished and st.done:
        st.tables = provisional_tables(exp, path, files)
    return st


#: The fields of progress.json that status reads, with their types (anything else in the file is ignored).
_PROGRESS_NUMBERS = ("rate", "work_total", "work_done", "work_rate")


def read_progress(path: str | Path) -> dict:
    """The driver's progress record, with only the fields status reads and only when they have their types: a
    missing, damaged or hand-edited ``progress.json`` (not an object, a rate that is text) reads as no record
    rather than failing (it is rewritten every few seconds while a run goes)."""
    import math

    try:
        doc = json.loads(Layout(path).progress.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(doc, dict):
        return {}
    out = {}
    for k in _PROGRESS_NUMBERS:
        v = doc.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0:
            out[k] = float(v)
    if isinstance(doc.get("updated"), str):
        out["updated"] = doc["updated"]
    if isinstance(doc.get("fit"), dict):
        out["fit"] = doc["fit"]
    goal = doc.get("precision")
    if isinstance(goal, dict) and isinstance(goal.get("points"), dict) and all(
            isinstance(v, dict) and isinstance(v.get("realizations"), int) for v in goal["points"].values()):  # fmt: skip
        out["precision"] = goal
    return out


def _tables_fit(path: Path, exp, prog: dict):
    """``exp`` with the [fit] settings its final tables will have: those the running driver reports (a refit's kept
    on resume, or the spec's), or for a run not going, a refit's (what a resume keeps, :func:`~ensemble.store.runs.keep_refit`)."""
    from ensemble.store.runs import as_tabled, with_recorded_fit

    return with_recorded_fit(exp, prog.get("fit")) if prog else as_tabled(path, exp)


class _ProvisionalStore(TablesInMemory):
    """Reads the finished, intact blocks of a run (whatever their coverage); keeps the tables it is given."""

    def __init__(self, files):
        super().__init__()
        self.files = files

    def chunks(self, exp, pt):
        from ensemble.store.partials import read_partial

        taken: set[int] = set()
        for p, first, stop in sorted(self.files[pt.key], key=lambda f: f[1]):
            try:
                blocks, _ = read_partial(p)
            except Exception:  # being written, or damaged: the final run will deal with it
                continue
            for b in range(first, stop):
                if b not in taken:
                    taken.add(b)
                    yield blocks.select(b, b + 1)


def provisional_tables(exp, path: Path, files=None) -> dict[str, pd.DataFrame]:
    """The tables from the blocks finished so far, marked ``provisional = True`` (points with none are left out)."""
    import dataclasses

    from ensemble.store.results import summarize

    files = files if files is not None else _valid_blocks(Path(path), exp)
    points = tuple(pt for pt in exp.points if files[pt.key])
    if not points:
        return {}
    store = _ProvisionalStore(files)
    summarize(dataclasses.replace(exp, points=points), store)
    return {name: df.assign(provisional=True) for name, df in store.tables.items()}


def write_progress(path: Path, **fields) -> None:
    """The driver's progress record (``progress.json``), rewritten atomically."""
    from ensemble.store.files import atomic_write

    doc = {"updated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "pid": os.getpid(), **fields}
    atomic_write(Layout(path).progress, lambda f: f.write(json.dumps(doc).encode()))

