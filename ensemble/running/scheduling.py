"""How a run is cut into tasks: whole jackknife blocks, sized from the cost estimate, enough of them for the workers.

A spec's ``batch_size`` fixes the realizations per task. Without it (the default) tasks are sized from the
estimated CPU seconds of one realization (:mod:`ensemble.running.cost`): as many whole blocks as fit in
``[scheduling] task_seconds`` (default 60 s of CPU; :class:`ensemble.spec.settings.Scheduling`), and then fewer where needed so that the run has at least
``tasks_per_worker`` (default 4) tasks per worker of the executor, where the blocks allow. The same rule
serves the serial executor (1 worker), a local cluster and job clusters. Batching never changes results:
blocks are the unit of every reduction, and tasks only group them.

:func:`schedule` returns the blocks per task of every point with the resulting task lengths, and an
estimate of the parallel wall time (longest task first onto the least loaded worker).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass


__all__ = ["Schedule", "schedule"]


@dataclass(frozen=True)
class Schedule:
    """Blocks per task and seconds per task of every point (by key), the number of tasks, and the parallel wall
    estimate on ``workers`` workers."""

    blocks_per_task: dict[int, int]
    task_seconds: dict[int, float]
    tasks: int
    workers: int
    wall_seconds: float
    automatic: bool


def _tasks(blocks: dict[int, int], n_blocks: dict[int, int]) -> int:
    return sum(-(-n_blocks[k] // blocks[k]) for k in blocks)


def schedule(exp, workers: int, seconds: list[float] | None = None, done: dict[int, set[int]] | None = None) -> Schedule:
    """The tasks of ``exp`` on ``workers`` workers (``seconds``: CPU seconds per realization per point, in point order;
    default: :func:`ensemble.running.cost.estimates`; ``done``: blocks already finished, which need no task)."""
    if seconds is None:
        from ensemble.running.cost import estimates

        seconds = [e.seconds for e in estimates(exp)]
    per_block = {pt.key: max(s, 1e-9) * pt.block_size for pt, s in zip(exp.points, seconds)}
    n_blocks = {pt.key: pt.n_blocks for pt in exp.points}
    if exp.batch_size is not None:
        blocks = {pt.key: min(pt.n_blocks, -(-exp.batch_size // pt.block_size)) for pt in exp.points}
    else:
        target, least = exp.scheduling.task_seconds, exp.scheduling.tasks_per_worker * max(1, workers)
        fit = {k: max(1, min(n_blocks[k], int(target // per_block[k]))) for k in n_blocks}
        capped = _cap_for_tasks(fit, n_blocks, least)
        # the same number of tasks per point, as even as whole blocks allow (100 blocks in 8 tasks: 13, not 14)
        blocks = {k: -(-n_blocks[k] // -(-n_blocks[k] // capped[k])) for k in capped}
    task_seconds = {k: blocks[k] * per_block[k] for k in blocks}
    durations = _durations(exp, blocks, per_block, done or {})
    return Schedule(blocks, task_seconds, len(durations), workers, _makespan(durations, workers), exp.batch_size is None)


def _cap_for_tasks(fit: dict[int, int], n_blocks: dict[int, int], least: int) -> dict[int, int]:
    """``fit`` with every point's blocks per task capped at the largest value that still gives ``least`` tasks."""
    if _tasks(fit, n_blocks) >= least:
        return fit
    lo, hi = 1, max(fit.values())  # tasks(cap) falls as cap grows: the largest cap with enough tasks
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _tasks({k: min(v, mid) for k, v in fit.items()}, n_blocks) >= least:
            lo = mid
        else:
            hi = mid - 1
    return {k: min(v, lo) for k, v in fit.items()}


def _durations(exp, blocks: dict[int, int], per_block: dict[int, float], done: dict[int, set[int]]) -> list[float]:
    out = []
    for pt in exp.points:
        have = done.get(pt.key, set())
        todo = sum(1 for b in range(pt.n_blocks) if b not in have)
        full, rest = divmod(todo, blocks[pt.key])
        out += [blocks[pt.key] * per_block[pt.key]] * full + ([rest * per_block[pt.key]] if rest else [])
    return out


def _makespan(durations: list[float], workers: int) -> float:
    """Longest task first onto the least loaded worker (within 4/3 of the optimum)."""
    if not durations:
        return 0.0
    if len(durations) > 200_000:  # many small tasks: their sum spreads evenly
        return max(sum(durations) / workers, max(durations))
    loads = [0.0] * max(1, workers)
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d)
    return max(loads)
