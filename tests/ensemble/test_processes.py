"""The `processes` executor (workers forked from the driver once the kernel is loaded, issue 36): tables bit for
bit those of a serial run, for a fixed run and a live plan (a precision goal); a worker killed mid-run stops the
run in one line and --resume completes it to the same tables; it forks only after the kernel is loaded (its
workers load nothing themselves). Real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from ensemble import MemoryStore, execute, parse_spec
from tests.ensemble.gated_kernel import SPEC as GATED_SPEC
from tests.ensemble.gated_kernel import Gate
from tests.ensemble.test_hardening import one_line_error, spec_file
from tests.ensemble.test_precision import normal
from tests.helpers import HANG_GUARD, assert_tables_identical, partials, read_tables, run_cli, small_spec, wait_until

ROOT = Path(__file__).resolve().parents[2]

#: A live plan: each point's next blocks are decided from its finished ones (a precision goal).
PRECISION = normal(seed=3, sem=0.2, cap=4000)


def compiled(_=None) -> int:
    """How many of the Anderson kernel's jitted functions hold machine code in this process."""
    import numba

    from kernels.front import anderson_trajectory as k

    return sum(len(f.signatures) for f in vars(k).values() if isinstance(f, numba.core.registry.CPUDispatcher))


@pytest.mark.parametrize("text", [small_spec(), PRECISION], ids=["fixed", "precision"])
def test_tables_equal_a_serial_run(tmp_path, text):
    spec = spec_file(tmp_path, text)
    res = run_cli("run", spec, "--out", tmp_path / "p", "--executor", "processes", "--workers", "2", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "executor: local processes (forked), 2 worker(s)" in res.stderr
    ref = run_cli("run", spec, "--out", tmp_path / "s", "--executor", "serial", "--no-progress")
    assert ref.returncode == 0, ref.stderr
    assert_tables_identical(read_tables(tmp_path / "p"), read_tables(tmp_path / "s"))


def test_a_killed_worker_stops_the_run_in_one_line_and_resume_completes_it(tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=4)
    spec = spec_file(tmp_path, GATED_SPEC.format(seed=7, n=6, gate=gate.path))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--executor",
                             "processes", "--workers", "2", "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        wait_until(lambda: len(partials(out)) >= 4 and gate.taken() >= 6, "4 blocks done, two waiting at the gate", proc)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2, workers
        os.kill(workers[0].pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    one_line_error(subprocess.CompletedProcess([], proc.returncode, "", err), "worker process", "died", "--resume",
                   code=1)  # fmt: skip
    kept = len(partials(out))
    assert kept >= 4
    gate.release()
    res = run_cli("run", spec, "--out", out, "--executor", "processes", "--workers", "2", "--resume", "--no-progress",
                  cwd=ROOT)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert f"resumed: {kept} realizations were already done" in res.stdout
    assert_tables_identical(read_tables(out), execute(parse_spec(spec.read_text()), MemoryStore()).tables)


def test_workers_are_forked_with_the_kernel_loaded():
    """The driver loads the kernel, then forks: a worker's first task finds the kernel's dispatchers compiled
    (no Numba compilation or cache load in any worker; checked by the signatures each dispatcher holds)."""
    from cluster.processes import ProcessExecutor

    with ProcessExecutor(2) as ex:
        ex.warm("kernels.front.anderson_trajectory")
        here = compiled()
        there = [r for _, r in ex.map(compiled, [1, 2])]
        pids = set(ex.pids)
    assert here > 0 and there == [here, here]
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)
    # negative control: a fresh interpreter holds no machine code until it loads or compiles it
    fresh = subprocess.run([sys.executable, "-c", "from tests.ensemble.test_processes import compiled; print(compiled())"],
                           cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert fresh.returncode == 0 and fresh.stdout.strip() == "0", fresh
