r"""Precision goals: run each point (or each group of points a fit needs) until a chosen error bar is reached.

A spec's ``[precision]`` names one error bar and its goal, and a cap::

    [precision]
    observable = "Ir"          # a summary observable (the kernel's, or one its analysis derives) ...
    where = { t = 1000.0 }     # ... at these coordinates of its axes
    sem = 0.002                # the goal for its standard error
    max_realizations = 20000   # per point; points that reach it say so
    # or: fit = "front", column = "invA", err = 0.2   (a fits column and its error column invA_err)

``realizations`` is then where every point starts. A fit that combines points (e.g. ``avalanche_crossing``,
the W* of a group of W) grows every point of its group together.

**Decisions are a pure function of the spec.** A point's error is evaluated only at *checks*: numbers of
whole blocks n_0 < n_1 < ... (n_0: the spec's realizations, rounded up to whole blocks), each computed from
the blocks 0..n_j - 1 in index order, never from whatever finished first. At a check the point stops if the
error meets the goal (or n_j is the cap); else the next check is n_j (e/goal)^2 x 1.1 (between 1.25 n_j and
4 n_j, at least one block more, at most the cap), the 1/sqrt(n) law with a margin. Blocks computed beyond a
stop are kept (a tighter goal reuses them) and left out of the tables. So the tables equal those of a fixed
run with the realizations each point reached, on any cluster and after any kill and resume.

What sequential stopping does to the estimates is measured in ``tests/ensemble/test_precision.py`` (the
coverage of the error bar over many repeated runs of a kernel with known mean and variance).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

from ensemble.errors import SpecError, did_you_mean
from ensemble.store import TablesInMemory
from ensemble.tables import row_uses_point

__all__ = ["FIELDS", "KEYS", "Precision", "Tracker", "next_check", "parse_precision", "probe_fits", "with_realizations"]

#: The keys of [precision], with what they mean (the docs' spec reference is generated from this).
FIELDS = {
    "observable": "a summary observable (the kernel's, or one its analysis derives) whose error is the goal",
    "where": "coordinates of the observable's axes, e.g. { t = 1000.0 } (each must be one of the axis values)",
    "sem": "the goal for the observable's standard error (with observable)",
    "fit": "a fit table of the analysis (instead of observable), e.g. \"front\"",
    "column": "the fits column whose error column (COLUMN_err) is the goal (with fit)",
    "err": "the goal for that error (with fit)",
    "max_realizations": "the cap per point (required); points that reach it are reported as stopped at the cap",
}
KEYS = tuple(FIELDS)
#: Factor of the next check: (error / goal)^2 times this margin, clamped to [GROW_MIN, GROW_MAX].
MARGIN, GROW_MIN, GROW_MAX = 1.1, 1.25, 4.0


@dataclass(frozen=True)
class Precision:
    """A validated ``[precision]`` table."""

    observable: str | None
    where: tuple[tuple[str, float | int | str], ...]
    sem: float | None
    fit: str | None
    column: str | None
    err: float | None
    max_realizations: int

    @property
    def goal(self) -> float:
        return float(self.sem if self.observable is not None else self.err)

    def describe(self) -> str:
        if self.observable is not None:
            at = ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in self.where)
            return f"sem of {self.observable}{' at ' + at if at else ''} <= {self.goal:g}"
        return f"{self.column}_err of the {self.fit} fit <= {self.goal:g}"

    def to_dict(self) -> dict:
        d = {"max_realizations": self.max_realizations}
        if self.observable is not None:
            d.update(observable=self.observable, where=dict(self.where), sem=self.sem)
        else:
            d.update(fit=self.fit, column=self.column, err=self.err)
        return d


def _positive(field: str, v) -> float:
    if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v) or v <= 0:
        raise SpecError(field, v, "a finite number > 0, e.g. sem = 0.002")
    return float(v)


def parse_precision(table, kernel, model, points, block_size_of, fit=None, seed: int = 0) -> Precision | None:
    """Validate ``[precision]`` against the kernel's and its analysis's observables and fits and the points
    (SpecError), before anything runs. ``fit``: the run's [fit] settings (default: the model's defaults)."""
    if table is None:
        return None
    example = 'observable = "Ir", where = { t = 1000.0 }, sem = 0.002, max_realizations = 20000'
    if not isinstance(table, dict):
        raise SpecError("precision", table, f"a table, e.g. [precision] with {example}")
    for k in table:
        if k not in KEYS:
            raise SpecError(f"precision.{k}", table[k], f"one of {', '.join(KEYS)}")
    cap = table.get("max_realizations")
    if isinstance(cap, bool) or not isinstance(cap, Integral) or cap < 1:
        raise SpecError("precision.max_realizations", cap, "an integer >= 1: the most realizations a point may take")
    for pt in points:
        bs = block_size_of(pt)
        start = -(-pt.realizations // bs) * bs  # a point starts with whole blocks
        if cap < start:
            whole = f" in whole blocks of {bs}" if start != pt.realizations else ""
            raise SpecError("precision.max_realizations", cap, f"at least {start}: the {pt.realizations} realizations a "
                            f"point starts with{whole} (a point grows by whole blocks)")  # fmt: skip
        if -(-cap // block_size_of(pt)) > 100_000:
            raise SpecError("precision.max_realizations", cap, f"at most 100000 blocks per point: a block_size of at least "
                            f"{-(-cap // 100_000)}")  # fmt: skip
    by_obs, by_fit = "observable" in table, "fit" in table
    if by_obs == by_fit:
        raise SpecError("precision", table, f"either observable (with sem) or fit (with column and err), e.g. {example}")
    if by_obs:
        for k in ("fit", "column", "err"):
            if k in table:
                raise SpecError(f"precision.{k}", table[k], "not with observable (a goal is an observable's sem or a fit's error)")
        name = table["observable"]
        axes = _observable_axes(kernel, model, points[0].params)
        if name not in axes:
            raise SpecError("precision.observable", name, f"an observable of the run: {', '.join(sorted(axes))}")
        where = table.get("where", {})
        if not isinstance(where, dict):
            raise SpecError("precision.where", where, "a table of coordinates, e.g. where = { t = 1000.0 }")
        coords = axes[name]
        for axis in coords:
            if axis not in where:
                raise SpecError("precision.where", where, f"a coordinate for every axis of {name} ({', '.join(coords)})")
        for axis, value in where.items():
            if axis not in coords:
                raise SpecError(f"precision.where.{axis}", value, f"an axis of {name}: {', '.join(coords) or 'none (a scalar)'}")
            if not _has_coordinate(coords[axis], value):
                shown = ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in list(coords[axis])[:6])
                raise SpecError(f"precision.where.{axis}", value, f"one of the coordinates of {name}'s {axis}: {shown}"
                                + (", ..." if len(coords[axis]) > 6 else ""))  # fmt: skip
        if "sem" not in table:
            raise SpecError("precision.sem", None, f"the goal for the standard error of {name}, e.g. sem = 0.002")
        return Precision(name, tuple((k, where[k]) for k in coords), _positive("precision.sem", table["sem"]), None, None,
                         None, int(cap))  # fmt: skip
    for k in ("where", "sem"):
        if k in table:
            raise SpecError(f"precision.{k}", table[k], "not with fit (it goes with observable)")
    for k in ("column", "err"):
        if k not in table:
            raise SpecError(f"precision.{k}", None, 'a value, e.g. fit = "front", column = "invA", err = 0.2')
    if not isinstance(table["fit"], str) or not isinstance(table["column"], str):
        raise SpecError("precision.fit", table["fit"], 'the name of a fit and a column of it, e.g. fit = "front", column = "invA"')
    err = _positive("precision.err", table["err"])
    _check_fit_goal(table["fit"], table["column"], kernel, model, model.settings({}) if fit is None else fit, points, seed)
    return Precision(None, (), None, table["fit"], table["column"], err, int(cap))


def probe_fits(kernel, model, fit, points, seed: int) -> tuple[list[dict], list[dict]]:
    """The fits rows a run of ``points`` would have, per point and across points, from made-up zero means: only to
    learn which fits and columns there are and which points each row across points combines (never a result)."""
    params_names = [n for n in kernel.param_names if n != "times"]
    rows = []
    for pt in points:
        a = model.analysis(pt.params, fit)
        if a is None:
            continue
        params = {f: getattr(pt.params, f) for f in params_names}
        schema = kernel.schema(pt.params)
        means = {k: np.zeros(tuple(len(c) for c in ax.values())) for k, ax in schema.items()}
        with np.errstate(all="ignore"):
            value = {**means, **{k: np.asarray(v, dtype=float) for k, v in a.estimators(means).items()}}
            sem = {k: np.zeros_like(v) for k, v in value.items()}
            for row in a.fit_rows(value, sem)["fits"]:
                rows.append({**params, **row})
    extra = model.cross_point_rows(pd.DataFrame(rows), params_names, fit, seed) if rows else []
    return rows, list(extra)


def _check_fit_goal(name: str, column: str, kernel, model, fit, points, seed: int) -> None:
    """SpecError, before anything runs, when the goal's fit or column is not one the run will have (as far as a
    probe of the analysis tells; an analysis that cannot be probed is checked when the first blocks are in)."""
    try:
        per_point, across = probe_fits(kernel, model, fit, points, seed)
    except Exception:
        return
    rows = [r for r in per_point + across if "fit" in r]
    if not rows:
        return
    fits = sorted({str(r["fit"]) for r in rows})
    if name not in fits:
        raise SpecError("precision.fit", name, f"{did_you_mean(name, fits)}a fit of this run's {model.name} analysis: "
                        f"{', '.join(fits)}")  # fmt: skip
    columns = sorted({c[:-4] for r in rows if r["fit"] == name for c in r if c.endswith("_err") and c[:-4] in r})
    if column not in columns:
        raise SpecError("precision.column", column, f"{did_you_mean(column, columns)}a column of the {name} fit with an "
                        f"error column (COLUMN_err): {', '.join(columns) or 'this fit has none'}")  # fmt: skip


def _observable_axes(kernel, model, params) -> dict[str, dict]:
    """Every summary observable of a point: the kernel's outputs and the analysis's derived ones, with their axes."""
    schema = kernel.schema(params)
    out = {name: axes for name, axes in schema.items()}
    analysis = model.analysis(params, model.settings({}))
    coords = {axis: c for axes in schema.values() for axis, c in axes.items()}
    for name, axis_names in (analysis.derived_axes if analysis is not None else {}).items():
        out[name] = {a: coords[a] for a in axis_names}
    return out


def _has_coordinate(coords, value) -> bool:
    c = np.asarray(coords)
    if c.dtype.kind in "fiu" and isinstance(value, Real) and not isinstance(value, bool):
        return bool(np.any(np.isclose(c.astype(float), float(value), rtol=1e-9, atol=0.0)))
    return value in list(coords)


def with_realizations(exp, counts: dict[int, int]):
    """``exp`` with the realizations of the points in ``counts`` (point key -> realizations) replaced."""
    points = tuple(dataclasses.replace(p, realizations=int(counts[p.key])) if p.key in counts else p for p in exp.points)
    return dataclasses.replace(exp, points=points)


def next_check(blocks: int, error: float, goal: float, cap: int) -> int:
    """The next check after ``blocks`` blocks whose error is ``error`` (see the module docstring)."""
    factor = (error / goal) ** 2 * MARGIN if math.isfinite(error) and error > 0 else 2.0
    factor = min(GROW_MAX, max(GROW_MIN, factor))
    return min(cap, max(blocks + 1, math.ceil(blocks * factor)))


class _Prefix(TablesInMemory):
    """A read-only view of a store for tables of the first blocks of each point (kept in memory)."""

    def __init__(self, store):
        super().__init__()
        self.store = store
        self.set_aside, self.strays, self.versions = [], [], set()

    def chunks(self, exp, pt):
        return self.store.chunks(exp, pt)


@dataclass
class _Group:
    """Points that stop together: one point, or the points of one fit across points."""

    keys: tuple[int, ...]
    check: dict[int, int]  # point key -> blocks of its next check
    status: str = "running"  # "running", "goal", "cap"
    error: float = math.nan
    history: list = dataclasses.field(default_factory=list)  # (blocks per point, error) of every check


class Tracker:
    """The state of a precision run: each group's checks, what to compute next, and the decisions.

    ``exp`` is the spec's experiment; the tracker works on ``exp`` with every point at its cap (the block layout
    of the store) and evaluates checks with the points at their check sizes.
    """

    def __init__(self, exp, store, done: dict[int, set[int]], blocks_per_task: dict[int, int]):
        self.exp, self.store, self.precision = exp, store, exp.precision
        self.bs = {pt.key: pt.block_size for pt in exp.points}
        cap = self.precision.max_realizations
        self.cap = {k: cap // bs for k, bs in self.bs.items()}
        self.full = with_realizations(exp, {k: self.cap[k] * self.bs[k] for k in self.bs})
        self.start = {pt.key: -(-pt.realizations // pt.block_size) for pt in exp.points}
        self.done = {k: set(v) for k, v in done.items()}
        self.per_task = blocks_per_task
        self.submitted = {k: set(self.done.get(k, set())) for k in self.bs}
        self.groups = self._groups()
        self.group_of = {k: g for g in self.groups for k in g.keys}
        self.evaluations = 0

    # -- groups ------------------------------------------------------------------------------------------------
    def _groups(self) -> list[_Group]:
        keys = [pt.key for pt in self.exp.points]
        if self.precision.observable is not None or not self._fit_is_across_points():
            return [_Group((k,), {k: self.start[k]}) for k in keys]
        fits = self._probe_fits()
        rows = fits[fits["fit"] == self.precision.fit]
        groups, placed = [], set()
        for _, row in rows.iterrows():
            members = tuple(pt.key for pt in self.exp.points if row_uses_point(row, pt.params, self.exp.params_names))
            members = tuple(k for k in members if k not in placed)
            if members:
                groups.append(_Group(members, {k: self.start[k] for k in members}))
                placed |= set(members)
        left = [k for k in keys if k not in placed]  # points no row of the fit uses: nothing to decide, grow none
        groups += [_Group((k,), {k: self.start[k]}, status="goal") for k in left]
        return groups

    def _probe_fits(self) -> pd.DataFrame:
        """The rows across points of a probe (:func:`probe_fits`): which points each row combines."""
        e = self.exp
        return pd.DataFrame(probe_fits(e.kernel, e.model, e.fit, e.points, e.seed)[1])

    def _fit_is_across_points(self) -> bool:
        try:
            fits = self._probe_fits()
        except Exception:  # a model that cannot be probed: per point
            return False
        return len(fits) > 0 and self.precision.fit in set(fits.get("fit", []))

    # -- tasks --------------------------------------------------------------------------------------------------
    def active(self) -> bool:
        return any(g.status == "running" for g in self.groups)

    def pending(self) -> Iterator:
        """Tasks of the blocks below every running group's check that are neither done nor submitted (a live plan)."""
        from ensemble.tasks import plan

        for g in self.groups:
            if g.status != "running":
                continue
            for k in g.keys:
                want = set(range(g.check[k]))
                missing = want - self.submitted[k]
                if not missing:
                    continue
                pt = next(p for p in self.full.points if p.key == k)
                sub = dataclasses.replace(self.full, points=(pt,))
                skip = {k: set(range(self.cap[k])) - missing}
                for task in plan(sub, skip, self._threads, {k: self.per_task[k]}):
                    self.submitted[k].update(range(task.first_block, task.stop_block))
                    yield task

    def live(self, threads: int) -> Iterator:
        """What the executor maps: the pending tasks, then None ("nothing now") while checks wait for blocks in flight."""
        self._threads = threads
        while self.active():
            made = False
            for task in self.pending():
                made = True
                yield task
            if not made:
                if not self.active():
                    return
                yield None

    def completed(self, task) -> None:
        """A task's blocks are in the store: evaluate every group whose check is now complete."""
        self.done.setdefault(task.key, set()).update(range(task.first_block, task.stop_block))
        self.settle(self.group_of[task.key])

    def settle(self, group: _Group) -> None:
        """Evaluate ``group``'s checks while their blocks are all done (a resume replays its decisions here)."""
        while group.status == "running" and all(set(range(group.check[k])) <= self.done.get(k, set()) for k in group.keys):
            error = self.evaluate(group)
            group.error = error
            group.history.append(({k: group.check[k] for k in group.keys}, error))
            if math.isfinite(error) and error <= self.precision.goal:
                group.status = "goal"
            elif all(group.check[k] >= self.cap[k] for k in group.keys):
                group.status = "cap"
            else:
                for k in group.keys:
                    group.check[k] = next_check(group.check[k], error, self.precision.goal, self.cap[k])

    def settle_all(self) -> None:
        for g in self.groups:
            self.settle(g)

    # -- evaluation -----------------------------------------------------------------------------------------
    def at_checks(self, keys) -> object:
        """The experiment of the points ``keys`` at their current check sizes."""
        counts = {k: self.group_of[k].check[k] * self.bs[k] for k in keys}
        exp = with_realizations(self.exp, counts)
        return dataclasses.replace(exp, points=tuple(p for p in exp.points if p.key in counts))

    def evaluate(self, group: _Group) -> float:
        from ensemble.tables import summarize

        self.evaluations += 1
        view = _Prefix(self.store)
        summarize(self.at_checks(group.keys), view)
        p = self.precision
        if p.observable is not None:
            s = view.tables["summary"]
            rows = s[s["observable"] == p.observable]
            for axis, value in p.where:
                col = rows[axis]
                rows = rows[np.isclose(col.astype(float), float(value), rtol=1e-9, atol=0.0)] if isinstance(value, Real) \
                    and not isinstance(value, bool) else rows[col == value]  # fmt: skip
            return float(rows["sem"].iloc[0]) if len(rows) else math.nan
        fits = view.tables.get("fits", pd.DataFrame())
        rows = fits[fits["fit"] == p.fit] if "fit" in fits else fits
        col = f"{p.column}_err"
        if rows.empty or col not in rows:
            known = sorted({c[:-4] for c in rows.columns if c.endswith("_err")}) if len(rows) else []
            raise SpecError("precision.column", p.column, f"a column of the {p.fit} fit with an error column "
                            f"({', '.join(known) or 'this fit has none here'})")  # fmt: skip
        return float(rows[col].iloc[0])

    # -- the outcome --------------------------------------------------------------------------------------------
    def reached(self) -> dict[int, int]:
        """Realizations each point reached (its current check for a point still running)."""
        return {k: g.check[k] * self.bs[k] for g in self.groups for k in g.keys}

    def final(self):
        """The experiment with every point at the realizations it reached (what the tables are made of)."""
        return with_realizations(self.exp, self.reached())

    def record(self) -> dict:
        """What run.json keeps of the run's precision: the goal, and per point its realizations, status and error."""
        points = {}
        for g in self.groups:
            for k in g.keys:
                points[f"{k:016x}"] = {"realizations": g.check[k] * self.bs[k], "status": g.status,
                                       "error": None if not math.isfinite(g.error) else g.error}  # fmt: skip
        return {"goal": self.precision.to_dict(), "points": points}

    def eta_work(self, seconds: dict[int, float]) -> float:
        """CPU seconds still to spend to the goal, from each running group's error and the 1/sqrt(n) law."""
        total = 0.0
        for g in self.groups:
            if g.status != "running":
                continue
            e = g.error
            for k in g.keys:
                n = g.check[k]
                need = n * (e / self.precision.goal) ** 2 if math.isfinite(e) and g.history else n
                want = min(self.cap[k], max(n, math.ceil(need)))
                total += max(0, want - len(self.done.get(k, set()))) * self.bs[k] * seconds[k]
        return total
