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
from numbers import Real

import numpy as np
import pandas as pd

from ensemble.errors import SpecError
from ensemble.spec.goals import probe_fits, with_realizations
from ensemble.store.stores import TablesInMemory
from ensemble.analysis.tables import row_uses_point

__all__ = ["Tracker", "next_check"]

#: Factor of the next check: (error / goal)^2 times this margin, clamped to [GROW_MIN, GROW_MAX].
MARGIN, GROW_MIN, GROW_MAX = 1.1, 1.25, 4.0


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
        from ensemble.running.tasks import plan

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
        from ensemble.store.results import summarize

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
