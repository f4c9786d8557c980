"""A run with nothing to compute costs nothing (issue 36): --resume of a finished run and an extend to its own size
start no executor and rewrite neither its tables nor its figures; a spec that changes the analysis (its [fit]), or
a table removed, rebuilds them. (``ensemble fit`` always recomputes from the blocks: it is how a run is checked.)"""

from __future__ import annotations

from tests.ensemble.test_hardening import spec_file
from tests.helpers import run_cli, small_spec


def test_resume_of_a_finished_run_starts_nothing_and_rewrites_nothing(tmp_path):
    spec = spec_file(tmp_path, small_spec(realizations=8, batch_size=4, block_size=4))
    out = tmp_path / "run"
    assert run_cli("run", spec, "--out", out, "--executor", "serial", "--no-progress").returncode == 0
    assert run_cli("plot", out).returncode == 0
    files = [out / "tables" / "summary.parquet", out / "tables" / "manifest.json", *sorted((out / "plots").glob("*.png"))]
    before = {f: f.stat().st_mtime_ns for f in files}
    res = run_cli("run", spec, "--out", out, "--resume", "--no-progress")  # the default executor (forked workers)
    assert res.returncode == 0, res.stderr
    assert "nothing to compute (no executor started)" in res.stderr and "executor:" not in res.stderr
    assert {f: f.stat().st_mtime_ns for f in files} == before
    # extend to what the run has: the same no-op
    res = run_cli("extend", out, "--realizations", "8", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "nothing to compute (no executor started)" in res.stderr and "executor:" not in res.stderr
    assert {f: f.stat().st_mtime_ns for f in files} == before
    # a table that was removed is not current: --resume rebuilds it (from the stored blocks, no realization)
    (out / "tables" / "fits.parquet").unlink()
    res = run_cli("run", spec, "--out", out, "--resume", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "nothing to compute" not in res.stderr and "ran " not in res.stdout
    assert (out / "tables" / "fits.parquet").is_file()
    before = {f: f.stat().st_mtime_ns for f in files}
    # negative control: another [fit] makes other tables, rebuilt from the stored blocks (still no realization)
    refit = spec_file(tmp_path, small_spec(realizations=8, batch_size=4, block_size=4).replace("min_start = 2.0", "min_start = 3.0"), "r.toml")
    res = run_cli("run", refit, "--out", out, "--resume", "--executor", "serial", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert "nothing to compute" not in res.stderr
    assert (out / "tables" / "manifest.json").stat().st_mtime_ns != before[out / "tables" / "manifest.json"]

