"""A run, as a table of contents: plan -> submit -> stream into the store -> tables and fits."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import pandas as pd
from tqdm import tqdm

from .errors import ClusterError
from .executors import DaskExecutor, SerialExecutor
from .registry import get_kernel
from .tables import summarize
from .tasks import plan, run_task

__all__ = ["RunResult", "check_memory", "make_executor", "run"]


@dataclass
class RunResult:
    """What a run produced and what it cost."""

    tables: dict[str, pd.DataFrame]
    realizations_run: int
    tasks_run: int
    seconds: float
    realizations_skipped: int = 0

    @property
    def rate(self) -> float:
        return self.realizations_run / self.seconds if self.seconds > 0 else float("nan")


def run(exp, store, executor=None, progress: bool = False) -> RunResult:
    """Compute every block of ``exp`` missing from ``store``, then build the tables.

    Parameters
    ----------
    exp : Experiment
    store : MemoryStore or DirectoryStore
        Blocks it already holds are skipped (this is how ``--resume`` works).
    executor : SerialExecutor or DaskExecutor, optional
        Default: serial, in this process.
    progress : bool
        Show a progress bar with rate and ETA on stderr.
    """
    executor = executor or SerialExecutor()
    done = store.done_blocks()
    skipped = sum(len(pt.block_range(b)) for pt in exp.points for b in done.get(pt.key, ()) if b < pt.n_blocks)
    todo = exp.total_realizations - skipped
    start, count, tasks = time.perf_counter(), 0, 0
    pending = list(plan(exp, done))
    n_tasks = len(pending)
    weight = _cost_weights(exp)
    work = sum(weight[t.key] * len(t.indices) for t in pending)
    if todo:
        executor.warm(get_kernel(exp.kernel).module)
    # The bar counts work (realizations weighted by the kernel's relative cost, if it
    # declares one), so that the ETA holds when points differ in cost by orders of magnitude.
    fmt = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
    with tqdm(total=work, desc=exp.name, disable=not progress or not todo, file=sys.stderr, smoothing=0.1,
              bar_format=fmt) as bar:  # fmt: skip
        for task, blocks in executor.map(run_task, iter(pending)):
            store.put(task, blocks)
            n = len(task.indices)
            count, tasks = count + n, tasks + 1
            rate = count / max(time.perf_counter() - start, 1e-9)
            bar.set_postfix_str(f"{count}/{todo} real, {rate:.3g} real/s, batches {tasks}/{n_tasks}", refresh=False)
            bar.update(weight[task.key] * n)
    seconds = time.perf_counter() - start
    return RunResult(summarize(exp, store), count, tasks, seconds, realizations_skipped=skipped)


def _cost_weights(exp) -> dict[int, float]:
    """Relative cost per realization of every point: the kernel's ``cost(params)``, or 1."""
    cost = getattr(get_kernel(exp.kernel).load(), "cost", None)
    return {pt.key: float(cost(pt.params)) if cost else 1.0 for pt in exp.points}


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None, jobs=None):
    """An executor by name: "serial", "local" (a local Dask cluster), "dask" (``scheduler`` address),
    or "slurm"/"pbs" (batch jobs described by ``jobs``, a cluster.JobConfig)."""
    if kind in ("slurm", "pbs"):
        from distributed import Client

        from cluster import job_cluster

        cluster = job_cluster(jobs)
        # adaptive clusters may start with no workers: size the window for the most there can be
        from dask.utils import parse_bytes

        most = jobs.max_jobs * jobs.cores
        per_worker = parse_bytes(jobs.memory) // jobs.cores
        return DaskExecutor(Client(cluster), window=4 * most, owns=cluster, max_workers=most, worker_memory=per_worker)
    if scheduler is not None or kind == "dask":
        from cluster import connect

        if scheduler is None:
            raise ClusterError("the dask executor needs a scheduler address (--scheduler tcp://HOST:PORT)")
        try:
            return DaskExecutor(connect(scheduler))
        except (OSError, TimeoutError) as e:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    if kind == "serial":
        return SerialExecutor()
    if kind == "local":
        from distributed import Client

        from cluster import local_cluster

        cluster = local_cluster(workers)
        return DaskExecutor(Client(cluster), owns=cluster)
    raise ValueError(f"executor {kind!r}: allowed: serial, local, dask")


def check_memory(exp, memory_per_worker: int | None) -> None:
    """Refuse, before anything is scheduled, points whose realization would not fit a worker.

    Uses the kernel's optional ``memory_bytes(params)`` (an estimate of one
    realization's peak, documented per kernel).
    """
    module = get_kernel(exp.kernel).load()
    if memory_per_worker is None or not hasattr(module, "memory_bytes"):
        return
    for pt in exp.points:
        need = module.memory_bytes(pt.params)
        if need > memory_per_worker:
            from .errors import SpecError

            raise SpecError(
                f"point {pt.index} ({pt.label or 'no sweep'})",
                f"{need / 2**30:.1f} GiB per realization",
                f"at most the {memory_per_worker / 2**30:.1f} GiB a worker has: fewer spins, fewer workers "
                "per machine (--workers), or more memory per job (--memory)",
            )
