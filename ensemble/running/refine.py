r"""Sweeps that refine themselves: a spec's ``[refine]`` (:mod:`ensemble.spec.refine`) with its ``[scaling]``.

The goal is every crossing of successive sizes in the scaling table (:mod:`ensemble.analysis.scaling`) with its
statistical error ``X_cross_err`` and its interpolation error ``X_cross_sys`` both at most ``err``; or, with
``quantity = "X_c"``, the crossings' drift extrapolated to infinite size with an error at most ``err``, each
crossing then held to the share of the goal its weight in X_c allows (:func:`crossing_goals`). The run
goes in rounds; each round computes what the previous one asked for (whole blocks), then decides from the
tables of exactly those blocks:

* a crossing whose interpolation error exceeds the goal (and whose statistical error does not exceed the
  bracket's width: else which bracket holds it is not known yet): a new value of the control parameter at the
  middle of the bracket the crossing lies in (the two sampled values around it), at every size and every value
  of the other swept parameters, while the budget ``max_points`` lasts; its points start as the spec's do;
* else a crossing whose statistical error exceeds the goal: the four points of its bracket (two sizes, two
  control values) grow by whole blocks, by the 1/sqrt(n) law with a margin, (err/goal)^2 x 1.1 clamped to
  [1.25, 4], up to ``max_realizations``;
* a crossing the resamples of the means do not settle ("undetermined"): its bracket halved as above when the
  interpolation error is over the goal, else both sizes' points grow twofold;
* no crossing within the sampled values ("at range edge"): nothing to refine (said in the record), unless an X_c
  goal needs it: then both sizes grow twofold (noise hides a crossing near the ends; the cap ends the search
  for one that is truly outside).

It stops when the goal is met, when no decision is left (what it needs is beyond the budget or the cap), or after
``max_rounds`` rounds. **Every decision is a pure function of the spec and of whole blocks in
index order** (the tables of each round are computed from the first blocks of each point, never from whatever
finished first), so a refined run is the same on any executor, and a killed or cancelled one resumes by replaying
its rounds on the blocks it kept (computing nothing it has). run.json records the values added and why, the
growth of each round and the outcome (``refine``); ``ensemble status`` shows them, and reopening the run
(:func:`ensemble.store.runs.load_run`) rebuilds the refined sweep from that record.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ensemble.analysis.resolution import EDGE, LIMIT, RESOLVED, UNDETERMINED
from ensemble.spec.experiment import with_control_values
from ensemble.spec.goals import with_realizations

__all__ = ["MARGIN", "decide", "refined", "run_refining"]

#: Growth factor of a bracket's points: (error / goal)^2 times this margin, clamped to [GROW_MIN, GROW_MAX].
MARGIN, GROW_MIN, GROW_MAX = 1.1, 1.25, 4.0


def _mid(a: float, b: float) -> float:
    return float(f"{0.5 * (a + b):.12g}")


def refined(exp, values, blocks: dict[int, int]):
    """``exp`` with the control parameter over ``values`` and each point at ``blocks[key]`` blocks (new points:
    as the spec starts them)."""
    out = with_control_values(exp, exp.scaling.control, values)
    return with_realizations(out, {pt.key: blocks[pt.key] * pt.block_size for pt in out.points if pt.key in blocks})


def _group_points(exp, row: pd.Series) -> list:
    """The points of the group of the scaling row ``row`` (its values of the other swept parameters)."""
    sc = exp.scaling
    others = [k for k in exp.swept_names if k not in (sc.size, sc.control) and k in row.index and not pd.isna(row[k])]
    return [pt for pt in exp.points if all(pt.swept.get(k) == row[k] for k in others)]


def decide(exp, scaling: pd.DataFrame, values: list[float], blocks: dict[int, int], added: int) -> tuple[list, dict, list]:
    """One round's decisions from the scaling table of ``exp`` (pure): (values to add, point key -> new blocks,
    what was decided and why, one dict per crossing)."""
    r, sc = exp.refine, exp.scaling
    cap = {pt.key: r.max_realizations // pt.block_size for pt in exp.points}
    add, grow, notes = [], {}, []
    rows = scaling[scaling["kind"] == "crossing"] if len(scaling) and "kind" in scaling else scaling.iloc[:0]
    goal = crossing_goals(exp, scaling, rows)
    needed = set(rows.index) - set(_with_x_c(exp, scaling, rows)) if r.quantity == "X_c" else set()
    for i, row in rows.iterrows():
        la, lb, xc = row["L_a"], row["L_b"], row["X_cross"]
        err, sys_ = row["X_cross_err"], row["X_cross_sys"]
        note = {"L_a": float(la), "L_b": float(lb), "X_cross": _num(xc), "X_cross_err": _num(err),
                "X_cross_sys": _num(sys_), "status": row["status"], "action": "none"}  # fmt: skip
        if r.quantity != "crossings":
            note["goal"] = _num(goal[i])
        notes.append(note)
        target = goal[i]
        pts = _group_points(exp, row)
        if row["status"] == EDGE or not math.isfinite(xc):
            if i in needed:  # noise can hide a crossing near the ends; one truly outside stays out and the cap ends it
                keys = [pt.key for pt in pts if float(pt.swept[sc.size]) in {float(la), float(lb)}]
                note["action"] = _grow(grow, blocks, cap, keys, 2.0, "X_c needs this crossing, not found within the "
                                       "sampled values: both sizes grow")  # fmt: skip
                continue
            note["action"] = "none: no crossing within the sampled values" if row["status"] == EDGE else "none: no crossing"
            continue
        sizes = {float(la), float(lb)}
        xs = sorted({float(pt.swept[sc.control]) for pt in pts if float(pt.swept[sc.size]) in sizes})
        j = int(np.clip(np.searchsorted(xs, xc) - 1, 0, len(xs) - 2))
        a, b = xs[j], xs[j + 1]
        if row["status"] not in (RESOLVED, LIMIT, UNDETERMINED):
            continue
        sys_eff = sys_ if math.isfinite(sys_) else 0.5 * (b - a)
        short = ""  # the interpolation error is over the goal and cannot be helped: said before what is done instead
        # the interpolation first (a new value costs a few blocks; the bias it removes no realization would), an
        # undetermined crossing's too (a bracket too wide for the curves' shape is one cause of it); but not while
        # the statistical error exceeds the bracket's width (which bracket holds the crossing is not known yet)
        if sys_eff > target and not (math.isfinite(err) and err > b - a):
            m = _mid(a, b)
            if m in values or m in add or not a < m < b:
                short = f"the bracket [{a:g}, {b:g}] cannot be halved further"
            elif added + len(add) >= r.max_points:
                short = f"interpolation error {sys_eff:.3g} > {target:.3g} but the {r.max_points} added values are spent"
            else:
                add.append(m)
                note["action"] = (f"add {sc.control} = {m:g}: the interpolation error {sys_eff:.3g} > {target:.3g} "
                                  f"in the bracket [{a:g}, {b:g}]")  # fmt: skip
                continue
        if row["status"] == UNDETERMINED:
            keys = [pt.key for pt in pts if float(pt.swept[sc.size]) in sizes]
            did = _grow(grow, blocks, cap, keys, 2.0, "the crossing is undetermined: both sizes grow")
            note["action"] = f"{short}; {did}" if short else did
            continue
        if math.isfinite(err) and err > target:
            keys = [pt.key for pt in pts if float(pt.swept[sc.size]) in sizes and float(pt.swept[sc.control]) in (a, b)]
            factor = min(GROW_MAX, max(GROW_MIN, (err / target) ** 2 * MARGIN))
            did = _grow(grow, blocks, cap, keys, factor, f"the statistical error {err:.3g} > {target:.3g}: "
                        f"the bracket [{a:g}, {b:g}] grows")  # fmt: skip
            note["action"] = f"{short}; {did}" if short else did
        else:
            note["action"] = f"none: {short}" if short else "none: the goal is met"
    return add, grow, notes


def crossing_goals(exp, scaling: pd.DataFrame, rows: pd.DataFrame) -> dict:
    """Row index of each crossing -> the goal for its statistical and its interpolation error.

    A goal on the crossings gives each the spec's ``err``. A goal on the extrapolated X_c gives each crossing of a
    group the share its weight in X_c allows: X_c of the drift fit is, to first order, sum_i c_i X_i over the
    crossings X_i it was fitted to (c = the first row of (J^T S J)^-1 J^T S, J the form's Jacobian at the fit, S
    the inverse variances, s_i the crossing's statistical and interpolation errors in quadrature), so its error is
    sqrt(sum_i c_i^2 s_i^2); a crossing whose two errors are each at most err / (|c_i| sqrt(2 m)) keeps X_c's error
    within err whatever the others do (m crossings). Where X_c's error is already within the goal, every crossing
    of the group is met (inf)."""
    r = exp.refine
    if r.quantity == "crossings":
        return {i: r.err for i in rows.index}
    out = {}
    for extra, cross in _groups(exp, scaling, rows):  # a group without X_c yet: every crossing at an equal share
        if extra is None or not math.isfinite(extra.get("X_c_err", math.nan)):
            out.update({i: r.err / math.sqrt(2 * len(cross)) for i in cross.index})
        else:
            out.update({i: math.inf for i in cross.index})
    out.update(x_c_shares(exp, scaling, rows))
    return out


def x_c_shares(exp, scaling: pd.DataFrame, rows: pd.DataFrame) -> dict:
    """The goals of :func:`crossing_goals` for an X_c goal: only crossings of groups whose X_c misses it."""
    from ensemble.analysis.scaling import drift_form

    r = exp.refine
    out = {}
    for extra, cross in _groups(exp, scaling, rows):
        if extra is None or not math.isfinite(extra.get("X_c_err", math.nan)) or extra["X_c_err"] <= r.err:
            continue
        good = cross[cross["status"].isin([RESOLVED, LIMIT]) & np.isfinite(cross["X_cross_err"].astype(float))]
        if good.empty:
            continue
        L = good["L_x"].to_numpy(float)
        sig = np.hypot(good["X_cross_err"].to_numpy(float), np.nan_to_num(good["X_cross_sys"].to_numpy(float)))
        f, k = drift_form(r.form)
        p = [extra["X_c"], extra["a"], extra["nu"]][:k]
        J = np.empty((len(L), k))
        for j in range(k):  # central differences (exact for the inverse form, which is linear)
            h = 1e-6 * max(1.0, abs(p[j]))
            up, dn = list(p), list(p)
            up[j] += h
            dn[j] -= h
            J[:, j] = (f(L, *up) - f(L, *dn)) / (2 * h)
        S = np.diag(1.0 / np.maximum(sig, 1e-12) ** 2)
        try:
            c = np.linalg.solve(J.T @ S @ J, J.T @ S)[0]
        except np.linalg.LinAlgError:
            continue
        m = len(L)
        for i, ci in zip(good.index, c):
            out[i] = r.err / (abs(ci) * math.sqrt(2 * m)) if abs(ci) > 1e-12 else math.inf
    return out


def _with_x_c(exp, scaling: pd.DataFrame, rows: pd.DataFrame) -> list:
    """Crossing rows of the groups whose X_c (the goal's form) has a finite error."""
    out = []
    for extra, cross in _groups(exp, scaling, rows):
        if extra is not None and math.isfinite(extra.get("X_c_err", math.nan)):
            out += list(cross.index)
    return out


def _groups(exp, scaling: pd.DataFrame, rows: pd.DataFrame):
    """(the group's extrapolation row of the goal's form as a dict, or None; the group's crossing rows)."""
    sc = exp.scaling
    others = [k for k in exp.swept_names if k not in (sc.size, sc.control) and k in rows.columns]
    extra = scaling[(scaling["kind"] == "extrapolation") & (scaling["form"] == exp.refine.form)] if "form" in scaling else scaling.iloc[:0]
    if not others:
        yield (extra.iloc[0].to_dict() if len(extra) else None), rows
        return
    for key, cross in rows.groupby(others, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        match = extra
        for k, v in zip(others, key):
            match = match[match[k] == v]
        yield (match.iloc[0].to_dict() if len(match) else None), cross


def x_c_notes(exp, scaling: pd.DataFrame) -> list[dict]:
    """The X_c of each group under the goal's form, its error and whether the goal is met (for the record)."""
    r, sc = exp.refine, exp.scaling
    if r.quantity != "X_c" or not len(scaling) or "kind" not in scaling:
        return []
    rows = scaling[scaling["kind"] == "crossing"]
    out = []
    for extra, _ in _groups(exp, scaling, rows):
        if extra is None:
            continue
        note = {"form": r.form, "X_c": _num(extra.get("X_c")), "X_c_err": _num(extra.get("X_c_err")),
                "status": extra.get("status")}  # fmt: skip
        others = [k for k in exp.swept_names if k not in (sc.size, sc.control) and k in extra]
        note.update({k: extra[k] for k in others})
        note["met"] = note["X_c_err"] is not None and note["X_c_err"] <= r.err
        out.append(note)
    return out


def _num(x) -> float | None:
    return float(x) if x is not None and not pd.isna(x) and math.isfinite(float(x)) else None


def _grow(grow: dict, blocks: dict, cap: dict, keys, factor: float, why: str) -> str:
    changed = []
    for k in keys:
        want = min(cap[k], max(blocks[k] + 1, math.ceil(blocks[k] * factor)))
        if want > max(blocks[k], grow.get(k, 0)):
            grow[k] = want
            changed.append(k)
    return why if changed else f"none: {why.split(':')[0]} but its points are at the cap"


def _evaluate(exp, store) -> pd.DataFrame:
    """The crossings of the scaling table of ``exp`` from the store's first blocks of each point, in memory
    (nothing written). The drift and the collapse are left out (they decide nothing here); the crossings draw the
    same bootstrap stream as the final table's, so a round's crossing rows are the final table's had it stopped."""
    from ensemble.running.precision import _Prefix
    from ensemble.store.results import summarize

    view = _Prefix(store)
    forms = (exp.refine.form,) if exp.refine.quantity == "X_c" else ()
    summarize(dataclasses.replace(exp, scaling=dataclasses.replace(exp.scaling, collapse=False, forms=forms)), view)
    return view.tables.get("scaling", pd.DataFrame())


def run_refining(exp, store, compute) -> tuple:
    """Run ``exp`` (with ``[refine]``) in rounds to its goal (see the module docstring). ``compute(exp)`` computes
    the blocks of ``exp`` the store lacks and returns (realizations computed, tasks, realizations skipped,
    seconds). Returns (the refined experiment, its record for run.json, those four totals); the caller writes the
    tables of the refined experiment, once."""
    r = exp.refine
    values = sorted(float(v) for v in exp.sweep[exp.scaling.control])
    blocks = {pt.key: pt.n_blocks for pt in exp.points}
    totals = [0, 0, 0, 0.0]  # realizations computed, tasks, realizations skipped, seconds
    rounds, added_values, status = [], [], "rounds"

    def step():
        """The sweep as decided so far, its missing blocks computed."""
        now = refined(exp, values, blocks)
        for pt in now.points:
            blocks.setdefault(pt.key, pt.n_blocks)
        for j, x in enumerate(compute(now)):
            totals[j] += x
        return now

    for i in range(r.max_rounds):
        current = step()
        table = _evaluate(current, store)
        add, grow, notes = decide(current, table, values, blocks, len(added_values))
        size = {pt.key: pt.block_size for pt in current.points}
        xc = x_c_notes(current, table)
        rounds.append({"round": i, "points": len(current.points), "realizations": current.total_realizations,
                       "crossings": notes, **({"X_c": xc} if r.quantity == "X_c" else {}), "added": add,
                       "grown": {f"{k:016x}": v * size[k] for k, v in sorted(grow.items())}})  # fmt: skip
        met = (all(n["met"] for n in xc) and bool(xc)) if r.quantity == "X_c" else \
            (all(n["action"] == "none: the goal is met" for n in notes) and bool(notes))  # fmt: skip
        if met or (not add and not grow):
            status = "goal" if met else "budget"
            break
        for m in add:
            added_values.append({"value": m, "round": i, "why": next(n["action"] for n in notes if f"= {m:g}:" in n["action"])})
        values = sorted(values + add)
        blocks.update(grow)
    else:  # the last round's decisions are computed, not judged
        current = step()
    doc = {"goal": r.to_dict(), "control": exp.scaling.control, "values": values, "added": added_values,
           "status": status, "rounds": rounds,
           "points": {f"{pt.key:016x}": pt.realizations for pt in current.points}}  # fmt: skip
    return current, doc, tuple(totals)
