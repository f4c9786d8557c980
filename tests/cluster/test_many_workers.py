"""Many workers on two cores (issue 23): 16 worker processes whose tasks wait at a gate or sleep, so no core is the
limit. Counted, not timed: every worker holds a task while work remains; losing 4 of the 16 mid-run loses no
finished block and the tables stay those of a serial run; the driver streams tasks (at most its window of
futures at a time, whatever their number). Measured figures: benchmarks/bench_many_workers.py."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from ensemble import MemoryStore, execute, open_run_dir, parse_spec
from tests.ensemble.gated_kernel import SPEC as GATED
from tests.ensemble.gated_kernel import Gate
from tests.helpers import assert_tables_identical, partials, wait_until

pytestmark = pytest.mark.cluster
WORKERS = 16


@pytest.fixture(scope="module")
def sixteen():
    from distributed import Client

    from cluster import DaskExecutor, local_cluster

    cluster = local_cluster(WORKERS, dashboard=False)
    with DaskExecutor(Client(cluster), name="16 local workers", owns=cluster) as ex:
        ex.client.wait_for_workers(WORKERS)
        yield ex


def _background(exp, store, ex):
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("result", execute(exp, store, ex)), daemon=True)
    thread.start()
    return thread, out


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_every_worker_holds_a_task_while_work_remains(sixteen, tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=0)
    exp = parse_spec(GATED.format(seed=1, n=60, gate=gate.path))  # 120 one-realization tasks
    thread, out = _background(exp, MemoryStore(), sixteen)
    wait_until(lambda: gate.taken() == WORKERS, "a realization to start on every worker")
    busy = sixteen.client.processing()
    held = sixteen.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
    assert sum(1 for tasks in busy.values() if tasks) == WORKERS  # all 16 at work, each on one task
    assert held == sixteen.window == 4 * WORKERS  # and the window keeps 3 more per worker queued behind them
    gate.release()
    thread.join()
    assert_tables_identical(out["result"].tables, execute(exp, MemoryStore()).tables)


@pytest.mark.slow  # CI time (13 s); test_faults' worker killed mid-run stays
def test_losing_four_of_sixteen_workers_loses_no_finished_block(sixteen, tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=40)
    exp = parse_spec(GATED.format(seed=2, n=50, gate=gate.path))  # 100 tasks
    store = open_run_dir(tmp_path / "run", exp, resume=False)
    thread, out = _background(exp, store, sixteen)
    wait_until(lambda: len(partials(tmp_path / "run")) == 40 and gate.taken() == 40 + WORKERS,
               "40 finished tasks and one waiting on every worker")  # fmt: skip
    pids = sorted(sixteen.client.run(os.getpid).values())
    for pid in pids[:4]:
        os.kill(pid, signal.SIGKILL)  # with a task in each
    kept = {p.name for p in partials(tmp_path / "run")}
    gate.release()
    thread.join()
    store.close()
    assert kept <= {p.name for p in partials(tmp_path / "run")}  # every finished block is still there
    result = out["result"]
    assert (result.tables["summary"]["n"] == 50).all() and result.realizations_run == 100
    assert_tables_identical(result.tables, execute(exp, MemoryStore()).tables)


def _identity(x):
    return x


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_the_driver_streams_tasks_through_its_window(sixteen):
    """10^4 tasks from a generator: at every result the driver has drawn at most its window of tasks beyond those
    done, so it never holds every future (10^5 tasks: the benchmark)."""
    drawn = {"n": 0}

    def tasks():
        for i in range(10_000):
            drawn["n"] += 1
            yield _Item(i)

    done, most_ahead = 0, 0
    for task, result in sixteen.map(_identity, tasks()):
        done += 1
        most_ahead = max(most_ahead, drawn["n"] - done)
        assert result.i == task.i
    assert done == 10_000 and most_ahead <= sixteen.window


class _Item:
    """A minimal task: what DaskExecutor.map needs of one (a kernel name and a task name for the Dask key)."""

    kernel = "item"

    def __init__(self, i):
        self.i = i
        self.name = f"{i:06d}"
