"""From block moments to tidy tables: summary (means and errors) and fits (pure: no file is read or written here).

``summary``: one row per (parameter point, observable, coordinates) with a
column per kernel parameter, ``observable``, one per axis (``t``, ``site``;
null where an observable has no such axis), ``n``, ``mean``, ``sem`` and
``estimator`` ("mean": sample mean and its standard error; "jackknife": a
nonlinear function of the means, its full-sample value and block-jackknife
error).

``fits``: one row per point and fit, with window, errors and goodness of fit,
and rows of fits across points. A model may write further tables (the front
analysis: ``fit_windows``, every candidate window of its automatic choice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ensemble.spec.distributions import estimators as dist_estimators
from ensemble.spec.distributions import quantile_rows
from ensemble.errors import ResultError
from ensemble.analysis.reduce import BlockMoments, MomentOverflow, Moments, jackknife
from ensemble.analysis.resolution import LIMIT, worst

__all__ = ["compute_tables", "fit_inputs", "merge_blocks", "row_uses_point", "table_names", "tidy"]


def table_names(exp) -> tuple[str, ...]:
    """The tables a run of ``exp`` writes: summary, fits and the model's own."""
    return ("summary", "fits", *exp.model.tables, *(("scaling",) if getattr(exp, "scaling", None) else ()))


def merge_blocks(chunks: Iterable[BlockMoments]) -> dict[str, Moments]:
    """Chan-merge every block, one at a time in block order; :class:`~ensemble.analysis.reduce.MomentOverflow` if a mean or
    a sum of squared deviations overflows on the way (values too large to average in float64)."""
    total: dict[str, Moments] | None = None
    with np.errstate(over="ignore", invalid="ignore"):
        for chunk in chunks:
            for i in range(chunk.counts.size):
                block = chunk.block(i)
                total = block if total is None else {k: total[k].merge(block[k]) for k in total}
    if total is None:
        raise ValueError("no blocks to merge")
    bad = [k for k, m in total.items() if not (np.all(np.isfinite(m.mean)) and np.all(np.isfinite(m.m2)))]
    if bad:
        raise MomentOverflow(bad)
    return total


def compute_tables(exp, blocks_of: Callable[[Any], Iterable[BlockMoments]]) -> dict[str, pd.DataFrame]:
    """The tables of ``exp`` (summary, fits, the model's own) from each point's block moments: a pure function.

    ``blocks_of(point)`` gives the point's blocks in block order, as an iterable that can be walked more than
    once (the merge, then the jackknife of derived quantities): :func:`ensemble.store.results.summarize`
    passes the blocks read once from a store. The model's analysis gives the derived quantities and fits.
    """
    model = exp.model
    frames: dict[str, list[pd.DataFrame]] = {name: [] for name in table_names(exp)}
    limited = {pt.key: pt for pt in exp.points if exp.kernel.resolution(pt.params)}
    columns = exp.params_names
    for pt in exp.points:
        blocks = blocks_of(pt)
        try:
            total = merge_blocks(blocks)
        except MomentOverflow as e:
            raise ResultError(f"point {pt.index} ({pt.label or 'no sweep'}) of kernel {exp.kernel.name}: the moments of "
                              f"{', '.join(e.names)} overflow when its blocks are merged (values too large to average in "
                              "float64); rescale the observable in the kernel (e.g. return its logarithm). No table was "
                              "written") from None  # fmt: skip
        params = _param_columns(pt.params, columns)
        schema = exp.kernel.schema(pt.params)
        n = next(iter(total.values())).n
        coords = {axis: c for axes in schema.values() for axis, c in axes.items()}
        hists = kernel_histograms(exp.kernel, schema)
        if exp.distributions:
            coords["bin"] = np.zeros(1)  # a float column: the bin centre of histogram rows
        for name, axes in schema.items():
            frames["summary"].append(tidy(params, name, axes, n, total[name].mean, total[name].sem, "mean", coords))
        for d in exp.distributions:
            kept = {a: c for a, c in schema[d.name].items() if a not in d.pool}
            h, width = total[f"hist:{d.name}"], (d.hi - d.lo) / d.bins
            frames["summary"].append(tidy(params, f"{d.name}.hist", {**kept, "bin": d.centres}, n,
                                          h.mean[..., 1:-1] / width, h.sem[..., 1:-1] / width, "mean", coords))  # fmt: skip
        if exp.distributions or hists:
            f = dist_estimators(exp.distributions, hists)
            value, sem = jackknife(f, total, blocks)
            for name, axis_names in quantile_rows(exp.distributions, hists, schema).items():
                axes = {a: coords[a] for a in axis_names}
                frames["summary"].append(tidy(params, name, axes, n, value[name], sem[name], "jackknife", coords))
        analysis = model.analysis(pt.params, exp.fit)
        if analysis is None:
            continue
        value, sem = jackknife(analysis.estimators, total, blocks)
        for name, axis_names in analysis.derived_axes.items():
            axes = {a: coords[a] for a in axis_names}
            frames["summary"].append(tidy(params, name, axes, n, value[name], sem[name], "jackknife", coords))
        rows = analysis.fit_rows(*fit_inputs(total, value, sem))
        if pt.key in limited:  # the kernel says the point's settings limit its physics at its size
            for table_rows in rows.values():
                for row in table_rows:
                    if "status" in row:
                        row["status"] = worst([row["status"], LIMIT])
        frames["fits"].append(pd.DataFrame([{**params, **row, "n": n, "blocks": pt.n_blocks} for row in rows["fits"]]))
        for name in model.tables:
            frames[name].append(pd.DataFrame([{**params, **w} for w in rows.get(name, [])]))
    tables = {name: _concat(parts) for name, parts in frames.items()}
    if len(tables["fits"]):
        names = exp.params_names
        extra = model.cross_point_rows(tables["fits"], names, exp.fit, exp.seed)
        for row in extra:  # a number across points is no better than the points it uses
            if "status" in row and any(row_uses_point(row, pt.params, names) for pt in limited.values()):
                row["status"] = worst([row["status"], LIMIT])
        if extra:
            ints = [c for c in names if tables["fits"][c].dtype.kind == "i"]
            fits = pd.concat([tables["fits"], pd.DataFrame(extra)], ignore_index=True)
            tables["fits"] = fits.astype({c: "Int64" for c in ints})
    if getattr(exp, "scaling", None) is not None:  # [scaling]: from the summary alone (any kernel)
        from ensemble.analysis.scaling import scaling_rows
        from ensemble.spec.seeding import analysis_rng

        rows = scaling_rows(tables["summary"], exp.scaling, exp.swept_names, analysis_rng(exp.seed, "scaling"))
        tables["scaling"] = pd.DataFrame(rows)
    return tables


