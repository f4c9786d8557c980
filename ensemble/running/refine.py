r"""Sweeps that refine themselves: a spec's ``[refine]`` (:mod:`ensemble.spec.refine`) with its ``[scaling]``.

The goal is every crossing of successive sizes in the scaling table (:mod:`ensemble.analysis.scaling`) with its
statistical error ``X_cross_err`` and its interpolation error ``X_cross_sys`` both at most ``err``. The run
goes in rounds; each round computes what the previous one asked for (whole blocks), then decides from the
tables of exactly those blocks:

* a crossing whose interpolation error exceeds the goal: a new value of the control parameter at the middle of
  the bracket the crossing lies in (the two sampled values around it), at every size and every value of the
  other swept parameters, while the budget ``max_points`` lasts; its points start as the spec's do;
* else a crossing whose statistical error exceeds the goal: the four points of its bracket (two sizes, two
  control values) grow by whole blocks, by the 1/sqrt(n) law with a margin, (err/goal)^2 x 1.1 clamped to
  [1.25, 4], up to ``max_realizations``;
* a crossing the resamples of the means do not settle ("undetermined"): both sizes' points grow twofold;
* no crossing within the sampled values ("at range edge"): nothing to refine (said in the record).

It stops when no decision is left (every crossing meets the goal, or what it needs is beyond the budget or the
cap) or after ``max_rounds`` rounds. **Every decision is a pure function of the spec and of whole blocks in
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
    for _, row in rows.iterrows():
        la, lb, xc = row["L_a"], row["L_b"], row["X_cross"]
        err, sys_ = row["X_cross_err"], row["X_cross_sys"]
        note = {"L_a": float(la), "L_b": float(lb), "X_cross": _num(xc), "X_cross_err": _num(err),
                "X_cross_sys": _num(sys_), "status": row["status"], "action": "none"}  # fmt: skip
        notes.append(note)
        pts = _group_points(exp, row)
        if row["status"] == EDGE or not math.isfinite(xc):
            note["action"] = "none: no crossing within the sampled values" if row["status"] == EDGE else "none: no crossing"
            continue
        sizes = {float(la), float(lb)}
        xs = sorted({float(pt.swept[sc.control]) for pt in pts if float(pt.swept[sc.size]) in sizes})
        i = int(np.clip(np.searchsorted(xs, xc) - 1, 0, len(xs) - 2))
        a, b = xs[i], xs[i + 1]
        if row["status"] == UNDETERMINED:
            keys = [pt.key for pt in pts if float(pt.swept[sc.size]) in sizes]
            note["action"] = _grow(grow, blocks, cap, keys, 2.0, "the crossing is undetermined: both sizes grow")
            continue
        if row["status"] not in (RESOLVED, LIMIT):
            continue
        sys_eff = sys_ if math.isfinite(sys_) else 0.5 * (b - a)
        short = ""  # the interpolation error is over the goal and cannot be helped: said before what is done instead
        if sys_eff > r.err:
            m = _mid(a, b)
            if m in values or m in add or not a < m < b:
                short = f"the bracket [{a:g}, {b:g}] cannot be halved further"
            elif added + len(add) >= r.max_points:
                short = f"interpolation error {sys_eff:.3g} > {r.err:g} but the {r.max_points} added values are spent"
            else:
                add.append(m)
                note["action"] = (f"add {sc.control} = {m:g}: the interpolation error {sys_eff:.3g} > {r.err:g} "
                                  f"in the bracket [{a:g}, {b:g}]")  # fmt: skip
                continue
        if math.isfinite(err) and err > r.err:
            keys = [pt.key for pt in pts if float(pt.swept[sc.size]) in sizes and float(pt.swept[sc.control]) in (a, b)]
            factor = min(GROW_MAX, max(GROW_MIN, (err / r.err) ** 2 * MARGIN))
            did = _grow(grow, blocks, cap, keys, factor, f"the statistical error {err:.3g} > {r.err:g}: "
                        f"the bracket [{a:g}, {b:g}] grows")  # fmt: skip
            note["action"] = f"{short}; {did}" if short else did
        else:
            note["action"] = f"none: {short}" if short else "none: the goal is met"
    return add, grow, notes


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
    summarize(dataclasses.replace(exp, scaling=dataclasses.replace(exp.scaling, collapse=False, forms=())), view)
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
        add, grow, notes = decide(current, _evaluate(current, store), values, blocks, len(added_values))
        size = {pt.key: pt.block_size for pt in current.points}
        rounds.append({"round": i, "points": len(current.points), "realizations": current.total_realizations,
                       "crossings": notes, "added": add,
                       "grown": {f"{k:016x}": v * size[k] for k, v in sorted(grow.items())}})  # fmt: skip
        if not add and not grow:
            met = all(n["action"] == "none: the goal is met" for n in notes)
            status = "goal" if met and notes else "budget"
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
