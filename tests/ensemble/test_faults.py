"""Fault tolerance with real processes and signals: a worker killed, the driver killed, a kernel failing.

Each run goes through the CLI on a real 2-worker local Dask cluster and is
compared, bit for bit, with an uninterrupted serial run of the same spec.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import psutil
import pytest

from ensemble import MemoryStore, parse_spec, execute
from tests.ensemble.faulty_kernel import SPEC as FAULTY_SPEC
from tests.ensemble.gated_kernel import SPEC as GATED_SPEC
from tests.ensemble.gated_kernel import Gate
from tests.helpers import assert_tables_identical, read_tables, run_cli, small_spec, wait_until

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.cluster

def partials(run_dir: Path) -> list[Path]:
    return sorted((run_dir / "partials").glob("*/*.npz"))


def start(spec: Path, out: Path, *extra) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "ensemble", "run", spec, "--out", out, "--workers", "2", "--executor", "local", "--no-progress", *extra]
    return subprocess.Popen(
        list(map(str, cmd)), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def worker_processes(driver: subprocess.Popen) -> list[psutil.Process]:
    kids = psutil.Process(driver.pid).children(recursive=True)
    return [p for p in kids if "spawn_main" in " ".join(p.cmdline())]


@pytest.fixture
def gated(tmp_path):
    """2 x 40 one-realization tasks behind a gate that lets 8 through: the run stops after exactly 8 tasks, with a
    task waiting inside each worker, until the test opens the gate."""
    gate = Gate(tmp_path / "gate").create(allow=8)
    spec = tmp_path / "spec.toml"
    spec.write_text(GATED_SPEC.format(seed=11, n=40, gate=gate.path))
    return spec, gate


def _clean(spec: Path):
    return execute(parse_spec(spec.read_text()), MemoryStore()).tables


def test_worker_killed_mid_run_every_realization_counted_once(tmp_path, gated):
    spec, gate = gated
    out = tmp_path / "run"
    proc = start(spec, out)
    try:
        wait_until(lambda: len(partials(out)) == 8 and gate.taken() == 10, "8 tasks done and one waiting per worker", proc)
        workers = worker_processes(proc)
        assert len(workers) == 2
        workers[0].send_signal(signal.SIGKILL)  # with a task in it
        gate.release()
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr
    tables = read_tables(out)
    assert (tables["summary"]["n"] == 40).all()
    assert_tables_identical(tables, _clean(spec))


def test_driver_killed_mid_run_resumes_to_identical_tables(tmp_path, gated):
    spec, gate = gated
    out = tmp_path / "run"
    proc = start(spec, out)
    wait_until(lambda: len(partials(out)) == 8 and gate.taken() == 10, "8 tasks done and one waiting per worker", proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, as a node failure would
    proc.communicate()
    assert len(partials(out)) == 8 and not (out / "tables").exists()
    gate.release()
    res = run_cli("run", spec, "--out", out, "--workers", "2", "--resume", "--no-progress", cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "resumed: 8 realizations were already done" in res.stdout
    assert_tables_identical(read_tables(out), _clean(spec))


FAULTY = FAULTY_SPEC.format(extra="")


def test_failing_kernel_stops_with_replayable_message_and_keeps_finished_batches(tmp_path):
    spec = tmp_path / "faulty.toml"
    spec.write_text(FAULTY)
    out = tmp_path / "run"
    res = run_cli("run", spec, "--out", out, "--workers", "2", "--no-progress", cwd=ROOT)
    assert res.returncode == 1
    err = res.stderr
    assert "raised FloatingPointError: NaN guard tripped" in err and "point 0" in err and "SeedSequence(3, spawn_key=(" in err
    replay = next(line for line in err.splitlines() if line.startswith("Replay it alone:"))
    r = int(replay.split("--realization ")[1])
    assert replay.split(": ", 1)[1] == f"ensemble replay {out} --point 0 --realization {r}"
    assert partials(out), "finished batches are kept"

    again = run_cli("replay", out, "--point", "0", "--realization", r, cwd=ROOT)
    assert again.returncode == 1 and "FloatingPointError: NaN guard tripped" in again.stderr

    good = next(i for i in range(200) if i != r and np.random.default_rng(
        np.random.SeedSequence(3, spawn_key=(parse_spec(FAULTY).points[0].key, i))).uniform() >= 0.01)
    ok = run_cli("replay", out, "--point", "0", "--realization", good, "--save", tmp_path / "r.npz", cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "x: shape (2,)" in ok.stdout
    assert np.load(tmp_path / "r.npz")["x"].shape == (2,)


def test_replay_refuses_indices_out_of_range(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(small_spec())
    res = run_cli("replay", spec, "--point", "5", "--realization", "0", cwd=ROOT)
    assert res.returncode == 2 and "--point" in res.stderr