def row_uses_point(row: Mapping, params, names) -> bool:
    """Whether a fits row across points uses the point of ``params``: every parameter of ``names`` that the row
    names has the point's value."""
    for name in names:
        if name in row and not pd.isna(row[name]) and row[name] != getattr(params, name):
            return False
    return True


def fit_inputs(total: Mapping[str, Moments], value: Mapping, sem: Mapping) -> tuple[dict, dict]:
    """What a model's ``fit_rows`` gets: the kernel's averaged observables with their per-realization standard
    errors (the summary's ``sem``), and the analysis's derived quantities with their block-jackknife errors (a
    derived name shadows an observable's). A fits column that is a plain mean of an observable reads it from the
    former, so it carries the same error bar as the summary's row."""
    return ({**{k: m.mean for k, m in total.items()}, **value}, {**{k: m.sem for k, m in total.items()}, **sem})


def kernel_histograms(kernel, schema: Mapping[str, dict]) -> dict[str, tuple[np.ndarray, int]]:
    """Histograms a kernel makes within a realization (``HISTOGRAMS = {output: bin axis}``): bin edges and axis index."""
    out = {}
    for name, axis in kernel.histograms.items():
        if name not in schema:
            continue
        centres = np.asarray(schema[name][axis], dtype=float)
        width = centres[1] - centres[0]
        axes = list(schema[name])  # the bin axis, counted from the end (estimators see a leading sample axis)
        out[name] = (np.concatenate([centres - width / 2, centres[-1:] + width / 2]), axes.index(axis) - len(axes))
    return out


def tidy(params: Mapping, name: str, axes: Mapping[str, np.ndarray], n: int, mean, sem, estimator: str,
         all_axes: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:  # fmt: skip
    """Long-format rows of one observable at one point (C order over its axes).

    ``all_axes`` names every axis column of the table (with example
    coordinates for its type); axes this observable lacks are null: NaN for
    float axes, <NA> for integer and string ones. A scalar observable is one row.
    """
    mean = np.asarray(mean, dtype=float)
    grids = dict(zip(axes, np.meshgrid(*axes.values(), indexing="ij"))) if axes else {}
    df = pd.DataFrame({**params, "observable": name}, index=pd.RangeIndex(mean.size))
    for axis, coords in (all_axes if all_axes is not None else axes).items():
        values = grids[axis].ravel() if axis in grids else None
        kind = np.asarray(coords).dtype.kind
        if kind == "f":
            df[axis] = values if values is not None else np.nan
        elif kind in "iu":
            df[axis] = pd.array(values if values is not None else [None] * mean.size, dtype="Int64")
        else:
            df[axis] = pd.array(values if values is not None else [None] * mean.size, dtype="string")
    df["n"] = np.int64(n)
    df["mean"] = mean.ravel()
    df["sem"] = np.asarray(sem, dtype=float).ravel()
    df["estimator"] = estimator
    return df


def _param_columns(params, names) -> dict:
    return {name: getattr(params, name) for name in names}


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame()
    df = pd.concat(parts, ignore_index=True)
    if "observable" in df:
        df["observable"] = df["observable"].astype(str)
    return df
