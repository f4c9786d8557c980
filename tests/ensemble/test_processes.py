"""The `processes` executor (workers forked from the driver once the kernel is loaded, issue 36): tables bit for
bit those of a serial run, for a fixed run and a live plan (a precision goal); a worker killed mid-run is replaced
and the run completes to the same tables, a block that kills every worker stops the run in one line after three
deaths; it forks only after the kernel is loaded (its
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


def test_a_killed_worker_is_replaced_and_the_run_completes_to_identical_tables(tmp_path):
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
        os.kill(workers[0].pid, signal.SIGKILL)  # with a task in it, waiting at the gate
        wait_until(lambda: {p.pid for p in psutil.Process(proc.pid).children()} - {w.pid for w in workers},
                   "workers forked again", proc)  # fmt: skip
        gate.release()
        out_text, err = proc.communicate(timeout=HANG_GUARD)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    tables = read_tables(out)
    assert (tables["summary"]["n"] == 6).all()
    assert_tables_identical(tables, execute(parse_spec(spec.read_text()), MemoryStore()).tables)


def test_a_block_that_kills_every_worker_stops_the_run_in_one_line_after_three_deaths(tmp_path):
    """The a = 2 point kills each worker that starts it: the workers are forked again twice, then the run stops
    (exit 1, one line naming the deaths and --resume); the a = 1 point's finished blocks are kept."""
    spec = spec_file(tmp_path, GATED_SPEC.format(seed=5, n=4, gate="").replace('gate = ""', 'gate = ""\ndie = true'))
    out = tmp_path / "run"
    res = run_cli("run", spec, "--out", out, "--executor", "processes", "--workers", "2", "--no-progress", cwd=ROOT)
    one_line_error(res, "died 3 times", "--resume", code=1)
    assert len(partials(out)) >= 1  # a = 1 blocks that finished before the run stopped


def test_recovery_needs_the_deaths_negative_control():
    """Without a death nothing is forked again: the restart count is the number of deaths (0 here, 2 above)."""
    from cluster.processes import ProcessExecutor

    with ProcessExecutor(2) as ex:
        ex.warm("kernels.front.anderson_trajectory")
        assert [r for _, r in ex.map(compiled, [1, 2, 3])] and ex.restarts == 0


def test_restarts_are_counted_and_results_kept():
    """In process: a task that kills its worker once (a marker file makes the second attempt live) costs one
    restart; every result comes back exactly once."""
    from cluster.processes import ProcessExecutor

    import tempfile

    with tempfile.TemporaryDirectory() as d, ProcessExecutor(2, window=4) as ex:
        ex.warm("kernels.front.anderson_trajectory")
        got = sorted(r for _, r in ex.map(_die_once, [(d, k) for k in range(8)]))
        assert got == list(range(8)) and ex.restarts == 1


def _die_once(arg):
    d, k = arg
    marker = Path(d) / "died"
    if k == 5 and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return k


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
