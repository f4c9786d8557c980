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


def test_status_of_an_interrupted_precision_run_shows_the_goals_progress(tmp_path):
    """A precision run killed mid-way (run.json records the goal's outcome only at the end): status shows each
    point's error and realizations as the driver last wrote them, marked interrupted (issue 36)."""
    import signal
    import subprocess
    import sys

    from tests.ensemble.gated_kernel import SPEC as GATED, Gate
    from tests.helpers import wait_until

    gate = Gate(tmp_path / "gate").create(allow=12)
    spec = tmp_path / "g.toml"
    goal = '[precision]\nobservable = "x"\nwhere = { t = 1.0 }\nsem = 0.01\nmax_realizations = 400\n'
    spec.write_text(GATED.format(seed=5, n=4, gate=gate.path) + goal)
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--executor",
                             "serial", "--no-progress"], stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: gate.taken() >= 13 and "precision" in (out / "progress.json").read_text()
                   if (out / "progress.json").exists() else False, "12 realizations and the goal's first checks", proc)  # fmt: skip
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    finally:
        gate.release()
    res = run_cli("status", out)
    assert res.returncode == 0, res.stderr
    assert "interrupted" in res.stdout and "error" in res.stdout, res.stdout
    rows = [ln for ln in res.stdout.splitlines() if ln.startswith("  point")]
    import re

    assert len(rows) == 2 and all(re.search(r"error \d", ln) and "interrupted (--resume goes on)" in ln for ln in rows), rows
