"""Whether a run's points fit the workers that would run them, decided before anything is scheduled: memory per
realization against a worker's, CPU time per realization and per task against the limit, and the number of
tasks. Light to import (``ensemble validate`` uses it without pandas or Dask)."""

from __future__ import annotations

from ensemble.errors import SpecError
from ensemble.running.cost import estimates
from ensemble.running.scheduling import schedule
from ensemble.spec.limits import MAX_TASKS

__all__ = ["check_limits", "check_memory", "estimate"]


def check_memory(exp, memory_per_worker: int | None) -> None:
    """Refuse, before anything is scheduled, points whose realization would not fit a worker.

    Uses the kernel's ``memory_bytes(params)`` (an estimate of one
    realization's peak, documented per kernel; None: not declared).
    """
    if memory_per_worker is None:
        return
    for pt in exp.points:
        need = exp.kernel.memory_bytes(pt.params)
        if need is not None and need > memory_per_worker:
            fits = [f"{how} ({b / 2**30:.3g} GiB)" for how, b in exp.kernel.memory_options(pt.params).items()
                    if b <= memory_per_worker]  # fmt: skip
            raise SpecError(
                f"point {pt.index} ({pt.label or 'no sweep'})",
                f"{need / 2**30:.3g} GiB per realization",
                f"at most the {memory_per_worker / 2**30:.3g} GiB a worker has: "
                + (f"{' or '.join(fits)}, " if fits else "")
                + "fewer spins, fewer workers per machine (--workers), or more memory per job (--memory)",
            )


def check_limits(exp, memory_per_worker: int | None, max_seconds: float | None, workers: int = 1) -> None:
    """Refuse, before anything is scheduled, points that cannot fit a worker or cannot finish.

    Memory: the kernel's ``memory_bytes(params)``. Time: the estimated CPU seconds of one realization (its
    ``cost(params)``, calibrated on the reference machine, or a measurement: :mod:`ensemble.running.cost`), against
    ``max_seconds``.
    """
    check_memory(exp, memory_per_worker)
    sched = schedule(exp, workers)
    if sched.tasks > MAX_TASKS:
        raise SpecError("scheduling.task_seconds", exp.scheduling.task_seconds, f"tasks of more work: this run would make "
                        f"{sched.tasks:.3g} tasks, at most {MAX_TASKS} (or a larger batch_size)")  # fmt: skip
    if max_seconds is None:
        return
    for pt, e in zip(exp.points, estimates(exp)):
        need = e.seconds
        if need > max_seconds:
            raise SpecError(
                f"point {pt.index} ({pt.label or 'no sweep'})",
                f"~{_duration(need)} per realization (estimated)",
                f"at most {_duration(max_seconds)} per realization: shorter times, fewer spins, or "
                "--max-realization-hours if the estimate is what you want",
            )
        # a task's blocks are saved when the task ends: one that cannot end within the limit saves nothing
        per_task = min(pt.realizations, sched.blocks_per_task[pt.key] * pt.block_size)
        if need * per_task > max_seconds:
            fit = max(1, int(max_seconds // max(need, 1e-300)))
            raise SpecError(
                f"point {pt.index} ({pt.label or 'no sweep'})",
                f"~{_duration(need * per_task)} per task of {per_task} realizations (estimated)",
                f"tasks that end within {_duration(max_seconds)} (results are saved when a task ends): "
                f"batch_size and block_size <= {fit}, or --max-realization-hours",
            )


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def estimate(exp) -> list[tuple[float, int | None]]:
    """(CPU seconds, bytes) of one realization of every point (cost model or measurement, see :mod:`ensemble.running.cost`)."""
    return [(e.seconds, e.memory) for e in estimates(exp)]
