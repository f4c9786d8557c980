"""`ensemble run --scheduler`: a real `dask scheduler` and `dask worker` processes on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ensemble import MemoryStore, parse_spec, execute
from tests.helpers import HANG_GUARD, assert_tables_identical, read_tables, run_cli, small_spec, wait_until

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory):
    """Scheduler + 2 single-threaded workers, started as separate processes like on a real cluster."""
    d = tmp_path_factory.mktemp("dask")
    sf = d / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    common = dict(env=env, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sched = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--scheduler-file", sf,
         "--no-dashboard"], **common,
    )  # fmt: skip
    wait_until(sf.exists, "the scheduler file", sched)
    worker = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", sf, "--nworkers", "2",
         "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], **common,
    )  # fmt: skip
    from distributed import Client

    with Client(scheduler_file=str(sf)) as c:
        c.wait_for_workers(2, timeout=HANG_GUARD)
    yield sf, json.loads(sf.read_text())["address"]
    for p in (worker, sched):
        p.terminate()
    for p in (worker, sched):
        p.wait(timeout=HANG_GUARD)


@pytest.mark.parametrize("how", ["address", "scheduler-file"])
def test_run_on_existing_scheduler_equals_serial(external_cluster, tmp_path, how):
    sf, address = external_cluster
    spec = tmp_path / "s.toml"
    spec.write_text(small_spec(batch_size=4))
    target = address if how == "address" else sf
    res = run_cli("run", spec, "--out", tmp_path / "run", "--scheduler", target, "--no-progress")
    assert res.returncode == 0, res.stderr
    assert f"Dask scheduler {address}, 2 worker(s)" in res.stderr
    assert "ran 48 realizations in 12 tasks" in res.stdout
    assert_tables_identical(read_tables(tmp_path / "run"), execute(parse_spec(small_spec()), MemoryStore()).tables)


@pytest.mark.slow  # CI time (< 30 min): a sibling covers the path in CI; -m slow runs it
def test_unreachable_scheduler_fails_before_making_a_directory(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(small_spec())
    res = run_cli("run", spec, "--out", tmp_path / "run", "--scheduler", "tcp://127.0.0.1:9", timeout=HANG_GUARD)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "127.0.0.1:9" in res.stderr
    assert not (tmp_path / "run").exists()
