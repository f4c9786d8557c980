"""Live results: while a run goes in another process, status shows its progress and provisional tables
(marked, with their n), which never reach tables/; after it ends, status says finished."""

from __future__ import annotations

import subprocess
import sys
import time

import ensemble
from tests.ensemble.slow_kernel import SPEC
from tests.helpers import run_cli


def test_status_of_a_running_and_a_finished_run(tmp_path):
    spec, out = tmp_path / "s.toml", tmp_path / "run"
    spec.write_text(SPEC.format(seed=3, n=40, delay=0.25))  # 10 s per point: status is read inside the first
    proc = subprocess.Popen([sys.executable, "-m", "ensemble", "run", str(spec), "--out", str(out), "--executor", "serial",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        t0 = time.time()
        while len(list((out / "partials").rglob("*.npz"))) < 4 if (out / "partials").exists() else True:
            assert proc.poll() is None and time.time() - t0 < 60
            time.sleep(0.05)
        res = run_cli("status", out)
        assert res.returncode == 0, res.stderr
        assert "running" in res.stdout and "PROVISIONAL" in res.stdout and "/80 realizations" in res.stdout
        st = ensemble.open_run(out).status()
        assert st.running and 0 < st.done < st.total == 80
        summary = st.tables["summary"]
        # provisional rows hold what is done so far: at least one point is short of its 40 realizations
        assert summary["provisional"].all() and summary["n"].min() < 40 and summary["n"].max() <= 40
        assert not (out / "tables").exists()  # provisional tables are never written as the run's tables
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    done = ensemble.open_run(out).status()
    assert done.finished and not done.running and not done.tables
    res = run_cli("status", out)
    assert "finished, 80/80" in res.stdout
