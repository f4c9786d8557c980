"""Precision goals as a spec states them: the ``[precision]`` table, validated against the kernel's and its
analysis's observables and fits before anything runs (how a run meets them: :mod:`ensemble.running.precision`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ensemble.errors import SpecError, did_you_mean

__all__ = ["FIELDS", "KEYS", "Precision", "observable_at", "parse_precision", "probe_fits", "with_realizations"]

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
        name, where = observable_at("precision", table, kernel, model, points[0].params)
        if "sem" not in table:
            raise SpecError("precision.sem", None, f"the goal for the standard error of {name}, e.g. sem = 0.002")
        return Precision(name, where, _positive("precision.sem", table["sem"]), None, None, None, int(cap))
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
    import pandas as pd

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


def observable_at(section: str, table: dict, kernel, model, params) -> tuple[str, tuple]:
    """The ``observable`` of a spec table (``[precision]``, ``[scaling]``) and its ``where`` coordinates, one per
    axis of the observable, validated (SpecError naming ``section.observable`` or ``section.where.AXIS``)."""
    name = table["observable"]
    axes = _observable_axes(kernel, model, params)
    if name not in axes:
        raise SpecError(f"{section}.observable", name, f"{did_you_mean(name, sorted(axes))}an observable of the run: "
                        f"{', '.join(sorted(axes))}")  # fmt: skip
    where = table.get("where", {})
    if not isinstance(where, dict):
        raise SpecError(f"{section}.where", where, "a table of coordinates, e.g. where = { t = 1000.0 }")
    coords = axes[name]
    for axis in coords:
        if axis not in where:
            raise SpecError(f"{section}.where", where, f"a coordinate for every axis of {name} ({', '.join(coords)})")
    for axis, value in where.items():
        if axis not in coords:
            raise SpecError(f"{section}.where.{axis}", value, f"an axis of {name}: {', '.join(coords) or 'none (a scalar)'}")
        if not _has_coordinate(coords[axis], value):
            shown = ", ".join(f"{c:g}" if isinstance(c, float) else str(c) for c in list(coords[axis])[:6])
            raise SpecError(f"{section}.where.{axis}", value, f"one of the coordinates of {name}'s {axis}: {shown}"
                            + (", ..." if len(coords[axis]) > 6 else ""))  # fmt: skip
    return name, tuple((k, where[k]) for k in coords)


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
