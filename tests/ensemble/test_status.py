"""Live results: while a run goes in another process, status shows its progress and provisional tables
(marked, with their n), which never reach tables/; after it ends, status says finished.

The run waits at a gate (tests/ensemble/gated_kernel.py) after 6 of its 80 realizations, so status is read
while it provably runs, however fast or busy the machine is."""

from __future__ import annotations

import subprocess
import sys

import ensemble
from tests.ensemble.gated_kernel import SPEC, Gate
from tests.helpers import partials, run_cli, wait_until


def test_status_of_a_running_and_a_finished_run(tmp_path):
    gate = Gate(tmp_path / "gate").create(allow=6)
    spec, out = tmp_path / "s.toml", tmp_path / "run"
    spec.write_text(SPEC.format(seed=3, n=40, gate=gate.path))
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--executor", "serial",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: len(partials(out)) == 6, "6 finished realizations", proc)
        res = run_cli("status", out)
        assert res.returncode == 0, res.stderr
        assert "running" in res.stdout and "PROVISIONAL" in res.stdout and "6/80 realizations" in res.stdout
        st = ensemble.open_run(out).status()
        assert st.running and st.done == 6 and st.total == 80
        summary = st.tables["summary"]
        # provisional rows hold what is done so far: the first point's 6 realizations, the second has none yet
        assert summary["provisional"].all() and set(summary["n"]) == {6} and set(summary["a"]) == {1.0}
        assert not (out / "tables").exists()  # provisional tables are never written as the run's tables
        gate.release()
        proc.communicate(timeout=600)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    done = ensemble.open_run(out).status()
    assert done.finished and not done.running and not done.tables
    res = run_cli("status", out)
    assert "finished, 80/80" in res.stdout
