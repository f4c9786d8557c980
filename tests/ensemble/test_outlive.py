"""Nothing outlives a run (issue 36): when `ensemble run` on a local cluster (or forked worker processes) returns, whether it finished, failed
or was interrupted by SIGINT or SIGTERM, no process it started (workers, nannies, the resource tracker, spawned
helpers) is alive. The run starts in a session of its own; every process of that session is looked for the
moment the driver has exited."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from pathlib import Path

import psutil
import pytest

from tests.ensemble.faulty_kernel import SPEC as FAULTY
from tests.ensemble.gated_kernel import SPEC as GATED, Gate
from tests.helpers import HANG_GUARD, small_spec, wait_until

ROOT = Path(__file__).resolve().parents[2]


def session_processes(sid: int) -> list[str]:
    out = []
    for p in psutil.process_iter(["pid", "status", "cmdline"]):
        try:
            if os.getsid(p.pid) == sid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(f"{p.pid} {' '.join(p.info['cmdline'] or [])[:120]}")
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return out


#: Both executors that start processes on this machine: a local Dask cluster and workers forked from the driver.
EXECUTORS = pytest.mark.parametrize("executor", ["local", "processes"])


def start(args, tmp_path, executor="local"):
    return subprocess.Popen([sys.executable, "-m", "ensemble", "run", *map(str, args), "--workers", "2", "--no-progress",
                             "--executor", executor],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=ROOT)  # fmt: skip


def finish(proc) -> list[str]:
    proc.communicate(timeout=HANG_GUARD)
    return session_processes(proc.pid)  # the session id is the driver's pid


@EXECUTORS
def test_nothing_outlives_a_finished_run(tmp_path, executor):
    (tmp_path / "s.toml").write_text(small_spec(realizations=8, batch_size=4, block_size=4))
    proc = start([tmp_path / "s.toml", "--out", tmp_path / "run"], tmp_path, executor)
    assert finish(proc) == [] and proc.returncode == 0


@EXECUTORS
def test_nothing_outlives_a_failed_run(tmp_path, executor):
    (tmp_path / "f.toml").write_text(FAULTY.format(extra="").replace("threshold = 0.01", "threshold = 0.5"))
    proc = start([tmp_path / "f.toml", "--out", tmp_path / "run"], tmp_path, executor)
    assert finish(proc) == [] and proc.returncode == 1


@EXECUTORS
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_nothing_outlives_an_interrupted_run(tmp_path, sig, executor):
    gate = Gate(tmp_path / "gate").create(allow=2)
    (tmp_path / "g.toml").write_text(GATED.format(seed=5, n=20, gate=gate.path))
    proc = start([tmp_path / "g.toml", "--out", tmp_path / "run"], tmp_path, executor)
    try:
        wait_until(lambda: gate.taken() >= 3, "two realizations done and a third waiting at the gate", proc)
        proc.send_signal(sig)
        left = finish(proc)
    finally:
        gate.release()
    assert proc.returncode == 128 + sig and left == [], (proc.returncode, left)


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE}


@EXECUTORS
def test_nothing_outlives_ensemble_run_or_a_cancelled_submission(tmp_path, executor):
    """The Python API: when ensemble.run returns, and when a cancelled submission's result() has raised, no
    process the run started is a child of this one any more."""
    import ensemble

    before = _children()
    ensemble.run(small_spec(realizations=8, batch_size=4, block_size=4), out=tmp_path / "run", executor=executor,
                 workers=2)  # fmt: skip
    assert _children() - before == set()
    gate = Gate(tmp_path / "gate").create(allow=2)
    sub = ensemble.submit(GATED.format(seed=5, n=20, gate=gate.path), out=tmp_path / "bg", executor=executor, workers=2)
    try:
        wait_until(lambda: gate.taken() >= 3, "two realizations done and a third waiting at the gate")
        sub.cancel()
        with pytest.raises(ensemble.Cancelled):
            sub.result()
    finally:
        gate.release()
    assert _children() - before == set()
