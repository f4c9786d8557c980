"""What a precision goal will cost, estimated before the run: a short pilot of each point.

A goal on an observable's standard error needs about n = (s / goal)^2 realizations, where s is the observable's
spread over realizations at the goal's coordinates, unknown before anything runs. The pilot computes the first
realizations of each point (the run's own seeds: realization 0, 1, ...) within a CPU budget, estimates s from
them and so n, clipped to [where the point starts, the cap], with the CPU time it takes. A point whose n exceeds
the cap is said to be likely to stop at the cap. The pilot's realizations are the run's first ones, recomputed
by the run (nothing is written by a validation).

Goals on a fit, or on an observable the analysis derives, have no per-realization value: their range is stated
(the start and the cap), not estimated.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ensemble.running.precision import next_check
from ensemble.spec.seeding import realization_rng

__all__ = ["GoalEstimate", "PILOT_MIN", "PILOT_SECONDS", "goal_estimates"]

#: CPU seconds the pilot may take over all points.
PILOT_SECONDS = 5.0
#: Realizations a point's pilot needs at least for a spread (fewer: no estimate).
PILOT_MIN = 8


@dataclass(frozen=True)
class GoalEstimate:
    """One point's estimate: the realizations its goal needs (None: not estimated), from how many pilot
    realizations, the CPU seconds, and whether it is likely to stop at the cap."""

    key: int
    start: int
    cap: int
    needed: int | None
    pilot: int
    seconds: float | None
    at_cap: bool
    why: str = ""


def _value(obs: dict, name: str, where, schema) -> float:
    v = np.asarray(obs[name], dtype=float)
    axes = schema[name]
    index = []
    for axis, coords in axes.items():
        want = dict(where)[axis]
        c = np.asarray(coords)
        index.append(int(np.flatnonzero(np.isclose(c.astype(float), float(want)))[0]) if c.dtype.kind in "fiu"
                     else list(coords).index(want))  # fmt: skip
    return float(v[tuple(index)]) if index else float(v)


def goal_estimates(exp, seconds: list[float], budget: float = PILOT_SECONDS) -> list[GoalEstimate]:
    """Per point of ``exp`` (with a precision goal), the estimate above; ``seconds``: each point's estimated CPU
    seconds per realization (the plan's)."""
    goal = exp.precision
    if goal is None:
        return []
    start = {pt.key: -(-pt.realizations // pt.block_size) * pt.block_size for pt in exp.points}
    out = []
    if goal.observable is None or goal.observable not in exp.kernel.schema(exp.points[0].params):
        why = ("a goal on a fit has no per-realization value" if goal.observable is None else
               f"{goal.observable} is derived by the analysis (no per-realization value)")  # fmt: skip
        return [GoalEstimate(pt.key, start[pt.key], goal.max_realizations, None, 0, None, False, why) for pt in exp.points]
    per_point = budget / max(1, len(exp.points))
    for pt, sec in zip(exp.points, seconds):
        k = int(min(start[pt.key], max(0, per_point // max(sec, 1e-9)), 64))
        if k < PILOT_MIN:
            out.append(GoalEstimate(pt.key, start[pt.key], goal.max_realizations, None, 0, None, False,
                                    f"a realization takes ~{sec:.3g} s: no pilot within {budget:g} s"))  # fmt: skip
            continue
        schema = exp.kernel.schema(pt.params)
        t0 = time.process_time()
        values = [_value(exp.kernel.run(pt.params, realization_rng(exp.seed, pt.seed_key, r)), goal.observable,
                         goal.where, schema) for r in range(k)]  # fmt: skip
        spread = float(np.std(values, ddof=1))
        bs = pt.block_size
        cap_blocks = goal.max_realizations // bs
        blocks = start[pt.key] // bs
        # the run's own checks (ensemble.running.precision): it stops at the first check whose error meets the
        # goal, so it overshoots the bare (s / goal)^2 by up to the growth of its last step
        while True:
            error = spread / math.sqrt(blocks * bs)
            if error <= goal.goal or blocks >= cap_blocks:
                break
            blocks = next_check(blocks, error, goal.goal, cap_blocks)
        at_cap = spread / math.sqrt(blocks * bs) > goal.goal
        needed = blocks * bs
        used = time.process_time() - t0
        out.append(GoalEstimate(pt.key, start[pt.key], goal.max_realizations, needed, k, needed * sec, at_cap,
                                f"spread {spread:.3g} \u00b1{100 / math.sqrt(2 * (k - 1)):.0f}% from {k} realizations, "
                                f"{used:.2g} s"))  # fmt: skip
    return out
