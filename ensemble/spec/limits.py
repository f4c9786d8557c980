"""How big a run may be: refused before anything starts, with the estimate that makes it too big.

The engine keeps one task's blocks per partial file, one block of summary rows per point and the
list of tasks in the driver; these bounds keep the driver within memory on an ordinary machine and
every refusal says what to change. A sweep larger than :data:`MAX_POINTS` is split over several runs,
which a catalog query (``ensemble query DIR ...``) reads as one.
"""

from __future__ import annotations

import math

import numpy as np

from ensemble.errors import SpecError

__all__ = ["MAX_BLOCKS", "MAX_CPU_HOURS", "MAX_POINTS", "MAX_SUMMARY_ROWS", "MAX_TASKS", "check_points", "check_size",
           "summary_rows"]  # fmt: skip

#: Parameter points of one run.
MAX_POINTS = 20_000
#: Jackknife blocks of one point.
MAX_BLOCKS = 100_000
#: Tasks of one run (the driver plans them all).
MAX_TASKS = 1_000_000
#: Rows of the summary table (built in the driver's memory: ~150 bytes a row).
MAX_SUMMARY_ROWS = 20_000_000
#: Estimated CPU-hours of one run (114 CPU-years: the papers' own sizes need 1e4-4e4).
MAX_CPU_HOURS = 1e6


def check_points(n: int, field: str = "sweep") -> None:
    """Refuse a sweep of more than MAX_POINTS points (counted before any point is built)."""
    if n > MAX_POINTS:
        raise SpecError(field, f"{n} points", f"at most {MAX_POINTS} points per run (each point is at least one task, one "
                        "partial file and its own rows): split the sweep over several runs and query them together "
                        "(ensemble query DIR_OF_RUNS ...)")  # fmt: skip


def summary_rows(exp) -> int:
    """Rows the summary table of ``exp`` will have (observables x their coordinates, per point; without derived rows)."""
    total = 0
    for pt in exp.points:
        total += sum(int(np.prod([len(c) for c in axes.values()])) for axes in exp.kernel.schema(pt.params).values())
    return total


def _tasks(exp) -> int:
    """Tasks of a spec that fixes batch_size (0 otherwise: the schedule sizes them, and is checked when made)."""
    return 0 if exp.batch_size is None else sum(-(-pt.n_blocks // exp.blocks_per_task(pt)) for pt in exp.points)


def check_size(exp) -> None:
    """Refuse ``exp`` if its blocks, tasks, summary rows or estimated CPU time exceed the bounds above."""
    for pt in exp.points:
        if pt.n_blocks > MAX_BLOCKS:
            raise SpecError("block_size", pt.block_size, f"at most {MAX_BLOCKS} blocks per point (point {pt.index}: "
                            f"{pt.realizations} realizations in {pt.n_blocks} blocks); use block_size >= "
                            f"{-(-pt.realizations // MAX_BLOCKS)}")  # fmt: skip
    tasks = _tasks(exp)
    if tasks > MAX_TASKS:
        raise SpecError("batch_size", exp.batch_size, f"at most {MAX_TASKS} tasks per run (this spec makes {tasks:.3g}: "
                        f"{exp.total_realizations:.3g} realizations in tasks of batch_size); a larger batch_size")  # fmt: skip
    rows = summary_rows(exp)
    if rows > MAX_SUMMARY_ROWS:
        raise SpecError("sweep", f"{len(exp.points)} points", f"a summary table of at most {MAX_SUMMARY_ROWS:.3g} rows (this "
                        f"spec's would hold {rows:.3g}, about {rows * 150 / 2**30:.3g} GiB in memory): fewer points, "
                        "sample times or sites, or several runs queried together")  # fmt: skip
    hours = sum(float(exp.kernel.cost(pt.params)) * pt.realizations for pt in exp.points) / 3600
    if math.isfinite(hours) and hours > MAX_CPU_HOURS:
        raise SpecError("realizations", exp.realizations, f"a run of at most {MAX_CPU_HOURS:.3g} CPU-hours (this one is "
                        f"estimated at {hours:.3g} CPU-hours, {hours / 8766:.3g} CPU-years): fewer realizations or points")  # fmt: skip
